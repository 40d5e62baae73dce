"""PostgreSQL as the store: the translation of the product's DuckDB statements, the adapter's
DuckDB manners (counts of changed rows, errors, frames), and backups that travel between
the engines. (The core suite itself runs on both engines through the `engine` fixture.)"""

from __future__ import annotations

import datetime as dt
import json
import threading

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from core.cli import cli
from core.store import backup, db, transfer
from core.store.postgres import translate

from .conftest import ENGINES

needs_server = pytest.mark.skipif("postgres" not in ENGINES, reason="PostgreSQL not selected")


# -- translation (no server) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duckdb_sql", "postgres_sql"),
    [
        # a subscript of a function's value needs parentheses there
        (
            "SELECT list_filter(refs, lambda r: r <> x)[1] FROM t",
            "SELECT (ARRAY(SELECT r FROM UNNEST(refs) AS _t0(r) WHERE r <> x))[1] FROM t",
        ),
        # SEMI and ANTI joins, with ON and with USING
        (
            "SELECT a.k FROM a SEMI JOIN b ON b.k = a.k",
            "SELECT a.k FROM a WHERE EXISTS(SELECT 1 FROM b WHERE b.k = a.k)",
        ),
        (
            "SELECT a.k FROM a ANTI JOIN b USING (k)",
            "SELECT a.k FROM a WHERE NOT EXISTS(SELECT 1 FROM b WHERE a.k = b.k)",
        ),
        # GROUP BY ALL names the columns; a subquery in FROM gets an alias
        (
            "SELECT scheme, count(*) AS n FROM (SELECT scheme FROM t) GROUP BY ALL",
            "SELECT scheme, COUNT(*) AS n FROM (SELECT scheme FROM t) AS _s0 GROUP BY scheme",
        ),
        (
            "SELECT a, count(*) AS n FROM t GROUP BY ALL ORDER BY ALL DESC",
            "SELECT a, COUNT(*) AS n FROM t GROUP BY a ORDER BY 1 DESC NULLS LAST, 2 DESC NULLS LAST",
        ),
        # arg_max with its FILTER, and any_value skipping NULLs as DuckDB does
        (
            "SELECT arg_max(v, k) FILTER (WHERE ok) FROM t",
            "SELECT (ARRAY_AGG(v ORDER BY k DESC) FILTER (WHERE ok AND k IS NOT NULL))[1] FROM t",
        ),
        (
            "SELECT any_value(v) FROM t",
            "SELECT (ARRAY_AGG(v) FILTER (WHERE v IS NOT NULL))[1] FROM t",
        ),
        # thousands separators; a literal % doubled for psycopg, parameters named
        (
            "SELECT format('{:,}', n) FROM t",
            "SELECT TRIM(TO_CHAR(n, 'FM999,999,999,999,990')) FROM t",
        ),
        (
            "SELECT name FROM t WHERE name LIKE '%様' AND k = ? AND s = $scheme",
            "SELECT name FROM t WHERE name LIKE '%%様' AND k = %s AND s = %(scheme)s",
        ),
        ("SELECT ?::INT", "SELECT CAST(%s AS INT)"),
        # a list unnested into rows: PostgreSQL's generate_series gives the rows itself
        (
            "SELECT unnest(range(1, $n + 1)) AS k",
            "SELECT GENERATE_SERIES(1, %(n)s + 1 - 1) AS k",
        ),
    ],
)
def test_statements_translate_to_what_postgresql_runs(duckdb_sql, postgres_sql):
    assert translate(duckdb_sql) == (postgres_sql,)


def test_create_or_replace_table_becomes_drop_and_create():
    assert translate("CREATE OR REPLACE TABLE x AS SELECT 1 AS a") == (
        "DROP TABLE IF EXISTS x",
        "CREATE TABLE x AS SELECT 1 AS a",
    )


def test_a_format_pattern_without_a_translation_is_refused_not_mistranslated():
    with pytest.raises(ValueError, match="no PostgreSQL translation"):
        translate("SELECT format('{:.2f}', n) FROM t")


