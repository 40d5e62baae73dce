"""The mail of course reservations (seed 004): a reservation received (with the waitlist place)
and a promotion from the waitlist, written by the courses in the reservation's transaction, once
per event; other events and schemes without the template send nothing; delivered as Japanese
mail."""

from __future__ import annotations

import datetime as dt

import pytest

from core import config, imports
from core.courses import changes, enrolment, seats
from core.notify import course_mail, sender, smtp
from core.store import db

from .course_helpers import J, T, add_course, at, clock
from .mailserver import Inbox, running

SUBJECT = "【免許状更新講習】講習の申込予約を受け付けました（教育の最新事情）"


@pytest.fixture(autouse=True)
def now(monkeypatch):
    """The clock at 2021-05-01 06:00."""
    return clock(monkeypatch)


def setup(con) -> None:
    """A teacher course of two seats and a JPTEC course; teachers 1, 2 and 4 have an address,
    teacher 3 none."""
    add_course(con, "C1", title="教育の最新事情", capacity=2)
    add_course(con, "J1", scheme="jptec", title="JPTECプロバイダーコース", domain=None,
               held_on="2021-08-10", capacity=30)  # fmt: skip
    con.execute(
        "UPDATE members SET email = lower(member_no) || '@example.jp'"
        " WHERE member_no IN (SELECT unnest($m::VARCHAR[]))",
        {"m": [T[1], T[2], T[4]]},
    )


def reserve(con, member: str, code: str, when: str) -> enrolment.Reservation:
    return enrolment.reserve(con, member, code, actor="test", at=at(when))


def reserve_four(con) -> None:
    """Teachers 1 and 3 take the two seats; 2 and 4 wait, in that order."""
    assert reserve(con, T[1], "C1", "2021-05-01 06:00").status == "reserved"
    assert reserve(con, T[3], "C1", "2021-05-01 06:01").status == "reserved"
    assert reserve(con, T[2], "C1", "2021-05-01 06:02").position == 1
    assert reserve(con, T[4], "C1", "2021-05-01 06:03").position == 2


def outbox(con) -> list[tuple]:
    return con.execute(
        "SELECT event, member_no, status, subject FROM outbox ORDER BY outbox_id"
    ).fetchall()


def body(con, member_no: str) -> str:
    row = db.one(
        con, "SELECT body FROM outbox WHERE member_no = ? ORDER BY outbox_id DESC", [member_no]
    )
    assert row is not None
    return str(row[0])


def test_a_reservation_and_a_waitlisted_one_are_mailed_with_their_place(people):
    setup(people)
    reserve_four(people)
    assert outbox(people) == [
        ("reservation_received", T[1], "pending", SUBJECT),
        ("reservation_received", T[3], "suppressed", SUBJECT),  # no address: written, not sent
        ("reservation_received", T[2], "pending", SUBJECT),
        ("reservation_received", T[4], "pending", SUBJECT),
    ]
    seated = body(people, T[1])
    assert "講習：教育の最新事情（C1）" in seated and "開講日：2021年8月2日" in seated
    assert "受付状況：受付済（席を確保しました）" in seated and "番目）" not in seated
    assert "受付状況：キャンセル待ち（1番目）" in body(people, T[2])
    assert "受付状況：キャンセル待ち（2番目）" in body(people, T[4])
    assert "{" not in seated


def test_a_file_of_reservations_mails_each_with_its_place(people, tmp_path):
    setup(people)
    (tmp_path / "enrolments.csv").write_text(
        "member_no,course_code,reserved_at,form_received_on\n"
        f"{T[2]},C1,2021-05-01 06:02,\n{T[1]},C1,2021-05-01 06:00,\n"
        f"{T[4]},C1,2021-05-01 06:03,\n{T[3]},C1,2021-05-01 06:01,\n",
        encoding="utf-8",
    )
    imports.import_file(people, "enrolments", tmp_path / "enrolments.csv", actor="test")
    statuses = people.execute(
        "SELECT member_no, split_part(body, '受付状況：', 2)[:12] FROM outbox ORDER BY member_no"
    ).fetchall()
    assert statuses == [
        (T[1], "受付済（席を確保しました"), (T[2], "キャンセル待ち（1番目）"),
        (T[3], "受付済（席を確保しました"), (T[4], "キャンセル待ち（2番目）"),
    ]  # fmt: skip


