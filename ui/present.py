"""Tables and downloads for people: Japanese headers and words, dates as 2026年11月24日,
months as 2026年11月, numbers as 1,400,000, empty cells as 「—」 — never a code, None or True.

A page builds one *people frame* per table (`people`): the columns it shows, renamed to their
Japanese headers, codes replaced by their words, numbers and dates kept as numbers and dates.
The same frame is shown (`table`: formatted for the screen) and downloaded (`downloads`: CSV
with a BOM for Excel, Excel and Parquet, with the same headers; masked beforehand for roles
that may not see personal data). The screen goes through ui.widgets.table, like every page's;
this module adds what statistics need on top: months, rates, Parquet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import polars as pl
import streamlit as st

from core.store import exports
from ui import widgets

EMPTY = widgets.display.EMPTY
Words = Mapping[str, str] | Callable[[str], str]


def people(
    frame: pl.DataFrame,
    columns: Mapping[str, str],
    words: Mapping[str, Words] | None = None,
) -> pl.DataFrame:
    """The columns named in `columns` (code → Japanese header), in that order, with the codes
    of the columns in `words` replaced by their words."""
    words = words or {}
    out = []
    for column, header in columns.items():
        if column not in frame.columns:
            continue
        expr = pl.col(column)
        mapping = words.get(column)
        if callable(mapping):
            expr = expr.map_elements(mapping, return_dtype=pl.String, skip_nulls=True)
        elif mapping is not None:
            expr = expr.cast(pl.String).replace_strict(dict(mapping), default=expr.cast(pl.String))
        out.append(expr.alias(header))
    return frame.select(out)


def _shown(frame: pl.DataFrame, months: tuple[str, ...], percents: tuple[str, ...]) -> pl.DataFrame:
    """Screen text for dates, months, rates and empty cells; numbers stay numbers."""
    converted = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if name in months and dtype == pl.Date:
            converted.append(column.dt.strftime("%Y年%-m月").fill_null(EMPTY))
        elif dtype == pl.Date:
            converted.append(column.dt.strftime("%Y年%-m月%-d日").fill_null(EMPTY))
        elif isinstance(dtype, pl.Datetime):
            converted.append(column.dt.strftime("%Y年%-m月%-d日 %H:%M").fill_null(EMPTY))
        elif name in percents:
            converted.append(
                pl.when(column.is_null())
                .then(pl.lit(EMPTY))
                .otherwise((column * 100).round(1).cast(pl.String) + "%")
            )
        elif dtype == pl.Boolean:
            converted.append(
                pl.when(column).then(pl.lit("はい")).when(~column).then(pl.lit("いいえ"))
                .otherwise(pl.lit(EMPTY))
            )  # fmt: skip
        elif dtype == pl.String:
            converted.append(column.fill_null(EMPTY))
        elif isinstance(dtype, pl.List):
            converted.append(column.list.join("、").fill_null(EMPTY))
        elif dtype.is_numeric():
            has_nulls = frame[name].null_count() > 0
            if has_nulls:
                converted.append(
                    column.map_elements(_number, return_dtype=pl.String, skip_nulls=True).fill_null(
                        EMPTY
                    )
                )
            else:
                converted.append(column)
        else:
            converted.append(column.cast(pl.String).fill_null(EMPTY))
    return frame.select(c.alias(n) for c, n in zip(converted, frame.columns, strict=True))


def _number(value: float | int) -> str:
    return (
        f"{value:,.1f}"
        if isinstance(value, float) and not value.is_integer()
        else f"{int(value):,}"
    )


def table(
    frame: pl.DataFrame,
    *,
    months: tuple[str, ...] = (),
    percents: tuple[str, ...] = (),
    key: str | None = None,
    **kwargs: object,
) -> object:
    """A people frame on screen through ui.widgets.table (its headers, dates and 「—」 for
    empty cells), months as 2026年11月, rates as 38.0%, numbers with thousands separators."""
    shown = _shown(frame, months, percents)
    numbers = {
        name: st.column_config.NumberColumn(name, format="localized")
        for name, dtype in shown.schema.items()
        if dtype.is_numeric()
    }
    return widgets.table(shown, column_config=numbers, key=key, width="stretch", **kwargs)


DOWNLOADS = (
    ("CSV", ".csv", "text/csv"),
    ("Excel", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("Parquet", ".parquet", "application/vnd.apache.parquet"),
)


def file_bytes(frame: pl.DataFrame, suffix: str) -> bytes:
    """A people frame as a file: CSV (UTF-8 with BOM, formulas guarded), Excel or Parquet."""
    import io

    if suffix == ".parquet":
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        return buffer.getvalue()
    return exports.to_bytes(frame, suffix, people=True)


def downloads(frame: pl.DataFrame, stem: str, key: str) -> None:
    """CSV, Excel and Parquet buttons for a people frame."""
    for column, (label, suffix, mime) in zip(st.columns(len(DOWNLOADS)), DOWNLOADS, strict=True):
        column.download_button(
            f"{label}でダウンロード",
            data=lambda suffix=suffix: file_bytes(frame, suffix),
            file_name=f"{stem}{suffix}",
            mime=mime,
            key=f"{key}_{suffix[1:]}",
            icon=":material/download:",
        )


def percent(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Shares (0–1) as percentages for a chart's percent axis (ui.charts: 38 → 38%)."""
    return frame.with_columns((pl.col(c) * 100).alias(c) for c in columns)


def period_text(start: dt.date, end: dt.date) -> str:
    return f"{start:%Y年%-m月%-d日}〜{end:%Y年%-m月%-d日}"
