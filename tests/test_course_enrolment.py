"""Reservations (seed 004 受講定員・Web申込予約の留意点): first come first served from 06:00 of the
first day, a waitlist over capacity, and each refusal at both sides of its boundary."""

from __future__ import annotations

import polars as pl
import pytest

from core import imports
from core.courses import catalogue, enrolment, roster
from core.courses.enrolment import EnrolmentRefused
from core.errors import InputFileError

from .course_helpers import J, S, T, add_course, at, clock


@pytest.fixture(autouse=True)
def _clock(monkeypatch):
    """The clock at 2021-05-01 06:00."""
    clock(monkeypatch)


def reserve(con, member, code, when):
    return enrolment.reserve(con, member, code, actor="test", at=at(when))


def refusal(con, member, code, when) -> str:
    with pytest.raises(EnrolmentRefused) as caught:
        reserve(con, member, code, when)
    return caught.value.code


def statuses(con, code) -> list[tuple]:
    rows = roster.participants(con, [code])
    return list(rows.select("member_no", "status", "waitlist_position").iter_rows())


def test_reservations_open_at_six_on_the_first_day_of_recruitment(people):
    add_course(people, "K1")  # recruit_from given as a day: opens at teacher.course.opens_at
    assert refusal(people, T[1], "K1", "2021-05-01 05:59") == "before_period"
    assert reserve(people, T[1], "K1", "2021-05-01 06:00").status == "reserved"


def test_the_recruitment_period_ends_at_its_last_minute(people):
    add_course(people, "K1")
    assert reserve(people, T[1], "K1", "2021-05-14 17:00").status == "reserved"
    assert refusal(people, T[2], "K1", "2021-05-14 17:01") == "after_period"


def test_over_capacity_is_waitlisted_in_order_of_arrival_with_a_position(people):
    add_course(people, "K1", capacity=2)
    results = [reserve(people, T[i], "K1", f"2021-05-01 06:0{i}") for i in range(1, 6)]
    assert [(r.status, r.position) for r in results] == [
        ("reserved", None), ("reserved", None),
        ("waitlisted", 1), ("waitlisted", 2), ("waitlisted", 3),
    ]  # fmt: skip
    # a reservation received earlier (entered late, --at) waits ahead of later arrivals
    early = reserve(people, T[6], "K1", "2021-05-01 06:03:30")
    assert (early.status, early.position) == ("waitlisted", 2)
    assert statuses(people, "K1")[2:] == [
        (T[3], "waitlisted", 1), (T[6], "waitlisted", 2), (T[4], "waitlisted", 3),
        (T[5], "waitlisted", 4),
    ]  # fmt: skip


def test_a_reservation_taken_now_is_stamped_when_it_holds_the_seats(people, monkeypatch):
    moment = clock(monkeypatch, "2021-05-02 09:30:00.123456")
    add_course(people, "K1")
    done = enrolment.reserve(people, T[1], "K1", actor="test")
    assert done.reserved_at == moment.moment and done.attempts == 1


def test_a_member_outside_the_course_scheme_is_refused(people):
    add_course(people, "K1")
    assert refusal(people, J[0], "K1", "2021-05-02 10:00") == "not_in_scheme"
    assert refusal(people, S[1], "K1", "2021-05-02 10:00") == "not_in_scheme"


def test_unknown_member_and_course_are_refused(people):
    add_course(people, "K1")
    assert refusal(people, "T9999999", "K1", "2021-05-02 10:00") == "unknown_member"
    assert refusal(people, T[1], "K9", "2021-05-02 10:00") == "unknown_course"


def test_the_same_course_twice_is_refused(people):
    add_course(people, "K1")
    reserve(people, T[1], "K1", "2021-05-02 10:00")
    assert refusal(people, T[1], "K1", "2021-05-02 10:05") == "already_booked"


def test_a_title_taken_in_an_earlier_year_is_refused_for_teachers(people):
    """同一名称の講習は申込ができません（過年度に受講した講習についても同様）."""
    people.execute(
        "INSERT INTO activities (member_no, scheme, kind, date, hours, domain, course_name, score)"
        " VALUES (?, 'teacher', 'course', '2019-08-05', 6, 'elective', '理科実験の安全指導', 80)",
        [T[1]],
    )
    add_course(people, "K1", title="理科実験の安全指導", domain="elective")
    add_course(people, "K2", title="理科実験の安全指導", domain="elective", held_on="2021-08-09")
    assert refusal(people, T[1], "K1", "2021-05-02 10:00") == "same_title"
    reserve(people, T[2], "K1", "2021-05-02 10:00")
    # held on another course with that title: the second is refused too
    assert refusal(people, T[2], "K2", "2021-05-02 10:01") == "same_title"


def test_a_jptec_renewal_course_may_be_taken_again_under_its_title(people):
    people.execute(
        "INSERT INTO activities (member_no, scheme, kind, date, course_name)"
        " VALUES (?, 'jptec', 'renewal_course', '2018-04-20', 'JPTEC更新コース')",
        [J[1]],
    )
    add_course(people, "P1", scheme="jptec", title="JPTEC更新コース", domain=None)
    assert reserve(people, J[1], "P1", "2021-05-02 10:00").status == "reserved"


