"""CSV imports (FORMATS.md): detect the encoding, normalise, validate every row, write all or none.

A file goes through three steps, each over whole columns (Polars), never row by row:
1. read: UTF-8 (with or without BOM) or CP932, every cell as text, line numbers kept;
2. clean and check: full-width digits, half-width kana and slashed dates normalised;
   each rule yields the rows that break it, as FILE:LINE: column: message;
3. write: one transaction with the audit rows, or nothing at all.

The rules of each table live in a module of their own beside this one.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from core import config
from core.errors import ConflictError, InputFileError
from core.imports import (
    activities,
    applications,
    attendance,
    courses,
    members,
    organizations,
    payments,
    qualifications,
)
from core.imports.base import (
    MAX_PROBLEMS,
    SKIP,
    ImportResult,
    TableSpec,
    ensure_columns,
    problems,
    read_bytes,
    read_csv,
    write,
)
from core.progress import Progress, quiet
from core.store import audit

CLI_ACTOR = "cli:import"  # who imports from the command line

SPECS: dict[str, TableSpec] = {
    "organizations": organizations.SPEC,
    "members": members.SPEC,
    "qualifications": qualifications.SPEC,
    "activities": activities.SPEC,
    "applications": applications.SPEC,
    "payments": payments.SPEC,
    "courses": courses.COURSES,
    "enrolments": courses.ENROLMENTS,
    "attendance": attendance.SPEC,
}


def import_file(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, *, actor: str = CLI_ACTOR
) -> ImportResult:
    """Import one CSV into `table`: all rows, or none with InputFileError."""
    spec = _spec(table)
    frame, encoding = read_csv(path, spec.required)
    return import_frame(con, table, frame, file=str(path), encoding=encoding, actor=actor)


def import_bytes(
    con: duckdb.DuckDBPyConnection,
    table: str,
    raw: bytes,
    *,
    file: str,
    actor: str,
    limit: int = MAX_PROBLEMS,
    progress: Progress = quiet,
) -> ImportResult:
    """Import an uploaded CSV's bytes exactly as `import_file` imports a file (the app's
    データ取込); `file` names it in messages, `limit` is how many problems are listed, and
    `progress` is told each step done (core.progress)."""
    spec = _spec(table)
    frame, encoding = read_bytes(raw, file, spec.required)
    progress(1 / 3, "読み込みました。検査しています")
    return import_frame(
        con, table, frame, file=file, encoding=encoding, actor=actor, limit=limit,
        progress=progress,
    )  # fmt: skip


def preview_bytes(raw: bytes, *, file: str, rows: int = 10) -> tuple[pl.DataFrame, str]:
    """The first rows of an uploaded CSV as read for an import (every cell as text) and the
    encoding detected; InputFileError when it cannot be read at all."""
    frame, encoding = read_bytes(raw, file, ())
    return frame.head(rows), encoding


def import_frame(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame,
    *,
    file: str,
    actor: str,
    encoding: str = "",
    limit: int = MAX_PROBLEMS,
    progress: Progress = quiet,
) -> ImportResult:
    """Check and write rows given as text columns (plus LINE), as an import of `file` does;
    forms use it with one row so the app accepts exactly what a file would."""
    spec = _spec(table)
    frame, duplicates = check_frame(con, table, frame, file=file, limit=limit)
    progress(2 / 3, "検査に合格しました。書き込んでいます")
    batch_id = audit.new_batch_id()
    finished = spec.finish(frame)
    notes: list[str] = []
    after = spec.after

    def after_insert(c: duckdb.DuckDBPyConnection) -> None:
        if after is not None:
            after(c, frame, file, actor)
        if spec.settle is not None:
            notes.extend(spec.settle(c, batch_id, actor))

    if spec.writer is not None:
        notes = spec.writer(con, finished, file=file, actor=actor, batch_id=batch_id)
        return ImportResult(table, file, finished.height, encoding, batch_id, duplicates,
                            tuple(notes))  # fmt: skip
    try:
        write(
            con,
            table=table,
            frame=finished,
            columns=spec.columns,
            key=spec.key,
            member_column=spec.member_column,
            actor=actor,
            file=file,
            after=after_insert if (after or spec.settle) else None,
            batch_id=batch_id,
        )
    except duckdb.TransactionException as exc:
        # optimistic concurrency: another transaction changed the same rows; all rolled back
        raise ConflictError(
            f"{file}: another process changed the same rows at the same time; nothing was"
            " written. Run the import again."
        ) from exc
    progress(1.0, "書き込みました")
    if spec.report is not None:
        notes = spec.report(frame, file) + notes
    return ImportResult(table, file, finished.height, encoding, batch_id, duplicates, tuple(notes))


def check_frame(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame,
    *,
    file: str,
    limit: int = MAX_PROBLEMS,
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """The rows cleaned and checked, nothing written: (the rows to write, keys seen before).
    InputFileError names each broken rule by file, line and column."""
    spec = _spec(table)
    frame = ensure_columns(frame, spec.required + spec.optional)
    frame = spec.clean(frame)
    frame, checks = spec.checks(con, frame, config.current())
    duplicates: tuple[str, ...] = ()
    if SKIP in frame.columns:  # seen before: reported, neither checked nor written again
        duplicates = tuple(frame.filter(pl.col(SKIP))[spec.key].to_list())
        frame = frame.filter(~pl.col(SKIP))
    found, total = problems(frame, checks, file, limit)
    if found:
        raise InputFileError(found, total)
    return frame, duplicates


def _spec(table: str) -> TableSpec:
    spec = SPECS.get(table)
    if spec is None:
        raise ValueError(f"cannot import {table}; choose one of {', '.join(SPECS)}")
    return spec


__all__ = [
    "SPECS",
    "ImportResult",
    "check_frame",
    "import_bytes",
    "import_file",
    "import_frame",
    "preview_bytes",
]
