"""Commands for renewals: the batch and the explanation of one member."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from core import schemes
from core.cli import AS_OF, DB_OPTION, cli, handled


@cli.command()
@DB_OPTION
@AS_OF
@click.option(
    "--scheme",
    "codes",
    multiple=True,
    type=click.Choice(schemes.CODES),
    help="Only these schemes (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Compute and print the counts; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (FORMATS.md).")
@handled
def renew(
    db_file: Path | str | None,
    as_of: dt.datetime | None,
    codes: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
) -> None:
    """Apply every scheme's renewal rules as of a date: extend, open fees, lapse, invalidate.

    Running it twice for the same date changes nothing the second time.

    Example: python -m core renew --as-of 2026-11-24 --dry-run
    """
    from core.renewals import batch
    from core.store import db, migrations

    day = as_of.date() if as_of else dt.date.today()
    with db.connect(db_file) as con:
        migrations.migrate(con)
        result = batch.run(con, day, schemes=codes or schemes.CODES, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False))
        return
    click.echo(
        f"renewal batch as of {day.isoformat()}{' (dry run: nothing written)' if dry_run else ''}"
    )
    click.echo(f"{'scheme':10} {'outcome':12} {'n':>10}")
    for row in result.counts:
        click.echo(f"{row['scheme']:10} {row['outcome']:12} {row['n']:>10,}")
    if result.run_id is not None:
        click.echo(f"run {result.run_id}; audit batch {result.batch_id}")


@cli.command()
@DB_OPTION
@AS_OF
@click.option("--member", "member_no", required=True, help="The member number.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (FORMATS.md).")
@handled
def explain(
    db_file: Path | str | None, as_of: dt.datetime | None, member_no: str, as_json: bool
) -> None:
    """Every qualification of a member with each renewal requirement and the decision.

    Example: python -m core explain --member J0000123 --as-of 2026-11-24 --json
    """
    from core.renewals import explain as explanation
    from core.store import db

    day = as_of.date() if as_of else dt.date.today()
    with db.connect(db_file) as con:
        if not db.one(con, "SELECT count(*) FROM members WHERE member_no = ?", [member_no])[0]:  # type: ignore[index]
            raise ValueError(f"member {member_no} does not exist")
        result = explanation.explain(con, member_no, day)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    for line in explanation.lines(result):
        click.echo(line)
