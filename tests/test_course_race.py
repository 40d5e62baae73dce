"""Seats under concurrency: writers on their own connections, started together by a barrier,
never put one person too many on a course and never lose a promotion — and the conflicts
they meet are real (counted), retried and resolved. Processes wait for the file instead."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from core import imports
from core.courses import catalogue, changes, enrolment, roster, seats
from core.store import db

from .course_helpers import T, add_course

ROOT = Path(__file__).resolve().parent.parent
SOON = dt.date.today() + dt.timedelta(days=60)


@pytest.fixture
def shared(people_path):
    """The course tests' file with course K1 (3 seats, held in 60 days, no periods), open in
    this process; the connection the threads take cursors from."""
    with db.connect(people_path) as con:
        add_course(con, "K1", held_on=SOON.isoformat(), recruit_from=None, recruit_until=None)
        yield con


@pytest.fixture
def attempts(monkeypatch):
    """The attempts each transaction on seats took (a conflict makes another)."""
    taken: list[int] = []
    original = seats.run

    def counting(con, work, attempts=seats.ATTEMPTS):
        result, n = original(con, work, attempts)
        taken.append(n)
        return result, n

    monkeypatch.setattr(seats, "run", counting)
    return taken


def together(con, jobs: list[Callable]) -> list[object]:
    """Run each job on its own cursor in its own thread, all released at once."""
    barrier = threading.Barrier(len(jobs))
    done: list[object] = [None] * len(jobs)

    def runner(k: int, job: Callable) -> None:
        cursor = con.cursor()
        try:
            barrier.wait()
            done[k] = job(cursor)
        except Exception as exc:  # kept for the assertion, not swallowed
            done[k] = exc
        finally:
            cursor.close()

    threads = [threading.Thread(target=runner, args=(k, j)) for k, j in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done


def seats_of(con, code="K1") -> tuple[int, int, int | None]:
    row = db.one(
        con,
        "SELECT count(*) FILTER (WHERE e.status = 'reserved'),"
        " count(*) FILTER (WHERE e.status = 'waitlisted'), any_value(c.capacity)"
        " FROM courses c LEFT JOIN enrolments e USING (course_code) WHERE c.course_code = ?",
        [code],
    )
    assert row is not None
    return int(row[0]), int(row[1]), row[2]


def test_twelve_writers_at_once_fill_three_seats_and_wait_in_the_order_they_were_seated(
    shared, attempts
):
    jobs = [
        (lambda c, m=T[i]: enrolment.reserve(c, m, "K1", actor=f"clerk{m}")) for i in range(1, 13)
    ]
    jobs.append(lambda c: enrolment.reserve(c, "J0000001", "K1", actor="clerk-j"))  # refused
    done = together(shared, jobs)
    assert [type(d).__name__ for d in done].count("EnrolmentRefused") == 1
    assert done[-1].code == "not_in_scheme"
    assert not [d for d in done[:-1] if isinstance(d, Exception)]
    # they met: the counter took the reservations that arrived together in one transaction
    assert len(attempts) < len(jobs), f"{len(attempts)} transactions for {len(jobs)} writers"
    assert seats_of(shared) == (3, 9, 3)
    rows = roster.participants(shared, ["K1"])  # in reservation order
    assert rows["status"].to_list() == ["reserved"] * 3 + ["waitlisted"] * 9
    assert rows["waitlist_position"].to_list()[3:] == list(range(1, 10))
    # the seats went to the first three moments: the order of moments is the order of seats
    assert rows["seated_at"].to_list()[:3] == rows["reserved_at"].to_list()[:3]
    actors = db.frame(shared, "SELECT DISTINCT actor FROM audit_log WHERE action = 'reserve'")
    assert actors.height == 12  # each reservation audited under its own clerk


def test_a_cancellation_an_import_a_capacity_rise_and_reservations_at_once_lose_no_promotion(
    shared, attempts, tmp_path
):
    for i in range(1, 10):  # 3 seated, 6 waiting
        enrolment.reserve(shared, T[i], "K1", actor="setup")
    attempts.clear()
    path = tmp_path / "enrolments.csv"
    stamp = enrolment.now().strftime("%Y-%m-%d %H:%M")
    path.write_text(
        "member_no,course_code,reserved_at\n"
        + "".join(f"{T[i]},K1,{stamp}\n" for i in (10, 11, 12)),
        encoding="utf-8",
    )
    jobs = [
        lambda c: changes.cancel(c, T[1], "K1", actor="clerk-a"),
        lambda c: changes.cancel(c, T[2], "K1", actor="clerk-b"),
        lambda c: imports.import_file(c, "enrolments", path, actor="cron"),
        lambda c: add_course(
            c, "K1", held_on=SOON.isoformat(), recruit_from=None, recruit_until=None, capacity=5
        ),
        lambda c: enrolment.reserve(c, T[13], "K1", actor="clerk-c"),
        lambda c: enrolment.reserve(c, T[14], "K1", actor="clerk-d"),
    ]
    done = together(shared, jobs)
    assert not [d for d in done if isinstance(d, Exception)], done
    assert any(n > 1 for n in attempts), "no writer met another: the race did not happen"
    reserved, waiting, capacity = seats_of(shared)
    assert (reserved, capacity) == (5, 5)  # never over, never an empty seat while some wait
    assert waiting == 14 - 2 - 5  # 14 reservations, 2 cancelled, 5 seated
    promoted = db.one(shared, "SELECT count(*) FROM course_events WHERE event = 'promoted'")
    seated_later = db.one(
        shared,
        "SELECT count(*) FROM enrolments WHERE course_code = 'K1' AND status = 'reserved'"
        " AND enrolment_id IN (SELECT enrolment_id FROM course_events WHERE event = 'waitlisted')",
    )
    assert promoted == seated_later and promoted[0] >= 2  # each promotion recorded once


def test_processes_reserving_at_once_wait_for_the_file_and_fill_exactly_the_seats(people_path):
    sample_path = people_path
    with db.connect(sample_path) as con:
        add_course(con, "K1", held_on=SOON.isoformat(), recruit_from=None, recruit_until=None)
    members = [T[i] for i in range(1, 6)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "core",
                "enrol",
                "--member",
                member,
                "--course",
                "K1",
                "--json",
                "--db",
                str(sample_path),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for member in members
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0] * len(members), outputs
    with db.connect(sample_path) as con:
        assert seats_of(con) == (3, 2, 3)
        places = roster.participants(con, ["K1"])["waitlist_position"].to_list()
    assert places == [None, None, None, 1, 2]


def test_a_retry_gives_up_only_after_its_attempts_and_writes_nothing(shared, monkeypatch):
    calls = []

    def always_conflicts() -> None:
        calls.append(1)
        seats.guard(shared, ["K1"])
        raise __import__("duckdb").TransactionException("Conflict on update!")

    monkeypatch.setattr(seats, "MAX_DELAY", 0.0)
    with pytest.raises(seats.CourseConflict):
        seats.run(shared, always_conflicts, attempts=4)
    assert len(calls) == 4
    assert catalogue.course(shared, "K1")["reserved"] == 0
