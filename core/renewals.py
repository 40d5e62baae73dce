"""The renewal engine: one requirements relation per scheme, read by the batch and `explain`.

Each scheme's query (core/sql/renewals/<scheme>.sql) returns, as of a date, one row per
(qualification, requirement) with required, actual, met and the counting period, plus the
decision the qualification's rows lead to (extend, open_fee, lapse, invalidate, convert,
none), the day it takes effect, the new validity end and any fee to open. The batch applies
exactly those decisions, set-based, in one transaction with their audit rows; `explain`
words the same rows for one member. Thresholds, periods and fees come from the scheme
configuration in force on the date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from core import audit, billing, config, db
from core.errors import ConflictError
from core.members import ERASED_FIELDS

SQL_DIR = Path(__file__).resolve().parent / "sql" / "renewals"
SCHEMES = ("jptec", "itc", "jspo", "saj", "teacher")
MEMBERSHIP = "membership"  # SAJ rows about the membership itself (no qualification row)
OUTCOMES = {
    "extend": "extended",
    "open_fee": "fee_opened",
    "lapse": "lapsed",
    "invalidate": "invalidated",
    "erase": "erased",
    "convert": "converted",
    "none": "unchanged",
}
NEW_STATUS = {
    "extend": "renewed",
    "open_fee": "renewal_open",
    "lapse": "lapsed",
    "invalidate": "invalidated",
    "erase": "erased",
}
FEE_LABELS = {
    "jptec_instructor_renewal": "インストラクター更新会費",
    "jspo_registration": "登録料",
    "itc_renewal": "ITコーディネータ資格更新料",
}


def _jptec(cfg: config.Config, on: dt.date) -> dict[str, Any]:
    v = lambda key: cfg.value(f"jptec.{key}", on)  # noqa: E731 - a local shorthand
    return {
        "check_years": v("instructor.check_period_years"),
        "min_courses": v("instructor.min_courses_taught"),
        "extension_years": v("instructor.extension_years"),
        "renewal_fee": v("instructor.renewal_fee"),
        "unpaid_months": v("instructor.unpaid_invalidation_months"),
        "provider_years": v("provider.extension_years"),
        "bonus_under_months": v("provider.remaining_bonus_under_months"),
        "special_months": v("special_extension.months"),
    }


def _month_day(value: str) -> tuple[int, int]:
    month, day = value.split("-")
    return int(month), int(day)


def _itc(cfg: config.Config, on: dt.date) -> dict[str, Any]:
    v = lambda key: cfg.value(f"itc.{key}", on)  # noqa: E731 - a local shorthand
    opens, closes = _month_day(v("window.opens")), _month_day(v("window.closes"))
    fiscal, until = _month_day(v("fiscal_year_starts")), _month_day(v("valid_until"))
    hour, minute = (int(part) for part in v("window.opens_at").split(":"))
    return {
        "opens_month": opens[0],
        "opens_day": opens[1],
        "opens_hour": hour,
        "opens_minute": minute,
        "closes_month": closes[0],
        "closes_day": closes[1],
        "fy_month": fiscal[0],
        "fy_day": fiscal[1],
        "until_month": until[0],
        "until_day": until[1],
        "threshold": v("points.threshold"),
        "fee": v("fee"),
        "exempt_previous_year": v("exempt_if_certified_previous_fiscal_year"),
        "report_required": v("report_required"),
    }


def _jspo(cfg: config.Config, on: dt.date) -> dict[str, Any]:
    licences: dict[str, dict[str, Any]] = cfg.value("jspo.licences", on)
    return {
        "months_before": cfg.value("jspo.window.months_before_expiry", on),
        "licence_codes": list(licences),
        "licence_fees": [r["fee"] for r in licences.values()],
        "licence_years": [r["validity_years"] for r in licences.values()],
        "licence_trainings": [r["required_trainings"] for r in licences.values()],
        "licence_labels": [r["label"] for r in licences.values()],
    }


def _teacher(cfg: config.Config, on: dt.date) -> dict[str, Any]:
    v = lambda key: cfg.value(f"teacher.{key}", on)  # noqa: E731 - a local shorthand
    return {
        "scheme_ends": v("scheme_ends"),
        "opens_months": v("window.opens_months_before"),
        "closes_months": v("window.closes_months_before"),
        "total_hours": v("hours.total"),
        "mandatory_hours": v("hours.mandatory"),
        "elective_mandatory_hours": v("hours.elective_mandatory"),
        "elective_hours": v("hours.elective"),
        "max_late": v("attendance.max_minutes_late"),
        "pass_score": v("exam.pass_score"),
        "validity_years": v("new_licence_validity_years"),
        "postponement_months": v("postponement.months"),
        "first_deadline": v("first_deadline"),
        "old_licence_before": v("old_licence_before"),
        "ages": [int(age) for age in v("deadline_ages")],
        "sy_month": _month_day(v("school_year_starts"))[0],
        "sy_day": _month_day(v("school_year_starts"))[1],
        "exempt_categories": list(v("exempt_categories")),
        "postponement_categories": list(v("postponement_categories")),
    }


def _saj(cfg: config.Config, on: dt.date) -> dict[str, Any]:
    start = _month_day(cfg.value("saj.season.starts", on))
    end = _month_day(cfg.value("saj.season.ends", on))
    return {"start_month": start[0], "start_day": start[1], "end_month": end[0], "end_day": end[1]}


PARAMETERS = {"jptec": _jptec, "itc": _itc, "jspo": _jspo, "saj": _saj, "teacher": _teacher}


@functools.cache
def _query(scheme: str) -> str:
    """A scheme's requirements query, read from core/sql/renewals once per process."""
    return (SQL_DIR / f"{scheme}.sql").read_text(encoding="utf-8")


