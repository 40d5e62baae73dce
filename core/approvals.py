"""Applications and their approval chain (申請・承認).

An application waits at one level of its scheme's chain (configuration `<scheme>.approval.chain`:
SAJ club → regional body → prefectural federation → national; other schemes HQ in one step).
Approving moves it to the next level or, at the last, makes it `approved` and applies its
effects (core.approval_effects) in the same transaction. Sending back (差戻) returns it to the
sender with a reason; the sender corrects and resubmits it to the start of its chain. Every
step is a row of `application_steps`.

Statuses: pending (承認待ち), sent_back (差戻中), approved (承認済), rejected (受付不可),
withdrawn (取下げ). The renewal batch reads `approved` (ITC also `pending`).

Many applications are approved in one set-based statement; each carries the `version` the
approver saw, so a second approver acting on the same application gets ConflictError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from core import approval_effects, config, db, intake_checks, organizations
from core.config import Config
from core.errors import ConflictError, ValidationError

JST = ZoneInfo("Asia/Tokyo")
SQL = Path(__file__).parent / "sql" / "approvals"

LEVELS = {"club": "クラブ", "region": "地域連盟", "prefecture": "県連", "national": "本部"}
KINDS = {
    "season_registration": "会員登録（年度更新）",
    "new_registration": "新規入会",
    "transfer": "移籍",
    "qualification_return": "資格返上",
    "extension": "有効期間延長",
    "postponement": "期限延期",
    "suspension": "休止",
    "non_card_payment": "カード以外の納入申請",
    "information_change": "登録情報変更",
    "competitor_registration": "競技者登録（追加）",
    "exemption": "更新免除",
}
STATUSES = {
    "pending": "承認待ち",
    "sent_back": "差戻中",
    "approved": "承認済",
    "rejected": "受付不可",
    "withdrawn": "取下げ",
}
ACTIONS = {
    "submitted": "申請",
    "approved": "承認",
    "sent_back": "差戻",
    "resubmitted": "再申請",
    "rejected": "受付不可",
    "withdrawn": "取下げ",
}
ENTERED_BY = {"member": "本人", "proxy": "代理申請", "admin": "管理画面", "import": "一括取込"}
# Applications the approver still has to decide; the others are closed.
OPEN_STATUSES = ("pending", "sent_back")
APPROVER_ROLES = ("approver", "admin")


def jst_now() -> dt.datetime:
    """Japan time without a zone, as applications store it."""
    return dt.datetime.now(JST).replace(tzinfo=None, microsecond=0)


@cache
def _sql(name: str) -> str:
    return (SQL / f"{name}.sql").read_text(encoding="utf-8")


def chain(cfg: Config, scheme: str, on: dt.date, *, transfer: bool = False) -> tuple[str, ...]:
    """The levels of a scheme's chain in order; ValueError names a level that does not exist."""
    key = f"{scheme}.approval.{'transfer_chain' if transfer else 'chain'}"
    levels = tuple(cfg.value(key, on=on))
    unknown = [level for level in levels if level not in LEVELS]
    if unknown:
        raise ValueError(f"{key}: unknown level {unknown[0]!r}; use {', '.join(LEVELS)}")
    return levels


def chain_frame(cfg: Config, on: dt.date) -> pl.DataFrame:
    """Every scheme's chain as rows (scheme, transfer, position, level)."""
    rows = [
        (scheme, transfer, position, level)
        for scheme in config.SCHEME_CODES
        for transfer in (False, True)
        for position, level in enumerate(chain(cfg, scheme, on, transfer=transfer))
    ]
    return pl.DataFrame(
        rows,
        schema={
            "scheme": pl.String,
            "transfer": pl.Boolean,
            "position": pl.Int32,
            "level": pl.String,
        },
        orient="row",
    )


def _stage_ids(con: duckdb.DuckDBPyConnection, ids: pl.DataFrame) -> None:
    """The applications a set-based step works on, as temp table approval_ids."""
    with db.registered(con, approval_ids_frame=ids.select(pl.col("application_id").cast(pl.Int64))):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE approval_ids AS"
            " SELECT DISTINCT application_id FROM approval_ids_frame"
        )


def _stage_steps(con: duckdb.DuckDBPyConnection, cfg: Config, on: dt.date) -> None:
    """Temp table app_steps: the chain of every application in approval_ids."""
    with db.registered(con, chain_steps=chain_frame(cfg, on)):
        con.execute("CREATE OR REPLACE TEMP TABLE app_steps AS " + _sql("steps"))


