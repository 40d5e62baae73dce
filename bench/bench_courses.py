"""Courses at full scale (issue 14), on a copy of bench/out/full.duckdb (10,000 courses and
500,000-odd reservations from `demo --members 1000000`); the source is never modified.

1. The roster page's reads (catalogue.course, roster.participants, roster.history) for the 30
   fullest courses and 30 random ones, through a core.store.db.Lease as the page does; floor:
   the course's reservations joined with their members, alternating on the same lease.
   Checked: every reservation of the course is on its roster.
2. The opening-morning rush: 5 new JPTEC courses of 40 seats (200 seats), 5,000 reservation
   attempts by 5,000 members arriving evenly within one minute (an open schedule: an arrival
   does not wait for earlier answers), served by 64 client threads each on its own cursor (as
   the app's sessions are); latency from arrival to answer. Checked: exactly 200 reserved and
   4,800 waitlisted, none lost, every seat held by an earlier arrival than every person
   waiting, places 1… in arrival order. Floor: the same schedule of 5,000 one-row insert
   transactions. Then 50 seated people cancel at once from 8 threads. Checked: exactly 50
   promotions, 200 still seated.
3. The daily job over every reservation, after staging work for it: JPTEC set to require the
   signed form within 14 days (late forms by the thousand), 20,000 JSPO reservations billed
   with invoices due yesterday (unpaid), 1,000 full courses with waiting people given five
   more seats behind the product's back (promotions to sweep). Checked: each kind of work was
   done, and afterwards no course still to come holds more than its seats or keeps a seat free
   while someone waits. Floor: the three queries that find the work, counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import OUT, percentiles, record

from core import config
from core.courses import catalogue, changes, daily, enrolment, roster
from core.store import db

WRITERS = 8  # the cancellations: staff at the same moment
CLIENTS = 64  # the rush: members' sessions open at once
RUSH_WITHIN = 60.0  # seconds over which the 5,000 attempts arrive
RUSH_ATTEMPTS = 5_000
RUSH_COURSES = 5
RUSH_SEATS = 40


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return (time.perf_counter() - started) * 1000, result


def roster_page(path: Path) -> dict[str, Any]:
    lease = db.Lease(path, linger=3.0)
    with lease.connection() as con:
        fullest = [r[0] for r in con.execute(
            "SELECT course_code FROM enrolments GROUP BY course_code ORDER BY count(*) DESC,"
            " course_code LIMIT 30").fetchall()]  # fmt: skip
        sample = [r[0] for r in con.execute(
            "SELECT course_code FROM courses ORDER BY hash(course_code) LIMIT 30").fetchall()]  # fmt: skip
    product, floor, rows = [], [], []
    for code in fullest + sample:
        with lease.connection() as con:
            ms, found = _timed(lambda c=code, con=con: (
                catalogue.course(con, c), roster.participants(con, [c]), roster.history(con, c)))  # fmt: skip
            expected = db.one(con, "SELECT count(*) FROM enrolments WHERE course_code = ?", [code])
            assert expected and found[1].height == expected[0], f"{code}: roster incomplete"
            product.append(ms)
            rows.append(found[1].height)
            ms, _ = _timed(lambda c=code, con=con: db.frame(con, (
                "SELECT * FROM enrolments e JOIN members m USING (member_no)"
                " WHERE e.course_code = ?"), [c]))  # fmt: skip
            floor.append(ms)
    return {"courses": len(product), "participants_max": max(rows),
            "product_ms": percentiles(product), "floor_ms": percentiles(floor)}  # fmt: skip


def together(con: Any, jobs: list[Callable[[Any], Any]]) -> tuple[float, list[Any]]:
    """Each writer's jobs on its own cursor, all writers released at once; (seconds, results)."""
    barrier = threading.Barrier(WRITERS + 1)
    results: list[Any] = [None] * len(jobs)

    def writer(k: int) -> None:
        cursor = con.cursor()
        barrier.wait()
        for n in range(k, len(jobs), WRITERS):
            started = time.perf_counter()
            outcome = jobs[n](cursor)
            results[n] = (outcome, (time.perf_counter() - started) * 1000)
        cursor.close()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, results


def arrivals(con: Any, jobs: list[Callable[[Any], Any]], within: float) -> tuple[float, list[Any]]:
    """The jobs arriving evenly over `within` seconds (an open schedule: an arrival does not
    wait for the answers before it), served by CLIENTS threads each on its own cursor, as the
    app's sessions are; latency from the moment a job arrives. (seconds to the last answer,
    results)."""
    results: list[Any] = [None] * len(jobs)
    step = within / len(jobs)
    barrier = threading.Barrier(CLIENTS + 1)
    started = 0.0

    def client(k: int) -> None:
        cursor = con.cursor()
        barrier.wait()
        for n in range(k, len(jobs), CLIENTS):
            due = started + n * step
            time.sleep(max(0.0, due - time.perf_counter()))
            outcome = jobs[n](cursor)
            results[n] = (outcome, (time.perf_counter() - due) * 1000)
        cursor.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for thread in threads:
        thread.start()
    started = time.perf_counter() + 0.05
    barrier.wait()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, results


