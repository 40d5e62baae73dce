"""Backups: a consistent copy of the whole database, and its restore into an empty one.

A backup is DuckDB's EXPORT DATABASE (schema, sequences and every table as Parquet)
taken inside one read transaction, so it is consistent even while the app works (the
app waits its turn for the file for as long as the copy takes), plus a manifest with
row counts that restore checks.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from core.store import db

MANIFEST = "manifest.json"


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
    ]
    return {t: db.table_count(con, t) for t in tables}


def backup(con: duckdb.DuckDBPyConnection, out: Path) -> dict[str, int]:
    """Write the whole database to an empty or new folder; returns row counts."""
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out}: the backup folder must be new or empty")
    out.mkdir(parents=True, exist_ok=True)
    con.execute("BEGIN TRANSACTION")
    try:
        counts = _counts(con)
        con.execute(f"EXPORT DATABASE '{_quote(out)}' (FORMAT parquet)")
    finally:
        con.execute("ROLLBACK")
    manifest = {"created_at": dt.datetime.now().isoformat(timespec="seconds"), "counts": counts}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return counts


def restore(con: duckdb.DuckDBPyConnection, source: Path) -> dict[str, int]:
    """Load a backup into an empty database and check every table's row count."""
    manifest_path = source / MANIFEST
    if not manifest_path.exists():
        raise ValueError(f"{source}: not a backup folder ({MANIFEST} is missing)")
    if con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchone() != (0,):
        raise ValueError("the target database is not empty; restore needs a new database file")
    expected = json.loads(manifest_path.read_text(encoding="utf-8"))["counts"]
    con.execute(f"IMPORT DATABASE '{_quote(source)}'")
    restored = _counts(con)
    if restored != expected:
        raise ValueError(f"{source}: restored row counts {restored} differ from {expected}")
    return restored


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
