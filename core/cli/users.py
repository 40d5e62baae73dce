"""`python -m core users …`: staff users for scripts and the first administrator.

A password is read from standard input (one line), or asked for without echo (twice) when
standard input is a terminal — never from the command line, where `ps` and the shell's history
would show it. Every change is audited with the operating-system user as actor (`cli:<name>`).
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click

from core import vocabulary
from core.cli import DB_OPTION, cli, handled


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container)
        return "cli:unknown"


def _password(prompt: str) -> str:
    """The new password: one line of standard input, or typed twice without echo."""
    if sys.stdin.isatty():
        first = getpass.getpass(f"{prompt}: ")
        if getpass.getpass(f"{prompt}（確認）: ") != first:
            raise ValueError("the two passwords typed differ; nothing was changed")
        return first
    line = sys.stdin.readline()
    if not line:
        raise ValueError("no password on standard input; nothing was changed")
    return line.rstrip("\r\n")


@cli.group()
def users() -> None:
    """Staff users: add, list, disable, enable, unlock, reset-password."""


@users.command("add")
@DB_OPTION
@click.option("--username", required=True, help="Log-in name: a-z, 0-9 and . _ -")
@click.option("--role", required=True, type=click.Choice(tuple(vocabulary.ROLES)))
@click.option("--org", "org_code", required=True, help="Organisation code of the scope, * for all.")
@click.option("--name", "display_name", required=True, help="The person's name.")
@click.option("--email", default=None)
@handled
def add(
    db_file: Path | str | None,
    username: str,
    role: str,
    org_code: str,
    display_name: str,
    email: str | None,
) -> None:
    """Add a user; the password comes from standard input (or is typed twice, unseen).

    Example: printf '%s\\n' "$ADMIN_PASSWORD" | python -m core users add --username sato
    --role admin --org '*' --name '佐藤 一郎'
    """
    from core.access import users as accounts
    from core.store import db, migrations

    password = _password("パスワード")
    with db.connect(db_file) as con:
        migrations.migrate(con)
        with db.transaction(con):
            accounts.create(con, username=username, display_name=display_name, role=role,
                            org_code=org_code, password=password, email=email,
                            actor=_actor())  # fmt: skip
    click.echo(f"added user {username} ({role}, scope {org_code})")


@users.command("list")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@handled
def list_(db_file: Path | str | None, as_json: bool) -> None:
    """Every user with role, scope, state and lock; never a hash.

    Example: python -m core users list --json
    """
    from core.access import users as accounts
    from core.store import db, migrations

    with db.connect(db_file) as con:
        migrations.migrate(con)
        rows = accounts.listing(con)
    shown = [
        {
            "username": r["username"],
            "display_name": r["display_name"],
            "role": r["role"],
            "org_code": r["org_code"],
            "disabled": bool(r["disabled"]),
            "locked_until": r["locked_until"].isoformat() if r["locked_until"] else None,
            "last_login_at": r["last_login_at"].isoformat() if r["last_login_at"] else None,
        }
        for r in rows.iter_rows(named=True)
    ]
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False))
        return
    for r in shown:
        state = "disabled" if r["disabled"] else ("locked" if r["locked_until"] else "active")
        click.echo(
            f"{r['username']:20} {r['role']:9} {r['org_code']:14} {state:9} {r['display_name']}"
        )


def _switch(db_file: Path | str | None, username: str, *, disabled: bool) -> None:
    from core.access import users as accounts
    from core.store import db, migrations

    with db.connect(db_file) as con:
        migrations.migrate(con)
        with db.transaction(con):
            changed = accounts.update(
                con,
                username=username,
                actor=_actor(),
                reason="コマンドラインから" + ("無効化" if disabled else "有効化"),
                disabled=disabled,
            )
    click.echo(
        f"{username} {'disabled' if disabled else 'enabled'}" + ("" if changed else " already")
    )


@users.command()
@DB_OPTION
@click.argument("username")
@handled
def disable(db_file: Path | str | None, username: str) -> None:
    """Disable a user: no log-in, and their open sessions end.

    Example: python -m core users disable sato
    """
    _switch(db_file, username, disabled=True)


@users.command()
@DB_OPTION
@click.argument("username")
@handled
def enable(db_file: Path | str | None, username: str) -> None:
    """Enable a disabled user again.

    Example: python -m core users enable sato
    """
    _switch(db_file, username, disabled=False)


@users.command()
@DB_OPTION
@click.argument("username")
@handled
def unlock(db_file: Path | str | None, username: str) -> None:
    """End the lock that failed log-ins put on a user name.

    Example: python -m core users unlock sato
    """
    from core.access import login
    from core.store import db, migrations

    with db.connect(db_file) as con:
        migrations.migrate(con)
        with db.transaction(con):
            was_locked = login.unlock(con, username, actor=_actor())
    click.echo(f"{username} unlocked" if was_locked else f"{username} was not locked")


@users.command("reset-password")
@DB_OPTION
@click.argument("username")
@handled
def reset_password(db_file: Path | str | None, username: str) -> None:
    """Set a new password from standard input; the user must change it at the next log-in.

    Example: printf '%s\\n' "$TEMPORARY_PASSWORD" | python -m core users reset-password sato
    """
    from core.access import users as accounts
    from core.store import db, migrations

    password = _password("新しいパスワード")
    with db.connect(db_file) as con:
        migrations.migrate(con)
        with db.transaction(con):
            accounts.reset_password(con, username=username, password=password, actor=_actor(),
                                    reason="コマンドラインから再設定")  # fmt: skip
    click.echo(f"password of {username} reset; it must be changed at the next log-in")
