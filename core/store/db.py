"""Connections, transactions and migrations for the DuckDB store.

DuckDB lets one *process* at a time open a database file for writing. The app (a
Streamlit server) and the command line (a cron job) both write, so neither keeps the
file open: every unit of work opens a connection, does its work and closes it. A
process that finds the file held by another waits (polling) and, when its patience
runs out, raises :class:`DatabaseBusy` naming the process that holds the lock.

Within one process DuckDB shares a single database instance between connections to
the same path, so threads of the app each take their own connection safely.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = ROOT / "data" / "renewal.duckdb"
DB_ENV = "RENEWAL_DB"
LOCK_TIMEOUT_ENV = "RENEWAL_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 120.0

_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<prog>.*?) \(PID (?P<pid>\d+)\)")


class DatabaseBusy(RuntimeError):
    """Another process holds the database file for longer than we were willing to wait."""


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The database file: an explicit path, else $RENEWAL_DB, else data/renewal.duckdb."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(DB_ENV)
    return Path(env) if env else DEFAULT_DB


def postgres_url(explicit: str | os.PathLike[str] | None = None) -> str | None:
    """The PostgreSQL URL the store is (`postgresql://…` given or in $RENEWAL_DB), or None for
    a DuckDB file."""
    value = str(explicit) if explicit else os.environ.get(DB_ENV, "")
    return value if value.startswith(("postgresql://", "postgres://")) else None


def engine(con: object) -> str:
    """ "postgres" for a PostgreSQL store's connection, "duckdb" for a DuckDB one."""
    return str(getattr(con, "engine", "duckdb"))


def _holder_description(message: str) -> str:
    match = _LOCK_RE.search(message)
    if not match:
        return "another process"
    pid = match.group("pid")
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        cmdline = match.group("prog")
    return f"process {pid} ({cmdline})"


@contextmanager
def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    timeout: float | None = None,
    read_only: bool = False,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database, waiting up to `timeout` seconds for another process's lock.

    The connection is closed when the block ends; keep blocks short so the other
    side (app or cron) gets its turn.
    """
    if postgres_url(path):
        from core.store import postgres

        with postgres.connect(str(postgres_url(path))) as pg:
            _opened(pg)  # type: ignore[arg-type]
            yield pg  # type: ignore[misc]
        return
    target = db_path(path)
    if str(target) != ":memory:":
        target.parent.mkdir(parents=True, exist_ok=True)
    patience = (
        timeout
        if timeout is not None
        else float(os.environ.get(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT))
    )
    deadline = time.monotonic() + patience
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(target), read_only=read_only)
            break
        except duckdb.IOException as exc:
            message = str(exc)
            if "lock" not in message.lower():
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"{target} is in use by {_holder_description(message)}; "
                    f"waited {patience:.0f} s. Try again when it has finished."
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    try:
        con.execute("SET TimeZone = 'Asia/Tokyo'")
        _opened(con)
        yield con
    finally:
        con.close()


def _opened(con: duckdb.DuckDBPyConnection) -> None:
    """What every newly opened database tells the process: the configuration edits made in
    the app, which `core.config.current()` lays over the files."""
    from core.config import edits

    edits.refresh(con)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit when the block ends normally, roll back on any exception."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


class Lease:
    """One process's shared hold on the database: open while used, and briefly after.

    The app serves many page runs a second; opening the file for each would start every
    query with an empty cache. A lease keeps the database open while any page works with
    it and for `linger` seconds after the last one, then closes it so a cron job waiting
    for the file gets its turn within seconds. Each use takes its own cursor (its own
    connection to the shared instance), so threads never share a connection.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        linger: float = 3.0,
        timeout: float = 30.0,
    ):
        self.path = db_path(path)
        self.linger = linger
        self.timeout = timeout
        self._lock = threading.Lock()
        self._holder: contextlib.AbstractContextManager[duckdb.DuckDBPyConnection] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._users = 0
        self._last_use = 0.0
        self._closer: threading.Timer | None = None
        atexit.register(self._close_at_exit)

    def _close_at_exit(self) -> None:
        with self._lock:
            if self._closer is not None:
                self._closer.cancel()
            self.close_now()

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the shared instance; waits for another process's lock like connect()."""
        with self._lock:
            if self._con is None:
                self._holder = connect(self.path, timeout=self.timeout)
                self._con = self._holder.__enter__()
            self._users += 1
            cursor = self._con.cursor()
        try:
            cursor.execute("SET TimeZone = 'Asia/Tokyo'")
            yield cursor
        finally:
            cursor.close()
            with self._lock:
                self._users -= 1
                self._last_use = time.monotonic()
                if self._users == 0:
                    self._schedule_close()

    def _schedule_close(self) -> None:
        if self._closer is not None:
            self._closer.cancel()
        self._closer = threading.Timer(self.linger, self._close_if_idle)
        self._closer.daemon = True
        self._closer.start()

    def _close_if_idle(self) -> None:
        with self._lock:
            idle = time.monotonic() - self._last_use >= self.linger - 0.01
            if self._users == 0 and idle and self._holder is not None:
                self.close_now()

    def close_now(self) -> None:
        """Let go of the file (callers hold self._lock, or know nobody else uses the lease)."""
        if self._holder is not None:
            self._holder.__exit__(None, None, None)
        self._holder = None
        self._con = None

    @property
    def is_open(self) -> bool:
        return self._con is not None


def table_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows in a table named by code (never by a user)."""
    row = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    return int(row[0]) if row else 0


def frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> pl.DataFrame:
    """A query's result as a Polars frame (`?` parameters as a list, `$name` as a dict)."""
    con.complete()  # a result left half-read by fetchone() would block the next query
    return con.sql(sql, params=params or None).pl()


def one(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a query, read to the end (fetchone() would leave the result open and
    block the next register() on this connection)."""
    rows = (
        con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
    )
    return rows[0] if rows else None


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """Frames visible to SQL under the given names for the block, then gone."""
    con.complete()  # register() refuses to run while a fetchone() result is still open
    for name, data in frames.items():
        con.register(name, data)
    try:
        yield
    except BaseException:
        # in a transaction the error aborted, unregistering fails too: keep the first error
        for name in frames:
            with contextlib.suppress(duckdb.Error):
                con.unregister(name)
        raise
    for name in frames:
        con.unregister(name)
