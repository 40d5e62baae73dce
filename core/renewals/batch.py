"""The renewal batch: every scheme's requirements relation, decided and applied as of a date.

Each scheme's query (core/sql/renewals/<scheme>_requirements.sql, named by the scheme module)
returns, as of a date, one row per (qualification, requirement) with required, actual, met
and the counting period, plus the decision the qualification's rows lead to (extend,
open_fee, lapse, invalidate, erase, convert, none), the day it takes effect, the new validity
end and any fee to open. The batch applies exactly those decisions, set-based, in one
transaction with their audit rows; `explain` words the same rows for one member; the what-if
compares them under other values. Thresholds, periods and fees come from the scheme
configuration in force on the date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from core import config, schemes, vocabulary
from core.billing import lines as billing_lines
from core.errors import ConflictError
from core.members.records import ERASED_FIELDS
from core.progress import Progress, quiet, within
from core.renewals import history
from core.schemes.base import Reader
from core.store import audit, db, queries, transfer

MEMBERSHIP = "membership"  # rows about the membership itself (SAJ), with no qualification row


def requirements(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    *,
    schemes: tuple[str, ...] = schemes.CODES,
    member_no: str | None = None,
    cfg: config.Config | None = None,
    progress: Progress = quiet,
) -> pl.DataFrame:
    """The requirements relation: one row per qualification and requirement, with decisions."""
    settings = cfg or config.current()
    statements = [queries.query("renewals", _scheme(code).renewal_relation) for code in schemes]
    frames = []
    # On PostgreSQL the whole membership is judged on a DuckDB copy of the tables the rules
    # read (one member's explanation reads PostgreSQL directly, by index)
    reading = (
        transfer.snapshot(con, set().union(*map(transfer.tables_read, statements)))
        if member_no is None and db.engine(con) == "postgres"
        else contextlib.nullcontext(con)
    )
    with reading as source:
        for n, (code, statement) in enumerate(zip(schemes, statements, strict=True)):
            scheme = _scheme(code)
            progress(n / len(schemes), f"{settings.scheme_name(code)}の更新要件を判定しています")
            params = {"as_of": as_of, "member_no": member_no,
                      **scheme.renewal_parameters(Reader(settings, as_of))}  # fmt: skip
            frames.append(db.frame(source, statement, params))
    frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    return frame.sort("member_no", "scheme", "qualification", "ordinal") if frame.height else frame


def _scheme(code: str) -> schemes.base.Scheme:
    return schemes.get(code)


def decisions(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per qualification: the decision its requirement rows lead to."""
    columns = [
        "qualification_id",
        "member_no",
        "scheme",
        "qualification",
        "status",
        "valid_from",
        "valid_until",
        "decision",
        "effective_on",
        "new_valid_until",
        "fee_item",
        "fee_amount",
    ]
    if rows.is_empty():
        return rows
    # a member holds each qualification type once; SAJ membership rows have no qualification id
    return rows.select(columns).unique(
        ["member_no", "scheme", "qualification"], keep="first", maintain_order=True
    )


@dataclass(frozen=True)
class RunResult:
    as_of: dt.date
    dry_run: bool
    counts: list[dict[str, Any]]
    run_id: int | None
    batch_id: str | None

    def as_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "dry_run": self.dry_run, "counts": self.counts}


def count_outcomes(decided: pl.DataFrame, schemes: tuple[str, ...]) -> list[dict[str, Any]]:
    """Counts per scheme and outcome, every outcome the scheme can have listed (zeros too)."""
    found = decided.group_by("scheme", "decision").len().rows() if decided.height else []
    tally = {(s, d): n for s, d, n in found}
    return [
        {"scheme": s, "outcome": vocabulary.OUTCOMES[d], "n": int(tally.get((s, d), 0))}
        for s in schemes
        for d in _scheme(s).outcomes()
    ]


def preview(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    *,
    schemes: tuple[str, ...] = schemes.CODES,
    per_outcome: int = 10,
    progress: Progress = quiet,
) -> tuple[list[dict[str, Any]], pl.DataFrame]:
    """What a run would do, writing nothing: the counts and a few qualifications per outcome."""
    decided = decisions(requirements(con, as_of, schemes=schemes, progress=progress))
    counts = count_outcomes(decided, schemes)
    if decided.is_empty():
        return counts, decided
    sample = (
        decided.filter(pl.col("decision") != "none")
        .sort("scheme", "decision", "member_no")
        .group_by("scheme", "decision", maintain_order=True)
        .head(per_outcome)
        .select(
            "scheme",
            "decision",
            "member_no",
            "qualification",
            "status",
            "valid_until",
            "effective_on",
            "new_valid_until",
            "fee_item",
            "fee_amount",
        )
    )
    return counts, sample


