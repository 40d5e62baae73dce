"""The course pages with Streamlit's AppTest: the roster for each role, its procedures, the
catalogue, and the member page's 講習 tab."""

from __future__ import annotations

import datetime as dt

import pytest

from core.courses import enrolment
from core.store import db

from .course_helpers import T, add_course
from .test_page_app import logged_in, open_page

TODAY = dt.date.today()


@pytest.fixture
def courses(people_path):
    """K1 held in 30 days (2 seats: T[1], T[2] seated, T[3] waiting); K0 held three days ago
    with T[4] and T[5] seated."""
    with db.connect(people_path) as con:
        add_course(con, "K1", title="教育の最新事情", capacity=2, recruit_from=None,
                   recruit_until=None, held_on=(TODAY + dt.timedelta(days=30)).isoformat(),
                   venue="第1講義室", lecturer="山田 一郎")  # fmt: skip
        add_course(con, "K0", title="学級経営の実践", domain="elective", recruit_from=None,
                   recruit_until=None, held_on=(TODAY - dt.timedelta(days=3)).isoformat())  # fmt: skip
        now = dt.datetime.combine(TODAY - dt.timedelta(days=20), dt.time(9))
        for i, code in ((1, "K1"), (2, "K1"), (3, "K1"), (4, "K0"), (5, "K0")):
            enrolment.reserve(con, T[i], code, actor="test", at=now + dt.timedelta(minutes=i))
    return people_path


def roster(user: str, course: str = "K1"):
    at = logged_in(user)
    return open_page(at, "course_roster", course=course)


def cells(at) -> str:
    return " ".join(str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel())


def test_hq_staff_see_the_roster_in_reservation_order_with_the_waitlist(courses):
    at = roster("hq")
    assert not at.exception
    assert [t.value for t in at.title] == ["受講者名簿"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["定員"] == "2 人" and metrics["キャンセル待ち"] == "1 人"
    assert metrics["空席"] == "0 席" and metrics["状況"] == "募集中"
    people = at.dataframe[0].value
    assert list(people["member_no"]) == [T[1], T[2], T[3]]
    assert list(people["stage"]) == [
        "予約済（申込書待ち）",
        "予約済（申込書待ち）",
        "キャンセル待ち",
    ]
    assert "None" not in cells(at) and "True" not in cells(at)


def test_an_analyst_sees_masked_names_and_no_procedures(courses):
    at = roster("analyst")
    assert not at.exception
    names = list(at.dataframe[0].value["name"])
    assert all(n.endswith("＊＊") for n in names)
    assert "手続き" not in [t.label for t in at.tabs]


def test_an_approver_may_not_open_the_roster(courses):
    at = roster("approver")
    assert [e.value for e in at.error] == ["このページを開く権限がありません。"]


def test_staff_reserve_for_a_member_and_a_full_course_waitlists_them(courses):
    at = roster("hq")
    at.text_input(key="roster_reserve_member").input(T[6])
    next(b for b in at.button if b.label == "予約する").click()
    at.run()
    assert not at.exception
    assert any("キャンセル待ち 2番目" in s.value for s in at.success)


def test_a_refused_reservation_is_said_in_words(courses):
    at = roster("hq")
    at.text_input(key="roster_reserve_member").input("J0000001")
    next(b for b in at.button if b.label == "予約する").click()
    at.run()
    assert [e.value for e in at.error] == ["予約できません: この講習の制度の会員ではありません"]


def test_cancelling_a_seat_promotes_the_first_waiting(courses):
    at = roster("hq")
    at.selectbox(key="roster_cancel_member").set_value(T[1])
    next(b for b in at.button if b.label == "取り消す").click()
    at.run()
    assert not at.exception
    message = " ".join(s.value for s in at.success)
    assert "取り消しました" in message and f"繰上げ: {T[3]}" in message


def test_the_grid_of_a_course_held_takes_results_and_shows_completions(courses):
    at = roster("hq", "K0")
    assert not at.exception
    assert any(b.label == "出欠・成績を保存" for b in at.button)
    with db.connect(courses) as con:  # what the grid's save writes, as a browser would send it
        from core.courses import results

        results.record_grid(con, [
            {"member_no": T[4], "course_code": "K0", "attended": "present", "score": 80},
            {"member_no": T[5], "course_code": "K0", "attended": "present", "minutes_late": 45},
        ], actor="hq")  # fmt: skip
    at = roster("hq", "K0")
    stages = list(at.dataframe[0].value["stage"])
    assert stages == ["修了", "欠席"]
    assert any("修了証明書" in b.label or "PDF" in b.label for b in at.get("download_button"))


def test_the_catalogue_lists_courses_with_their_seats(courses):
    at = open_page(logged_in("hq"), "course_catalogue")
    assert not at.exception
    frame = at.dataframe[0].value
    row = frame[frame["course_code"] == "K1"].iloc[0]
    assert (row["capacity"], row["reserved"], row["waitlisted"], row["phase"]) == (
        2,
        2,
        1,
        "募集中",
    )
    assert row["fee"] == "6,000円"


def test_the_member_page_lists_the_members_reservations(courses):
    at = open_page(logged_in("hq"), "member_lookup", member=T[3])
    assert not at.exception
    assert any(t.label == "講習（1）" for t in at.tabs)
    assert any("教育の最新事情 1番目" in c.value for c in at.caption)
