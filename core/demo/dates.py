"""Vectorised calendar arithmetic for the demo generator.

Dates are day numbers (``int64`` days since 1970-01-01) so that a million of them add,
compare and clip as plain numpy arrays. Month and year arithmetic clips to the end of
the month, as a registry does: 2024-02-29 plus one year is 2025-02-28.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from core.config import Config

Days = npt.NDArray[np.int64]
EPOCH = dt.date(1970, 1, 1)
NULL_DAY = np.iinfo(np.int64).min  # stands for SQL NULL in a day-number array


def day(value: dt.date) -> int:
    """The day number of a date."""
    return (value - EPOCH).days


def to_date(number: int) -> dt.date:
    """The date of a day number."""
    return EPOCH + dt.timedelta(days=int(number))


def ymd(days: Days) -> tuple[Days, Days, Days]:
    """Year, month (1-12) and day (1-31) of each day number."""
    d64 = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = d64.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    mday = (d64 - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, mday


def from_ymd(year: Any, month: Any, mday: Any) -> Days:
    """Day numbers from parts; months may overflow (13 = next January), days clip to month end."""
    total = np.asarray(year, dtype=np.int64) * 12 + np.asarray(month, dtype=np.int64) - 1
    start = (total - 1970 * 12).astype("datetime64[M]")
    first = start.astype("datetime64[D]").astype(np.int64)
    length = (start + 1).astype("datetime64[D]").astype(np.int64) - first
    clipped = np.minimum(np.asarray(mday, dtype=np.int64), length)
    return np.asarray(first + clipped - 1, dtype=np.int64)


def add_months(days: Days, months: Any) -> Days:
    """Shift by whole months, clipping to the end of the target month."""
    year, month, mday = ymd(days)
    return from_ymd(year, month + np.asarray(months, dtype=np.int64), mday)


def add_years(days: Days, years: Any) -> Days:
    """Shift by whole years (Feb 29 becomes Feb 28 in a common year)."""
    return add_months(days, np.asarray(years, dtype=np.int64) * 12)


def month_end(days: Days) -> Days:
    """The last day of each date's month."""
    d64 = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    nxt = d64.astype("datetime64[M]") + 1
    return nxt.astype("datetime64[D]").astype(np.int64) - 1


def whole_months_between(start: Days, end: Days) -> Days:
    """How many whole months fit from `start` to `end` (0 when end < start + 1 month)."""
    y0, m0, d0 = ymd(start)
    y1, m1, d1 = ymd(end)
    months = (y1 - y0) * 12 + (m1 - m0) - (d1 < d0)
    return np.maximum(months, 0)


def month_day(text: str) -> tuple[int, int]:
    """Parse a configuration "MM-DD" value."""
    month, mday = text.split("-")
    return int(month), int(mday)


def on_month_day(year: Any, text: str) -> Days:
    """The day number of "MM-DD" in each given year."""
    month, mday = month_day(text)
    return from_ymd(year, month, mday)


def latest_on_or_before(today: int, text: str) -> int:
    """The last occurrence of "MM-DD" on or before `today`."""
    year = to_date(today).year
    this_year = int(on_month_day(year, text))
    return this_year if this_year <= today else int(on_month_day(year - 1, text))


def first_on_or_after(days: Days, text: str) -> Days:
    """For each day, the first occurrence of "MM-DD" on or after it."""
    year, _, _ = ymd(days)
    same = on_month_day(year, text)
    return np.where(same >= days, same, on_month_day(year + 1, text))


def fiscal_year(days: Days, starts: str) -> Days:
    """The fiscal year (named after the year it starts) of each day."""
    year, _, _ = ymd(days)
    return np.where(days >= on_month_day(year, starts), year, year - 1)


def uniform_days(rng: np.random.Generator, low: Days, high: Days) -> Days:
    """A random day in [low, high] for each pair (high below low gives low)."""
    span = np.maximum(np.asarray(high) - np.asarray(low), 0) + 1
    return np.asarray(low + np.floor(rng.random(span.shape) * span).astype(np.int64))


def dated(
    cfg: Config, key: str, days: Days, pick: Callable[[Any], Any] = lambda v: v
) -> npt.NDArray[Any]:
    """The configuration value of `key` in force on each day, through `pick` (e.g. a fee)."""
    history = cfg.history(key)
    starts = np.array([day(entry.start) for entry in history], dtype=np.int64)
    values = np.array([pick(entry.value) for entry in history])
    index = np.searchsorted(starts, np.asarray(days, dtype=np.int64), side="right") - 1
    return np.asarray(values[np.maximum(index, 0)])


def date_series(name: str, days: Days) -> pl.Series:
    """A polars Date series; NULL_DAY entries become nulls."""
    values = np.asarray(days, dtype=np.int64)
    d64 = values.astype("datetime64[D]")
    d64[values == NULL_DAY] = np.datetime64("NaT")
    return pl.Series(name, d64)