@pytest.mark.parametrize(
    ("first", "second", "refused"),
    [
        (("2021-08-02", None, "09:00", "16:00"), ("2021-08-02", None, "13:00", "17:00"), True),
        (("2021-08-02", None, "09:00", "12:00"), ("2021-08-02", None, "12:00", "15:00"), False),
        (("2021-08-02", "2021-08-04", None, None), ("2021-08-04", None, None, None), True),
        (("2021-08-02", "2021-08-04", None, None), ("2021-08-05", None, None, None), False),
        (("2021-08-02", None, None, None), ("2021-08-02", None, "13:00", "16:00"), True),
    ],
)
def test_overlapping_days_and_hours_are_refused(people, first, second, refused):
    for code, (held_on, held_until, starts, ends) in (("K1", first), ("K2", second)):
        add_course(people, code, held_on=held_on, held_until=held_until, starts_at=starts,
                   ends_at=ends)  # fmt: skip
    reserve(people, T[1], "K1", "2021-05-02 10:00")
    if refused:
        assert refusal(people, T[1], "K2", "2021-05-02 10:01") == "overlap"
    else:
        assert reserve(people, T[1], "K2", "2021-05-02 10:01").status == "reserved"


def test_a_course_begun_or_not_opened_takes_no_reservation(people):
    add_course(people, "K1", recruit_from=None, recruit_until=None)
    assert refusal(people, T[1], "K1", "2021-08-02 08:00") == "course_closed"
    assert reserve(people, T[1], "K1", "2021-08-01 23:59").status == "reserved"
    people.execute("UPDATE courses SET status = 'not_opened' WHERE course_code = 'K1'")
    assert refusal(people, T[2], "K1", "2021-06-01 10:00") == "course_closed"


def test_the_extra_period_takes_reservations_only_while_seats_are_free(people):
    add_course(people, "K1", capacity=2, extra_from="2021-05-15 09:00", extra_until="2021-07-07")
    reserve(people, T[1], "K1", "2021-05-02 10:00")
    assert refusal(people, T[2], "K1", "2021-05-15 08:59") == "after_period"
    assert reserve(people, T[2], "K1", "2021-05-15 09:00").status == "reserved"
    assert refusal(people, T[3], "K1", "2021-05-16 10:00") == "extra_full"
    assert refusal(people, T[3], "K1", "2021-07-08 00:00") == "after_period"


def write_file(tmp_path, body: str):
    path = tmp_path / "enrolments.csv"
    path.write_text("member_no,course_code,reserved_at,form_received_on\n" + body, encoding="utf-8")
    return path


def test_an_enrolments_file_is_waitlisted_beyond_capacity_in_reserved_at_order(people, tmp_path):
    add_course(people, "K1", capacity=2)
    rows = "".join(f"{T[i]},K1,2021-05-01 06:{10 - i:02d},\n" for i in range(1, 5))
    result = imports.import_file(people, "enrolments", write_file(tmp_path, rows))
    assert result.notes == ("reserved 2, waitlisted 2",)
    assert statuses(people, "K1") == [
        (T[4], "reserved", None), (T[3], "reserved", None),
        (T[2], "waitlisted", 1), (T[1], "waitlisted", 2),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("J0000001,K1,2021-05-02 10:00,", "member_no", "制度の会員ではありません"),
        ("T0000001,K9,2021-05-02 10:00,", "course_code", "講習コードが見つかりません"),
        ("T0000001,K1,2021-04-30 10:00,", "reserved_at", "募集期間の開始前"),
        ("T0000001,K1,5月2日,", "reserved_at", "日時"),
    ],
)
def test_a_refused_row_is_an_error_of_the_file_and_nothing_is_written(
    people, tmp_path, row, column, words
):
    add_course(people, "K1")
    good = f"{T[2]},K1,2021-05-02 09:00,\n"
    with pytest.raises(InputFileError) as caught:
        imports.import_file(people, "enrolments", write_file(tmp_path, good + row + "\n"))
    problem = caught.value.problems[0]
    assert (problem.line, problem.column) == (3, column) and words in problem.message
    assert people.execute("SELECT count(*) FROM enrolments").fetchall() == [(0,)]


def test_the_same_title_twice_in_one_file_is_refused_on_the_later_line(people, tmp_path):
    add_course(people, "K1", title="道徳教育", domain="elective_mandatory")
    add_course(people, "K2", title="道徳教育", domain="elective_mandatory", held_on="2021-08-10")
    body = f"{T[1]},K2,2021-05-02 09:01,\n{T[1]},K1,2021-05-02 09:00,\n"
    with pytest.raises(InputFileError) as caught:
        imports.import_file(people, "enrolments", write_file(tmp_path, body))
    assert [(p.line, p.column) for p in caught.value.problems] == [(2, "course_code")]
    assert "同一名称" in caught.value.problems[0].message


def test_every_reservation_leaves_an_event_and_an_audit_row(people):
    add_course(people, "K1", capacity=1)
    reserve(people, T[1], "K1", "2021-05-02 10:00")
    reserve(people, T[2], "K1", "2021-05-02 10:01")
    events = people.execute(
        "SELECT member_no, event FROM course_events ORDER BY event_id"
    ).fetchall()
    assert events == [(T[1], "reserved"), (T[2], "waitlisted")]
    audit = people.execute(
        "SELECT member_no, action, new_value FROM audit_log WHERE table_name = 'enrolments'"
        " ORDER BY audit_id"
    ).fetchall()
    assert audit == [(T[1], "reserve", "reserved"), (T[2], "reserve", "waitlisted")]


def test_the_catalogue_counts_seats_and_waiting_against_capacity(people):
    add_course(people, "K1", capacity=2)
    for i in range(1, 4):
        reserve(people, T[i], "K1", f"2021-05-02 10:0{i}")
    row = catalogue.listing(people).filter(pl.col("course_code") == "K1").row(0, named=True)
    assert (row["capacity"], row["reserved"], row["waitlisted"], row["free"]) == (2, 2, 1, 0)
    assert (row["phase"], row["minimum"], row["fee"]) == ("recruiting", 0, 6000)