def start(
    con: duckdb.DuckDBPyConnection,
    ids: pl.DataFrame,
    *,
    actor: str,
    now: dt.datetime,
    action: str = "submitted",
    cfg: Config | None = None,
) -> None:
    """Put freshly written (or resubmitted) applications at the first level of their chain,
    record the step, apply what needs no approval and run the intake checks. Runs inside the
    caller's transaction; `ids` has a column application_id."""
    cfg = cfg or config.current()
    _stage_ids(con, ids)
    # the member's organisation, unless the row names one (a new registration's club)
    con.execute(
        """
        UPDATE applications AS a SET org_code = m.org_code
        FROM members m
        WHERE a.member_no = m.member_no AND a.org_code IS NULL
          AND a.application_id IN (SELECT application_id FROM approval_ids)
        """
    )
    _stage_steps(con, cfg, now.date())
    con.execute(
        """
        UPDATE applications AS a
        SET status = 'pending', level = f.level, level_org_code = f.level_org_code,
            level_since = CASE WHEN $action = 'submitted' THEN a.submitted_at
                               ELSE $now::TIMESTAMP END,
            version = a.version + 1, updated_at = current_timestamp
        FROM (SELECT application_id, arg_min(level, position) AS level,
                     arg_min(level_org_code, position) AS level_org_code
              FROM app_steps GROUP BY application_id) AS f
        WHERE a.application_id = f.application_id
        """,
        {"now": now, "action": action},
    )
    unrouted = con.execute(
        """
        SELECT a.application_ref FROM applications a
        WHERE a.application_id IN (SELECT application_id FROM approval_ids) AND a.level IS NULL
        ORDER BY a.application_ref LIMIT 5
        """
    ).fetchall()
    if unrouted:
        refs = ", ".join(r[0] for r in unrouted)
        raise ValidationError(
            {"org_code": f"承認する組織が見つかりません（組織ツリーを確認してください）: {refs}"}
        )
    con.execute(
        """
        INSERT INTO application_steps (application_id, action, level, org_code, next_level,
                                       next_org_code, note, actor, acted_at)
        SELECT a.application_id, $action, NULL, NULL, a.level, a.level_org_code, NULL, $actor,
               CASE WHEN $action = 'submitted' THEN a.submitted_at ELSE $now::TIMESTAMP END
        FROM applications a WHERE a.application_id IN (SELECT application_id FROM approval_ids)
        """,
        {"action": action, "actor": actor, "now": now},
    )
    approval_effects.at_intake(con, cfg=cfg, actor=actor, now=now)
    intake_checks.refresh(con)


def _may_approve(role: str, scope: str) -> None:
    if role not in APPROVER_ROLES:
        raise PermissionError("承認・差戻しができるのは承認者と管理者です。")
    if role == "approver" and scope == organizations.ALL_SCOPE:
        raise PermissionError(
            "承認者の担当範囲が全組織になっています。承認する組織を担当範囲に設定してください。"
        )


def _scope_filter(
    con: duckdb.DuckDBPyConnection, role: str, scope: str
) -> tuple[str, dict[str, Any]]:
    """Which waiting applications a user may act on: within the scope, and for an approver
    only at the level of their own organisation (a prefecture approver approves at
    prefecture level)."""
    prefix = organizations.scope_path(con, scope)
    level = None
    if role == "approver" and scope != organizations.ALL_SCOPE:
        row = db.one(con, "SELECT kind FROM organizations WHERE org_code = ?", [scope])
        level = row[0] if row else None
    return (
        "a.level_org_code IN (SELECT org_code FROM organizations"
        " WHERE starts_with(path, $prefix) AND ($own_level IS NULL OR kind = $own_level))",
        {"prefix": prefix, "own_level": level},
    )


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
    _may_approve(role, scope)
    if not selection:
        raise ValidationError({"selection": "承認する申請を選んでください。"})
    now = now or jst_now()
    cfg = config.current()
    chosen = pl.DataFrame(
        list(selection), schema={"application_id": pl.Int64, "version": pl.Int32}, orient="row"
    ).unique("application_id")
    where, params = _scope_filter(con, role, scope)
    try:
        with db.transaction(con):
            with db.registered(con, approval_selection=chosen):
                stale = con.execute(
                    f"""
                    SELECT coalesce(a.application_ref, s.application_id::VARCHAR)
                    FROM approval_selection s
                    LEFT JOIN applications a
                      ON a.application_id = s.application_id AND a.status = 'pending'
                     AND a.version = s.version AND {where}
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
            _stage_ids(con, chosen)
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
    _stage_ids(con, ids)
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
    _stage_steps(con, cfg, now.date())
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
    approval_effects.at_level(con, cfg=cfg, actor=actor, now=now)
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
    row = db.one(
        con,
        "SELECT count(*) FILTER (WHERE next_level IS NOT NULL),"
        " count(*) FILTER (WHERE next_level IS NULL) FROM approval_moves",
    )
    assert row is not None
    return {"advanced": int(row[0]), "approved": int(row[1])}


def _one(con: duckdb.DuckDBPyConnection, application_id: int, version: int) -> dict[str, Any]:
    record = get_by_id(con, application_id)
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
    _may_approve(role, scope)
    now = now or jst_now()
    cfg = config.current()
    where, params = _scope_filter(con, role, scope)
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
    corrections are taken as given: callers check them (core.application_forms.resubmit)."""
    now = now or jst_now()
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
    now = now or jst_now()
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
            approval_effects.withdrawn(con, record, actor=actor)
    except duckdb.TransactionException as exc:
        raise ConflictError(
            "ほかの担当者が同時にこの申請を処理しました。画面を読み込み直してください。"
        ) from exc


def history(con: duckdb.DuckDBPyConnection, application_id: int) -> pl.DataFrame:
    """Every step of one application, oldest first, with organisation names."""
    return db.frame(
        con,
        """
        SELECT s.acted_at, s.action, s.level, o.name AS org_name, s.next_level,
               n.name AS next_org_name, s.reason, s.note, s.actor
        FROM application_steps s
        LEFT JOIN organizations o ON o.org_code = s.org_code
        LEFT JOIN organizations n ON n.org_code = s.next_org_code
        WHERE s.application_id = ? ORDER BY s.acted_at, s.step_id
        """,
        [application_id],
    )


def get_by_id(con: duckdb.DuckDBPyConnection, application_id: int) -> dict[str, Any] | None:
    """One application by its id, or None."""
    found = db.frame(
        con, "SELECT * FROM applications WHERE application_id = ?", [application_id]
    ).to_dicts()
    return found[0] if found else None


def get(con: duckdb.DuckDBPyConnection, application_ref: str) -> dict[str, Any] | None:
    """One application by its reference, or None."""
    found = db.frame(
        con, "SELECT * FROM applications WHERE application_ref = ?", [application_ref]
    ).to_dicts()
    return found[0] if found else None