# -- the adapter on a real server -------------------------------------------------------------


@pytest.fixture
def pg_url(pg_server, pg_migrated):
    name = "adapter"
    yield pg_server.create(name, template=pg_migrated)
    pg_server.drop(name)


@pytest.fixture
def pg(pg_url):
    with db.connect(pg_url) as connection:
        yield connection


@needs_server
def test_changes_answer_with_the_count_of_rows_as_duckdb_does(pg):
    pg.execute("CREATE TABLE t (k INT PRIMARY KEY, v VARCHAR)")
    assert pg.execute("INSERT INTO t SELECT i, 'x' FROM range(5) AS r(i)").fetchall() == [(5,)]
    assert pg.execute("UPDATE t SET v = 'y' WHERE k < 2").fetchone() == (2,)
    assert pg.execute("DELETE FROM t WHERE k = 4").fetchall() == [(1,)]
    assert pg.execute("SELECT count(*) FROM t").fetchall() == [(4,)]


@needs_server
def test_one_members_rows_are_found_by_index_on_postgresql_and_plans_use_them(pg):
    import importlib

    wanted = importlib.import_module("core.store.migrations.0040_postgres_member_indexes").INDEXES
    found = {r[0] for r in pg.raw.execute("SELECT indexname FROM pg_indexes").fetchall()}
    assert set(wanted) <= found, set(wanted) - found
    pg.raw.execute("SET enable_seqscan = off")  # (the test database is tiny)
    plan = " ".join(
        r[0]
        for r in pg.raw.execute(
            "EXPLAIN SELECT * FROM activities WHERE member_no = 'J0000001'"
        ).fetchall()
    )
    assert "activities_member_no" in plan, plan


@needs_server
def test_errors_arrive_as_the_duckdb_classes_callers_catch(pg):
    pg.execute("CREATE TABLE t (k INT PRIMARY KEY, v VARCHAR)")
    pg.execute("INSERT INTO t VALUES (1, 'a')")
    with pytest.raises(duckdb.ConstraintException):
        pg.execute("INSERT INTO t VALUES (1, 'b')")
    with pytest.raises(duckdb.Error, match="does not exist"):
        pg.execute("SELECT * FROM nowhere")
    # two writers of one row: the second waits for the first's lock, then fails as a conflict
    other = pg.cursor()
    pg.execute("BEGIN TRANSACTION")
    pg.execute("UPDATE t SET v = 'first' WHERE k = 1")
    with pytest.raises(duckdb.TransactionException, match="write conflict"):
        other.execute("UPDATE t SET v = 'second' WHERE k = 1")
    pg.execute("COMMIT")
    assert pg.execute("SELECT v FROM t").fetchall() == [("first",)]
    other.close()


@needs_server
def test_a_write_to_a_row_changed_since_the_snapshot_conflicts(pg):
    pg.execute("CREATE TABLE t (k INT PRIMARY KEY, v INT)")
    pg.execute("INSERT INTO t VALUES (1, 0)")
    other = pg.cursor()
    pg.execute("BEGIN TRANSACTION")
    assert pg.execute("SELECT v FROM t").fetchall() == [(0,)]  # the snapshot is taken
    other.execute("UPDATE t SET v = 1")  # committed by another connection after it
    with pytest.raises(duckdb.TransactionException):
        pg.execute("UPDATE t SET v = v + 10")
    pg.execute("ROLLBACK")
    assert pg.execute("SELECT v FROM t").fetchall() == [(1,)]
    other.close()


