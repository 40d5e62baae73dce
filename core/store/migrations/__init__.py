"""Numbered schema migrations: NNNN_name.sql, or NNNN_name.py with migrate(con), in this folder.

Each is applied once, in its own transaction together with the schema_migrations row that
records it; `migrate` applies what is pending and returns what it applied.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.store import db
from core.store.db import transaction

MIGRATIONS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


def available_migrations() -> list[Migration]:
    """Numbered files in this folder: NNNN_name.sql, or NNNN_name.py with migrate(con)."""
    found = []
    for path in sorted(MIGRATIONS_DIR.iterdir()):
        match = re.match(r"^(\d{4})_(\w+)\.(sql|py)$", path.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), path))
    return found


def applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    return {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}


def migrate(con: duckdb.DuckDBPyConnection) -> list[Migration]:
    """Apply pending migrations, each in its own transaction with the row recording it. A
    PostgreSQL store first gets the DuckDB functions it lacks (core/store/postgres_compat.sql)."""
    if db.engine(con) == "postgres":
        compat = MIGRATIONS_DIR.parent / "postgres_compat.sql"
        con.run_script(compat.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    done = applied_versions(con)
    applied = []
    for migration in available_migrations():
        if migration.version in done:
            continue
        with transaction(con):
            if migration.path.suffix == ".sql":
                con.execute(migration.path.read_text(encoding="utf-8"))
            else:
                module = importlib.import_module(f"core.store.migrations.{migration.path.stem}")
                module.migrate(con)
            con.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                [migration.version, migration.name],
            )
        applied.append(migration)
    return applied
