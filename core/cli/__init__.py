"""`python -m core COMMAND`: the command line of FORMATS.md, a thin shell over core.

One click group; the commands live beside this module, one module per domain (store,
exchange, renewals, billing, applications). Each command imports the part of core it calls
when it runs, so `python -m core --help` starts without loading the database engine, data
frames or the PDF library.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

DB_ENV = "RENEWAL_DB"


class Store(click.ParamType):
    """--db: a DuckDB file's path, or a PostgreSQL URL (postgresql://user:password@host/db)
    kept as it is (a path would fold its //)."""

    name = "FILE|URL"

    def convert(self, value: Any, param: Any, ctx: Any) -> Path | str:
        text = str(value)
        if text.startswith(("postgresql://", "postgres://")):
            return text
        if Path(text).is_dir():
            self.fail(f"{text} is a folder, not a database file", param, ctx)
        return Path(text)


DB_OPTION = click.option(
    "--db",
    "db_file",
    type=Store(),
    default=None,
    help=f"Database file or postgresql:// URL (default: ${DB_ENV}, else data/renewal.duckdb).",
)
DATE = click.DateTime(["%Y-%m-%d"])
AS_OF = click.option(
    "--as-of",
    "as_of",
    type=DATE,
    default=None,
    help="The date the rules are applied as of (default: today).",
)


def fail(message: str, status: int = 2) -> None:
    click.echo(message, err=True)
    sys.exit(status)


def handled(command: Callable[..., Any]) -> Callable[..., Any]:
    """Domain errors become one line (or one line per bad cell) and exit status 2; a busy
    database or a write conflict exits 1 (running the command again is safe)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except Exception as exc:  # classified below; anything else is a bug and propagates
            _explain(exc)
            raise

    return wrapper


def _explain(exc: Exception) -> None:
    """Exit with the message for a domain error; return for anything else."""
    import duckdb

    from core.config import ConfigError
    from core.errors import ConflictError, InputFileError, ValidationError
    from core.store.db import DatabaseBusy

    if isinstance(exc, InputFileError):
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        more = exc.total - len(exc.problems)
        tail = f" ({more} more not shown)" if more > 0 else ""
        fail(f"{exc.total} problem(s){tail}; nothing was written.")
    elif isinstance(exc, ValidationError | ConfigError | ValueError | KeyError):
        fail(f"error: {exc}")
    elif isinstance(exc, DatabaseBusy):
        fail(f"busy: {exc}", status=1)
    elif isinstance(exc, ConflictError):  # rolled back whole: running it again is safe
        fail(f"conflict: {exc}", status=1)
    elif isinstance(exc, duckdb.TransactionException):  # e.g. the batch met a payment
        first = str(exc).splitlines()[0]
        fail(
            f"conflict: another transaction changed the same rows ({first}); nothing was"
            " written. Run the command again.",
            status=1,
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Back office for qualification and membership renewals."""


def main() -> None:
    cli(prog_name="python -m core")


# the commands register themselves on `cli` when imported
from core.cli import (  # noqa: E402, F401
    applications,
    billing,
    configuration,
    courses,
    exchange,
    notify,
    renewals,
    stats,
    store,
    users,
)
