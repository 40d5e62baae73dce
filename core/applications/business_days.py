"""Business days of a scheme's office: no Saturdays, Sundays, Japanese national and substitute
holidays (the `jpholiday` library, which follows the Cabinet Office's list), nor the year-end
closure from the scheme's configuration.

SLA deadlines over whole queues join the calendar as a relation (`calendar_frame`); single
questions ask `add_business_days` / `is_business_day`.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import jpholiday
import polars as pl

from core.config import Config

# The calendar relation covers this many years before the day asked about, and one after:
# an application waiting longer than that has no SLA deadline left to compute.
YEARS_BACK = 3


@lru_cache(maxsize=64)
def _year_holidays(year: int) -> tuple[dt.date, ...]:
    # jpholiday takes ~40 ms a year, so each year is computed once per process
    return tuple(sorted({day for day, _name in jpholiday.year_holidays(year)}))


def holidays(first_year: int, last_year: int) -> list[dt.date]:
    """Every national holiday (incl. substitute and citizens' holidays) of the years."""
    return [day for year in range(first_year, last_year + 1) for day in _year_holidays(year)]


def closure(cfg: Config, scheme: str, on: dt.date) -> tuple[tuple[int, int], tuple[int, int]]:
    """The year-end closure as ((month, day) first, (month, day) last) in force on `on`."""

    def month_day(key: str) -> tuple[int, int]:
        month, day = str(cfg.value(f"{scheme}.year_end_closure.{key}", on=on)).split("-")
        return int(month), int(day)

    return month_day("starts"), month_day("ends")


def _in_closure(day: dt.date, first: tuple[int, int], last: tuple[int, int]) -> bool:
    md = (day.month, day.day)
    if first <= last:
        return first <= md <= last
    return md >= first or md <= last  # spans the new year (12-29 .. 01-03)


def is_business_day(cfg: Config, scheme: str, day: dt.date) -> bool:
    first, last = closure(cfg, scheme, day)
    return day.weekday() < 5 and not jpholiday.is_holiday(day) and not _in_closure(day, first, last)


def add_business_days(cfg: Config, scheme: str, day: dt.date, n: int) -> dt.date:
    """The n-th business day after `day` (n ≥ 1); `day` itself need not be a business day."""
    if n < 1:
        raise ValueError("n must be 1 or more")
    current = day
    while n:
        current += dt.timedelta(days=1)
        if is_business_day(cfg, scheme, current):
            n -= 1
    return current


def calendar_frame(cfg: Config, schemes: tuple[str, ...], on: dt.date) -> pl.DataFrame:
    """One row per scheme and day from YEARS_BACK years before `on` to the end of the next
    year: (scheme, day, business, ordinal).

    `ordinal` counts the scheme's business days up to and including the day, so the n-th
    business day after d is the business day whose ordinal is ordinal(d) + n. The closure is
    the one configured on `on`.
    """
    first, last = on.year - YEARS_BACK, on.year + 1
    days = pl.date_range(dt.date(first, 1, 1), dt.date(last, 12, 31), eager=True)
    base = pl.DataFrame({"day": days}).with_columns(
        md=pl.col("day").dt.month().cast(pl.Int32) * 100 + pl.col("day").dt.day().cast(pl.Int32),
        workday=(pl.col("day").dt.weekday() <= 5) & ~pl.col("day").is_in(holidays(first, last)),
    )
    parts = []
    for scheme in schemes:
        (fm, fd), (tm, td) = closure(cfg, scheme, on)
        first, last = fm * 100 + fd, tm * 100 + td
        closed = (
            pl.col("md").is_between(first, last)
            if first <= last
            else (pl.col("md") >= first) | (pl.col("md") <= last)
        )
        parts.append(
            base.select(
                pl.lit(scheme).alias("scheme"),
                "day",
                (pl.col("workday") & ~closed).alias("business"),
            ).with_columns(ordinal=pl.col("business").cast(pl.Int32).cum_sum())
        )
    return pl.concat(parts)