def rush(path: Path) -> dict[str, Any]:
    held = dt.date.today() + dt.timedelta(days=200)  # a day no demo course is held
    codes = [f"RUSH-{k}" for k in range(1, RUSH_COURSES + 1)]
    with db.connect(path) as con:
        for code in codes:
            catalogue.save_course(con, {"course_code": code, "scheme": "jptec",
                                        "title": f"JPTECプロバイダー更新コース（{code}）",
                                        "held_on": held.isoformat(), "hours": 7,
                                        "capacity": RUSH_SEATS}, actor="bench")  # fmt: skip
        members = [r[0] for r in con.execute(
            "SELECT m.member_no FROM members m JOIN organizations o USING (org_code)"
            " WHERE o.root_code = 'JPTEC' AND m.status = 'active' ORDER BY m.member_no"
            " LIMIT ?", [RUSH_ATTEMPTS]).fetchall()]  # fmt: skip
        jobs = [(lambda c, m=m, k=k: enrolment.reserve(c, m, codes[k % RUSH_COURSES], actor="bench"))
                for k, m in enumerate(members)]  # fmt: skip
        seconds, done = arrivals(con, jobs, RUSH_WITHIN)
        con.execute("CREATE TABLE bench_floor (n INTEGER, written TIMESTAMP)")
        floor_jobs = [(lambda c, k=k: c.execute(
            "INSERT INTO bench_floor VALUES (?, current_timestamp)", [k])) for k in range(len(jobs))]  # fmt: skip
        floor_seconds, floor_done = arrivals(con, floor_jobs, RUSH_WITHIN)
        outcome = _check_rush(con, codes, len(members))
        seated = [r[0] for r in con.execute(
            "SELECT member_no FROM enrolments WHERE course_code LIKE 'RUSH-%' AND status = 'reserved'"
            " ORDER BY hash(member_no) LIMIT 50").fetchall()]  # fmt: skip
        by_member = dict(con.execute("SELECT member_no, course_code FROM enrolments"
                                     " WHERE course_code LIKE 'RUSH-%'").fetchall())  # fmt: skip
        cancels = [(lambda c, m=m: changes.cancel(c, m, by_member[m], actor="bench"))
                   for m in seated]  # fmt: skip
        cancel_seconds, cancelled = together(con, cancels)
        promoted = sum(len(c[0].promoted) for c in cancelled)
        events = db.one(con, "SELECT count(*) FROM course_events WHERE event = 'promoted'"
                             " AND course_code LIKE 'RUSH-%'")  # fmt: skip
        after = db.one(con, "SELECT count(*) FILTER (WHERE status = 'reserved'),"
                            " count(*) FILTER (WHERE status = 'waitlisted') FROM enrolments"
                            " WHERE course_code LIKE 'RUSH-%'")  # fmt: skip
        batches = db.one(con, "SELECT count(DISTINCT happened_at) FROM course_events"  # one a txn
                              " WHERE course_code LIKE 'RUSH-%' AND event IN ('reserved', 'waitlisted')")  # fmt: skip
    assert promoted == 50 and events == (50,), (promoted, events)
    assert after == (RUSH_COURSES * RUSH_SEATS, len(members) - 200 - 50), after
    latencies = [d[1] for d in done]
    attempts = [d[0].attempts for d in done]
    return {
        **outcome,
        "clients": CLIENTS,
        "offered_within_s": RUSH_WITHIN,
        "seconds": round(seconds, 2),
        "reservations_per_s": round(len(jobs) / seconds),
        "latency_ms": percentiles(latencies),
        "conflicts_retried": sum(attempts) - len(attempts),
        "transactions": batches[0] if batches else None,
        "floor_seconds": round(floor_seconds, 2),
        "floor_latency_ms": percentiles([d[1] for d in floor_done]),
        "cancelled": len(cancelled),
        "promoted": promoted,
        "cancel_seconds": round(cancel_seconds, 2),
    }


def _check_rush(con: Any, codes: list[str], attempts: int) -> dict[str, Any]:
    counts = db.frame(
        con,
        """
        SELECT course_code, count(*) FILTER (WHERE status = 'reserved') AS reserved,
               count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted,
               max(reserved_at) FILTER (WHERE status = 'reserved') AS last_seat,
               min(reserved_at) FILTER (WHERE status = 'waitlisted') AS first_waiting
        FROM enrolments WHERE course_code LIKE 'RUSH-%' GROUP BY course_code
        """,
    )
    assert counts["reserved"].sum() == RUSH_COURSES * RUSH_SEATS, counts
    assert counts["waitlisted"].sum() == attempts - RUSH_COURSES * RUSH_SEATS, counts
    assert (counts["last_seat"] < counts["first_waiting"]).all(), "a later arrival got a seat"
    places = roster.participants(con, codes).filter(status="waitlisted")
    for code in codes:
        mine = places.filter(course_code=code).sort("reserved_at", "enrolment_id")
        assert mine["waitlist_position"].to_list() == list(range(1, mine.height + 1)), code
    return {"attempts": attempts, "reserved": int(counts["reserved"].sum()),
            "waitlisted": int(counts["waitlisted"].sum()), "lost": 0, "over": 0}  # fmt: skip