def requirements(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    *,
    schemes: tuple[str, ...] = SCHEMES,
    member_no: str | None = None,
    cfg: config.Config | None = None,
) -> pl.DataFrame:
    """The requirements relation: one row per qualification and requirement, with decisions."""
    settings = cfg or config.current()
    frames = []
    for scheme in schemes:
        params = {"as_of": as_of, "member_no": member_no, **PARAMETERS[scheme](settings, as_of)}
        sql = _query(scheme)
        frames.append(db.frame(con, sql, params))
    frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    return frame.sort("member_no", "scheme", "qualification", "ordinal") if frame.height else frame


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
    """Counts per scheme and outcome, every outcome listed (zeros included)."""
    found = decided.group_by("scheme", "decision").len().rows() if decided.height else []
    tally = {(s, d): n for s, d, n in found}
    return [
        {"scheme": s, "outcome": outcome, "n": int(tally.get((s, d), 0))}
        for s in schemes
        for d, outcome in OUTCOMES.items()
        if d != "erase" or s == "saj"
    ]


def preview(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    *,
    schemes: tuple[str, ...] = SCHEMES,
    per_outcome: int = 10,
) -> tuple[list[dict[str, Any]], pl.DataFrame]:
    """What a run would do, writing nothing: the counts and a few qualifications per outcome."""
    decided = decisions(requirements(con, as_of, schemes=schemes))
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


