"""Deciding applications (申請・承認): approve, send back, resubmit, withdraw.

Approving moves an application to the next level of its chain (core.applications.routing)
or, at the last, makes it `approved` and applies its effects (core.applications.effects) in
the same transaction. Sending back (差戻) returns it to the sender with a reason; the sender
corrects and resubmits it to the start of its chain. Every step is a row of
`application_steps`.

Statuses: pending (承認待ち), sent_back (差戻中), approved (承認済), rejected (受付不可),
withdrawn (取下げ). The renewal batch reads `approved` (ITC also `pending`).

Many applications are approved in one set-based statement; each carries the `version` the
approver saw, so a second approver acting on the same application gets ConflictError. The
final approval and a send-back write the member's mail to the outbox in the same transaction
(core.notify); a refusal at intake writes none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb
import polars as pl

from core import config, text, vocabulary
from core.applications import effects, records
from core.applications.routing import may_approve, scope_filter, stage_ids, stage_steps, start
from core.config import Config
from core.errors import ConflictError, ValidationError
from core.store import db

# Applications the approver still has to decide; the others are closed.
OPEN_STATUSES = ("pending", "sent_back")


def approve(
    con: duckdb.DuckDBPyConnection,
    selection: Sequence[tuple[int, int]],
    *,
    role: str,
    scope: str,
    actor: str,
    now: dt.datetime | None = None,
    note: str | None = None,
) -> dict[str, int]:
    """Approve the selected (application_id, version) pairs at their current level, all or
    none. Returns counts: advanced (moved to the next level) and approved (chain finished).

    ConflictError when any of them changed since the approver saw it (another approver
    acted first) or is outside what this user may approve; nothing is written then.
    """
    may_approve(role, scope)
    if not selection:
        raise ValidationError({"selection": "承認する申請を選んでください。"})
    now = now or text.jst_now()
    cfg = config.current()
    chosen = pl.DataFrame(
        list(selection), schema={"application_id": pl.Int64, "version": pl.Int32}, orient="row"
    ).unique("application_id")
    where, params = scope_filter(con, role, scope)
    try:
        with db.transaction(con):
            with db.registered(con, approval_selection=chosen):
                stale = con.execute(
                    f"""
                    SELECT coalesce(named.application_ref, s.application_id::VARCHAR)
                    FROM approval_selection s
                    LEFT JOIN applications a
                      ON a.application_id = s.application_id AND a.status = 'pending'
                     AND a.version = s.version AND {where}
                    LEFT JOIN applications named ON named.application_id = s.application_id
                    WHERE a.application_id IS NULL
                    ORDER BY 1 LIMIT 5
                    """,
                    params,
                ).fetchall()
                if stale:
                    raise ConflictError(
                        "ほかの承認者が先に処理したか、承認できない申請が含まれています"
                        f"（{', '.join(str(r[0]) for r in stale)}）。"
                        "一覧を読み込み直してください。何も承認していません。"
                    )
            stage_ids(con, chosen)
            counts = _advance(con, cfg, actor=actor, now=now, note=note)
    except duckdb.TransactionException as exc:
        raise ConflictError(
            "ほかの承認者が同時に関係する申請を処理しました。一覧を読み込み直してください。"
            "何も承認していません。"
        ) from exc
    return counts


def advance(
    con: duckdb.DuckDBPyConnection, ids: pl.DataFrame, *, actor: str, now: dt.datetime
) -> dict[str, int]:
    """Approve the pending applications in `ids` at their current level without a user's
    checks: for trusted tooling only (demo data, benchmarks), inside the caller's transaction.
    Pages and the CLI use `approve`."""
    stage_ids(con, ids)
    con.execute(
        "DELETE FROM approval_ids WHERE application_id NOT IN"
        " (SELECT application_id FROM applications WHERE status = 'pending')"
    )
    return _advance(con, config.current(), actor=actor, now=now, note=None)


def _advance(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    *,
    actor: str,
    now: dt.datetime,
    note: str | None,
) -> dict[str, int]:
    """Move every application in approval_ids one level on; effects of the level approved."""
    stage_steps(con, cfg, now.date())
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE approval_moves AS
        SELECT a.application_id, a.scheme, a.kind, a.level AS acted_level,
               a.level_org_code AS acted_org, nxt.level AS next_level,
               nxt.level_org_code AS next_org
        FROM applications a
        JOIN app_steps cur
          ON cur.application_id = a.application_id AND cur.level = a.level
        LEFT JOIN LATERAL (
            SELECT s.level, s.level_org_code FROM app_steps s
            WHERE s.application_id = a.application_id AND s.position > cur.position
            ORDER BY s.position LIMIT 1
        ) nxt ON true
        WHERE a.application_id IN (SELECT application_id FROM approval_ids)
        """
    )
    lost = db.frame(
        con,
        "SELECT a.application_ref FROM applications a"
        " WHERE a.application_id IN (SELECT application_id FROM approval_ids)"
        " AND a.application_id NOT IN (SELECT application_id FROM approval_moves)"
        " ORDER BY 1 LIMIT 5",
    )
    if lost.height:  # its level is no longer on its chain (the organisation tree changed)
        raise ConflictError(
            "承認の経路が見つからない申請があります（組織の変更で段階がなくなった可能性）: "
            + ", ".join(lost["application_ref"])
            + "。差戻して再申請すると新しい経路で承認されます。何も承認していません。"
        )
    con.execute(
        """
        INSERT INTO application_steps (application_id, action, level, org_code, next_level,
                                       next_org_code, note, actor, acted_at)
        SELECT application_id, 'approved', acted_level, acted_org, next_level, next_org,
               $note, $actor, $now::TIMESTAMP
        FROM approval_moves
        """,
        {"note": note, "actor": actor, "now": now},
    )
    effects.at_level(con, cfg=cfg, actor=actor, now=now)
    con.execute(
        """
        UPDATE applications AS a
        SET level = m.next_level, level_org_code = m.next_org,
            level_since = CASE WHEN m.next_level IS NULL THEN a.level_since ELSE $now::TIMESTAMP END,
            status = CASE WHEN m.next_level IS NULL THEN 'approved' ELSE 'pending' END,
            decided_at = CASE WHEN m.next_level IS NULL THEN $now::TIMESTAMP END,
            version = a.version + 1, updated_at = current_timestamp
        FROM approval_moves m WHERE a.application_id = m.application_id
        """,
        {"now": now},
    )
    _approved_mail(con, cfg, actor=actor, now=now)
    row = db.one(
        con,
        "SELECT count(*) FILTER (WHERE next_level IS NOT NULL),"
        " count(*) FILTER (WHERE next_level IS NULL) FROM approval_moves",
    )
    assert row is not None
    return {"advanced": int(row[0]), "approved": int(row[1])}


