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
import re
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
MAX_CELL_CHARS = 10_000
NEUTRALISED = r"^'([=+\-@\t\r])"  # the apostrophe an export puts before a formula's first sign
# Python's csv module refuses fields over 131,072 characters with an exception; read them and
# refuse them by line and column instead (MAX_CELL_CHARS)
csv.field_size_limit(2**31 - 1)
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
    """The file's text and its encoding name: UTF-8 (BOM or not), else CP932.

    A file in neither is refused naming its first line that is in neither: in a CP932 file
    with one UTF-8 line, that line (not the first line UTF-8 could not read).
    """
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass  # a BOM, then other bytes: named by line below
    else:
        with contextlib.suppress(UnicodeDecodeError):
            return raw.decode("utf-8"), "utf-8"
        with contextlib.suppress(UnicodeDecodeError):
            text = raw.decode("cp932")
            utf8_line = _utf8_line(raw)
            if utf8_line is None:
                return text, "cp932"
            raise InputFileError([FileProblem(file, utf8_line, "-", MIXED)])
    raise InputFileError([FileProblem(file, _first_undecodable_line(raw), "-", UNREADABLE)])


UNREADABLE = "文字コードが UTF-8 でも CP932（Shift_JIS）でもありません"
MIXED = "この行だけ UTF-8 です（ほかの行は CP932）。ファイル全体を同じ文字コードで保存してください"
# a Japanese character in UTF-8: a lead byte E3–E9 and two continuation bytes
_UTF8_JAPANESE = re.compile(rb"[\xe3-\xe9][\x80-\xbf]{2}")


def _utf8_line(raw: bytes) -> int | None:
    """In a file that reads as CP932, the first line that is really UTF-8 (its Japanese
    characters would otherwise be read as other characters without a word)."""
    checked = set()
    for match in _UTF8_JAPANESE.finditer(raw):
        start = raw.rfind(b"\n", 0, match.start()) + 1
        if start in checked:
            continue
        checked.add(start)
        end = raw.find(b"\n", match.end())
        line = raw[start : end if end != -1 else len(raw)]
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        return raw.count(b"\n", 0, start) + 1
    return None


def _first_undecodable_line(raw: bytes) -> int:
    """The line to name in a file that neither encoding reads as a whole: the first line in
    neither, else the first line that the encoding most of the file is in cannot read. Ties go
    to UTF-8: a line of Japanese that reads as UTF-8 is UTF-8 (almost any bytes read as CP932)."""
    lines = raw.removeprefix(codecs.BOM_UTF8).split(b"\n")

    def reads(line: bytes, encoding: str) -> bool:
        try:
            line.decode(encoding)
        except UnicodeDecodeError:
            return False
        return True

    utf8 = [reads(line, "utf-8") for line in lines]
    cp932 = [reads(line, "cp932") for line in lines]
    mostly = utf8 if sum(utf8) >= sum(cp932) else cp932
    bad = [n for n, ok in enumerate(mostly, start=1) if not ok]
    either = [n for n, (a, b) in enumerate(zip(utf8, cp932, strict=True), start=1) if not (a or b)]
    return (either or bad or [1])[0]


def _record_lines(content: str, file: str) -> list[int]:
    """The line each data record starts on (quoted cells may span lines); refuses ragged rows.

    Python's csv module is C code: a million records take about a second.
    """
    reader = csv.reader(io.StringIO(content))
    starts = []
    previous = 0
    try:
        width = len(next(reader, []))
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
    except csv.Error as exc:  # e.g. a quote left open at the end of the file
        raise InputFileError(
            [FileProblem(file, previous + 1, "-", f"CSV として読めません: {exc}")]
        ) from None
    return starts


def _long_cells(frame: pl.DataFrame, file: str) -> None:
    """A cell longer than MAX_CELL_CHARS is refused by line and column (a file's cell is a name,
    an address or a note, not a document)."""
    text = [c for c in frame.columns if c != LINE and frame.schema[c] == pl.String]
    widest = frame.select(pl.col(text).str.len_bytes().max()).row(0) if text else ()
    if all((n or 0) <= MAX_CELL_CHARS for n in widest):  # a character has a byte at least
        return
    found = []
    for column in text:
        long = frame.filter(pl.col(column).str.len_chars() > MAX_CELL_CHARS)
        for line, value in long.select(LINE, column).head(MAX_PROBLEMS).iter_rows():
            found.append(
                FileProblem(
                    file,
                    line,
                    column,
                    f"長すぎます（{len(value):,}文字。上限{MAX_CELL_CHARS:,}文字）",
                )
            )
    if found:
        found.sort(key=lambda p: p.line)
        raise InputFileError(found[:MAX_PROBLEMS], len(found))


def read_csv(path: Path, required: tuple[str, ...]) -> tuple[pl.DataFrame, str]:
    """Every cell as trimmed text (empty → null) plus the line number; checks the header."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError([FileProblem(file, 0, "-", f"読めません: {exc.strerror}")]) from None
    return read_bytes(raw, file, required)


def read_bytes(raw: bytes, file: str, required: tuple[str, ...]) -> tuple[pl.DataFrame, str]:
    """`read_csv` for a file's bytes (an upload), named `file` in messages."""
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
        frame.with_columns(
            pl.col(pl.String)
            .str.strip_chars()
            .str.replace(NEUTRALISED, "$1")  # an export's formula guard (core.store.exports)
            .replace("", None)
        )
        .with_columns(pl.Series(LINE, lines, dtype=pl.Int64))
        .filter(~pl.all_horizontal(pl.exclude(LINE).is_null()))  # blank lines
    )
    _long_cells(frame, file)
    return frame, encoding


def ensure_columns(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    """Optional columns that the file left out, as nulls."""
    absent = [pl.lit(None, dtype=pl.String).alias(c) for c in columns if c not in frame.columns]
    return frame.with_columns(absent) if absent else frame


def problems(
    frame: pl.DataFrame, checks: list[Check], file: str, limit: int = MAX_PROBLEMS
) -> tuple[list[FileProblem], int]:
    """The first `limit` broken rules in line order, and how many there are in all."""
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
    first = found.sort(LINE, maintain_order=True).head(limit)
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
    # in the write's transaction: (con, the checked rows, file, actor)
    after: Callable[[duckdb.DuckDBPyConnection, pl.DataFrame, str, str], None] | None = None
    # in the write's transaction, with `staged_rows` registered: (con, batch_id, actor) ->
    # lines that report what it did (payments: matching against open billing lines)
    settle: Callable[[duckdb.DuckDBPyConnection, str, str], list[str]] | None = None
    # after the commit, lines about the checked rows that were not written (duplicates)
    report: Callable[[pl.DataFrame, str], list[str]] | None = None
    # a table written by its domain instead of `write` (courses, reservations, results):
    # (con, the finished rows, file=, actor=, batch_id=) -> lines that report what it did;
    # it opens its own transaction and writes all rows or none
    writer: Callable[..., list[str]] | None = None
