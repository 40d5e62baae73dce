"""Shared Streamlit pieces: tables and downloads for people (through ui.display), and a
message that survives a rerun."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import polars as pl
import streamlit as st

from core.progress import Progress
from core.store import exports
from ui import display
from ui.data import settings
from ui.display import Words

DATE_FORMAT = "YYYY年M月D日"
DATETIME_FORMAT = "YYYY年M月D日 HH:mm"


FLASH = "flash_message"


@contextmanager
def working(first: str) -> Iterator[Progress]:
    """A progress bar for long work: the work reports how far it has come and what it is
    doing (core.progress); the bar goes when the work ends."""
    bar = st.progress(0.0, text=f"{first}…")

    def report(done: float, doing: str) -> None:
        bar.progress(min(max(done, 0.0), 1.0), text=f"{doing}…（{done:.0%}）")

    try:
        yield report
    finally:
        bar.empty()


def flash(message: str) -> None:
    """Keep a success message across the st.rerun() that shows the saved state."""
    st.session_state[FLASH] = message
    st.rerun()


def show_flash() -> None:
    """Show (once) the message a previous run kept with flash()."""
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(message)


def audit_words(frame: pl.DataFrame) -> pl.DataFrame:
    """Audit rows in the words staff use (ui.display.audit_words)."""
    return display.audit_words(frame, settings())


def column_config(
    frame: pl.DataFrame, headers: Mapping[str, str] | None = None
) -> dict[str, object]:
    """Japanese headers, dates shown as 2026年11月24日, amounts in yen."""
    config: dict[str, object] = {}
    for column, dtype in frame.schema.items():
        label = display.header(column, headers)
        if dtype == pl.Date:
            config[column] = st.column_config.DateColumn(label, format=DATE_FORMAT)
        elif isinstance(dtype, pl.Datetime):
            config[column] = st.column_config.DatetimeColumn(label, format=DATETIME_FORMAT)
        elif column in display.YEN_COLUMNS and dtype.is_numeric():
            config[column] = st.column_config.NumberColumn(label, format="%d 円")
        elif dtype.is_integer() and not column.endswith(("_id", "season", "year")):
            config[column] = st.column_config.NumberColumn(label, format="localized")
        else:
            config[column] = st.column_config.Column(label)
    return config


def table(
    frame: pl.DataFrame,
    *,
    words: Mapping[str, Words] | None = None,
    headers: Mapping[str, str] | None = None,
    **kwargs: object,
) -> object:
    """st.dataframe for people: codes in words (`words` names the vocabulary of ambiguous
    columns, `headers` the page's own column headers), Japanese headers and dates, empty
    cells as —."""
    shown = display.readable(frame, settings(), **(words or {}))
    config = {**column_config(shown, headers), **kwargs.pop("column_config", {})}  # type: ignore[dict-item]
    return st.dataframe(
        shown,
        hide_index=True,
        column_config=config,  # type: ignore[arg-type]
        placeholder=display.EMPTY,
        **kwargs,  # type: ignore[arg-type]
    )


def downloads(
    frame: pl.DataFrame,
    stem: str,
    key: str,
    *,
    words: Mapping[str, Words] | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """CSV (UTF-8 with BOM, opens in Excel) and Excel buttons for a table, for people:
    Japanese headers and words, dates as 2026/11/24."""
    shown = display.for_people(frame, settings(), headers, **(words or {}))
    left, right = st.columns(2)
    left.download_button(
        "CSVでダウンロード",
        exports.to_bytes(shown, ".csv", people=True),
        file_name=f"{stem}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        icon=":material/download:",
    )
    right.download_button(
        "Excelでダウンロード",
        exports.to_bytes(shown, ".xlsx", people=True),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
        icon=":material/download:",
    )