def run(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    *,
    schemes: tuple[str, ...] = schemes.CODES,
    dry_run: bool = False,
    actor: str = "cli:renew",
    progress: Progress = quiet,
    notify: bool = True,
) -> RunResult:
    """Apply every scheme's decisions as of a date, all or nothing; a dry run writes nothing.

    Running twice for the same date changes nothing the second time: each decision moves
    its qualification out of the state that led to it. In the same transaction the renewed
    members' documents become available and the outbox gets the mail the decisions promise
    (更新完了, 「会費納入」); `notify=False` leaves both out (only the benchmark's floor).
    """
    for code in schemes:
        _scheme(code)  # ValueError names an unknown scheme
    con.execute("BEGIN TRANSACTION")
    try:
        rows = requirements(con, as_of, schemes=schemes, progress=within(progress, 0, 0.6))
        decided = decisions(rows)
        counts = count_outcomes(decided, schemes)
        if dry_run:
            con.execute("ROLLBACK")
            return RunResult(as_of, True, counts, None, None)
        batch_id = audit.new_batch_id()
        changes = decided.filter(pl.col("decision") != "none") if decided.height else decided
        if changes.height:
            history.record(con, rows, decided, as_of, batch_id)  # before personal data goes
            _apply(con, changes, as_of, actor, batch_id, config.current(), progress, notify)
        progress(0.95, "実行を記録しています")
        row = con.execute(
            "INSERT INTO renewal_runs (as_of, schemes, actor, finished_at, counts, batch_id)"
            " VALUES (?, ?, ?, current_timestamp, ?, ?) RETURNING run_id",
            [as_of, ",".join(schemes), actor, json.dumps(counts), batch_id],
        ).fetchall()
        con.execute("COMMIT")
    except duckdb.TransactionException as exc:
        _rollback(con)
        raise ConflictError(
            "更新処理の実行中に同じ会員の入金・承認などが記録されました。"
            "何も変更していません。もう一度実行してください。"
        ) from exc
    except BaseException:
        _rollback(con)
        raise
    return RunResult(as_of, False, counts, int(row[0][0]), batch_id)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back; a failed COMMIT has already ended the transaction."""
    with contextlib.suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")


def _apply(
    con: duckdb.DuckDBPyConnection,
    changes: pl.DataFrame,
    as_of: dt.date,
    actor: str,
    batch_id: str,
    cfg: config.Config,
    progress: Progress = quiet,
    notify: bool = True,
) -> None:
    new_status = {code: d.new_status for code, d in vocabulary.DECISIONS.items() if d.new_status}
    staged = changes.with_columns(
        new_status=pl.col("decision").replace_strict(new_status, default=pl.col("status")),
        new_valid_from=pl.when(pl.col("decision") == "extend")
        .then(pl.col("effective_on"))
        .otherwise(pl.col("valid_from")),
        new_valid_until=pl.when(pl.col("decision") == "extend")
        .then(pl.col("new_valid_until"))
        .when(pl.col("decision") == "convert")
        .then(None)
        .otherwise(pl.col("valid_until")),
        why=pl.format(
            "更新処理 {}: {}",
            pl.lit(as_of.isoformat()),
            pl.col("decision").replace_strict(
                vocabulary.DECISION_LABELS, default=pl.col("decision")
            ),
        ),
    )
    members = staged.filter(pl.col("qualification") == MEMBERSHIP)
    staged = staged.filter(pl.col("qualification") != MEMBERSHIP)
    if members.height:
        progress(0.6, f"年度登録のない会員 {members.height:,}人を抹消しています")
        _erase_members(con, members, as_of, actor, batch_id)
    progress(0.65, f"資格 {staged.height:,}件の状態と有効期間を更新しています")
    with db.registered(con, renewal_changes=staged, renewal_fees=_fees(staged, as_of, cfg)):
        for field, new in (
            ("status", "new_status"),
            ("valid_from", "new_valid_from"),
            ("valid_until", "new_valid_until"),
        ):
            con.execute(
                f"""
                INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                                       old_value, new_value, reason, batch_id)
                SELECT ?, 'renew', 'qualifications', CAST(qualification_id AS VARCHAR), member_no,
                       ?, CAST({field} AS VARCHAR), CAST({new} AS VARCHAR), why, ?
                FROM renewal_changes WHERE {field} IS DISTINCT FROM {new}
                """,
                [actor, field, batch_id],
            )
        con.execute(
            """
            UPDATE qualifications AS q
            SET status = c.new_status, valid_from = c.new_valid_from,
                valid_until = c.new_valid_until, updated_at = current_timestamp
            FROM renewal_changes c WHERE q.qualification_id = c.qualification_id
            """
        )
        progress(0.85, "会費を請求しています")
        billing_lines.write(
            con,
            "renewal_fees",
            cfg=cfg,
            actor=actor,
            reason=None,
            batch_id=batch_id,
            on=as_of,
            mail_event="fee_opened" if notify else None,
        )
        if notify:
            progress(0.9, "証明書を発行可能にし、更新完了のメールを作成しています")
            _documents_and_mail(con, staged, as_of, actor, batch_id, cfg)


def _documents_and_mail(
    con: duckdb.DuckDBPyConnection,
    staged: pl.DataFrame,
    as_of: dt.date,
    actor: str,
    batch_id: str,
    cfg: config.Config,
) -> None:
    """The extended qualifications' documents become available, and each extension without
    a fee to pay first gets its 更新完了 mail (ITC 更新結果通知, JSPO 更新完了); the ones
    with a fee got 「会費納入」 with the fee and get their documents once it is paid."""
    from core.documents import available
    from core.notify import outbox

    extended = staged.filter(pl.col("decision") == "extend")
    if extended.is_empty():
        return
    done = extended.filter(pl.col("fee_item").is_null()).select(
        "member_no",
        "scheme",
        "qualification_id",
        "qualification",
        pl.col("new_valid_from").alias("valid_from"),
        pl.col("new_valid_until").alias("valid_until"),
    )
    with db.registered(
        con,
        renewed_members=extended.select("member_no", "scheme", "qualification_id"),
        renewed_done=done,
        renewed_labels=available.qualification_labels(cfg, as_of),
    ):
        available.record(con, "renewed_members", on=as_of, batch_id=batch_id, cfg=cfg)
        documents = available.kinds_available(con, "renewed_done", as_of)
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE renewed_mail AS
            SELECT r.member_no, r.scheme, l.label AS qualification,
                   {outbox.date_sql("r.valid_from")} AS valid_from,
                   {outbox.date_sql("r.valid_until")} AS valid_until, q.certificate_no,
                   year(r.valid_from)::VARCHAR AS renewal_year,
                   coalesce(d.documents, 'なし') AS documents
            FROM renewed_done r
            JOIN qualifications q USING (qualification_id)
            LEFT JOIN renewed_labels l ON l.scheme = r.scheme AND l.qualification = r.qualification
            LEFT JOIN "{documents}" d ON d.member_no = r.member_no AND d.scheme = r.scheme
            """
        )
    outbox.write(
        con,
        "renewed_mail",
        event="renewal_complete",
        actor=actor,
        on=as_of,
        batch_id=batch_id,
        cfg=cfg,
    )