def _fiscal_year(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def run(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    *,
    schemes: tuple[str, ...] = SCHEMES,
    dry_run: bool = False,
    actor: str = "cli:renew",
) -> RunResult:
    """Apply every scheme's decisions as of a date, all or nothing; a dry run writes nothing.

    Running twice for the same date changes nothing the second time: each decision moves
    its qualification out of the state that led to it.
    """
    unknown = [s for s in schemes if s not in SCHEMES]
    if unknown:
        raise ValueError(
            f"no renewal rules for {', '.join(unknown)}; choose from {', '.join(SCHEMES)}"
        )
    con.execute("BEGIN TRANSACTION")
    try:
        decided = decisions(requirements(con, as_of, schemes=schemes))
        counts = count_outcomes(decided, schemes)
        if dry_run:
            con.execute("ROLLBACK")
            return RunResult(as_of, True, counts, None, None)
        batch_id = audit.new_batch_id()
        changes = decided.filter(pl.col("decision") != "none") if decided.height else decided
        if changes.height:
            _apply(con, changes, as_of, actor, batch_id)
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
    con: duckdb.DuckDBPyConnection, changes: pl.DataFrame, as_of: dt.date, actor: str, batch_id: str
) -> None:
    year = _fiscal_year(as_of)
    staged = changes.with_columns(
        new_status=pl.col("decision").replace_strict(NEW_STATUS, default=pl.col("status")),
        new_valid_from=pl.when(pl.col("decision") == "extend")
        .then(pl.col("effective_on"))
        .otherwise(pl.col("valid_from")),
        new_valid_until=pl.when(pl.col("decision") == "extend")
        .then(pl.col("new_valid_until"))
        .when(pl.col("decision") == "convert")
        .then(None)
        .otherwise(pl.col("valid_until")),
        description=pl.format(
            "{}年度 {} {}円",
            pl.lit(year),
            pl.col("fee_item").replace_strict(FEE_LABELS, default=pl.col("fee_item")),
            pl.col("fee_amount").map_elements(lambda n: f"{n:,}", return_dtype=pl.String),
        ),
    )
    members = staged.filter(pl.col("qualification") == MEMBERSHIP)
    staged = staged.filter(pl.col("qualification") != MEMBERSHIP)
    if members.height:
        _erase_members(con, members, as_of, actor, batch_id)
    con.register("renewal_changes", staged)
    try:
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
                       ?, CAST({field} AS VARCHAR), CAST({new} AS VARCHAR),
                       'renewal batch ' || CAST(? AS VARCHAR) || ': ' || decision, ?
                FROM renewal_changes WHERE {field} IS DISTINCT FROM {new}
                """,
                [actor, field, as_of, batch_id],
            )
        con.execute(
            """
            UPDATE qualifications AS q
            SET status = c.new_status, valid_from = c.new_valid_from,
                valid_until = c.new_valid_until, updated_at = current_timestamp
            FROM renewal_changes c WHERE q.qualification_id = c.qualification_id
            """
        )
        with db.registered(con, item_tax=billing.tax_classes(as_of)):
            con.execute(
                """
                INSERT INTO billing (member_no, scheme, item, description, amount, handling_fee,
                                     tax_class, issued_on, due_on, status, qualification_id,
                                     season)
                SELECT c.member_no, c.scheme, c.fee_item, c.description, c.fee_amount, 0,
                       coalesce(t.tax_class, 'out_of_scope'), ?,
                       (?::DATE + INTERVAL 1 MONTH)::DATE, 'open', c.qualification_id, ?
                FROM renewal_changes c
                LEFT JOIN item_tax t ON t.scheme = c.scheme AND t.item = c.fee_item
                WHERE c.fee_item IS NOT NULL
                """,
                [as_of, as_of, year],
            )
        con.execute(
            """
            INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                                   new_value, reason, batch_id)
            SELECT ?, 'insert', 'billing', CAST(qualification_id AS VARCHAR), member_no, 'item',
                   fee_item || ' ' || CAST(fee_amount AS VARCHAR), description, ?
            FROM renewal_changes WHERE fee_item IS NOT NULL
            """,
            [actor, batch_id],
        )
    finally:
        con.unregister("renewal_changes")


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
                   'renewal batch ' || CAST(? AS VARCHAR) || ': not registered for the season;'
                   || ' personal data cleared', ?
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


def _number(value: Decimal | float | int | None) -> float | int | None:
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def explain(
    con: duckdb.DuckDBPyConnection,
    member_no: str,
    as_of: dt.date,
    *,
    cfg: config.Config | None = None,
) -> dict[str, Any]:
    """The member's qualifications with requirements and decisions, in FORMATS.md's JSON shape."""
    settings = cfg or config.current()
    held = db.frame(
        con,
        "SELECT qualification_id, scheme, qualification, status, valid_from, valid_until"
        " FROM qualifications WHERE member_no = ? ORDER BY scheme, qualification",
        [member_no],
    )
    # only the schemes the member takes part in: their qualifications and applications
    involved = {
        r[0]
        for r in con.execute(
            "SELECT scheme FROM qualifications WHERE member_no = ?"
            " UNION SELECT scheme FROM applications WHERE member_no = ?",
            [member_no, member_no],
        ).fetchall()
    }
    schemes = tuple(s for s in SCHEMES if s in involved)
    rows = (
        requirements(con, as_of, schemes=schemes, member_no=member_no, cfg=settings)
        if schemes
        else pl.DataFrame()
    )
    by_id: dict[int, list[dict[str, Any]]] = {}
    for row in rows.iter_rows(named=True):
        by_id.setdefault(row["qualification_id"], []).append(row)
    qualifications = []
    for q in held.iter_rows(named=True):
        found = by_id.get(q["qualification_id"], [])
        first = found[0] if found else {}
        qualifications.append(
            {
                "scheme": q["scheme"],
                "qualification": q["qualification"],
                "label": settings.qualification_label(q["scheme"], q["qualification"]),
                "status": q["status"],
                "valid_from": _iso(q["valid_from"]),
                "valid_until": _iso(q["valid_until"]),
                "decision": first.get("decision", "none"),
                "effective_on": _iso(first.get("effective_on")),
                "new_valid_until": _iso(first.get("new_valid_until")),
                "requirements": [_requirement(r) for r in found],
            }
        )
    memberships = rows.filter(pl.col("qualification") == MEMBERSHIP) if rows.height else rows
    for row in memberships.iter_rows(named=True):
        qualifications.insert(
            0,
            {
                "scheme": row["scheme"],
                "qualification": MEMBERSHIP,
                "label": "会員登録",
                "status": row["status"],
                "valid_from": None,
                "valid_until": _iso(row["valid_until"]),
                "decision": row["decision"],
                "effective_on": _iso(row["effective_on"]),
                "new_valid_until": None,
                "requirements": [_requirement(row)],
            },
        )
    return {"member_no": member_no, "as_of": as_of.isoformat(), "qualifications": qualifications}


def _requirement(row: dict[str, Any]) -> dict[str, Any]:
    """One requirement row in FORMATS.md's JSON shape."""
    return {
        "code": row["code"],
        "label": row["label"],
        "required": _number(row["required"]),
        "actual": _number(row["actual"]),
        "met": bool(row["met"]),
        "period_from": _iso(row["period_from"]),
        "period_to": _iso(row["period_to"]),
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
