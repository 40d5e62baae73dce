import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

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


def hold(path) -> subprocess.Popen:
    """Another process that opens the file and keeps it until its stdin is closed (the test
    says when, so a slow start of either side never finds the file free by accident)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(path)!r})
            print('holding', flush=True)
            sys.stdin.read()
            con.close()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    if holder.stdout.readline().strip() != "holding":
        holder.communicate(timeout=30)
        pytest.fail(f"the holder did not open {path} (exit {holder.returncode})")
    return holder


def test_a_busy_file_makes_the_second_process_wait_then_name_the_holder(db_path):
    holder = hold(db_path)
    try:
        started = time.monotonic()
        with pytest.raises(db.DatabaseBusy) as caught, db.connect(db_path, timeout=0.5):
            pass
        assert time.monotonic() - started >= 0.5
        assert f"process {holder.pid}" in str(caught.value)
    finally:
        holder.communicate(timeout=30)  # closes its stdin: let go, then exit
    assert holder.returncode == 0


def test_a_waiting_process_gets_the_file_once_the_holder_lets_go(db_path, monkeypatch):
    holder = hold(db_path)
    pauses: list[float] = []
    pause = time.sleep

    def let_go_while_waiting(seconds: float) -> None:
        """connect() found the file busy and waits: now the holder lets go."""
        if not pauses:
            holder.communicate(timeout=30)
        pauses.append(seconds)
        pause(seconds)

    # only connect()'s clock: subprocess's own waits keep the real sleep
    monkeypatch.setattr(
        db, "time", SimpleNamespace(monotonic=time.monotonic, sleep=let_go_while_waiting)
    )
    try:
        with db.connect(db_path, timeout=30) as con:
            assert con.execute("SELECT count(*) FROM members").fetchone() == (0,)
    finally:
        if holder.returncode is None:
            holder.communicate(timeout=30)
    assert pauses  # it did find the file busy and wait for it
    assert holder.returncode == 0


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
