"""CSV import machinery (FORMATS.md): detect the encoding, normalise, validate every row, write all or none.

A file goes through three steps, each over whole columns (Polars), never row by row:
1. read: UTF-8 (with or without BOM) or CP932, every cell as text, line numbers kept;
2. clean and check: full-width digits, half-width kana and slashed dates normalised;
   each rule yields the rows that break it, as FILE:LINE: column: message;
3. write: one transaction with the audit rows, or nothing at all.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from core.checks import Check
from core.config import Config
from core.errors import FileProblem, InputFileError
from core.store import audit

MAX_PROBLEMS = 20
LINE = "__line"
# A boolean column a table's checks may add: rows already known (a reference seen before),
# reported in ImportResult.duplicates and not written again.
SKIP = "__skip"


@dataclass(frozen=True)
class ImportResult:
    table: str
    file: str
    rows: int
    encoding: str
    batch_id: str
    duplicates: tuple[str, ...] = ()  # keys seen before: reported, not written
    notes: tuple[str, ...] = ()  # what the import did beyond inserting (payments: matching)


# --- reading ----------------------------------------------------------------------------


def decode(raw: bytes, file: str) -> tuple[str, str]:
    """The file's text and its encoding name: UTF-8 (BOM or not), else CP932."""
    if raw.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", raw[len(codecs.BOM_UTF8) :])]
    else:
        candidates = [("utf-8", raw), ("cp932", raw)]
    failure: UnicodeDecodeError | None = None
    for encoding, data in candidates:
        try:
            return data.decode("utf-8" if encoding == "utf-8-sig" else encoding), encoding
        except UnicodeDecodeError as exc:
            failure = failure or exc
    assert failure is not None
    line = raw[: failure.start].count(b"\n") + 1
    raise InputFileError(
        [FileProblem(file, line, "-", "文字コードが UTF-8 でも CP932（Shift_JIS）でもありません")]
    )


def _record_lines(content: str, file: str) -> list[int]:
    """The line each data record starts on (quoted cells may span lines); refuses ragged rows.

    Python's csv module is C code: a million records take about a second.
    """
    reader = csv.reader(io.StringIO(content))
    width = len(next(reader, []))
    starts = []
    previous = reader.line_num
    for row in reader:
        if row and len(row) != width:
            raise InputFileError(
                [
                    FileProblem(
                        file, previous + 1, "-", f"列の数が{len(row)}です（見出しは{width}列）"
                    )
                ]
            )
        starts.append(previous + 1)
        previous = reader.line_num
    return starts


def read_csv(path: Path, required: tuple[str, ...]) -> tuple[pl.DataFrame, str]:
    """Every cell as trimmed text (empty → null) plus the line number; checks the header."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError([FileProblem(file, 0, "-", f"読めません: {exc.strerror}")]) from None
    content, encoding = decode(raw, file)
    if not content.strip():
        raise InputFileError([FileProblem(file, 1, "-", "ファイルが空です")])
    lines = _record_lines(content, file)
    try:
        frame = pl.read_csv(io.StringIO(content), infer_schema=False, raise_if_empty=True)
    except pl.exceptions.PolarsError as exc:
        raise InputFileError([FileProblem(file, 1, "-", f"CSV として読めません: {exc}")]) from None
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputFileError([FileProblem(file, 1, c, "必須の列がありません") for c in missing])
    if frame.height != len(lines):
        raise InputFileError(
            [FileProblem(file, 1, "-", "CSV の行を数えられません（引用符の閉じ忘れ）")]
        )
    frame = (
        frame.with_columns(pl.col(pl.String).str.strip_chars().replace("", None))
        .with_columns(pl.Series(LINE, lines, dtype=pl.Int64))
        .filter(~pl.all_horizontal(pl.exclude(LINE).is_null()))  # blank lines
    )
    return frame, encoding


def ensure_columns(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    """Optional columns that the file left out, as nulls."""
    absent = [pl.lit(None, dtype=pl.String).alias(c) for c in columns if c not in frame.columns]
    return frame.with_columns(absent) if absent else frame


def problems(frame: pl.DataFrame, checks: list[Check], file: str) -> tuple[list[FileProblem], int]:
    """The first MAX_PROBLEMS broken rules in line order, and how many there are in all."""
    parts = []
    for check in checks:
        message = pl.lit(check.message) if isinstance(check.message, str) else check.message
        parts.append(
            frame.lazy()
            .filter(check.bad.fill_null(False))
            .select(pl.col(LINE), pl.lit(check.column).alias("column"), message.alias("message"))
        )
    if not parts:
        return [], 0
    found = pl.concat(parts).collect()
    first = found.sort(LINE, maintain_order=True).head(MAX_PROBLEMS)
    return [FileProblem(file, line, col, msg) for line, col, msg in first.iter_rows()], found.height


def write(
    con: duckdb.DuckDBPyConnection,
    *,
    table: str,
    frame: pl.DataFrame,
    columns: list[str],
    key: str,
    member_column: str | None,
    actor: str,
    file: str,
    after: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    batch_id: str | None = None,
) -> str:
    """Insert the checked rows and one audit row each, in one transaction."""
    batch_id = batch_id or audit.new_batch_id()
    con.register("staged_rows", frame.select(columns))
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            names = ", ".join(f'"{c}"' for c in columns)
            con.execute(f'INSERT INTO "{table}" ({names}) SELECT {names} FROM staged_rows')
            if after is not None:
                after(con)
            audit.record_rows(
                con,
                actor=actor,
                action="import",
                table=table,
                relation="staged_rows",
                key_column=key,
                member_column=member_column,
                reason=f"import {table} {Path(file).name}",
                batch_id=batch_id,
            )
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT leaves no transaction
                con.execute("ROLLBACK")
            raise
    finally:
        con.unregister("staged_rows")
    return batch_id


@dataclass(frozen=True)
class TableSpec:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    columns: list[str]  # written to the table
    key: str  # audit row key
    member_column: str | None
    clean: Callable[[pl.DataFrame], pl.DataFrame]
    # returns the frame (possibly with looked-up columns added) and the rules to check
    checks: Callable[
        [duckdb.DuckDBPyConnection, pl.DataFrame, Config], tuple[pl.DataFrame, list[Check]]
    ]
    finish: Callable[[pl.DataFrame], pl.DataFrame] = lambda frame: frame
    after: Callable[[duckdb.DuckDBPyConnection, pl.DataFrame, str], None] | None = None
    # in the write's transaction, with `staged_rows` registered: (con, batch_id, actor) ->
    # lines that report what it did (payments: matching against open billing lines)
    settle: Callable[[duckdb.DuckDBPyConnection, str, str], list[str]] | None = None
    # after the commit, lines about the checked rows that were not written (duplicates)
    report: Callable[[pl.DataFrame, str], list[str]] | None = None
