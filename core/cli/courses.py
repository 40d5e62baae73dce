"""Commands for courses (FORMATS.md): reserve, cancel, the daily course job."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from core.cli import DATE, DB_OPTION, cli, handled

STAMP = click.DateTime(["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"])


@cli.command()
@DB_OPTION
@click.option("--member", "member_no", required=True, help="The member number.")
@click.option("--course", "course_code", required=True, help="The course code.")
@click.option(
    "--at",
    "at",
    type=STAMP,
    default=None,
    help='When the reservation was received, "YYYY-MM-DD HH:MM" Japan time (default: now).',
)
@click.option("--json", "as_json", is_flag=True, help='Print {"status", "position"}.')
@handled
def enrol(
    db_file: Path | None, member_no: str, course_code: str, at: dt.datetime | None, as_json: bool
) -> None:
    """Reserve a seat on a course, or a place on its waitlist when it is full.

    Refused (exit 2, the reason on stderr): an unknown member or course, a member outside the
    course's scheme, outside the recruitment period, a course already held or not opened, a
    course title taken before, or days that overlap another reservation.

    Example: python -m core enrol --member T0000123 --course K2021-001 --at "2021-05-01 06:00"
    """
    from core.courses import enrolment
    from core.store import db, migrations

    with db.connect(db_file) as con:
        migrations.migrate(con)
        done = enrolment.reserve(con, member_no, course_code, actor="cli:enrol", at=at)
    if as_json:
        click.echo(json.dumps({"status": done.status, "position": done.position}))
    elif done.status == "reserved":
        click.echo(f"{member_no}: reserved a seat on {course_code}")
    else:
        click.echo(f"{member_no}: waitlisted on {course_code}, position {done.position}")


@cli.command()
@DB_OPTION
@click.option("--member", "member_no", required=True, help="The member number.")
@click.option("--course", "course_code", required=True, help="The course code.")
@click.option(
    "--on",
    "on",
    type=DATE,
    default=None,
    help="The cancellation day: after the form arrived, the day the withdrawal form (受講辞退届)"
    " was received (default: today).",
)
@click.option(
    "--refund",
    "refund_reason",
    default=None,
    help="A refund reason of the scheme (e.g. postponed, double_payment): paid fees are refunded.",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"promoted": [member_no, …]}.')
@handled
def cancel(
    db_file: Path | None,
    member_no: str,
    course_code: str,
    on: dt.datetime | None,
    refund_reason: str | None,
    as_json: bool,
) -> None:
    """Cancel a reservation (or a place on the waitlist); the first person waiting gets the seat
    in the same transaction. Before the signed form arrived it is free; after, it is a
    withdrawal and paid fees stay paid unless --refund names one of the scheme's reasons.

    Example: python -m core cancel --member T0000123 --course K2021-001 --on 2021-05-20 --json
    """
    from core.courses import changes
    from core.store import db, migrations

    with db.connect(db_file) as con:
        migrations.migrate(con)
        done = changes.cancel(con, member_no, course_code, actor="cli:cancel",
                              on=on.date() if on else None, refund_reason=refund_reason)  # fmt: skip
    if as_json:
        click.echo(json.dumps({"promoted": list(done.promoted)}))
        return
    what = "cancelled" if done.kind == "member" else "withdrawn (受講辞退届)"
    click.echo(f"{member_no}: {course_code} {what}")
    for promoted in done.promoted:
        click.echo(f"promoted from the waitlist: {promoted}")


@cli.command("courses-daily")
@DB_OPTION
@click.option("--date", "on", type=DATE, default=None, help="The day to run for (default today).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@handled
def courses_daily(db_file: Path | None, on: dt.datetime | None, as_json: bool) -> None:
    """The daily course job: bill the forms received, cancel reservations whose form is late,
    delete those whose invoice is unpaid past its due date, mark courses under their minimum
    at the end of recruitment not opened (refunding paid fees), promote from the waitlists.

    Example: python -m core courses-daily --date 2021-05-16 --json
    """
    from core.courses import daily
    from core.store import db, migrations

    day = on.date() if on else dt.date.today()
    with db.connect(db_file) as con:
        migrations.migrate(con)
        counts = daily.run_daily(con, on=day, actor="cli:courses-daily")
    if as_json:
        click.echo(json.dumps({"date": day.isoformat(), **counts.as_dict()}))
        return
    for name, n in counts.as_dict().items():
        click.echo(f"{day}: {name} {n:,}")
