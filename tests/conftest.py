"""Shared fixtures: databases with the schema, and a small realistic sample."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from core import imports
from core.access import users
from core.store import db, migrations

DATA = Path(__file__).parent / "data"
SAMPLE_TABLES = ("organizations", "members", "qualifications", "activities")
PASSWORD = "test-pass-123"
SAMPLE_USERS = (
    ("admin", "管理 太郎", "admin", "*"),
    ("hq", "本部 花子", "hq_staff", "*"),
    ("hq_shizuoka", "静岡 事務", "hq_staff", "SAJ-22"),
    ("approver", "承認 一郎", "approver", "SAJ-22-R01"),
    ("analyst", "分析 次郎", "analyst", "*"),
)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory database with every migration applied, closed after."""
    with db.connect(":memory:") as connection:
        migrations.migrate(connection)
        yield connection


def load_sample(connection: duckdb.DuckDBPyConnection) -> None:
    for table in SAMPLE_TABLES:
        imports.import_file(connection, table, DATA / f"{table}.csv", actor="test")
    for username, name, role, scope in SAMPLE_USERS:
        users.create(
            connection,
            username=username,
            display_name=name,
            role=role,
            org_code=scope,
            password=PASSWORD,
            email=None,
            actor="test",
        )


@pytest.fixture
def sample(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The in-memory database with tests/data/*.csv imported and one user per role."""
    load_sample(con)
    return con


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A file-backed database path with the schema applied (nothing open on it)."""
    path = tmp_path / "test.duckdb"
    with db.connect(path) as connection:
        migrations.migrate(connection)
    return path


@pytest.fixture
def sample_path(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file-backed sample database, also set as $RENEWAL_DB for the app."""
    with db.connect(db_path) as connection:
        load_sample(connection)
    monkeypatch.setenv(db.DB_ENV, str(db_path))
    return db_path


@pytest.fixture(autouse=True)
def fresh_page_caches() -> Iterator[None]:
    """Pages cache query results per process; each test starts from its own database."""
    yield
    import streamlit as st

    st.cache_data.clear()
