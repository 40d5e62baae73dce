"""After the reservation (seed 004 受講申込書の提出・受講料・受講のキャンセル・受講料の返還): the form
within 14 days, the invoice paid by its due date, cancellations, withdrawals and refunds, courses
not opened and transfers, capacity edits — each freeing seats to the people waiting."""

from __future__ import annotations

import datetime as dt

import pytest

from core import config
from core.billing import course_fees, payments
from core.courses import catalogue, changes, daily, enrolment, roster, transfers
from core.errors import InputFileError

from .course_helpers import T, add_course, at, clock

D = dt.date


@pytest.fixture
def now(monkeypatch):
    return clock(monkeypatch, "2021-05-01 06:00")


def reserve(con, member, code, when):
    return enrolment.reserve(con, member, code, actor="test", at=at(when))


def run_daily(con, day):
    return daily.run_daily(con, on=day, actor="test", cfg=config.current())


def stages(con, code) -> dict[str, str]:
    rows = roster.participants(con, [code], today=D(2021, 6, 1))
    return dict(zip(rows["member_no"], rows["stage"], strict=True))


def test_a_form_arriving_on_the_14th_day_is_taken_and_on_the_15th_refused(people, now):
    add_course(people, "K1")
    add_course(people, "K2", held_on="2021-08-03")
    reserve(people, T[1], "K1", "2021-05-01 06:00")
    reserve(people, T[2], "K2", "2021-05-01 06:00")
    now.set("2021-05-20 09:00")
    assert changes.record_forms(people, T[1], received_on=D(2021, 5, 15), actor="test") == ["K1"]
    with pytest.raises(ValueError, match="提出期限を過ぎています"):
        changes.record_forms(people, T[2], received_on=D(2021, 5, 16), actor="test")


def test_the_daily_job_cancels_a_late_form_on_the_15th_day_and_promotes(people, now):
    add_course(people, "K1", capacity=1)
    reserve(people, T[1], "K1", "2021-05-01 06:00")
    reserve(people, T[2], "K1", "2021-05-01 06:01")
    assert run_daily(people, D(2021, 5, 15)).late_forms == 0  # the 14th day after
    counts = run_daily(people, D(2021, 5, 16))
    assert (counts.late_forms, counts.promoted) == (1, 1)
    assert stages(people, "K1") == {T[1]: "cancelled", T[2]: "reserved"}
    # the promoted member's 14 days run from the promotion
    row = roster.participants(people, ["K1"]).row(1, named=True)
    assert (row["member_no"], row["form_due_on"]) == (T[2], D(2021, 5, 30))
    events = people.execute("SELECT member_no, event FROM course_events WHERE event = 'promoted'")
    assert events.fetchall() == [(T[2], "promoted")]


def test_one_envelope_records_the_forms_of_all_the_members_courses(people, now):
    add_course(people, "K1")
    add_course(people, "K2", held_on="2021-08-03")
    add_course(people, "K3", held_on="2021-08-04", capacity=1)
    reserve(people, T[2], "K3", "2021-05-01 06:00")
    for code in ("K1", "K2", "K3"):
        reserve(people, T[1], code, "2021-05-01 06:05")  # K3: waitlisted, no form yet
    now.set("2021-05-08 10:00")
    assert changes.record_forms(people, T[1], received_on=D(2021, 5, 8), actor="test") == [
        "K1",
        "K2",
    ]
    assert course_fees.bill_courses(people, on=D(2021, 5, 8), actor="test", cfg=config.current())
    lines = people.execute(
        "SELECT issued_on, due_on, amount FROM billing WHERE member_no = ? ORDER BY billing_id",
        [T[1]],
    ).fetchall()
    assert lines == [(D(2021, 5, 8), D(2021, 5, 22), 6000)] * 2  # one invoice, one date
    with pytest.raises(ValueError, match="申込書を待っている予約はありません"):
        changes.record_forms(people, T[1], received_on=D(2021, 5, 8), actor="test")


def _billed(con, now, members, capacity=1):
    add_course(con, "K1", capacity=capacity)
    for i, member in enumerate(members):
        reserve(con, member, "K1", f"2021-05-01 06:0{i}")
    now.set("2021-05-05 10:00")
    changes.record_forms(con, members[0], received_on=D(2021, 5, 5), actor="test")
    run_daily(con, D(2021, 5, 5))  # bills the form: due 2021-05-19


