"""What a forecast says, for pages and the command line: totals by scheme, prefecture or
organisation, the members at risk (who lacks what, by when), and the back-test of the
forecasts kept before against what the batch then did."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import config
from core.stats.forecast import CONCEPT, Forecast
from core.store import db, queries

DIMENSIONS = ("scheme", "qualification", "prefecture", "org")


def summary(con: duckdb.DuckDBPyConnection, forecast: Forecast, dimension: str) -> pl.DataFrame:
    """Per scheme (and `dimension`): due, expected_renewals, expected_lapses, expected_income."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; choose one of {', '.join(DIMENSIONS)}")
    items = forecast.items
    if dimension == "org":
        names = db.frame(con, "SELECT org_code, name AS org FROM organizations")
        items = items.join(names, on="org_code", how="left").with_columns(
            pl.coalesce("org", "org_code", pl.lit("（不明）")).alias("org")
        )
    elif dimension == "prefecture":
        items = items.with_columns(pl.col("prefecture").fill_null("（不明）"))
    keys = ["scheme"] if dimension == "scheme" else ["scheme", dimension]
    if items.is_empty():
        return pl.DataFrame(
            schema={
                **{k: pl.String for k in keys},
                "due": pl.Int64,
                "expected_renewals": pl.Float64,
                "expected_lapses": pl.Float64,
                "expected_income": pl.Int64,
            }
        )
    return (
        items.group_by(keys)
        .agg(
            pl.len().cast(pl.Int64).alias("due"),
            pl.col("p_renew").sum().round(1).alias("expected_renewals"),
            (1 - pl.col("p_renew")).sum().round(1).alias("expected_lapses"),
            (pl.col("p_renew") * pl.col("fee"))
            .sum()
            .round(0)
            .cast(pl.Int64)
            .alias("expected_income"),
        )
        .sort(keys)
    )


def at_risk(
    con: duckdb.DuckDBPyConnection, forecast: Forecast, cfg: config.Config | None = None
) -> pl.DataFrame:
    """The members less likely to renew than `common.forecast.at_risk_below_percent`, least
    likely first: who, which qualification, what is missing (codes, and in words with how much
    and by when), the earliest deadline, the chance, and how to reach them."""
    settings = cfg or config.current()
    below = int(settings.value("common.forecast.at_risk_below_percent", on=forecast.made_on))
    risky = forecast.items.filter(pl.col("p_renew") * 100 < below)
    if risky.is_empty():
        return pl.DataFrame(
            schema={
                "member_no": pl.String,
                "scheme": pl.String,
                "qualification": pl.String,
                "missing": pl.String,
                "missing_words": pl.String,
                "deadline": pl.Date,
                "p_renew": pl.Float64,
            }
        )
    words = forecast.gaps.with_columns(
        pl.when(pl.col("required").cast(pl.Float64) > 1)
        .then(
            pl.format("{} あと{}", pl.col("label"), _amount(pl.col("required") - pl.col("actual")))
        )
        .otherwise(pl.col("label"))
        .alias("word")
    )
    described = words.group_by("member_no", "scheme", "qualification").agg(
        pl.col("word").sort().str.join("、").alias("missing_words")
    )
    people = _people(con, risky)
    return (
        risky.join(described, on=["member_no", "scheme", "qualification"], how="left")
        .join(people, on="member_no", how="left")
        .with_columns(pl.col("missing").list.join(";").alias("missing"))
        .sort("p_renew", "deadline", "member_no")
        .select(
            "member_no",
            "family_name",
            "given_name",
            "org",
            "scheme",
            "qualification",
            "missing",
            "missing_words",
            "deadline",
            "p_renew",
            "phone",
            "email",
        )
    )


def _amount(gap: pl.Expr) -> pl.Expr:
    """A gap as people write it: 2 (not 2.0), 2.5."""
    value = gap.cast(pl.Float64).abs().round(1)
    return (
        pl.when(value == value.floor())
        .then(value.cast(pl.Int64).cast(pl.String))
        .otherwise(value.cast(pl.String))
    )


def _people(con: duckdb.DuckDBPyConnection, risky: pl.DataFrame) -> pl.DataFrame:
    with db.registered(con, risky_members=risky.select("member_no").unique()):
        return db.frame(
            con,
            "SELECT m.member_no, m.family_name, m.given_name, m.phone, m.email, o.name AS org"
            " FROM members m SEMI JOIN risky_members r USING (member_no)"
            " LEFT JOIN organizations o USING (org_code)",
        )


def backtest(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pl.DataFrame:
    """Each kept forecast against what the batch then did, per day it was made and scheme,
    over the items whose cycle has been decided since: decided, expected_renewals (the sum of
    the chances), actual_renewals, error (expected − actual) and error_percent (of actual)."""
    settled = db.frame(
        con,
        f"""
        SELECT made_on, scheme, count(*) AS decided,
               round(sum(p_renew), 1) AS expected_renewals,
               count(*) FILTER (WHERE renewed) AS actual_renewals
        FROM ({queries.query(CONCEPT, "forecast_settled")})
        GROUP BY ALL
        """,
        {"as_of": as_of, "since": dt.date(1900, 1, 1)},
    )
    if settled.is_empty():
        return pl.DataFrame(
            schema={
                "made_on": pl.Date,
                "scheme": pl.String,
                "decided": pl.Int64,
                "expected_renewals": pl.Float64,
                "actual_renewals": pl.Int64,
                "error": pl.Float64,
                "error_percent": pl.Float64,
            }
        )
    return (
        settled.with_columns(pl.col("expected_renewals").cast(pl.Float64))
        .with_columns(
            (pl.col("expected_renewals") - pl.col("actual_renewals")).round(1).alias("error")
        )
        .with_columns(
            pl.when(pl.col("actual_renewals") > 0)
            .then((pl.col("error") / pl.col("actual_renewals") * 100).round(1))
            .otherwise(None)
            .alias("error_percent")
        )
        .sort("made_on", "scheme")
    )


def backtest_error(table: pl.DataFrame) -> float | None:
    """The mean absolute error of the back-test in percent of actual renewals, weighting each
    forecast and scheme by its decided items (None without a decided item)."""
    usable = table.filter(pl.col("actual_renewals") > 0)
    if usable.is_empty():
        return None
    total = float(usable["error"].abs().sum())
    return round(total / float(usable["actual_renewals"].sum()) * 100, 1)
