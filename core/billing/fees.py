"""Fee statistics for the dashboard: income, outstanding lines by age, collection rate.

Every figure is one set-based query over billing (and payments for the method) within the
user's organisation scope; amounts are yen, handling fees apart. Income counts paid lines by
the day they were paid; the collection rate counts lines issued in the period that were not
cancelled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from core.members.organizations import scope_path
from core.store import db
from core.vocabulary import AGE_BANDS

DIMENSIONS = {
    "scheme": "b.scheme",
    "prefecture": "coalesce(m.prefecture, '（不明）')",
    "organization": "o.name",
    "method": "coalesce(p.method, '（不明）')",
}


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    schemes: tuple[str, ...]


def _scoped(period: Period, scope_prefix: str) -> tuple[str, list[object]]:
    where = "starts_with(o.path, ?) AND list_contains(?, b.scheme)"
    return where, [scope_prefix, list(period.schemes)]


_FROM = """
    FROM billing b
    JOIN members m USING (member_no)
    JOIN organizations o ON o.org_code = m.org_code
    LEFT JOIN payments p ON p.payment_id = b.payment_id
"""


def income_by_month(con: duckdb.DuckDBPyConnection, scope: str, period: Period) -> pl.DataFrame:
    """Paid amounts per month of payment and scheme, with handling fees."""
    where, params = _scoped(period, scope_path(con, scope))
    return db.frame(
        con,
        f"""
        SELECT date_trunc('month', b.paid_on)::DATE AS month, b.scheme,
               sum(b.amount)::BIGINT AS amount, sum(b.handling_fee)::BIGINT AS handling_fee,
               count(*) AS lines
        {_FROM}
        WHERE {where} AND b.status = 'paid' AND b.paid_on BETWEEN ? AND ?
        GROUP BY ALL ORDER BY month, b.scheme
        """,
        [*params, period.start, period.end],
    )


def income_by(
    con: duckdb.DuckDBPyConnection, scope: str, period: Period, dimension: str
) -> pl.DataFrame:
    """Paid amounts in the period by scheme, prefecture, organisation or payment method."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension}; choose one of {', '.join(DIMENSIONS)}")
    where, params = _scoped(period, scope_path(con, scope))
    return db.frame(
        con,
        f"""
        SELECT {DIMENSIONS[dimension]} AS {dimension}, sum(b.amount)::BIGINT AS amount,
               sum(b.handling_fee)::BIGINT AS handling_fee, count(*) AS lines
        {_FROM}
        WHERE {where} AND b.status = 'paid' AND b.paid_on BETWEEN ? AND ?
        GROUP BY ALL ORDER BY amount DESC
        """,
        [*params, period.start, period.end],
    )


def outstanding(
    con: duckdb.DuckDBPyConnection, scope: str, period: Period, as_of: dt.date
) -> pl.DataFrame:
    """Open lines on `as_of` by scheme and age band (days since issue)."""
    where, params = _scoped(period, scope_path(con, scope))
    return db.frame(
        con,
        f"""
        SELECT b.scheme,
               CASE WHEN ? - b.issued_on <= 30 THEN '{AGE_BANDS[0]}'
                    WHEN ? - b.issued_on <= 90 THEN '{AGE_BANDS[1]}'
                    WHEN ? - b.issued_on <= 120 THEN '{AGE_BANDS[2]}'
                    ELSE '{AGE_BANDS[3]}' END AS age_band,
               count(*) AS lines, sum(b.amount + b.handling_fee)::BIGINT AS amount,
               min(? - b.issued_on) AS youngest_days
        {_FROM}
        WHERE {where} AND b.status = 'open' AND b.issued_on <= ?
        GROUP BY b.scheme, age_band ORDER BY b.scheme, youngest_days
        """,
        [as_of, as_of, as_of, as_of, *params, as_of],
    )


def collection_rate(con: duckdb.DuckDBPyConnection, scope: str, period: Period) -> pl.DataFrame:
    """Per scheme, of the lines issued in the period and not cancelled: billed, paid, rate."""
    where, params = _scoped(period, scope_path(con, scope))
    return db.frame(
        con,
        f"""
        SELECT b.scheme, sum(b.amount)::BIGINT AS billed,
               coalesce(sum(b.amount) FILTER (WHERE b.status = 'paid'), 0)::BIGINT AS paid,
               round(coalesce(sum(b.amount) FILTER (WHERE b.status = 'paid'), 0)
                     / nullif(sum(b.amount), 0) * 100, 1) AS rate_percent
        {_FROM}
        WHERE {where} AND b.status IN ('open', 'paid') AND b.issued_on BETWEEN ? AND ?
        GROUP BY ALL ORDER BY b.scheme
        """,
        [*params, period.start, period.end],
    )


def handling_fees(con: duckdb.DuckDBPyConnection, scope: str, period: Period) -> int:
    """Handling fees the payers bore on payments in the period (each payment once)."""
    where, params = _scoped(period, scope_path(con, scope))
    row = con.execute(
        f"""
        SELECT coalesce(sum(handling_fee), 0)::BIGINT FROM payments
        WHERE paid_on BETWEEN ? AND ? AND payment_id IN (
            SELECT b.payment_id {_FROM} WHERE {where} AND b.payment_id IS NOT NULL)
        """,
        [period.start, period.end, *params],
    ).fetchall()
    return int(row[0][0])


def headline(
    month: pl.DataFrame, rate: pl.DataFrame, aging: pl.DataFrame, handling_fee: int
) -> dict[str, int | float | None]:
    """The dashboard's headline figures from its tables: income in the period, the payers'
    handling fees, the collection rate over every chosen scheme (None when nothing was
    billed) and what is open today."""
    billed, paid = int(rate["billed"].sum() or 0), int(rate["paid"].sum() or 0)
    return {
        "income": int(month["amount"].sum() or 0),
        "handling_fee": handling_fee,
        "collection_rate": round(paid / billed * 100, 1) if billed else None,
        "outstanding": int(aging["amount"].sum() or 0),
    }