def test_an_invoice_unpaid_past_its_due_date_deletes_the_reservation(people, now):
    _billed(people, now, [T[1], T[2], T[3]], capacity=2)
    now.set("2021-05-10 10:00")
    changes.record_forms(people, T[2], received_on=D(2021, 5, 10), actor="test")
    assert run_daily(people, D(2021, 5, 19)).unpaid == 0  # T[1]'s invoice is due that day
    counts = run_daily(people, D(2021, 5, 20))
    assert (counts.unpaid, counts.promoted) == (1, 1)
    statuses = people.execute(
        "SELECT member_no, status, end_reason FROM enrolments ORDER BY member_no"
    ).fetchall()
    assert statuses == [(T[1], "deleted", "unpaid"), (T[2], "reserved", None),
                        (T[3], "reserved", None)]  # fmt: skip
    billing = people.execute("SELECT member_no, status FROM billing ORDER BY member_no").fetchall()
    assert billing == [(T[1], "cancelled"), (T[2], "open")]


def test_a_paid_invoice_keeps_the_seat(people, now):
    _billed(people, now, [T[1]])
    line = people.execute("SELECT billing_id FROM billing").fetchall()[0][0]
    payments.record_payment(people, [line], method="convenience_store", paid_on=D(2021, 5, 19),
                            reference="CVS-1", actor="test")  # fmt: skip
    assert run_daily(people, D(2021, 5, 20)).unpaid == 0
    assert stages(people, "K1") == {T[1]: "paid"}


def test_a_cancellation_before_the_form_is_free_and_promotes_the_first_waiting(people, now):
    add_course(people, "K1", capacity=1)
    for i in (1, 2, 3):
        reserve(people, T[i], "K1", f"2021-05-01 06:0{i}")
    done = changes.cancel(people, T[1], "K1", actor="test", on=D(2021, 5, 3))
    assert (done.kind, done.promoted) == ("member", (T[2],))
    assert stages(people, "K1") == {T[1]: "cancelled", T[2]: "reserved", T[3]: "waitlisted"}


def test_a_withdrawal_after_payment_is_not_refunded_except_for_a_refund_reason(people, now):
    _billed(people, now, [T[1]])
    add_course(people, "K2", held_on="2021-08-09")
    reserve(people, T[1], "K2", "2021-05-05 10:00")
    changes.record_forms(people, T[1], received_on=D(2021, 5, 5), actor="test")
    run_daily(people, D(2021, 5, 5))
    lines = [r[0] for r in people.execute("SELECT billing_id FROM billing ORDER BY 1").fetchall()]
    payments.record_payment(people, lines, method="convenience_store", paid_on=D(2021, 5, 6),
                            reference="CVS-2", actor="test")  # fmt: skip
    plain = changes.cancel(people, T[1], "K1", actor="test", on=D(2021, 5, 20))
    assert (plain.kind, plain.refunded) == ("withdrawal", 0)
    with pytest.raises(ValueError, match="返還できる事由ではありません"):
        changes.cancel(people, T[1], "K2", actor="test", on=D(2021, 5, 20), refund_reason="other")
    postponed = changes.cancel(people, T[1], "K2", actor="test", on=D(2021, 5, 20),
                               refund_reason="postponed")  # fmt: skip
    assert postponed.refunded == 1
    assert people.execute("SELECT amount, reason FROM refunds ORDER BY refund_id").fetchall() == [
        (6000, "postponed")
    ]


@pytest.mark.parametrize(("capacity", "opened"), [(10, True), (11, False)])
def test_a_course_under_ten_opens_only_when_its_capacity_is_ten_or_less(
    people, now, capacity, opened
):
    add_course(people, "K1", capacity=capacity)
    for i in range(1, 10):  # nine applicants
        reserve(people, T[i], "K1", f"2021-05-01 06:{i:02d}")
    assert run_daily(people, D(2021, 5, 14)).not_opened == 0  # recruitment still running
    counts = run_daily(people, D(2021, 5, 15))
    assert counts.not_opened == (0 if opened else 1)
    status = people.execute("SELECT status FROM courses WHERE course_code = 'K1'").fetchall()
    assert status == [("scheduled" if opened else "not_opened",)]