def _fees(staged: pl.DataFrame, as_of: dt.date, cfg: config.Config) -> pl.DataFrame:
    """The fee lines the decisions open, as core.billing.lines stages them: issued on the
    batch's date, due as the scheme's configuration says, named as the scheme names them."""
    owed = staged.filter(pl.col("fee_item").is_not_null())
    terms = pl.DataFrame(
        [
            (s.code, billing_lines.due_date(cfg, s.code, as_of), s.year(cfg, as_of), item, label)
            for s in schemes.every()
            for item, label in s.items.items()
        ],
        schema={"scheme": pl.String, "due_on": pl.Date, "season": pl.Int32,
                "fee_item": pl.String, "label": pl.String},
        orient="row",
    )  # fmt: skip
    return owed.join(terms, on=["scheme", "fee_item"], how="left").select(
        "member_no",
        "scheme",
        pl.col("fee_item").alias("item"),
        pl.coalesce("label", "fee_item").alias("label"),
        pl.col("fee_amount").cast(pl.Int32).alias("amount"),
        pl.lit(as_of).alias("issued_on"),
        "due_on",
        pl.col("qualification_id").cast(pl.Int64),
        "season",
    )


def _erase_members(
    con: duckdb.DuckDBPyConnection, members: pl.DataFrame, as_of: dt.date, actor: str, batch_id: str
) -> None:
    """SAJ members who did not register for the season: status erased, personal data cleared."""
    con.register("renewal_members", members.select("member_no", "status"))
    try:
        con.execute(
            """
            INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                                   old_value, new_value, reason, batch_id)
            SELECT ?, 'erase', 'members', member_no, member_no, 'status', status, 'erased',
                   '更新処理 ' || CAST(? AS VARCHAR) || ': 年度の会員登録がないため抹消'
                   || '（個人情報を消去）', ?
            FROM renewal_members
            """,
            [actor, as_of, batch_id],
        )
        cleared = ", ".join(f"{field} = NULL" for field in ERASED_FIELDS)  # names from code
        con.execute(
            f"UPDATE members SET status = 'erased', {cleared}, updated_at = current_timestamp"
            " WHERE member_no IN (SELECT member_no FROM renewal_members)"
        )
    finally:
        con.unregister("renewal_members")


def run_history(con: duckdb.DuckDBPyConnection, limit: int = 50) -> pl.DataFrame:
    return db.frame(
        con,
        "SELECT run_id, as_of, schemes, actor, started_at, finished_at, counts, batch_id"
        " FROM renewal_runs ORDER BY run_id DESC LIMIT ?",
        [limit],
    )
