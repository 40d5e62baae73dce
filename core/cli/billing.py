"""Commands for billing: the season's lines, course fees, and a club's documents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from core import vocabulary
from core.cli import DATE, DB_OPTION, cli, handled


@cli.command()
@DB_OPTION
@click.option("--season", type=int, required=True, help="the 年度 to bill, e.g. 2026")
@click.option(
    "--date",
    "on",
    type=DATE,
    default=None,
    help="the billing date of new lines (default today)",
)
@handled
def bill(db_file: Path | str | None, season: int, on: dt.datetime | None) -> None:
    """Write the SAJ season's lines every approved registration lacks; running it again adds none.

    Example: python -m core bill --season 2026
    """
    from core import config
    from core.billing import season as seasons
    from core.store import db, migrations

    day = on.date() if on else dt.date.today()
    with db.connect(db_file) as con:
        migrations.migrate(con)
        counts = seasons.bill_season(con, season, on=day, actor="cli:bill", cfg=config.current())
    if not counts:
        click.echo(f"season {season}: every approved registration has its lines; nothing added")
    for item, n in counts.items():
        click.echo(f"season {season}: {item} {n:,} lines")


@cli.command("bill-courses")
@DB_OPTION
@click.option(
    "--date",
    "on",
    type=DATE,
    default=None,
    help="bill the reservations whose form arrived by this day (default today)",
)
@handled
def bill_courses(db_file: Path | str | None, on: dt.datetime | None) -> None:
    """Bill course reservations whose signed form has arrived: hours × fee per hour, materials.

    Example: python -m core bill-courses --date 2026-11-24
    """
    from core import config
    from core.billing import course_fees
    from core.store import db, migrations

    day = on.date() if on else dt.date.today()
    with db.connect(db_file) as con:
        migrations.migrate(con)
        counts = course_fees.bill_courses(
            con, on=day, actor="cli:bill-courses", cfg=config.current()
        )
    if not counts:
        click.echo("no reservation waits for its bill")
    for item, n in counts.items():
        click.echo(f"{item} {n:,} lines")


@cli.command(name="documents")
@DB_OPTION
@click.option(
    "--org", "org_code", default=None, help="The organisation (club): one PDF for its members."
)
@click.option("--member", "member_no", default=None, help="One member's document.")
@click.option(
    "--kind",
    type=click.Choice(list(vocabulary.DOCUMENT_KINDS)),
    required=True,
    help="invoice: open lines; receipt: paid lines; or a certificate or notice the member's"
    " scheme issues (certificate, commission_letter, registration_card, renewal_notice, …).",
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
    type=click.Choice(tuple(vocabulary.MEMBER_STATUSES)),
    help="Only members with this status (repeatable; default: all).",
)
@click.option(
    "--posting",
    type=click.Choice(tuple(vocabulary.CARD_POSTING)),
    default=None,
    help="Registration cards: only those the holders want posted (post) or not (no_post).",
)
@click.option("--date", "day", type=DATE, default=None, help="Issue date (default: today).")
@handled
def documents_(
    db_file: Path | str | None,
    org_code: str | None,
    member_no: str | None,
    kind: str,
    out: Path,
    issued_from: dt.datetime | None,
    issued_to: dt.datetime | None,
    statuses: tuple[str, ...],
    posting: str | None,
    day: dt.datetime | None,
) -> None:
    """A member's document, or one PDF for a club's members (a cover page, then each
    member's document). Certificates and notices are recorded as issued (who, when, which
    copy); every copy of one is the same document.

    Example: python -m core documents --org SAJ-22-C001 --kind invoice --out invoices.pdf
    Example: python -m core documents --member J0000001 --kind certificate --out cert.pdf
    """
    import getpass

    from core.documents import certificates, invoices
    from core.store import db, migrations

    if (org_code is None) == (member_no is None):
        raise click.UsageError("give either --org or --member")
    on = day.date() if day else None
    actor = f"cli:{getpass.getuser()}"
    with db.connect(db_file) as con:
        migrations.migrate(con)
        if kind in invoices.KINDS and member_no is not None:
            document = invoices.issue(
                con,
                member_no,
                kind,
                today=on,
                issued_on=None,
            )
            out.write_bytes(document.pdf)
            click.echo(
                f"wrote {kind} {document.number} for {member_no} to {out}; total {document.total:,} yen"
            )
            return
        if kind in invoices.KINDS:
            assert org_code is not None
            batch = invoices.club_batch(
                con,
                org_code,
                kind,
                issued_from=issued_from.date() if issued_from else None,
                issued_to=issued_to.date() if issued_to else None,
                member_statuses=statuses or None,
                today=on,
            )
            out.write_bytes(batch.pdf)
            click.echo(
                f"wrote {batch.documents:,} {kind}s for {org_code} to {out}; total {batch.total:,} yen"
            )
            return
        if member_no is not None:
            printed = certificates.issue(con, member_no, kind, actor=actor, on=on)
        else:
            assert org_code is not None
            printed = certificates.club_batch(
                con, org_code, kind, actor=actor, on=on, posting=posting
            )
    out.write_bytes(printed.pdf)
    click.echo(
        f"wrote {len(printed.documents):,} {kind} ({', '.join(printed.documents[:5])}"
        f"{' …' if len(printed.documents) > 5 else ''}) to {out}"
    )