def _stage_daily(con: Any, today: dt.date) -> dict[str, int]:
    """Work for the daily job (see the module's docstring)."""
    con.execute(
        """
        CREATE TEMP TABLE billed AS
        SELECT e.enrolment_id, e.member_no, row_number() OVER (ORDER BY e.enrolment_id) AS n
        FROM enrolments e JOIN courses c USING (course_code)
        WHERE c.scheme = 'jspo' AND e.status = 'reserved' AND c.held_on > ?
        ORDER BY hash(e.enrolment_id) LIMIT 20000
        """,
        [today],
    )
    top = db.one(con, "SELECT coalesce(max(billing_id), 0) FROM billing")
    base = int(top[0]) if top else 0
    con.execute(
        """
        INSERT INTO billing (billing_id, member_no, scheme, item, description, amount, issued_on,
                             due_on, status)
        SELECT ? + n, member_no, 'jspo', 'jspo_registration', '研修受講料（ベンチ）', 3000,
               ?::DATE - 15, ?::DATE - 1, 'open' FROM billed
        """,
        [base, today, today],
    )
    con.execute("UPDATE enrolments AS e SET billing_id = ? + b.n FROM billed b"
                " WHERE e.enrolment_id = b.enrolment_id", [base])  # fmt: skip
    widened = con.execute(
        """
        UPDATE courses SET capacity = capacity + 5 WHERE course_code IN (
            SELECT course_code FROM enrolments e JOIN courses c USING (course_code)
            WHERE e.status = 'waitlisted' AND c.held_on > ?
            GROUP BY course_code ORDER BY course_code LIMIT 1000)
        """,
        [today],
    ).fetchall()
    return {"unpaid_staged": 20_000, "courses_widened": int(widened[0][0])}


def daily_job(path: Path) -> dict[str, Any]:
    today = dt.date.today()
    cfg = config.current().with_overrides({"jptec.application_form_due_days": 14})
    with db.connect(path) as con:
        staged = _stage_daily(con, today)
        floor_ms, found = _timed(lambda: db.one(con, """
            SELECT (SELECT count(*) FROM enrolments e JOIN courses c USING (course_code)
                    WHERE e.status = 'reserved' AND e.form_received_on IS NULL
                      AND c.scheme = 'jptec' AND e.seated_at::DATE + 14 < current_date),
                   (SELECT count(DISTINCT e.enrolment_id) FROM enrolments e JOIN billing b
                      ON b.billing_id = e.billing_id
                    WHERE e.status = 'reserved' AND b.status = 'open' AND b.due_on < current_date),
                   (SELECT count(DISTINCT course_code) FROM enrolments WHERE status = 'waitlisted')
            """))  # fmt: skip
        enrolments = db.one(con, "SELECT count(*) FROM enrolments")
        ms, counts = _timed(lambda: daily.run_daily(con, on=today, actor="bench", cfg=cfg))
        broken = db.one(con, """
            SELECT count(*) FROM (
                SELECT c.course_code, c.capacity,
                       count(*) FILTER (WHERE e.status = 'reserved') AS seated,
                       count(*) FILTER (WHERE e.status = 'waitlisted') AS waiting
                FROM courses c JOIN enrolments e USING (course_code)
                WHERE c.status = 'scheduled' AND c.held_on > current_date GROUP BY ALL)
            WHERE seated > capacity OR (seated < capacity AND waiting > 0)
            """)  # fmt: skip
    assert counts.late_forms > 0 and counts.unpaid == staged["unpaid_staged"], counts
    assert counts.promoted > 0 and broken == (0,), (counts, broken)
    return {**staged, "enrolments": enrolments[0] if enrolments else None,
            "seconds": round(ms / 1000, 2), "floor_seconds": round(floor_ms / 1000, 2),
            "found_by_floor": list(found or ()), **counts.as_dict()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--only", choices=("roster", "rush", "daily"), default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=OUT, prefix="courses-") as tmp:
        path = Path(tmp) / "courses.duckdb"
        shutil.copyfile(args.db, path)
        with db.connect(path) as con:
            sizes = db.one(con, "SELECT (SELECT count(*) FROM courses),"
                                " (SELECT count(*) FROM enrolments)")  # fmt: skip
        assert sizes and sizes[0] >= 10_000 and sizes[1] >= 500_000, sizes
        page = roster_page(path) if args.only in (None, "roster") else None
        morning = rush(path) if args.only in (None, "rush") else None
        job = daily_job(path) if args.only in (None, "daily") else None
    record("courses", {"courses": sizes[0], "enrolments": sizes[1], "roster_page": page,
                       "rush": morning, "daily_job": job})  # fmt: skip


if __name__ == "__main__":
    main()
