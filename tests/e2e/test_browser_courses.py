"""Courses in headless Chromium: staff record attendance and a score in the roster's grid, and
the completion shows in the member's renewal explanation as the course the rules count."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from core.courses import catalogue, enrolment
from core.store import db

from .conftest import SCREENSHOTS
from .test_browser import log_in

pytestmark = pytest.mark.e2e
CODE = "E2E-P1"


def course_with_providers(path) -> list[str]:
    """A JPTEC provider renewal course held yesterday with two providers seated whose validity
    has no renewal course yet (so the explanation changes when one completes)."""
    today = dt.date.today()
    with db.connect(path) as con:
        members = [r[0] for r in con.execute(
            """
            SELECT q.member_no FROM qualifications q
            WHERE q.scheme = 'jptec' AND q.qualification = 'provider' AND q.status = 'active'
              AND q.valid_until > current_date + 30
              AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.member_no = q.member_no
                              AND a.kind = 'renewal_course' AND a.date > q.valid_from)
              AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.member_no = q.member_no)
            ORDER BY q.member_no LIMIT 2
            """).fetchall()]  # fmt: skip
        catalogue.save_course(con, {
            "course_code": CODE, "scheme": "jptec", "title": "JPTECプロバイダー更新コース（試験会場）",
            "held_on": (today - dt.timedelta(days=1)).isoformat(), "hours": 7, "capacity": 10,
            "starts_at": "09:00", "ends_at": "17:00", "venue": "試験会場",
        }, actor="e2e")  # fmt: skip
        for i, member in enumerate(members):
            moment = dt.datetime.combine(today - dt.timedelta(days=10), dt.time(9, i))
            enrolment.reserve(con, member, CODE, actor="e2e", at=moment)
    assert len(members) == 2
    return members


def test_staff_record_attendance_and_a_score_and_the_renewal_explanation_counts_the_course(
    page: Page, server
):
    url, path = server
    member = course_with_providers(path)[0]
    log_in(page, url, "hq")
    page.goto(f"{url}/course_roster?course={CODE}")
    expect(page.get_by_role("heading", name=re.compile(CODE)).first).to_be_visible()
    page.get_by_role("tab", name="出欠・成績").click()
    grid = page.locator('[data-testid="stDataFrame"]:visible').first
    expect(grid).to_contain_text(member)
    page.wait_for_timeout(1000)  # the grid is drawn on a canvas: let it lay out
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 40, box["y"] + 35 + 17)  # the first row's member number
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # 出欠
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    page.keyboard.type("出席")
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    page.keyboard.press("ArrowUp")  # Enter moved down a row
    for _ in range(3):  # 遅刻（分）, 遅延証明書, 得点
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    page.keyboard.type("80", delay=50)
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    page.get_by_role("button", name="出欠・成績を保存").click()
    expect(page.get_by_text("出欠・成績を保存しました（1人）")).to_be_visible()
    expect(grid).to_contain_text("修了")
    page.screenshot(path=str(SCREENSHOTS / "course_roster.png"))
    with db.connect(path) as con:
        done = con.execute(
            "SELECT a.kind, a.date FROM course_completions k JOIN activities a USING (activity_id)"
            " WHERE k.member_no = ?",
            [member],
        ).fetchall()
    assert done == [("renewal_course", dt.date.today() - dt.timedelta(days=1))]

    page.goto(f"{url}/member_lookup?member={member}")
    page.get_by_role("tab", name=re.compile("資格")).click()
    expect(
        page.get_by_text(re.compile(r"○ .*更新コースの受講 1回（必要 1回）")).first
    ).to_be_visible()
    expect(page.get_by_text(re.compile("有効期間を延長します")).first).to_be_visible()
    page.get_by_role("tab", name=re.compile("講習")).click()
    expect(page.get_by_text("修了した講習 1件", exact=False)).to_be_visible()
