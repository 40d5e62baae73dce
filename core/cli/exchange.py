"""Commands that move data in and out: import and export (FORMATS.md's files)."""

from __future__ import annotations

from pathlib import Path

import click

from core import vocabulary
from core.cli import DB_OPTION, cli, handled


@cli.command(name="import")
@DB_OPTION
@click.argument("table", type=click.Choice(sorted(vocabulary.IMPORT_TABLES)))
@click.argument("file", type=click.Path(path_type=Path))
@handled
def import_(db_file: Path | str | None, table: str, file: Path) -> None:
    """Import a CSV (UTF-8 or CP932): all rows, or none and exit 2 with FILE:LINE: column: problem.

    payments: a reference seen before (in the database or earlier in the file) is listed as a
    duplicate and skipped; the rest are matched against open billing lines, and what does
    not match exactly goes to the reconciliation list (入金消込).

    Example: python -m core import members members.csv
    Example: python -m core import payments payments_2026-11.csv
    """
    from core import imports
    from core.store import db, migrations

    with db.connect(db_file) as con:
        migrations.migrate(con)
        result = imports.import_file(con, table, file)
    click.echo(
        f"imported {result.rows:,} {table} rows from {file} ({result.encoding}); batch {result.batch_id}"
    )
    for note in result.notes:
        click.echo(note)
    if result.duplicates:
        shown = ", ".join(result.duplicates[:20])
        more = f" and {len(result.duplicates) - 20:,} more" if len(result.duplicates) > 20 else ""
        click.echo(
            f"skipped {len(result.duplicates):,} rows whose reference was seen before"
            f" (duplicates, not entered again): {shown}{more}"
        )


@cli.command()
@DB_OPTION
@click.argument("table", type=click.Choice(sorted(vocabulary.EXPORT_TABLES)))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File: .csv, .parquet or .xlsx.",
)
@click.option(
    "--masked",
    is_flag=True,
    help="Mask personal data (names, birth dates, contact), as analysts see it.",
)
@handled
def export(db_file: Path | str | None, table: str, out: Path, masked: bool) -> None:
    """Export a table as CSV (UTF-8 with BOM), Parquet or Excel by the file's extension.

    Example: python -m core export members --out members.xlsx
    """
    from core.store import db, exports

    with db.connect(db_file) as con:
        n = exports.export_table(con, table, out, masked=masked)
    click.echo(f"exported {n:,} {table} rows to {out}")
