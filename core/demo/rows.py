"""What a scheme module hands back, and small vectorised helpers to build it.

A scheme module returns :class:`SchemeRows`: three polars frames keyed by the member's
position in its roster (``m``), not yet by member number. Qualifications carry a local
``key`` (0..n-1) that billing lines point at (``qual_key``); the store turns both into ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from core.demo import dates
from core.demo.dates import Days

# A renewal completed this recently leaves the qualification `renewed` (更新済); older
# renewals read `active` again. An assumption of the demo, not a rule of any scheme.
RECENT_RENEWAL_DAYS = 90

QUAL_SCHEMA: dict[str, pl.DataType] = {
    "m": pl.Int64(),
    "qualification": pl.String(),
    "acquired_on": pl.Date(),
    "valid_from": pl.Date(),
    "valid_until": pl.Date(),
    "status": pl.String(),
    "key": pl.Int64(),
}
ACTIVITY_SCHEMA: dict[str, pl.DataType] = {
    "m": pl.Int64(),
    "kind": pl.String(),
    "date": pl.Date(),
    "qualification": pl.String(),
    "category": pl.String(),
    "points": pl.Float64(),
    "hours": pl.Float64(),
    "domain": pl.String(),
    "course_name": pl.String(),
    "score": pl.Int16(),
    "minutes_late": pl.Int16(),
}
BILLING_SCHEMA: dict[str, pl.DataType] = {
    "m": pl.Int64(),
    "item": pl.String(),
    "label": pl.String(),
    "fy": pl.Int64(),
    "amount": pl.Int64(),
    "handling_fee": pl.Int64(),
    "issued_on": pl.Date(),
    "due_on": pl.Date(),
    "paid_on": pl.Date(),
    "status": pl.String(),
    "qual_key": pl.Int64(),
    "method": pl.String(),
}


@dataclass
class SchemeRows:
    """One scheme's qualifications, activities and billing lines."""

    quals: pl.DataFrame
    activities: pl.DataFrame
    billing: pl.DataFrame


def frame(columns: dict[str, object]) -> pl.DataFrame:
    """A frame from arrays and scalars; a scalar fills its column (even with no rows)."""
    scalar = (str, int, float)
    arrays = {k: v for k, v in columns.items() if not isinstance(v, scalar)}
    fills = {k: pl.lit(v) for k, v in columns.items() if isinstance(v, scalar)}
    return pl.DataFrame(arrays).with_columns(**fills).select(list(columns))


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Columns of `schema` in its order and types; absent ones become typed nulls."""
    if frame.height == 0:
        return pl.DataFrame(schema=schema)
    return frame.select(
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    )


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A frame with no rows."""
    return pl.DataFrame(schema=schema)


def expand(counts: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For `counts[i]` rows per owner i: each row's owner and its ordinal within the owner."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(owner.size, dtype=np.int64) - starts[owner]


def labels(values: Sequence[str], codes: npt.NDArray[np.int64]) -> pl.Series:
    """Strings from a small list by code (-1 gives null)."""
    table = pl.Series(list(values), dtype=pl.String)
    index = pl.Series(np.asarray(codes, dtype=np.int64)).cast(pl.UInt32, strict=False)
    return table.gather(index)


def where_text(mask: npt.NDArray[np.bool_], values: npt.ArrayLike) -> pl.Series:
    """A String series: `values` where `mask` holds, null elsewhere."""
    text = pl.Series(np.broadcast_to(np.asarray(values, dtype=str), np.shape(mask)))
    return text.scatter(np.flatnonzero(~np.asarray(mask)), None)


def prefixed(prefix: str, numbers: npt.NDArray[np.int64], width: int) -> pl.Series:
    """Member numbers such as A0000123."""
    digits = pl.Series(np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)
    return pl.select(pl.lit(prefix) + digits).to_series()


def day_column(name: str, days: Days) -> pl.Series:
    """Day numbers (NULL_DAY for null) as a Date column."""
    return dates.date_series(name, days)


def weighted_pick(
    rng: np.random.Generator, weights: Sequence[float], size: int
) -> npt.NDArray[np.int64]:
    """Codes 0..len-1 drawn by weight."""
    w = np.asarray(weights, dtype=np.float64)
    return np.asarray(rng.choice(w.size, size, p=w / w.sum()), dtype=np.int64)


def fiscal_label_year(days: Days, starts: str = "04-01") -> Days:
    """The 年度 a day falls in (April start unless a scheme says otherwise)."""
    return dates.fiscal_year(days, starts)
