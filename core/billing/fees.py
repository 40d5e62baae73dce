"""Fee statistics for the dashboard: income, outstanding lines by age, collection rate.

Every figure is one set-based query over billing (and payments for the method) within the
user's organisation scope; amounts are yen, the payers' handling fees (決済手数料) apart.
Income counts paid lines by the day they were paid; the collection rate counts lines issued
in the period that were not cancelled.
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

# What the payers bore for their payment methods (決済手数料) is a payment's, and a payment
# may pay several lines (a club's payment): the fee is shared by the lines it paid in
# proportion to what each asked, the first line taking what rounding to yen leaves, so that
# the shares of a payment add up to its fee exactly and every breakdown adds up to the total.
_PAYMENT_FEES = """
    WITH fee_lines AS (
        SELECT b.billing_id, b.payment_id, p.handling_fee AS fee,
               b.amount + b.handling_fee AS weight,
               sum(b.amount + b.handling_fee) OVER (PARTITION BY b.payment_id) AS total,
               row_number() OVER (PARTITION BY b.payment_id ORDER BY b.billing_id) AS nth
        FROM billing b JOIN payments p ON p.payment_id = b.payment_id
        WHERE p.handling_fee <> 0 AND p.paid_on BETWEEN $start AND $end
    ), fee_floor AS (
        SELECT *, CASE WHEN total > 0 THEN fee * weight // total
                       WHEN nth = 1 THEN fee ELSE 0 END AS share
        FROM fee_lines
    ), fee_shares AS (
        SELECT billing_id,
               share + CASE WHEN nth = 1 THEN fee - sum(share) OVER (PARTITION BY payment_id)
                            ELSE 0 END AS payment_fee
        FROM fee_floor
    )
"""
_PAID_IN_PERIOD = """
    FROM billing b
    JOIN members m USING (member_no)
    JOIN organizations o ON o.org_code = m.org_code
    LEFT JOIN payments p ON p.payment_id = b.payment_id
    LEFT JOIN fee_shares f ON f.billing_id = b.billing_id
    WHERE starts_with(o.path, $scope) AND list_contains($schemes, b.scheme)
      AND b.status = 'paid' AND b.paid_on BETWEEN $start AND $end
"""


def _paid_params(con: duckdb.DuckDBPyConnection, scope: str, period: Period) -> dict[str, object]:
    return {
        "scope": scope_path(con, scope),
        "schemes": list(period.schemes),
        "start": period.start,
        "end": period.end,
    }


def income_by_month(con: duckdb.DuckDBPyConnection, scope: str, period: Period) -> pl.DataFrame:
    """Paid amounts per month of payment and scheme, with the payers' handling fees."""
    return db.frame(
        con,
        f"""
        {_PAYMENT_FEES}
        SELECT date_trunc('month', b.paid_on)::DATE AS month, b.scheme,
               sum(b.amount)::BIGINT AS amount,
               coalesce(sum(f.payment_fee), 0)::BIGINT AS payment_fee, count(*) AS lines
        {_PAID_IN_PERIOD}
        GROUP BY ALL ORDER BY month, b.scheme
        """,
        _paid_params(con, scope, period),
    )


def income_by(
    con: duckdb.DuckDBPyConnection, scope: str, period: Period, dimension: str
) -> pl.DataFrame:
    """Paid amounts in the period by scheme, prefecture, organisation or payment method, with
    the payers' handling fees."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension}; choose one of {', '.join(DIMENSIONS)}")
    return db.frame(
        con,
        f"""
        {_PAYMENT_FEES}
        SELECT {DIMENSIONS[dimension]} AS {dimension}, sum(b.amount)::BIGINT AS amount,
               coalesce(sum(f.payment_fee), 0)::BIGINT AS payment_fee, count(*) AS lines
        {_PAID_IN_PERIOD}
        GROUP BY ALL ORDER BY amount DESC, {dimension}
        """,
        _paid_params(con, scope, period),
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


def headline(
    month: pl.DataFrame, rate: pl.DataFrame, aging: pl.DataFrame
) -> dict[str, int | float | None]:
    """The dashboard's headline figures from its tables: income in the period, the payers'
    handling fees on it, the collection rate over every chosen scheme (None when nothing was
    billed) and what is open today — each the sum of the breakdowns shown beneath it."""
    billed, paid = int(rate["billed"].sum() or 0), int(rate["paid"].sum() or 0)
    return {
        "income": int(month["amount"].sum() or 0),
        "handling_fee": int(month["payment_fee"].sum() or 0),
        "collection_rate": round(paid / billed * 100, 1) if billed else None,
        "outstanding": int(aging["amount"].sum() or 0),
    }
