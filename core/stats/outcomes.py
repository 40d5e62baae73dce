"""Renewal and lapse statistics (更新・失効統計): what the renewal batch actually did.

Everything is read from what was recorded when it happened — the batch's run history
(renewal_outcomes, renewal_unmet: core.renewals.history) and the audit trail (returns and
suspensions approved) — never recomputed from today's statuses. The unit is the renewal
*cycle*: a qualification and the validity end that came up (core/sql/stats/renewal_cycles.sql).

- `due`: cycles that came up in the period; each ends `renewed`, `lapsed`, `invalidated`,
  `erased` or `converted` (its final outcome so far);
- `returned`, `suspended`: qualifications given back or suspended by an approved application;
- `members_erased`: SAJ members erased for not registering (memberships, not qualifications);
- rates are shares of `due`.

A member is placed (organisation, prefecture, age band) as the run that decided recorded it,
so a member who moved or was erased later still counts where they stood.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from core import schemes
from core.members.organizations import scope_path
from core.store import db, queries

CONCEPT = "stats"
OUTCOMES = ("renewed", "lapsed", "invalidated", "erased", "converted")  # a cycle's end
EVENTS = ("returned", "suspended", "members_erased")  # counted beside the cycles
# What a table can be broken down by: the column of the events relation each groups on.
DIMENSIONS = {
    "scheme": "scheme",
    "qualification": "qualification",
    "prefecture": "coalesce(prefecture, '（不明）')",
    "org": "coalesce(org_code, '（不明）')",  # with org_name beside it
    "age_band": "age_band",
    "month": "date_trunc('month', came_up_on)::DATE",
    "cohort": "cohort",
}
RATE_COLUMNS = ("renewal_rate", "lapse_rate", "invalidation_rate", "erasure_rate")


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    schemes: tuple[str, ...] = schemes.CODES


def _events_sql() -> str:
    """Every counted event in the period: cycles, returns and suspensions, member erasures."""
    cycles = queries.query(CONCEPT, "renewal_cycles")
    status = queries.query(CONCEPT, "status_events")
    erased = queries.query(CONCEPT, "members_erased")
    columns = ("member_no, scheme, qualification, came_up_on, outcome, org_code, org_name, path,"
               " prefecture, age_band, cohort")  # fmt: skip
    return f"""
        WITH events AS (
            SELECT {columns} FROM ({cycles})
            UNION ALL SELECT {columns} FROM ({status})
            UNION ALL SELECT {columns} FROM ({erased})
        )
        SELECT * FROM events
        WHERE starts_with(coalesce(path, '/'), $scope) AND list_contains($schemes, scheme)
          AND ($scope = '/' OR path IS NOT NULL)
    """


def _params(con: duckdb.DuckDBPyConnection, period: Period, scope: str) -> dict[str, object]:
    return {
        "from": period.start,
        "to": period.end,
        "scope": scope_path(con, scope),
        "schemes": list(period.schemes),
    }


def by(
    con: duckdb.DuckDBPyConnection, period: Period, dimension: str, *, scope: str = "*"
) -> pl.DataFrame:
    """Counts and rates per scheme and `dimension` (one row per scheme when it is `scheme`).

    Columns: scheme, [dimension (org: the code, then org_name)], due, the outcomes, the events,
    then the rates (0–1, null when nothing was due)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; choose one of {', '.join(DIMENSIONS)}")
    keys = ["scheme"] if dimension == "scheme" else ["scheme", dimension]
    key_sql = ", ".join(
        "scheme" if k == "scheme" else f"{DIMENSIONS[k]} AS {k}" for k in keys
    )  # identifiers from code
    counts = ", ".join(
        f"count(*) FILTER (WHERE outcome = '{name}') AS {name}" for name in (*OUTCOMES, *EVENTS)
    )
    named = (
        ", any_value(coalesce(org_name, org_code, '（不明）')) AS org_name"
        if dimension == "org"
        else ""
    )
    frame = db.frame(
        con,
        f"""
        SELECT {key_sql}{named},
               count(*) FILTER (WHERE list_contains({list(OUTCOMES)}, outcome)) AS due,
               {counts}
        FROM ({_events_sql()})
        GROUP BY {", ".join(keys)} ORDER BY {", ".join(keys)}
        """,
        _params(con, period, scope),
    )
    return with_rates(frame)


def with_rates(frame: pl.DataFrame) -> pl.DataFrame:
    """The shares of `due` that renewed, lapsed, were invalidated and erased (null: none due)."""

    def share(column: str) -> pl.Expr:
        return (
            pl.when(pl.col("due") > 0)
            .then((pl.col(column) / pl.col("due")).round(4))
            .otherwise(None)
        )

    return frame.with_columns(
        share("renewed").alias("renewal_rate"),
        share("lapsed").alias("lapse_rate"),
        share("invalidated").alias("invalidation_rate"),
        share("erased").alias("erasure_rate"),
    )


def totals(frame: pl.DataFrame) -> dict[str, int | float | None]:
    """One line over a `by` table: the counts summed, the rates recomputed."""
    summed = frame.select(pl.col("due", *OUTCOMES, *EVENTS).sum())
    row = with_rates(summed).row(0, named=True)
    return row


def lapse_reasons(
    con: duckdb.DuckDBPyConnection, period: Period, *, scope: str = "*"
) -> pl.DataFrame:
    """Per scheme, qualification and requirement: how many endings (lapse, invalidation,
    erasure) lacked it at the run that ended them, and the share of those endings.

    Columns: scheme, qualification, code, label, lacking, endings, known, share (of the
    endings whose requirements were recorded: runs before the recording began have none)."""
    frame = db.frame(
        con,
        queries.query(CONCEPT, "lapse_reasons"),
        _params(con, period, scope),
    )
    return frame.with_columns(
        pl.when(pl.col("known") > 0)
        .then((pl.col("lacking") / pl.col("known")).round(4))
        .otherwise(None)
        .alias("share")
    )


def retention(
    con: duckdb.DuckDBPyConnection, period: Period, *, scope: str = "*", cycles: int = 6
) -> pl.DataFrame:
    """Per cohort (year of acquisition): the share still valid after 1, 2, … renewal cycles.

    Cycles are counted from the first one in the batch history (a qualification acquired long
    before it began enters at its first cycle the batch decided). A qualification whose k-th
    cycle has not come up yet leaves the count at k (Kaplan–Meier), so young cohorts are not
    read as lost. Columns: cohort, cycle, at_risk, renewed, retention (0–1)."""
    params = _params(con, period, scope)
    frame = db.frame(
        con,
        queries.query(CONCEPT, "retention"),
        {"to": params["to"], "scope": params["scope"], "schemes": params["schemes"],
         "cycles": cycles},
    )  # fmt: skip
    if frame.is_empty():
        return frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("retention"))
    return (
        frame.filter(pl.col("at_risk") > 0)
        .sort("cohort", "cycle")
        .with_columns(
            (pl.col("renewed") / pl.col("at_risk"))
            .cum_prod()
            .over("cohort")
            .round(4)
            .alias("retention")
        )
    )
