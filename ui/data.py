"""Database access for the pages: short connections, cached reads, errors in Japanese."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import streamlit as st

from core import config
from core.store import db, migrations

APP_LOCK_TIMEOUT = 30.0  # a page waits this long for a cron job holding the file
LINGER_SECONDS = 3.0  # the file stays open this long after the last page run


@st.cache_resource
def prepare_database() -> str:
    """Apply pending migrations once per server process; returns the database path."""
    with db.connect(timeout=APP_LOCK_TIMEOUT) as con:
        migrations.migrate(con)
    return str(db.db_path())


@st.cache_resource
def lease(path: str) -> db.Lease:
    """This server process's hold on the database file (see core.store.db.Lease)."""
    return db.Lease(path, linger=LINGER_SECONDS, timeout=APP_LOCK_TIMEOUT)


@st.cache_resource
def pool(url: str) -> Any:
    """This server process's connections to a PostgreSQL store (core.store.postgres.Pool)."""
    from core.store import postgres

    return postgres.Pool(url)


@contextmanager
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for one unit of page work; a busy file becomes a message, not a traceback."""
    url = db.postgres_url()
    if url:
        with pool(url).connection(timeout=APP_LOCK_TIMEOUT) as con:
            yield con
        return
    try:
        with lease(str(db.db_path())).connection() as con:
            yield con
    except db.DatabaseBusy as exc:
        st.error(
            "データベースが他の処理（一括処理など）で使用中です。しばらく待ってから再度お試しください。"
            f"（{exc}）"
        )
        st.stop()


def settings() -> config.Config:
    """The validated scheme configuration (reloaded when a file changes)."""
    return config.current()
