"""Shared fixtures: databases with the schema, and a small realistic sample.

Migrating a database loads Japan Post's ~120,000 postal codes, and loading the sample hashes
a password per user, so both are done once per session (per xdist worker: each has its own
temporary folder) into template files; every test gets its own copy of a template, so nothing
one test writes is seen by another.
"""

from __future__ import annotations

import atexit
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from core import imports
from core.access import users
from core.store import db, migrations

from .postgres_server import Server

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
# Whether the test's `con` / `db_path` was copied from the sample template (so `sample` /
# `sample_path`, which hand out that same database, have nothing left to load).
CON_HAS_SAMPLE = pytest.StashKey[bool]()
DB_PATH_HAS_SAMPLE = pytest.StashKey[bool]()


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


def _whole(path: Path) -> Path:
    """The template, checked to be all in its one file (no write-ahead log left to copy)."""
    wal = path.with_name(path.name + ".wal")
    assert not wal.exists(), f"{wal} left behind: copying {path.name} alone would lose writes"
    return path


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with every migration applied, built once per session; only read after."""
    path = tmp_path_factory.mktemp("templates") / "migrated.duckdb"
    with db.connect(path) as connection:
        migrations.migrate(connection)
        connection.execute("CHECKPOINT")
    return _whole(path)


@pytest.fixture(scope="session")
def sample_template(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated template plus the sample (load_sample), built once per session."""
    path = tmp_path_factory.mktemp("templates") / "sample.duckdb"
    shutil.copyfile(migrated_template, path)
    with db.connect(path) as connection:
        load_sample(connection)
        connection.execute("CHECKPOINT")
    return _whole(path)


def _template(
    request: pytest.FixtureRequest, sample_fixture: str, key: pytest.StashKey[bool]
) -> Path:
    """The sample template when the test also uses `sample_fixture`, else the migrated one."""
    with_sample = sample_fixture in request.node.fixturenames
    request.node.stash[key] = with_sample
    return request.getfixturevalue("sample_template" if with_sample else "migrated_template")


# The engines the core suite runs on (RENEWAL_TEST_ENGINES=duckdb runs one of them)
ENGINES = tuple(os.environ.get("RENEWAL_TEST_ENGINES", "duckdb,postgres").split(","))
# A race test holds one writer inside its transaction while the other tries the same row:
# on PostgreSQL the second waits for the lock, so the tests wait briefly before it fails.
os.environ.setdefault("RENEWAL_PG_LOCK_TIMEOUT", "2")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """A PostgreSQL server of this test session's own (one per xdist worker)."""
    server = Server()
    atexit.register(server.stop)  # also when the session is interrupted
    yield server


@pytest.fixture(scope="session")
def pg_migrated(pg_server: Server) -> str:
    """A PostgreSQL database with every migration applied, built once; only copied after."""
    with db.connect(pg_server.create("migrated")) as connection:
        migrations.migrate(connection)
    return "migrated"


@pytest.fixture(scope="session")
def pg_sample(pg_server: Server, pg_migrated: str) -> str:
    with db.connect(pg_server.create("sample", template=pg_migrated)) as connection:
        load_sample(connection)
    return "sample"


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The store the test runs on: the DuckDB file's engine, or PostgreSQL."""
    return str(request.param)


