import subprocess
import sys
import textwrap
import time

import pytest

from core.store import db, migrations


def test_migrations_build_the_schema_from_zero_and_a_second_run_changes_nothing(db_path):
    with db.connect(db_path) as con:
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        versions = migrations.applied_versions(con)
        assert migrations.migrate(con) == []
        assert migrations.applied_versions(con) == versions
    assert {
        "members",
        "qualifications",
        "activities",
        "billing",
        "payments",
        "applications",
        "users",
        "audit_log",
        "organizations",
        "ref_postal_codes",
    } <= tables
    assert versions == {m.version for m in migrations.available_migrations()}


def test_postal_codes_come_from_japan_post_data(con):
    row = con.execute(
        "SELECT prefecture, city, town FROM ref_postal_codes WHERE postal_code = '100-0001'"
    ).fetchone()
    assert row == ("東京都", "千代田区", "千代田")
    assert con.execute("SELECT count(DISTINCT prefecture) FROM ref_postal_codes").fetchone() == (
        47,
    )


def test_transaction_rolls_back_everything_on_error(con):
    with pytest.raises(RuntimeError), db.transaction(con):
        con.execute("INSERT INTO audit_log (actor, action, table_name) VALUES ('t', 'x', 'y')")
        raise RuntimeError("boom")
    assert db.table_count(con, "audit_log") == 0


def test_a_busy_file_makes_the_second_process_wait_then_name_the_holder(db_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(db_path)!r})
            print('holding', flush=True)
            time.sleep(3)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        with pytest.raises(db.DatabaseBusy) as caught, db.connect(db_path, timeout=0.5):
            pass
        assert time.monotonic() - started >= 0.5
        assert f"process {holder.pid}" in str(caught.value)
    finally:
        holder.wait()


def test_a_waiting_process_gets_the_file_once_the_holder_lets_go(db_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, time
            con = duckdb.connect({str(db_path)!r})
            print('holding', flush=True)
            time.sleep(1.0)
            con.close()
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    with db.connect(db_path, timeout=30) as con:
        assert con.execute("SELECT count(*) FROM members").fetchone() == (0,)
    holder.wait()


def _other_process_can_open(path, timeout: float) -> subprocess.CompletedProcess:
    code = f"from core.store import db\nwith db.connect({str(path)!r}, timeout={timeout}) as c: print(c.execute('SELECT 1').fetchall())"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_a_lease_keeps_the_file_open_briefly_then_lets_a_cron_job_in(db_path):
    lease = db.Lease(db_path, linger=0.5)
    with lease.connection() as con:
        con.execute("INSERT INTO audit_log (actor, action, table_name) VALUES ('t', 'x', 'y')")
    assert lease.is_open  # a page run right after finds the cache warm
    waited = _other_process_can_open(db_path, timeout=20)  # waits for the linger to pass
    assert waited.returncode == 0, waited.stderr
    assert not lease.is_open
    with lease.connection() as con:  # and the lease opens again on the next use
        assert con.execute("SELECT count(*) FROM audit_log").fetchall() == [(1,)]


def test_a_lease_serves_threads_each_with_its_own_cursor(db_path):
    import threading

    lease = db.Lease(db_path, linger=0.2)
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for _ in range(20):
                with lease.connection() as con:
                    con.execute(
                        "INSERT INTO audit_log (actor, action, table_name) VALUES (?, 'x', 'y')",
                        [f"t{n}"],
                    )
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with lease.connection() as con:
        assert con.execute("SELECT count(*) FROM audit_log").fetchall() == [(80,)]