def test_a_promotion_is_mailed_and_each_event_only_once(people):
    setup(people)
    reserve_four(people)
    done = changes.cancel(people, T[1], "C1", actor="test", on=dt.date(2021, 5, 3))
    assert done.promoted == (T[2],)
    assert outbox(people)[-1] == (
        "waitlist_promoted", T[2], "pending",
        "【免許状更新講習】キャンセル待ちから受付になりました（教育の最新事情）",
    )  # fmt: skip
    assert "14日以内" in body(people, T[2])
    assert len(outbox(people)) == 5  # four received, one promoted: the cancellation mails nothing
    # the events recorded so far, mailed again: nothing new (the outbox's keys)
    with db.transaction(people):
        people.execute(
            "CREATE OR REPLACE TEMP TABLE again AS SELECT event, enrolment_id, member_no,"
            " course_code FROM course_events"
        )
        assert course_mail.write(people, "again", actor="test", on=dt.date(2021, 5, 3)) == 0
    assert len(outbox(people)) == 5


def test_other_events_and_schemes_without_the_template_send_nothing(people, now):
    setup(people)
    assert reserve(people, J[1], "J1", "2021-05-02 10:00").status == "reserved"  # JPTEC: none
    assert outbox(people) == []
    reserve(people, T[1], "C1", "2021-05-01 06:00")
    reserve(people, T[2], "C1", "2021-05-01 06:01")
    now.set("2021-05-06 09:00")
    changes.record_forms(people, T[1], received_on=dt.date(2021, 5, 5), actor="test")
    changes.cancel(people, T[2], "C1", actor="test", on=dt.date(2021, 5, 6))
    events = people.execute("SELECT event FROM course_events ORDER BY event_id").fetchall()
    assert [e for (e,) in events] == ["reserved", "reserved", "reserved", "form_received",
                                      "cancelled"]  # fmt: skip
    assert [(e, m) for e, m, _, _ in outbox(people)] == [
        ("reservation_received", T[1]),
        ("reservation_received", T[2]),
    ]


def test_mail_written_with_a_reservation_that_fails_is_rolled_back(people):
    setup(people)
    requests = enrolment.requests_frame(
        [{"line": 1, "member_no": T[1], "course_code": "C1", "reserved_at": at("2021-05-01 06:00")}]
    )

    def work() -> None:
        written, refused = enrolment.admit(people, requests, actor="test", cfg=config.current())
        assert written.height == 1 and refused.is_empty() and len(outbox(people)) == 1
        raise RuntimeError("the reservation's transaction fails after the mail was written")

    with pytest.raises(RuntimeError):
        seats.run(people, work)
    assert outbox(people) == []
    assert db.one(people, "SELECT count(*) FROM enrolments") == (0,)


def test_the_reservation_mail_arrives_as_japanese_mail(people_path):
    with db.connect(people_path) as con:
        setup(con)
        reserve_four(con)
        row = db.frame(con, "SELECT * FROM outbox WHERE member_no = ?", [T[2]]).row(0, named=True)
    inbox = Inbox()
    with running(inbox) as port:
        result = sender.run(people_path, server=smtp.Server(host="127.0.0.1", port=port))
    assert result.as_json() == {"sent": 3, "failed": 0, "pending": 0}  # teacher 3: no address
    (message,) = [m for m in inbox.messages() if m["To"] == row["recipient"]]
    assert message["Message-ID"] == row["message_id"]
    assert message["Subject"] == SUBJECT
    assert message["To"] == row["recipient"] == f"{T[2].lower()}@example.jp"
    assert "受付状況：キャンセル待ち（1番目）" in message.get_content()
