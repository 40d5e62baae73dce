"""Commands for applications: the intake checks."""

from __future__ import annotations

from pathlib import Path

import click

from core.cli import DB_OPTION, cli, handled


@cli.command("check-intake")
@DB_OPTION
@handled
def check_intake(db_file: Path | str | None) -> None:
    """Recompute the intake checks (duplicates, same person, address) of every open application.

    Example: python -m core check-intake
    """
    from core.applications import intake
    from core.store import db, migrations

    with db.connect(db_file) as con:
        migrations.migrate(con)
        with db.transaction(con):
            n = intake.refresh(con, everything=True)
        counts = intake.open_counts(con)
    click.echo(
        f"checked {n:,} open applications: {counts['duplicate']:,} duplicate,"
        f" {counts['same_person']:,} same person under another number,"
        f" {counts['address']:,} address problems"
    )
