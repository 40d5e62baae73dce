"""Backups: a consistent copy of the whole database, and its restore into an empty one.

A backup is DuckDB's EXPORT DATABASE (schema, sequences and every table as Parquet)
taken inside one read transaction, so it is consistent even while the app works (the
app waits its turn for the file for as long as the copy takes), plus a manifest with
row counts that restore checks.

A PostgreSQL store is first copied, inside one snapshot, into an in-memory DuckDB database
of the same schema (core.store.transfer), which then writes the same folder: a backup of
either engine restores into either. A restore into PostgreSQL goes the other way.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from core.store import db, migrations, transfer

MANIFEST = "manifest.json"


def _counts(con: Any) -> dict[str, int]:
    return {t: db.table_count(con, t) for t in transfer.tables(con)}


def backup(con: Any, out: Path) -> dict[str, int]:
    """Write the whole database to an empty or new folder; returns row counts."""
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out}: the backup folder must be new or empty")
    out.mkdir(parents=True, exist_ok=True)
    con.execute("BEGIN TRANSACTION")
    try:
        counts = _counts(con)
        if db.engine(con) == "postgres":
            with db.connect(":memory:") as copy:
                migrations.migrate(copy)
                transfer.postgres_to_duckdb(con, copy)
                copied = _counts(copy)
                if copied != counts:
                    raise ValueError(f"the copy's row counts {copied} differ from {counts}")
                copy.execute(f"EXPORT DATABASE '{_quote(out)}' (FORMAT parquet)")
        else:
            con.execute(f"EXPORT DATABASE '{_quote(out)}' (FORMAT parquet)")
    finally:
        con.execute("ROLLBACK")
    manifest = {"created_at": dt.datetime.now().isoformat(timespec="seconds"), "counts": counts}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return counts


def restore(con: Any, source: Path) -> dict[str, int]:
    """Load a backup into an empty database and check every table's row count."""
    manifest_path = source / MANIFEST
    if not manifest_path.exists():
        raise ValueError(f"{source}: not a backup folder ({MANIFEST} is missing)")
    if transfer.tables(con):
        raise ValueError("the target database is not empty; restore needs a new database")
    expected = json.loads(manifest_path.read_text(encoding="utf-8"))["counts"]
    if db.engine(con) == "postgres":
        with db.connect(":memory:") as copy:
            copy.execute(f"IMPORT DATABASE '{_quote(source)}'")
            _check(source, _counts(copy), expected)
            migrations.migrate(copy)  # a backup of an earlier version, brought up to date
            migrations.migrate(con)
            with db.transaction(con):
                transfer.duckdb_to_postgres(copy, con)
                restored = _counts(con)
        # the migrations write their own table on both sides (a backup of an earlier version
        # has fewer rows there); every other table must hold what the backup held
        expected = {t: n for t, n in expected.items() if t not in transfer.KEEP}
        restored = {t: n for t, n in restored.items() if t in expected}
    else:
        con.execute(f"IMPORT DATABASE '{_quote(source)}'")
        restored = _counts(con)
    _check(source, restored, expected)
    return restored


def _check(source: Path, restored: dict[str, int], expected: dict[str, int]) -> None:
    if restored != expected:
        raise ValueError(f"{source}: restored row counts {restored} differ from {expected}")


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
