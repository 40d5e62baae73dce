"""What-if: the renewal decisions under changed configuration values, against today's rules.

Both runs read the same requirements relation (core.renewals) over the whole population in
scope; nothing is written. The result says how many qualifications move from one outcome to
another, by scheme and prefecture, and what the change does to fee income.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from core import config, schemes, vocabulary
from core.config.settings import BY_KEY
from core.members.organizations import scope_path
from core.progress import Progress, quiet, within
from core.renewals import batch
from core.store import db

# Numbers a board changes: the thresholds, periods and fees the renewal rules read.
TUNABLE_TYPES = ("int", "decimal")
KEY = ("member_no", "scheme", "qualification")


def tunable_keys(
    cfg: config.Config, on: dt.date, codes: tuple[str, ...] = schemes.CODES
) -> list[str]:
    """The numeric settings the schemes' renewal rules read (what the page offers to change)."""
    return [
        key
        for code in codes
        for key in schemes.get(code).renewal_keys(cfg, on)
        if BY_KEY[key].type in TUNABLE_TYPES
    ]


@dataclass(frozen=True)
class WhatIf:
    transitions: pl.DataFrame  # scheme, prefecture, today, proposed, n
    fees: pl.DataFrame  # scheme, today_income, proposed_income, difference
    moved: int  # qualifications whose outcome changes

    @property
    def income_difference(self) -> int:
        """What the change does to the fees billed, in yen (negative: less income)."""
        return int(self.fees["difference"].sum()) if self.fees.height else 0

    def by_scheme(self) -> pl.DataFrame:
        """Movements summed over prefectures."""
        return (
            self.transitions.group_by("scheme", "today", "proposed")
            .agg(pl.col("n").sum())
            .sort("scheme", "today", "proposed")
        )


def compare(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    overrides: dict[str, Any],
    *,
    scope: str = "*",
    codes: tuple[str, ...] = schemes.CODES,
    progress: Progress = quiet,
) -> WhatIf:
    """Decisions as of `as_of` under today's configuration and under `overrides`."""
    current = config.current()
    proposed = current.with_overrides(overrides)
    # only the schemes whose settings change can move: the others need not be computed twice
    codes = tuple(c for c in codes if any(key.startswith(f"{c}.") for key in overrides)) or codes
    runs = {}
    runs_of = (("today", current, "現在の設定で"), ("proposed", proposed, "変更後の設定で"))
    for n, (name, cfg, words) in enumerate(runs_of):
        part = within(progress, n * 0.45, (n + 1) * 0.45, words)
        rows = batch.requirements(con, as_of, schemes=codes, cfg=cfg, progress=part)
        runs[name] = batch.decisions(rows).select(
            "member_no",
            "qualification",
            "scheme",
            pl.col("decision")
            .replace_strict(vocabulary.OUTCOMES, default=pl.col("decision"))
            .alias(name),
            pl.col("fee_amount").fill_null(0).cast(pl.Int64).alias(f"{name}_fee"),
        )
    joined = (
        runs["today"]
        .join(
            # one decision per member, scheme and qualification (SAJ memberships have no id)
            runs["proposed"].select(*KEY, "proposed", "proposed_fee"),
            on=list(KEY),
            how="full",
            coalesce=True,
        )
        .with_columns(
            pl.col("today").fill_null("unchanged"),
            pl.col("proposed").fill_null("unchanged"),
            pl.col("today_fee").fill_null(0),
            pl.col("proposed_fee").fill_null(0),
        )
    )
    progress(0.9, "都道府県ごとに集計しています")
    places = db.frame(
        con,
        "SELECT m.member_no, coalesce(m.prefecture, '（不明）') AS prefecture"
        " FROM members m JOIN organizations o USING (org_code) WHERE starts_with(o.path, ?)",
        [scope_path(con, scope)],
    )
    scoped = joined.join(places, on="member_no", how="inner")
    transitions = (
        scoped.group_by("scheme", "prefecture", "today", "proposed")
        .len("n")
        .sort("scheme", "prefecture", "today", "proposed")
    )
    fees = (
        scoped.group_by("scheme")
        .agg(
            pl.col("today_fee").sum().alias("today_income"),
            pl.col("proposed_fee").sum().alias("proposed_income"),
        )
        .with_columns(difference=pl.col("proposed_income") - pl.col("today_income"))
        .sort("scheme")
    )
    moved = scoped.filter(pl.col("today") != pl.col("proposed")).height
    return WhatIf(transitions, fees, moved)