@needs_server
def test_a_frame_registered_in_a_failed_transaction_is_dropped_after_the_rollback(pg):
    frame = pl.DataFrame({"k": [1, 2], "when": [dt.date(2026, 4, 1), None], "tags": [["a"], []]})
    pg.execute("BEGIN TRANSACTION")
    with pytest.raises(duckdb.Error), db.registered(pg, requests=frame):
        assert pg.execute("SELECT count(*) FROM requests").fetchall() == [(2,)]
        pg.execute("SELECT * FROM nowhere")  # the transaction is aborted from here
    pg.execute("ROLLBACK")
    assert pg.execute("SELECT to_regclass('pg_temp.requests') IS NULL").fetchall() == [(True,)]
    with db.registered(pg, requests=frame):  # and the name can be used again
        got = db.frame(pg, "SELECT * FROM requests ORDER BY k")
    assert_frame_equal(got, frame, check_dtypes=False)


@needs_server
def test_an_empty_result_keeps_its_column_types_as_on_duckdb(pg, migrated_template):
    query = (
        "SELECT member_no, birth_date, members.created_at, disabled FROM members, users WHERE false"
    )
    with db.connect(migrated_template) as duck:
        expected = db.frame(duck, query).schema
    assert db.frame(pg, query).schema == expected
    assert expected["created_at"] == pl.Datetime("us", "Asia/Tokyo")