_KIND_LABELS = pl.DataFrame(
    list(vocabulary.APPLICATION_KINDS.items()),
    schema={"kind": pl.String, "label": pl.String},
    orient="row",
)


def _approved_mail(
    con: duckdb.DuckDBPyConnection, cfg: Config, *, actor: str, now: dt.datetime
) -> None:
    """The 承認 mail of every application whose chain finished with this approval."""
    from core.notify import outbox

    with db.registered(con, mail_kind_labels=_KIND_LABELS):
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE approved_mail AS
            SELECT a.member_no, a.scheme, a.application_ref,
                   coalesce(k.label, a.kind) AS application_kind,
                   CASE WHEN a.season IS NOT NULL THEN a.season::VARCHAR || '年度' END AS season
            FROM approval_moves v JOIN applications a USING (application_id)
            LEFT JOIN mail_kind_labels k ON k.kind = a.kind
            WHERE v.next_level IS NULL AND a.member_no IS NOT NULL
            """
        )
    outbox.write(
        con, "approved_mail", event="application_approved", actor=actor, on=now.date(), cfg=cfg
    )


def _sent_back_mail(
    con: duckdb.DuckDBPyConnection,
    record: dict[str, Any],
    reason: str,
    note: str,
    *,
    actor: str,
    now: dt.datetime,
    cfg: Config,
) -> None:
    """The 差戻 mail: the reason in the scheme's words, and the note."""
    from core.notify import outbox

    if not record.get("member_no"):
        return  # a new registration has no member (nor address) yet
    reasons = cfg.value(f"{record['scheme']}.send_back_reasons", on=now.date())
    mail = pl.DataFrame(
        [
            {
                "member_no": record["member_no"],
                "scheme": record["scheme"],
                "application_ref": record["application_ref"],
                "application_kind": vocabulary.APPLICATION_KINDS.get(
                    record["kind"], record["kind"]
                ),
                "reason": reasons.get(reason, reason),
                "note": note.strip() or "なし",
            }
        ]
    )
    with db.registered(con, sent_back_mail=mail):
        outbox.write(
            con, "sent_back_mail", event="application_sent_back", actor=actor, on=now.date(),
            cfg=cfg,
        )  # fmt: skip


def _one(con: duckdb.DuckDBPyConnection, application_id: int, version: int) -> dict[str, Any]:
    record = records.get_by_id(con, application_id)
    if record is None:
        raise ValidationError({"application": f"申請 {application_id} はありません。"})
    if record["version"] != version:
        raise ConflictError(
            f"申請 {record['application_ref']} はほかの担当者が先に処理しました。"
            "画面を読み込み直してください。"
        )
    return record


