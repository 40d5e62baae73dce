"""Tables copied between the two engines: a PostgreSQL store and a DuckDB database of the
same schema (the product's migrations applied to both).

A backup of a PostgreSQL store is written from a DuckDB copy taken inside one snapshot, so
the backup folder has one format whichever engine wrote it, and restores into either.
Sequences travel with their last values, so ids continue where they stopped.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from core.store import db

KEEP = ("schema_migrations",)  # written by the migrations on both sides, never copied


def tables(con: Any) -> list[str]:
    """The store's tables, in name order."""
    schema = "public" if db.engine(con) == "postgres" else "main"
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
        [schema],
    ).fetchall()
    return [str(r[0]) for r in rows]


def sequences(con: Any) -> dict[str, int]:
    """Each sequence's last value given out (sequences never used are left out)."""
    if db.engine(con) == "postgres":
        sql = "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
    else:
        # (a sequence restored by IMPORT DATABASE has no last value yet, only its start)
        sql = (
            "SELECT sequence_name, coalesce(last_value, start_value - 1) FROM duckdb_sequences()"
            " WHERE schema_name = 'main'"
        )
    return {str(name): int(value) for name, value in con.execute(sql).fetchall() if value}


def postgres_to_duckdb(pg: Any, duck: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Every table of `pg` into the same tables of `duck` (emptied first), and the sequences;
    `pg` should be inside a transaction, so that all tables come from one snapshot."""
    counts = {}
    wanted = set(tables(duck))
    for table in tables(pg):
        if table in KEEP or table not in wanted:
            continue
        duck.execute(f'DELETE FROM "{table}"')
        counts[table] = 0
        for chunk in pg.frames(f'SELECT * FROM "{table}"'):
            duck.register("chunk", chunk)
            duck.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM chunk')
            duck.unregister("chunk")
            counts[table] += chunk.height
    for name, value in sequences(pg).items():
        last = sequences(duck).get(name, 0)
        if value > last:  # DuckDB sequences only move forward, one value at a time
            duck.execute(f"SELECT max(nextval('{name}')) FROM range({value - last})")
    return counts


def duckdb_to_postgres(
    duck: duckdb.DuckDBPyConnection, pg: Any, size: int = 100_000
) -> dict[str, int]:
    """Every table of `duck` into the same tables of `pg` (emptied first), and the sequences."""
    counts = {}
    wanted = set(tables(pg))
    for table in tables(duck):
        if table in KEEP or table not in wanted:
            continue
        pg.execute(f'DELETE FROM "{table}"')
        counts[table] = 0
        reader = duck.sql(f'SELECT * FROM "{table}"').to_arrow_reader(size)
        for batch in reader:
            chunk = pl.DataFrame(pl.from_arrow(batch))
            pg.copy_in(table, chunk)
            counts[table] += chunk.height
    for name, value in sequences(duck).items():
        pg.execute("SELECT setval(?, ?)", [name, value])
    return counts


def drop_everything(pg: Any) -> None:
    """Drop every table and sequence of a PostgreSQL store (a restore that failed half-way
    into a database that was empty before it)."""
    for table in tables(pg):
        pg.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    for (name,) in pg.execute(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
    ).fetchall():
        pg.execute(f'DROP SEQUENCE IF EXISTS "{name}" CASCADE')
