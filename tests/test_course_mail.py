"""The mail of course reservations (seed 004): a reservation received (with the waitlist place)
and a promotion from the waitlist, written in the reservation's transaction, once per event;
other events and schemes without the template send nothing; delivered as Japanese mail."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core import imports
from core.notify import course_mail, sender, smtp
from core.store import db

from .mailserver import Inbox, running

ON = dt.date(2021, 7, 1)


def load(con, tmp_path: Path) -> None:
    (tmp_path / "courses.csv").write_text(
        "course_code,scheme,title,held_on,hours,domain,capacity,materials_fee\n"
        "C1,teacher,教育の最新事情,2021-08-02,6,mandatory,2,500\n"
        "J1,jptec,JPTECプロバイダーコース,2021-08-10,8,,30,0\n",
        encoding="utf-8",
    )
    (tmp_path / "enrolments.csv").write_text(
        "member_no,course_code,reserved_at,form_received_on\n"
        "A0000001,C1,2021-07-01 06:00,\n"
        "A0000003,C1,2021-07-01 06:01,\n"
        "A0000002,C1,2021-07-01 06:02,\n"
        "A0000004,C1,2021-07-01 06:03,\n"
        "A0000001,J1,2021-07-01 07:00,\n",
        encoding="utf-8",
    )
    imports.import_file(con, "courses", tmp_path / "courses.csv")
    imports.import_file(con, "enrolments", tmp_path / "enrolments.csv")
    # the course holds two: the third and fourth wait
    con.execute(
        "UPDATE enrolments SET status = 'waitlisted'"
        " WHERE member_no IN ('A0000002', 'A0000004') AND course_code = 'C1'"
    )


def happened(con, *events: tuple[str, str, str]) -> int:
    """Stage (event, member_no, course_code) as the rosters' course_events rows and mail them
    in one transaction."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE happened (event VARCHAR, member_no VARCHAR,"
        " course_code VARCHAR)"
    )
    con.executemany("INSERT INTO happened VALUES (?, ?, ?)", list(events))
    with db.transaction(con):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE staged AS SELECT h.*, e.enrolment_id FROM happened h"
            " JOIN enrolments e USING (member_no, course_code)"
        )
        return course_mail.write(con, "staged", actor="test", on=ON)


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


def test_a_reservation_and_a_waitlisted_one_are_mailed_with_their_place(sample, tmp_path):
    load(sample, tmp_path)
    n = happened(
        sample,
        ("reserved", "A0000001", "C1"),
        ("reserved", "A0000003", "C1"),  # no address: written, not sent
        ("waitlisted", "A0000002", "C1"),
        ("waitlisted", "A0000004", "C1"),
    )
    assert n == 4
    subject = "【免許状更新講習】講習の申込予約を受け付けました（教育の最新事情）"
    assert sorted(outbox(sample)) == [
        ("reservation_received", "A0000001", "pending", subject),
        ("reservation_received", "A0000002", "pending", subject),
        ("reservation_received", "A0000003", "suppressed", subject),
        ("reservation_received", "A0000004", "pending", subject),
    ]
    seated = body(sample, "A0000001")
    assert "講習：教育の最新事情（C1）" in seated and "開講日：2021年8月2日" in seated
    assert "受付状況：受付済（席を確保しました）" in seated and "番目）" not in seated
    assert "受付状況：キャンセル待ち（1番目）" in body(sample, "A0000002")
    assert "受付状況：キャンセル待ち（2番目）" in body(sample, "A0000004")
    assert "{" not in seated


def test_a_promotion_is_mailed_and_each_event_only_once(sample, tmp_path):
    load(sample, tmp_path)
    happened(sample, ("reserved", "A0000001", "C1"))
    sample.execute(
        "UPDATE enrolments SET status = 'reserved' WHERE member_no = 'A0000002'"
        " AND course_code = 'C1'"
    )
    assert happened(sample, ("promoted", "A0000002", "C1"), ("reserved", "A0000001", "C1")) == 1
    assert outbox(sample)[-1] == (
        "waitlist_promoted", "A0000002", "pending",
        "【免許状更新講習】キャンセル待ちから受付になりました（教育の最新事情）",
    )  # fmt: skip
    assert "14日以内" in body(sample, "A0000002")
    assert happened(sample, ("promoted", "A0000002", "C1")) == 0
    assert len(outbox(sample)) == 2


def test_other_events_and_schemes_without_the_template_send_nothing(sample, tmp_path):
    load(sample, tmp_path)
    assert happened(
        sample,
        ("cancelled", "A0000002", "C1"),  # no mail for a cancellation
        ("form_received", "A0000001", "C1"),
        ("reserved", "A0000001", "J1"),  # JPTEC has no reservation mail
    ) == 0  # fmt: skip
    assert outbox(sample) == []


def test_mail_written_with_a_reservation_that_fails_is_rolled_back(sample, tmp_path):
    load(sample, tmp_path)
    with pytest.raises(RuntimeError), db.transaction(sample):
        sample.execute(
            "CREATE OR REPLACE TEMP TABLE staged AS SELECT 'reserved' AS event, enrolment_id,"
            " member_no, course_code FROM enrolments WHERE member_no = 'A0000001'"
        )
        assert course_mail.write(sample, "staged", actor="test", on=ON) == 1
        raise RuntimeError("the reservation's transaction fails after the mail was written")
    assert outbox(sample) == []


def test_the_reservation_mail_arrives_as_japanese_mail(sample_path, tmp_path):
    with db.connect(sample_path) as con:
        load(con, tmp_path)
        happened(con, ("waitlisted", "A0000002", "C1"))
        row = db.frame(con, "SELECT * FROM outbox").row(0, named=True)
    inbox = Inbox()
    with running(inbox) as port:
        result = sender.run(sample_path, server=smtp.Server(host="127.0.0.1", port=port))
    assert result.as_json() == {"sent": 1, "failed": 0, "pending": 0}
    (message,) = inbox.messages()
    assert message["Message-ID"] == row["message_id"]
    assert (
        message["Subject"] == "【免許状更新講習】講習の申込予約を受け付けました（教育の最新事情）"
    )
    assert message["To"] == row["recipient"]
    assert "受付状況：キャンセル待ち（1番目）" in message.get_content()
