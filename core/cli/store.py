"""Commands for the database itself: init, demo, backup, restore."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import click

from core.cli import DATE, DB_OPTION, cli, handled


@cli.command()
@DB_OPTION
@handled
def init(db_file: Path | str | None) -> None:
    """Create or migrate the database schema (idempotent).

    Example: python -m core init --db data/renewal.duckdb
    """
    from core import config
    from core.store import db, migrations

    config.current()  # a broken configuration stops here, naming file and key
    with db.connect(db_file) as con:
        applied = migrations.migrate(con)
    if applied:
        for migration in applied:
            click.echo(f"applied {migration.version:04d}_{migration.name}")
    else:
        click.echo("schema is up to date")


@cli.command()
@DB_OPTION
@click.option("--members", "size", type=click.IntRange(min=100), default=20_000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--today", type=DATE, default=None, help="Date the data is built around.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has members already.")
@handled
def demo(
    db_file: Path | str | None, size: int, seed: int, today: dt.datetime | None, if_empty: bool
) -> None:
    """Fill the database with realistic synthetic data for all five schemes.

    Example: python -m core demo --members 1000000 --seed 7
    """
    from core.access import users
    from core.demo import build_demo
    from core.store import db, migrations

    with db.connect(db_file) as con:
        migrations.migrate(con)
        if db.table_count(con, "members"):
            if if_empty:
                click.echo("database already has members; demo data not added")
                return
            raise ValueError("the database already has members; use a new --db file for demo data")
        started = time.perf_counter()
        counts = build_demo(con, members=size, seed=seed, today=today.date() if today else None)
        users.ensure_demo_users(con)
    elapsed = time.perf_counter() - started
    for table, n in counts.items():
        click.echo(f"{table:16} {n:>12,}")
    click.echo(
        f"built in {elapsed:.1f} s; demo log-ins: {', '.join(u[0] for u in users.DEMO_USERS)}"
    )


@cli.command()
@DB_OPTION
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="A new or empty folder.",
)
@handled
def backup(db_file: Path | str | None, out: Path) -> None:
    """Write a consistent copy of the whole database to a folder (safe while the app runs).

    Example: python -m core backup --out data/backups/2026-11-24
    """
    from core.store import backup as backups
    from core.store import db

    with db.connect(db_file) as con:
        counts = backups.backup(con, out)
    click.echo(f"backed up {sum(counts.values()):,} rows in {len(counts)} tables to {out}")


@cli.command()
@DB_OPTION
@click.argument("source", type=click.Path(file_okay=False, exists=True, path_type=Path))
@handled
def restore(db_file: Path | str | None, source: Path) -> None:
    """Restore a backup folder into a new, empty database file (or PostgreSQL database).

    Example: python -m core restore data/backups/2026-11-24 --db data/restored.duckdb
    """
    from core.store import backup as backups
    from core.store import db

    url = db.postgres_url(db_file)
    if url:
        from core.store import transfer

        with db.connect(url) as con:
            was_empty = not transfer.tables(con)
            try:
                counts = backups.restore(con, source)
            except Exception:
                if was_empty:  # leave no half-restored schema behind
                    transfer.drop_everything(con)
                raise
        click.echo(f"restored {sum(counts.values()):,} rows in {len(counts)} tables from {source}")
        return
    target = db.db_path(db_file)
    created = not target.exists()
    try:
        with db.connect(target) as con:
            counts = backups.restore(con, source)
    except Exception:
        if created:  # leave no half-restored file behind
            for leftover in (target, target.with_name(target.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise
    click.echo(f"restored {sum(counts.values()):,} rows in {len(counts)} tables from {source}")