def send_back(
    con: duckdb.DuckDBPyConnection,
    application_id: int,
    version: int,
    *,
    reason: str,
    note: str,
    role: str,
    scope: str,
    actor: str,
    now: dt.datetime | None = None,
) -> None:
    """Return one application to its sender with a reason from the scheme's list and a note."""
    may_approve(role, scope)
    now = now or text.jst_now()
    cfg = config.current()
    where, params = scope_filter(con, role, scope)
    try:
        with db.transaction(con):
            record = _one(con, application_id, version)
            reasons = cfg.value(f"{record['scheme']}.send_back_reasons", on=now.date())
            if reason not in reasons:
                raise ValidationError({"reason": "差戻理由を一覧から選んでください。"})
            allowed = db.one(
                con,
                f"SELECT count(*) FROM applications a WHERE a.application_id = $id"
                f" AND a.status = 'pending' AND {where}",
                {**params, "id": application_id},
            )
            if not allowed or not allowed[0]:
                raise ConflictError(
                    f"申請 {record['application_ref']} はこの担当範囲で承認待ちではありません。"
                )
            con.execute(
                """
                INSERT INTO application_steps (application_id, action, level, org_code,
                                               reason, note, actor, acted_at)
                VALUES (?, 'sent_back', ?, ?, ?, ?, ?, ?)
                """,
                [
                    application_id,
                    record["level"],
                    record["level_org_code"],
                    reason,
                    note.strip() or None,
                    actor,
                    now,
                ],
            )
            con.execute(
                "UPDATE applications SET status = 'sent_back', version = version + 1,"
                " level_since = ?, updated_at = current_timestamp WHERE application_id = ?",
                [now, application_id],
            )
            _sent_back_mail(con, record, reason, note, actor=actor, now=now, cfg=cfg)
    except duckdb.TransactionException as exc:
        raise ConflictError(
            "ほかの担当者が同時にこの申請を処理しました。画面を読み込み直してください。"
        ) from exc


# What the sender may correct before resubmitting.
CORRECTABLE = (
    "note", "qualification", "target_org_code", "reason", "valid_until_claimed",
    "family_name", "given_name", "family_name_kana", "given_name_kana", "birth_date",
    "email", "phone", "postal_code", "prefecture", "address", "category",
    "insurance_plan", "competitor",
)  # fmt: skip


def check_correctable(corrections: dict[str, Any]) -> None:
    """ValidationError naming a field a resubmission may not change."""
    unknown = [k for k in corrections if k not in CORRECTABLE]
    if unknown:
        raise ValidationError({unknown[0]: "この項目は再申請で変更できません。"})


def resubmit(
    con: duckdb.DuckDBPyConnection,
    application_id: int,
    version: int,
    *,
    corrections: dict[str, Any],
    actor: str,
    now: dt.datetime | None = None,
) -> None:
    """Correct a sent-back application and send it to the start of its chain again. The
    corrections are taken as given: callers check them (core.applications.forms.resubmit)."""
    now = now or text.jst_now()
    check_correctable(corrections)
    try:
        with db.transaction(con):
            record = _one(con, application_id, version)
            if record["status"] != "sent_back":
                raise ConflictError(f"申請 {record['application_ref']} は差戻中ではありません。")
            changed = {k: v for k, v in corrections.items() if record.get(k) != v}
            assignments = "".join(f', "{k}" = ?' for k in changed)
            # routed afresh: a correction (a new destination, a new club) may change the chain
            con.execute(
                f"UPDATE applications SET level = NULL, level_org_code = NULL{assignments}"
                " WHERE application_id = ?",
                [*changed.values(), application_id],
            )
            start(
                con,
                pl.DataFrame({"application_id": [application_id]}),
                actor=actor,
                now=now,
                action="resubmitted",
            )
    except duckdb.TransactionException as exc:
        raise ConflictError(
            "ほかの担当者が同時にこの申請を処理しました。画面を読み込み直してください。"
        ) from exc


def withdraw(
    con: duckdb.DuckDBPyConnection,
    application_id: int,
    version: int,
    *,
    note: str,
    actor: str,
    now: dt.datetime | None = None,
) -> None:
    """Withdraw an application that is still open (取下げ). A withdrawn SAJ registration
    takes back the unpaid lines its approvals so far created (the prefecture's difference)
    unless the member has another live registration for the season."""
    now = now or text.jst_now()
    try:
        with db.transaction(con):
            record = _one(con, application_id, version)
            if record["status"] not in OPEN_STATUSES:
                raise ConflictError(f"申請 {record['application_ref']} はすでに処理済みです。")
            con.execute(
                "INSERT INTO application_steps (application_id, action, level, org_code, note,"
                " actor, acted_at) VALUES (?, 'withdrawn', ?, ?, ?, ?, ?)",
                [application_id, record["level"], record["level_org_code"], note or None,
                 actor, now],
            )  # fmt: skip
            con.execute(
                "UPDATE applications SET status = 'withdrawn', level = NULL,"
                " level_org_code = NULL, decided_at = ?, version = version + 1,"
                " updated_at = current_timestamp WHERE application_id = ?",
                [now, application_id],
            )
            effects.at_withdrawal(con, record, actor=actor)
    except duckdb.TransactionException as exc:
        raise ConflictError(
            "ほかの担当者が同時にこの申請を処理しました。画面を読み込み直してください。"
        ) from exc
