"""`python -m core COMMAND`: the command line of FORMATS.md, a thin shell over core."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import duckdb

from core import backup as backups
from core import (
    config,
    course_billing,
    db,
    documents,
    explanations,
    exports,
    imports,
    intake_checks,
    renewals,
    season_billing,
    users,
)
from core.errors import ConflictError, InputFileError, ValidationError

DB_OPTION = click.option(
    "--db",
    "db_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Database file (default: ${db.DB_ENV}, else data/renewal.duckdb).",
)


def fail(message: str, status: int = 2) -> None:
    click.echo(message, err=True)
    sys.exit(status)


def handled(command: Callable[..., Any]) -> Callable[..., Any]:
    """Domain errors become one line (or one line per bad cell) and exit status 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputFileError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            more = exc.total - len(exc.problems)
            tail = f" ({more} more not shown)" if more > 0 else ""
            fail(f"{exc.total} problem(s){tail}; nothing was written.")
        except (ValidationError, config.ConfigError, ValueError, KeyError) as exc:
            fail(f"error: {exc}")
        except db.DatabaseBusy as exc:
            fail(f"busy: {exc}", status=1)
        except ConflictError as exc:  # rolled back whole: running it again is safe
            fail(f"conflict: {exc}", status=1)
        except duckdb.TransactionException as exc:  # e.g. the batch met a payment; rolled back
            first = str(exc).splitlines()[0]
            fail(
                f"conflict: another transaction changed the same rows ({first}); nothing was"
                " written. Run the command again.",
                status=1,
            )

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Back office for qualification and membership renewals."""


@cli.command()
@DB_OPTION
@handled
def init(db_file: Path | None) -> None:
    """Create or migrate the database schema (idempotent).

    Example: python -m core init --db data/renewal.duckdb
    """
    config.current()  # a broken configuration stops here, naming file and key
    with db.connect(db_file) as con:
        applied = db.migrate(con)
    if applied:
        for migration in applied:
            click.echo(f"applied {migration.version:04d}_{migration.name}")
    else:
        click.echo("schema is up to date")


@cli.command()
@DB_OPTION
@click.option("--members", "size", type=click.IntRange(min=100), default=20_000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Date the data is built around.",
)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has members already.")
@handled
def demo(
    db_file: Path | None, size: int, seed: int, today: dt.datetime | None, if_empty: bool
) -> None:
    """Fill the database with realistic synthetic data for all five schemes.

    Example: python -m core demo --members 1000000 --seed 7
    """
    from core.demo import build_demo

    with db.connect(db_file) as con:
        db.migrate(con)
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


@cli.command(name="import")
@DB_OPTION
@click.argument("table", type=click.Choice(sorted(imports.SPECS)))
@click.argument("file", type=click.Path(path_type=Path))
@handled
def import_(db_file: Path | None, table: str, file: Path) -> None:
    """Import a CSV (UTF-8 or CP932): all rows, or none and exit 2 with FILE:LINE: column: problem.

    payments: a reference seen before (in the database or earlier in the file) is listed as a
    duplicate and skipped; the rest are matched against open billing lines, and what does
    not match exactly goes to the reconciliation list (入金消込).

    Example: python -m core import members members.csv
    Example: python -m core import payments payments_2026-11.csv
    """
    with db.connect(db_file) as con:
        db.migrate(con)
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


@cli.command("check-intake")
@DB_OPTION
@handled
def check_intake(db_file: Path | None) -> None:
    """Recompute the intake checks (duplicates, same person, address) of every open application.

    Example: python -m core check-intake
    """
    with db.connect(db_file) as con:
        db.migrate(con)
        with db.transaction(con):
            n = intake_checks.refresh(con, everything=True)
        row = db.one(
            con,
            "SELECT count(*) FILTER (WHERE duplicate_of IS NOT NULL),"
            " count(*) FILTER (WHERE same_person_as IS NOT NULL),"
            " count(*) FILTER (WHERE address_problem IS NOT NULL)"
            " FROM applications WHERE status IN ('pending', 'sent_back')",
        )
    assert row is not None
    click.echo(
        f"checked {n:,} open applications: {row[0]:,} duplicate, {row[1]:,} same person"
        f" under another number, {row[2]:,} address problems"
    )


@cli.command()
@DB_OPTION
@click.option("--season", type=int, required=True, help="the 年度 to bill, e.g. 2026")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="the billing date of new lines (default today)",
)
@handled
def bill(db_file: Path | None, season: int, on: dt.datetime | None) -> None:
    """Write the SAJ season's lines every approved registration lacks; running it again adds none.

    Example: python -m core bill --season 2026
    """
    day = on.date() if on else dt.date.today()
    with db.connect(db_file) as con:
        db.migrate(con)
        counts = season_billing.bill_season(
            con, season, on=day, actor="cli:bill", cfg=config.current()
        )
    if not counts:
        click.echo(f"season {season}: every approved registration has its lines; nothing added")
    for item, n in counts.items():
        click.echo(f"season {season}: {item} {n:,} lines")


@cli.command("bill-courses")
@DB_OPTION
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="bill the reservations whose form arrived by this day (default today)",
)
@handled
def bill_courses(db_file: Path | None, on: dt.datetime | None) -> None:
    """Bill course reservations whose signed form has arrived: hours × fee per hour, materials.

    Example: python -m core bill-courses --date 2026-11-24
    """
    day = on.date() if on else dt.date.today()
    with db.connect(db_file) as con:
        db.migrate(con)
        counts = course_billing.bill_courses(
            con, on=day, actor="cli:bill-courses", cfg=config.current()
        )
    if not counts:
        click.echo("no reservation waits for its bill")
    for item, n in counts.items():
        click.echo(f"{item} {n:,} lines")


@cli.command()
@DB_OPTION
@click.argument("table", type=click.Choice(sorted(exports.QUERIES)))
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
def export(db_file: Path | None, table: str, out: Path, masked: bool) -> None:
    """Export a table as CSV (UTF-8 with BOM), Parquet or Excel by the file's extension.

    Example: python -m core export members --out members.xlsx
    """
    with db.connect(db_file) as con:
        n = exports.export_table(con, table, out, masked=masked)
    click.echo(f"exported {n:,} {table} rows to {out}")


@cli.command()
@DB_OPTION
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="A new or empty folder.",
)
@handled
def backup(db_file: Path | None, out: Path) -> None:
    """Write a consistent copy of the whole database to a folder (safe while the app runs).

    Example: python -m core backup --out data/backups/2026-11-24
    """
    with db.connect(db_file) as con:
        counts = backups.backup(con, out)
    click.echo(f"backed up {sum(counts.values()):,} rows in {len(counts)} tables to {out}")


@cli.command()
@DB_OPTION
@click.argument("source", type=click.Path(file_okay=False, exists=True, path_type=Path))
@handled
def restore(db_file: Path | None, source: Path) -> None:
    """Restore a backup folder into a new, empty database file.

    Example: python -m core restore data/backups/2026-11-24 --db data/restored.duckdb
    """
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


AS_OF = click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The date the rules are applied as of (default: today).",
)


@cli.command()
@DB_OPTION
@AS_OF
@click.option(
    "--scheme",
    "schemes",
    multiple=True,
    type=click.Choice(renewals.SCHEMES),
    help="Only these schemes (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Compute and print the counts; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (FORMATS.md).")
@handled
def renew(
    db_file: Path | None,
    as_of: dt.datetime | None,
    schemes: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
) -> None:
    """Apply every scheme's renewal rules as of a date: extend, open fees, lapse, invalidate.

    Running it twice for the same date changes nothing the second time.

    Example: python -m core renew --as-of 2026-11-24 --dry-run
    """
    day = as_of.date() if as_of else dt.date.today()
    with db.connect(db_file) as con:
        db.migrate(con)
        result = renewals.run(con, day, schemes=schemes or renewals.SCHEMES, dry_run=dry_run)
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
def explain(db_file: Path | None, as_of: dt.datetime | None, member_no: str, as_json: bool) -> None:
    """Every qualification of a member with each renewal requirement and the decision.

    Example: python -m core explain --member J0000123 --as-of 2026-11-24 --json
    """
    day = as_of.date() if as_of else dt.date.today()
    with db.connect(db_file) as con:
        if (
            con.execute("SELECT count(*) FROM members WHERE member_no = ?", [member_no]).fetchall()[
                0
            ][0]
            == 0
        ):
            raise ValueError(f"member {member_no} does not exist")
        result = renewals.explain(con, member_no, day)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    for line in explanations.lines(result):
        click.echo(line)


DATE = click.DateTime(["%Y-%m-%d"])


@cli.command(name="documents")
@DB_OPTION
@click.option("--org", "org_code", required=True, help="The organisation (club) code.")
@click.option(
    "--kind",
    type=click.Choice(sorted(documents.KINDS)),
    required=True,
    help="invoice: open lines; receipt: paid lines.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The PDF file."
)
@click.option("--from", "issued_from", type=DATE, default=None, help="Lines billed on or after.")
@click.option("--to", "issued_to", type=DATE, default=None, help="Lines billed on or before.")
@click.option(
    "--member-status",
    "statuses",
    multiple=True,
    type=click.Choice(documents.MEMBER_STATUSES),
    help="Only members with this status (repeatable; default: all).",
)
@click.option("--date", "day", type=DATE, default=None, help="Issue date (default: today).")
@handled
def documents_(
    db_file: Path | None,
    org_code: str,
    kind: str,
    out: Path,
    issued_from: dt.datetime | None,
    issued_to: dt.datetime | None,
    statuses: tuple[str, ...],
    day: dt.datetime | None,
) -> None:
    """One PDF for a club's members: a cover page with the grand total, then each
    member's invoice or receipt on its own page(s).

    Example: python -m core documents --org SAJ-22-C001 --kind invoice --out invoices.pdf
    """
    with db.connect(db_file) as con:
        batch = documents.club_batch(
            con,
            org_code,
            kind,
            issued_from=issued_from.date() if issued_from else None,
            issued_to=issued_to.date() if issued_to else None,
            member_statuses=statuses or None,
            today=day.date() if day else None,
        )
    out.write_bytes(batch.pdf)
    click.echo(
        f"wrote {batch.documents:,} {kind}s for {org_code} to {out}; total {batch.total:,} yen"
    )


def main() -> None:
    cli(prog_name="python -m core")
