"""Commands for mail: deliver the outbox (`send-mail`), write the day's reminders (`remind`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from core.cli import DATE, DB_OPTION, cli, fail, handled


@cli.command("send-mail")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help='Print {"sent", "failed", "pending"}.')
@click.option("--limit", type=int, default=None, help="Send at most this many (default: all due).")
@click.option(
    "--per-minute",
    type=click.IntRange(min=1),
    default=None,
    help="At most this many a minute for this run (default: common.mail.per_minute).",
)
@handled
def send_mail(
    db_file: Path | str | None, as_json: bool, limit: int | None, per_minute: int | None
) -> None:
    """Deliver the outbox's pending mail through SMTP (RENEWAL_SMTP_HOST, _PORT, _USER,
    _PASSWORD, _STARTTLS, or [smtp] in .streamlit/secrets.toml). Each row goes once, under
    its own Message-ID; a mail refused for now (4xx) is tried again later, one refused for
    good (5xx) is marked failed with its address. Run it on a schedule (every minute).

    Example: RENEWAL_SMTP_HOST=mail.example.jp python -m core send-mail --json
    """
    from core import config
    from core.notify import sender, smtp
    from core.store import db, migrations

    server = smtp.server()
    cfg = config.current()
    if per_minute is not None:
        cfg = cfg.with_overrides({"common.mail.per_minute": per_minute})
    with db.connect(db_file) as con:
        migrations.migrate(con)
    try:
        result = sender.run(db_file, server=server, limit=limit, cfg=cfg)
    except sender.SenderBusy as exc:
        fail(f"busy: {exc}", status=1)
        return
    except sender.ServerUnavailable as exc:
        fail(f"error: {exc}; every unsent mail stays pending", status=1)
        return
    if as_json:
        click.echo(json.dumps(result.as_json()))
    else:
        click.echo(
            f"sent {result.sent:,}, failed {result.failed:,}, to retry later {result.retried:,};"
            f" {result.pending:,} pending"
        )


@cli.command()
@DB_OPTION
@click.option("--date", "on", type=DATE, default=None, help="The day (default: today).")
@click.option(
    "--json", "as_json", is_flag=True, help='Print [{"scheme", "reminder", "event", "n"}].'
)
@handled
def remind(db_file: Path | str | None, on: dt.datetime | None, as_json: bool) -> None:
    """Write the reminders due on a day to the outbox (`<scheme>.reminders`): never twice for
    a member, reminder and period, none once the member renewed. Run it daily before
    send-mail.

    Example: python -m core remind --json
    """
    from core.notify import reminders
    from core.store import db, migrations

    day = on.date() if on else dt.date.today()
    with db.connect(db_file) as con:
        migrations.migrate(con)
        counts = reminders.run(con, day)
    if as_json:
        click.echo(json.dumps(counts, ensure_ascii=False))
        return
    for c in counts:
        click.echo(f"{c['scheme']} {c['reminder']} ({c['event']}): {c['n']:,}")
    if not counts:
        click.echo("no reminder is configured")