@contextmanager
def in_memory_copy(template: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory copy of a template database file, closed after: faster than opening a
    copied file, as an in-memory database commits without the disk."""
    with db.connect(":memory:") as connection:
        name = connection.execute("SELECT current_database()").fetchall()[0][0]
        quoted = str(template).replace("'", "''")
        connection.execute(f"ATTACH '{quoted}' AS template (READ_ONLY)")
        connection.execute(f'COPY FROM DATABASE template TO "{name}"')
        connection.execute("DETACH template")
        yield connection


@contextmanager
def _database(request: pytest.FixtureRequest, engine: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A database with every migration applied, closed after: DuckDB in memory, or a fresh
    PostgreSQL database copied from the migrated (or sample) template."""
    if engine == "postgres":
        with_sample = "sample" in request.node.fixturenames
        request.node.stash[CON_HAS_SAMPLE] = with_sample
        server: Server = request.getfixturevalue("pg_server")
        template = request.getfixturevalue("pg_sample" if with_sample else "pg_migrated")
        name = f"t_{uuid.uuid4().hex[:12]}"
        with db.connect(server.create(name, template=template)) as connection:
            yield connection  # type: ignore[misc]
        server.drop(name)
        return
    template = _template(request, "sample", CON_HAS_SAMPLE)
    with in_memory_copy(template) as connection:
        yield connection


@pytest.fixture
def con(request: pytest.FixtureRequest, engine: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A database with every migration applied on the test's engine, closed after."""
    with _database(request, engine) as connection:
        yield connection


@pytest.fixture
def other_con(request: pytest.FixtureRequest, engine: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A second database like `con`, on the same engine (to compare two runs of one thing)."""
    with _database(request, engine) as connection:
        yield connection


@pytest.fixture
def sample(
    con: duckdb.DuckDBPyConnection, request: pytest.FixtureRequest
) -> duckdb.DuckDBPyConnection:
    """The in-memory database with tests/data/*.csv imported and one user per role."""
    if not request.node.stash[CON_HAS_SAMPLE]:  # asked for late, by getfixturevalue
        load_sample(con)
    return con


@pytest.fixture
def db_path(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A file-backed database path with the schema applied (nothing open on it)."""
    path = tmp_path / "test.duckdb"
    shutil.copyfile(_template(request, "sample_path", DB_PATH_HAS_SAMPLE), path)
    return path


@pytest.fixture
def sample_path(
    db_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A file-backed sample database, also set as $RENEWAL_DB for the app."""
    if not request.node.stash[DB_PATH_HAS_SAMPLE]:  # asked for late, by getfixturevalue
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


# -- a demo with years of renewal history (statistics, forecast, audits; issue 16) -------------
HISTORY_MEMBERS = 500
HISTORY_MONTHS = 13
HISTORY_SEED = 11


@pytest.fixture(scope="session")
def history_template(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo for 500 members moved month by month through 13 months of renewal runs to
    today, with the forecasts kept on the way (core.demo.history): built once per session and
    shared by the xdist workers (the first builds it under a lock, the others copy it)."""
    import datetime as dt
    import fcntl
    import os

    from core.demo import history
    from core.stats import forecast

    today = dt.date.today()
    base = tmp_path_factory.getbasetemp()
    # Under xdist the controller makes a fresh folder for the run (a new pytest-N, or the
    # emptied --basetemp) and gives each worker <that folder>/popen-<worker id>: that parent is
    # shared by this run's workers and by no earlier run, so nothing built before is found.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    shared = base.parent if worker and base.name == f"popen-{worker}" else base
    # Everything the build depends on is in the name: a run that crosses midnight builds a
    # second file for the new day instead of handing out one whose "today" has passed.
    name = f"history-{HISTORY_MEMBERS}x{HISTORY_MONTHS}-seed{HISTORY_SEED}-{today.isoformat()}"
    path = shared / f"{name}.duckdb"
    with (shared / "history.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait here while the first builds
        if not path.exists():
            # A worker killed mid-build leaves its half-built file (and maybe its write-ahead
            # log, which DuckDB would replay over a fresh copy): start from nothing.
            building = shared / f"{name}.building"
            building.unlink(missing_ok=True)
            building.with_name(building.name + ".wal").unlink(missing_ok=True)
            shutil.copyfile(migrated_template, building)
            with db.connect(building) as connection:
                history.build_with_history(
                    connection,
                    members=HISTORY_MEMBERS,
                    seed=HISTORY_SEED,
                    today=today,
                    months=HISTORY_MONTHS,
                    after_run=forecast.keep_snapshot,
                )
                users.ensure_demo_users(connection)
                connection.execute("CHECKPOINT")
            _whole(building)
            building.rename(path)  # atomic: the others see no file or the whole one
    return _whole(path)


@pytest.fixture
def demo_history(history_template: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory copy of the demo with renewal history, closed after."""
    with in_memory_copy(history_template) as connection:
        yield connection


@pytest.fixture
def history_path(history_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file copy of the demo with renewal history, set as $RENEWAL_DB for the app."""
    path = tmp_path / "history.duckdb"
    shutil.copyfile(history_template, path)
    monkeypatch.setenv(db.DB_ENV, str(path))
    return path


# -- the course tests: the sample plus teachers and JSPO coaches (tests/course_helpers.py) ------


@pytest.fixture(scope="session")
def course_template(sample_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample template plus the course tests' people, built once per session."""
    from tests.course_helpers import add_people

    path = tmp_path_factory.mktemp("templates") / "courses.duckdb"
    shutil.copyfile(sample_template, path)
    with db.connect(path) as connection:
        add_people(connection)
        connection.execute("CHECKPOINT")
    return _whole(path)


@pytest.fixture
def people(course_template: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory copy of the course template (the sample, teachers and coaches)."""
    with in_memory_copy(course_template) as connection:
        yield connection


@pytest.fixture
def people_path(course_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file copy of the course template, also set as $RENEWAL_DB for the app."""
    path = tmp_path / "courses.duckdb"
    shutil.copyfile(course_template, path)
    monkeypatch.setenv(db.DB_ENV, str(path))
    return path