@needs_server
def test_two_threads_each_on_their_own_connection_count_every_change(pg, pg_url):
    pg.execute("CREATE TABLE hits (k INT PRIMARY KEY, n INT)")
    pg.execute("INSERT INTO hits VALUES (1, 0)")
    start = threading.Barrier(2)
    conflicts, failures = [], []

    def add(times: int) -> None:
        try:
            count(times)
        except Exception as exc:  # a thread's error would otherwise vanish
            failures.append(exc)

    def count(times: int) -> None:
        with db.connect(pg_url) as mine:
            start.wait()
            for _ in range(times):
                while True:  # a conflict is retried, as the product's writers do
                    try:
                        with db.transaction(mine):
                            mine.execute("UPDATE hits SET n = n + 1")
                        break
                    except duckdb.TransactionException:
                        conflicts.append(1)

    threads = [threading.Thread(target=add, args=(50,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert pg.execute("SELECT n FROM hits").fetchall() == [(100,)]
    assert conflicts  # the two really met


# -- backups across the engines ----------------------------------------------------------------


def _everything(con) -> dict[str, pl.DataFrame]:
    out = {}
    for table in transfer.tables(con):
        if table in transfer.KEEP:
            continue
        frame = db.frame(con, f'SELECT * FROM "{table}"')
        out[table] = frame.sort(frame.columns).cast(
            {c: pl.String for c, t in frame.schema.items() if t != pl.String}
        )
    return out


@needs_server
def test_a_backup_of_either_engine_restores_into_the_other_with_every_row(
    pg_server, pg_sample, tmp_path
):
    source = pg_server.create("source", template=pg_sample)
    runner = CliRunner()
    steps = [
        ["backup", "--db", source, "--out", str(tmp_path / "from_pg")],
        ["restore", str(tmp_path / "from_pg"), "--db", str(tmp_path / "copy.duckdb")],
        ["backup", "--db", str(tmp_path / "copy.duckdb"), "--out", str(tmp_path / "from_duckdb")],
        ["restore", str(tmp_path / "from_duckdb"), "--db", pg_server.url("back")],
    ]
    pg_server.create("back")
    for step in steps:
        result = runner.invoke(cli, step)
        assert result.exit_code == 0, (step, result.output)
    with db.connect(source) as a, db.connect(tmp_path / "copy.duckdb") as b:
        original, copied = _everything(a), _everything(b)
        numbering = transfer.sequences(a)
        assert numbering and transfer.sequences(b) == numbering
    with db.connect(pg_server.url("back")) as c:
        back = _everything(c)
        # ids continue where they stopped
        assert transfer.sequences(c) == numbering
    assert set(original) == set(copied) == set(back)
    assert sum(f.height for f in original.values()) > 1000  # the sample really travelled
    for table, frame in original.items():
        assert_frame_equal(frame, back[table], check_dtypes=False)
        assert frame.height == copied[table].height, table


@needs_server
def test_a_restore_into_postgresql_that_fails_leaves_the_database_empty(
    pg_server, pg_sample, tmp_path, monkeypatch
):
    source = pg_server.create("source2", template=pg_sample)
    folder = tmp_path / "backup"
    with db.connect(source) as con:
        backup.backup(con, folder)
    copy_rows = transfer.duckdb_to_postgres

    def copy_then_fail(duck, pg):
        copy_rows(duck, pg)
        raise duckdb.IOException("the connection was lost")

    monkeypatch.setattr(transfer, "duckdb_to_postgres", copy_then_fail)
    target = pg_server.create("target2")
    result = CliRunner().invoke(cli, ["restore", str(folder), "--db", target])
    assert result.exit_code != 0
    with db.connect(target) as con:
        assert transfer.tables(con) == []
        assert con.execute("SELECT count(*) FROM pg_sequences").fetchone() == (0,)
    monkeypatch.undo()
    # a backup whose rows disagree with its manifest is refused before anything is written
    manifest = json.loads((folder / backup.MANIFEST).read_text(encoding="utf-8"))
    manifest["counts"]["members"] += 1
    (folder / backup.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    result = CliRunner().invoke(cli, ["restore", str(folder), "--db", target])
    assert result.exit_code == 2 and "differ" in result.output
    # and a database that has data is refused without touching it
    result = CliRunner().invoke(cli, ["restore", str(folder), "--db", source])
    assert result.exit_code == 2 and "not empty" in result.output
    with db.connect(source) as con:
        assert con.execute("SELECT count(*) FROM members").fetchone()[0] > 0


@needs_server
@pytest.mark.parametrize("client", ["psql", "psycopg"])
def test_the_rules_copy_of_postgresql_keeps_every_awkward_value(pg, client, monkeypatch):
    """What the batch reads on PostgreSQL comes through CSV: values that look like the CSV's
    own syntax, its NULL marker, line breaks and very long cells arrive unchanged."""
    awkward = ['a,b "c"', "line\nbreak", "\\N", "", "back\\slash", "x" * 20_000, "𠮷野家 🍣", None]
    pg.execute(
        "INSERT INTO organizations (org_code, name, kind, root_code, path)"
        " VALUES ('ORG', '本部', 'national', 'ORG', '/ORG/')"
    )
    for n, value in enumerate(awkward):
        pg.execute(
            "INSERT INTO members (member_no, org_code, address) VALUES (?, 'ORG', ?)",
            [f"M{n}", value],
        )
    if client == "psycopg":  # a machine without PostgreSQL's client
        monkeypatch.setattr(transfer, "psql", lambda: None)
    else:
        assert transfer.psql() is not None
    with transfer.snapshot(pg, {"members"}) as copy:
        got = copy.execute("SELECT address FROM members ORDER BY member_no").fetchall()
        assert copy is not pg
    assert [r[0] for r in got] == awkward


@needs_server
@pytest.mark.parametrize("client", ["psql", "psycopg"])
def test_the_copy_sees_what_the_transaction_sees_not_what_others_commit_after(
    pg, client, monkeypatch
):
    if client == "psycopg":
        monkeypatch.setattr(transfer, "psql", lambda: None)
    pg.execute(
        "INSERT INTO organizations (org_code, name, kind, root_code, path)"
        " VALUES ('ORG', '本部', 'national', 'ORG', '/ORG/')"
    )
    pg.execute("INSERT INTO members (member_no, org_code) VALUES ('M1', 'ORG')")
    other = pg.cursor()
    pg.execute("BEGIN TRANSACTION")
    assert pg.execute("SELECT count(*) FROM members").fetchone() == (1,)  # the snapshot
    other.execute("INSERT INTO members (member_no, org_code) VALUES ('M2', 'ORG')")
    with transfer.snapshot(pg, {"members"}) as copy:
        assert copy.execute("SELECT member_no FROM members").fetchall() == [("M1",)]
    pg.execute("ROLLBACK")
    assert pg.execute("SELECT count(*) FROM members").fetchone() == (2,)
    other.close()
