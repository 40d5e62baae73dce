"""The demo's courses: deterministic, built through the product's own seat rules, with live work."""

from __future__ import annotations

import datetime as dt

import pytest
from polars.testing import assert_frame_equal

from core.demo import build_demo
from core.demo.courses import build_courses
from core.store import db

from .conftest import in_memory_copy

TODAY = dt.date(2026, 11, 24)
MEMBERS = 2000


@pytest.fixture(scope="module")
def demo(migrated_template):
    """The demo for 2,000 members with its courses (seed 42), closed after."""
    with in_memory_copy(migrated_template) as con:
        build_demo(con, members=MEMBERS, seed=42, today=TODAY)
        build_courses(con, members=MEMBERS, seed=42, today=TODAY)
        yield con


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_the_same_seed_gives_the_same_courses_and_reservations(con, other_con):
    for built in (con, other_con):
        build_demo(built, members=MEMBERS, seed=42, today=TODAY)
        build_courses(built, members=MEMBERS, seed=42, today=TODAY)
    moments = ["updated_at", "created_at", "seat_version"]  # when it ran, not what it built
    for table, key in (("courses", "course_code"), ("enrolments", "enrolment_id"),
                       ("course_completions", "enrolment_id")):  # fmt: skip
        query = f"SELECT * FROM {table} ORDER BY {key}"
        first, second = db.frame(con, query), db.frame(other_con, query)
        dropped = [c for c in moments if c in first.columns]
        assert "created_at" in dropped
        assert_frame_equal(first.drop(dropped), second.drop(dropped))


def test_courses_are_full_with_waiting_lists_or_have_seats_free_and_never_over(demo):
    found = rows(
        demo,
        """
        SELECT count(*) FILTER (WHERE waiting > 0), count(*) FILTER (WHERE seated < capacity),
               count(*) FILTER (WHERE seated > capacity),
               count(*) FILTER (WHERE seated < capacity AND waiting > 0 AND held_on > ?)
        FROM (SELECT c.course_code, c.capacity, c.held_on,
                     count(*) FILTER (WHERE e.status = 'reserved') AS seated,
                     count(*) FILTER (WHERE e.status = 'waitlisted') AS waiting
              FROM courses c JOIN enrolments e USING (course_code) GROUP BY ALL)
        """.replace("?", f"DATE '{TODAY}'"),
    )[0]
    full, free, over, lost = found
    assert full > 0 and free > 0 and (over, lost) == (0, 0)


def test_past_courses_have_results_that_became_activities_and_the_last_week_waits(demo):
    kinds = rows(
        demo,
        "SELECT a.kind, count(*) FROM course_completions k JOIN activities a USING (activity_id)"
        " GROUP BY 1 ORDER BY 1",
    )
    assert [k for k, _ in kinds] == ["renewal_course", "training"] and all(n > 0 for _, n in kinds)
    pending = rows(
        demo,
        "SELECT count(*) FROM enrolments e JOIN courses c USING (course_code)"
        " LEFT JOIN course_attendance a USING (enrolment_id) WHERE e.status = 'reserved'"
        f" AND c.held_on BETWEEN DATE '{TODAY}' - 6 AND DATE '{TODAY}' AND a.enrolment_id IS NULL",
    )[0][0]
    assert pending > 0
    late = rows(demo, "SELECT max(reserved_at) FROM enrolments")[0][0]
    assert late < dt.datetime.combine(TODAY, dt.time(6))
