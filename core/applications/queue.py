"""The approver's queue (承認待ち) and the SLA view: queries over whole queues at once.

SLA rules come from the configuration: a level with `<scheme>.approval.prefecture_sla_hours`
(SAJ: 48 hours at the prefecture) is due that many hours after the application arrived there;
the national level is due at the end of the `<scheme>.approval.national_business_days`-th
business day after the day it arrived (core.applications.business_days: no weekends, national and
substitute holidays, nor the year-end closure). Club and regional levels have no SLA.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import polars as pl

from core import config, schemes, text
from core.applications import business_days, routing
from core.config import Config
from core.store import db, queries

QUEUE_LIMIT = 500  # rows shown at once; counts cover the whole queue


def sla_rules(cfg: Config, on: dt.date) -> pl.DataFrame:
    """(scheme, level, hours, business_days) for every level that has an SLA."""
    rows = [
        (scheme.code, level, hours, days)
        for scheme in schemes.every()
        for level, (hours, days) in scheme.sla(cfg, on).items()
    ]
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
    calendar = business_days.calendar_frame(cfg, schemes.CODES, on)
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
    now = now or text.jst_now()
    where, params = routing.scope_filter(con, role, scope)
    sql = queries.query("approvals", "queue").format(scope=where)
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


def sla_history(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: str,
    first: dt.date,
    last: dt.date,
    role: str = "hq_staff",
    scheme: str | None = None,
    now: dt.datetime | None = None,
) -> pl.DataFrame:
    """Per day, level and organisation (and per day and level with org_code null): pending,
    median and p95 waiting hours, overdue — over the applications the user's queue holds
    (for an approver, their own level), so that today's count is the queue's."""
    now = now or text.jst_now()
    where, params = routing.scope_filter(con, role, scope, column="st.org_code")
    with _sla_relations(con, now.date()):
        return db.frame(
            con,
            queries.query("approvals", "sla_history").format(scope=where),
            {
                **params,
                "scheme": scheme,
                "from": first,
                "to": last,
                "now": now,
            },
        )