def test_ten_applicants_open_a_course_of_eleven_seats(people, now):
    add_course(people, "K1", capacity=11)
    for i in range(1, 11):
        reserve(people, T[i], "K1", f"2021-05-01 06:{i:02d}")
    assert run_daily(people, D(2021, 5, 15)).not_opened == 0


def test_a_course_not_opened_refunds_paid_fees_and_its_people_move_in_reservation_order(
    people, now
):
    add_course(people, "K1", capacity=20, min_to_open=3)
    add_course(people, "K2", capacity=2, held_on="2021-08-09")
    add_course(people, "K3", capacity=5, held_on="2021-08-10", domain="elective")
    reserve(people, T[5], "K2", "2021-05-01 07:00")
    reserve(people, T[1], "K1", "2021-05-01 06:00")
    reserve(people, T[2], "K1", "2021-05-01 06:30")
    now.set("2021-05-05 10:00")
    changes.record_forms(people, T[1], received_on=D(2021, 5, 5), actor="test")
    run_daily(people, D(2021, 5, 5))
    line = people.execute("SELECT billing_id FROM billing").fetchall()[0][0]
    payments.record_payment(people, [line], method="convenience_store", paid_on=D(2021, 5, 6),
                            reference="CVS-3", actor="test")  # fmt: skip
    counts = run_daily(people, D(2021, 5, 15))
    assert (counts.not_opened, counts.not_opened_reservations, counts.refunded) == (1, 2, 1)
    assert people.execute("SELECT status FROM billing").fetchall() == [("refunded",)]
    moved = roster.participants(people, ["K1"])["enrolment_id"].to_list()
    assert transfers.candidates(people, "K1", D(2021, 5, 20))["course_code"].to_list() == ["K2"]
    with pytest.raises(ValueError, match="同じ制度・同じ領域"):
        transfers.transfer(people, moved, "K3", on=D(2021, 5, 20), actor="test")
    result = transfers.transfer(people, moved, "K2", on=D(2021, 5, 20), actor="test")
    # T[1] reserved at 06:00 takes the one free seat; T[2] waits
    assert result.rows() == [(T[1], "reserved", None), (T[2], "waitlisted", 1)]
    k2 = roster.participants(people, ["K2"]).select("member_no", "form_received_on").rows()
    assert k2 == [(T[1], D(2021, 5, 20)), (T[2], None), (T[5], None)]  # reservation order
    with pytest.raises(ValueError, match="未振替"):
        transfers.transfer(people, moved, "K2", on=D(2021, 5, 20), actor="test")


def test_capacity_cannot_fall_below_the_seats_given_and_a_rise_promotes(people, now):
    add_course(people, "K1", capacity=2)
    for i in (1, 2, 3, 4):
        reserve(people, T[i], "K1", f"2021-05-01 06:0{i}")
    with pytest.raises(InputFileError, match="予約済みの人数（2人）より少なくできません"):
        add_course(people, "K1", capacity=1)
    add_course(people, "K1", capacity=3)
    assert stages(people, "K1")[T[3]] == "reserved"
    assert stages(people, "K1")[T[4]] == "waitlisted"
    changed = people.execute(
        "SELECT field, old_value, new_value FROM audit_log WHERE table_name = 'courses'"
        " AND action = 'update'"
    ).fetchall()
    assert changed == [("capacity", "2", "3")]


def test_a_course_cancelled_by_disaster_refunds_everyone_in_full(people, now):
    _billed(people, now, [T[1], T[2]])
    line = people.execute("SELECT billing_id FROM billing").fetchall()[0][0]
    payments.record_payment(people, [line], method="convenience_store", paid_on=D(2021, 5, 6),
                            reference="CVS-4", actor="test")  # fmt: skip
    ended = catalogue.cancel_course(people, "K1", on=D(2021, 7, 30), actor="test",
                                    note="台風による休講（振替日なし）")  # fmt: skip
    assert (ended.ended, ended.lines_refunded, ended.promoted) == (2, 1, ())
    assert people.execute("SELECT reason, amount FROM refunds").fetchall() == [("disaster", 6000)]
