"""The approver's queue (承認待ち) and the SLA view: queries over whole queues at once.

SLA rules come from the configuration: a level with `<scheme>.approval.prefecture_sla_hours`
(SAJ: 48 hours at the prefecture) is due that many hours after the application arrived there;
the national level is due at the end of the `<scheme>.approval.national_business_days`-th
business day after the day it arrived (core.business_days: no weekends, national and
substitute holidays, nor the year-end closure). Club and regional levels have no SLA.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from core import approvals, business_days, config, db, organizations
from core.config import Config
from core.config_settings import BY_KEY, SCHEME_CODES

SQL = Path(__file__).parent / "sql" / "approvals"
QUEUE_LIMIT = 500  # rows shown at once; counts cover the whole queue
FLAGS = {
    "any": "要確認のもの（いずれか）",
    "duplicate": "二重申請の疑い",
    "same_person": "同一人物の別会員番号",
    "address": "住所の不一致",
    "returns_qualification": "資格返上を含む",
    "due": "期限が近い・超過",
    "overdue": "期限超過",
}
SLA_LABELS = {"overdue": "期限超過", "due": "24時間以内", "ok": "期限内"}


@cache
def _sql(name: str) -> str:
    return (SQL / f"{name}.sql").read_text(encoding="utf-8")


def sla_rules(cfg: Config, on: dt.date) -> pl.DataFrame:
    """(scheme, level, hours, business_days) for every level that has an SLA."""
    rows: list[tuple[str, str, int | None, int | None]] = []
    for scheme in SCHEME_CODES:
        key = f"{scheme}.approval.prefecture_sla_hours"
        if key in BY_KEY:
            rows.append((scheme, "prefecture", int(cfg.value(key, on=on)), None))
        days = int(cfg.value(f"{scheme}.approval.national_business_days", on=on))
        rows.append((scheme, "national", None, days))
    return pl.DataFrame(
        rows,
        schema={"scheme": pl.String, "level": pl.String, "hours": pl.Int32,
                "business_days": pl.Int32},
        orient="row",
    )  # fmt: skip


def sla_deadlines(cfg: Config, on: dt.date) -> pl.DataFrame:
    """(scheme, level, day, hours, due_day): for an application arriving at a level on `day`,
    either the hours it has from its arrival or the last day it has (the n-th business day
    after `day`). One relation for every query that asks for a deadline."""
    calendar = business_days.calendar_frame(cfg, SCHEME_CODES, on)
    rules = sla_rules(cfg, on)
    by_hours = rules.filter(pl.col("hours").is_not_null()).join(
        calendar.select("scheme", "day"), on="scheme"
    )
    business = calendar.filter("business").select(
        "scheme", pl.col("ordinal").alias("due_ordinal"), pl.col("day").alias("due_day")
    )
    by_days = (
        rules.filter(pl.col("business_days").is_not_null())
        .join(calendar.select("scheme", "day", "ordinal"), on="scheme")
        .with_columns(due_ordinal=pl.col("ordinal") + pl.col("business_days"))
        .join(business, on=["scheme", "due_ordinal"], how="left")
    )
    return pl.concat(
        [
            by_hours.select("scheme", "level", "day", "hours", due_day=pl.lit(None, pl.Date)),
            by_days.select("scheme", "level", "day", "hours", "due_day"),
        ]
    )


@contextmanager
def _sla_relations(con: duckdb.DuckDBPyConnection, on: dt.date) -> Iterator[None]:
    with db.registered(con, sla_deadlines=sla_deadlines(config.current(), on)):
        yield


@dataclass(frozen=True)
class QueueFilter:
    scheme: str | None = None
    kind: str | None = None
    level: str | None = None
    flag: str | None = None  # a key of FLAGS
    min_hours: float | None = None
    statuses: tuple[str, ...] = ("pending",)

    def token(self) -> str:
        """A short stable name for these filters (a page keys its grid by it)."""
        return hashlib.sha1(repr(self).encode()).hexdigest()[:8]


def queue(
    con: duckdb.DuckDBPyConnection,
    *,
    role: str,
    scope: str,
    filters: QueueFilter = QueueFilter(),
    now: dt.datetime | None = None,
    limit: int | None = QUEUE_LIMIT,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """The open applications this user may act on, longest waiting first, and counts over
    the whole filtered queue (total, overdue, due, flagged)."""
    now = now or approvals.jst_now()
    where, params = approvals._scope_filter(con, role, scope)
    sql = _sql("queue").format(scope=where)
    with _sla_relations(con, now.date()):
        con.execute(f"CREATE OR REPLACE TEMP TABLE queue_rows AS {sql}", {
            **params,
            "statuses": list(filters.statuses),
            "scheme": filters.scheme,
            "kind": filters.kind,
            "level": filters.level,
            "flag": filters.flag,
            "min_hours": filters.min_hours,
            "now": now,
        })  # fmt: skip
    row = db.one(
        con,
        """
        SELECT count(*), count(*) FILTER (WHERE sla = 'overdue'),
               count(*) FILTER (WHERE sla = 'due'),
               count(*) FILTER (WHERE duplicate_of IS NOT NULL OR same_person_as IS NOT NULL
                                OR address_problem IS NOT NULL OR returns_qualification)
        FROM queue_rows
        """,
    )
    assert row is not None
    counts = {"total": row[0], "overdue": row[1], "due": row[2], "flagged": row[3]}
    rows = db.frame(
        con,
        "SELECT * FROM queue_rows ORDER BY level_since, application_id"
        + (" LIMIT ?" if limit else ""),
        [limit] if limit else None,
    )
    con.execute("DROP TABLE IF EXISTS queue_rows")
    return rows, counts


def sent_back(con: duckdb.DuckDBPyConnection, *, scope: str) -> pl.DataFrame:
    """Sent-back applications within a scope with the latest reason, for the sender."""
    prefix = organizations.scope_path(con, scope)
    return db.frame(
        con,
        """
        SELECT a.application_id, a.application_ref, a.version, a.scheme, a.kind, a.season,
               a.member_no,
               coalesce(m.family_name || ' ' || m.given_name,
                        a.family_name || ' ' || a.given_name) AS name,
               a.level, o.name AS level_org_name, s.reason, s.note AS send_back_note,
               s.actor AS sent_back_by, s.acted_at AS sent_back_at
        FROM applications a
        LEFT JOIN members m ON m.member_no = a.member_no
        LEFT JOIN organizations o ON o.org_code = a.level_org_code
        JOIN organizations home ON home.org_code = coalesce(a.org_code, m.org_code)
        LEFT JOIN (
            SELECT application_id, arg_max(reason, step_id) AS reason,
                   arg_max(note, step_id) AS note, arg_max(actor, step_id) AS actor,
                   max(acted_at) AS acted_at
            FROM application_steps WHERE action = 'sent_back' GROUP BY application_id
        ) s USING (application_id)
        WHERE a.status = 'sent_back' AND starts_with(home.path, ?)
        ORDER BY s.acted_at
        """,
        [prefix],
    )


def sla_history(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: str,
    first: dt.date,
    last: dt.date,
    scheme: str | None = None,
    now: dt.datetime | None = None,
) -> pl.DataFrame:
    """Per day, level and organisation (and per day and level with org_code null): pending,
    median and p95 waiting hours, overdue."""
    now = now or approvals.jst_now()
    with _sla_relations(con, now.date()):
        return db.frame(
            con,
            _sql("sla_history"),
            {
                "prefix": organizations.scope_path(con, scope),
                "scheme": scheme,
                "from": first,
                "to": last,
                "now": now,
            },
        )


def member_applications(con: duckdb.DuckDBPyConnection, member_no: str) -> pl.DataFrame:
    """A member's applications, newest first, for the member page."""
    return db.frame(
        con,
        """
        SELECT a.application_ref, a.scheme, a.kind, a.season, a.status, a.level,
               o.name AS level_org_name, a.submitted_at, a.decided_at, a.entered_by,
               a.qualification, a.reject_reason
        FROM applications a LEFT JOIN organizations o ON o.org_code = a.level_org_code
        WHERE a.member_no = ? ORDER BY a.submitted_at DESC
        """,
        [member_no],
    )
