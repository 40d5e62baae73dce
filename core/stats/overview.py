"""Figures for the home page: the work in a user's scope, set-based over the whole store."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core.members.organizations import scope_path
from core.store import db


def _month_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    start = today.replace(day=1)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    return start, following - dt.timedelta(days=1)


def member_counts(con: duckdb.DuckDBPyConnection, scope: str) -> pl.DataFrame:
    """Members per body and status beneath the scope."""
    return db.frame(
        con,
        """
        SELECT root.name AS body, m.status, count(*) AS members
        FROM members m JOIN organizations o USING (org_code)
        JOIN organizations root ON root.org_code = o.root_code
        WHERE starts_with(o.path, ?)
        GROUP BY ALL ORDER BY body, status
        """,
        [scope_path(con, scope)],
    )


def qualification_counts(con: duckdb.DuckDBPyConnection, scope: str) -> pl.DataFrame:
    """Qualifications per scheme, type and status beneath the scope."""
    return db.frame(
        con,
        """
        SELECT q.scheme, q.qualification, q.status, count(*) AS n
        FROM qualifications q JOIN members m USING (member_no)
        JOIN organizations o USING (org_code)
        WHERE starts_with(o.path, ?)
        GROUP BY ALL ORDER BY ALL
        """,
        [scope_path(con, scope)],
    )


def workload(con: duckdb.DuckDBPyConnection, scope: str, today: dt.date) -> dict[str, int]:
    """Headline numbers: validity ending this month, expired yesterday, open fees."""
    start, end = _month_bounds(today)
    prefix = scope_path(con, scope)
    row = con.execute(
        """
        WITH scoped AS (
            SELECT m.member_no FROM members m JOIN organizations o USING (org_code)
            WHERE starts_with(o.path, ?)
        )
        SELECT
            (SELECT count(*) FROM qualifications q
              WHERE q.member_no IN (SELECT member_no FROM scoped)
                AND q.valid_until BETWEEN ? AND ? AND q.status IN ('active', 'renewal_open')),
            (SELECT count(*) FROM qualifications q
              WHERE q.member_no IN (SELECT member_no FROM scoped)
                AND q.valid_until = ? AND q.status IN ('active', 'renewal_open')),
            (SELECT count(*) FROM billing b
              WHERE b.member_no IN (SELECT member_no FROM scoped) AND b.status = 'open'),
            (SELECT coalesce(sum(amount + handling_fee), 0) FROM billing b
              WHERE b.member_no IN (SELECT member_no FROM scoped) AND b.status = 'open'),
            (SELECT count(*) FROM scoped)
        """,
        [prefix, start, end, today - dt.timedelta(days=1)],
    ).fetchone()
    assert row is not None
    keys = ("ending_this_month", "ended_yesterday", "open_lines", "open_amount", "members")
    return dict(zip(keys, (int(v) for v in row), strict=True))
