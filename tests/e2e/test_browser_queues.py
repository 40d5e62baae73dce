"""The approval queue and the club's batch payment in headless Chromium."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from playwright.sync_api import Locator, Page, expect

from core import text
from core.applications import approvals, routing
from core.store import db

from .conftest import ROOT, SCREENSHOTS
from .test_browser import log_in

ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
ROW_HEIGHT = 35  # Streamlit's data grid: header and rows are 35 px high

pytestmark = pytest.mark.e2e


def click_row(page: Page, grid: Locator, index: int, shows: Locator) -> None:
    """Tick a row's selection box; a click while the grid still draws can be lost: retry."""
    for _ in range(3):
        expect(grid).to_be_visible()  # a rerun may have replaced the grid: find it again
        box = grid.bounding_box()
        if box is None:
            page.wait_for_timeout(500)
            continue
        page.mouse.click(box["x"] + 12, box["y"] + ROW_HEIGHT * (index + 1) + 17)
        try:
            expect(shows).to_be_visible(timeout=7_000)
            return
        except AssertionError:
            continue
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "row_click_failed.png"), full_page=True)
    expect(shows).to_be_visible()


def prefecture_queue(path) -> list[str]:
    """Leave exactly three SAJ season registrations waiting at Shizuoka's federation."""
    with db.connect(path) as con:
        with db.transaction(con):
            waiting = db.frame(
                con,
                "SELECT application_id FROM applications WHERE status = 'pending'"
                " AND level_org_code = 'SAJ-22'",
            )
            approvals.advance(con, waiting, actor="e2e", now=text.jst_now())
            members = db.frame(
                con,
                """
                SELECT m.member_no, m.org_code FROM members m
                JOIN organizations o USING (org_code)
                WHERE o.path LIKE '/SAJ/SAJ-22/%' AND o.kind = 'club' AND m.status = 'active'
                  AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.member_no = m.member_no
                                  AND a.season = 2099)
                ORDER BY m.member_no LIMIT 3
                """,
            )
            now = text.jst_now()
            con.executemany(
                "INSERT INTO applications (application_ref, member_no, scheme, kind, season,"
                " submitted_at, proxy_org_code, entered_by) VALUES (?, ?, 'saj',"
                " 'season_registration', 2099, ?, ?, 'proxy')",
                [[f"E2E-{i}", no, now - dt.timedelta(hours=30 - i), org]
                 for i, (no, org) in enumerate(members.iter_rows())],
            )  # fmt: skip
            ids = db.frame(
                con, "SELECT application_id FROM applications WHERE application_ref LIKE 'E2E-%'"
            )
            routing.start(con, ids, actor="e2e", now=now)
            while True:  # proxy applications start above the club: climb to the prefecture
                below = db.frame(
                    con,
                    "SELECT application_id FROM applications WHERE application_ref LIKE 'E2E-%'"
                    " AND level = 'region'",
                )
                if below.is_empty():
                    break
                approvals.advance(con, below, actor="e2e", now=now)
        refs = con.execute(
            "SELECT application_ref, level_org_code FROM applications"
            " WHERE application_ref LIKE 'E2E-%' ORDER BY application_ref"
        ).fetchall()
    assert [org for _, org in refs] == ["SAJ-22"] * 3
    return [ref for ref, _ in refs]


def test_an_approver_filters_approves_two_and_sends_one_back(page: Page, server):
    url, path = server
    refs = prefecture_queue(path)
    log_in(page, url, "approver_shizuoka")
    page.get_by_role("link", name="承認待ち").click()
    expect(page.get_by_role("heading", name="承認待ち").first).to_be_visible()

    kind = page.get_by_role("combobox", name=re.compile("申請の種類"))
    kind.click()
    page.keyboard.type("会員登録（年度更新）")
    page.keyboard.press("Enter")
    expect(kind).to_have_value("会員登録（年度更新）")
    grid = page.get_by_test_id("stDataFrame").first
    for ref in refs:
        expect(grid).to_contain_text(ref)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "approval_queue.png"))

    click_row(page, grid, 0, page.get_by_role("button", name="選択した 1 件を承認"))
    click_row(page, grid, 1, page.get_by_role("button", name="選択した 2 件を承認"))
    page.get_by_role("button", name="選択した 2 件を承認").click()
    expect(page.get_by_text("2 件を承認しました", exact=False)).to_be_visible()
    expect(grid).not_to_contain_text(refs[0])

    click_row(page, grid, 0, page.get_by_role("heading", name=f"申請 {refs[2]}"))
    reason = page.get_by_role("combobox", name=re.compile("差戻理由"))
    reason.click()
    page.keyboard.type("住所が実在しない")
    page.keyboard.press("Enter")
    expect(reason).to_have_value("住所が実在しない")
    page.get_by_label("メモ（申請者への連絡事項）").fill("番地をご確認ください")
    page.get_by_role("button", name="差戻す").click()
    expect(page.get_by_text("差戻しました", exact=False)).to_be_visible()

    with db.connect(path) as con:
        states = con.execute(
            "SELECT application_ref, status, level_org_code FROM applications"
            " WHERE application_ref LIKE 'E2E-%' ORDER BY application_ref"
        ).fetchall()
        reason_row = con.execute(
            "SELECT s.reason, s.note, s.actor FROM application_steps s JOIN applications a"
            " USING (application_id) WHERE a.application_ref = ? AND s.action = 'sent_back'",
            [refs[2]],
        ).fetchall()
    assert states == [
        (refs[0], "pending", "SAJ"),
        (refs[1], "pending", "SAJ"),
        (refs[2], "sent_back", "SAJ-22"),
    ]
    assert reason_row == [("address_not_found", "番地をご確認ください", "approver_shizuoka")]


def open_lines_in_two_months(path) -> tuple[str, str, list[str]]:
    """Three open lines of one Tokyo club's members, billed in two different months."""
    with db.connect(path) as con:
        club = con.execute(
            "SELECT o.org_code, o.name FROM organizations o JOIN members m USING (org_code)"
            " WHERE o.path LIKE '/SAJ/SAJ-13/%' AND o.kind = 'club'"
            " GROUP BY ALL HAVING count(*) >= 3 ORDER BY o.org_code LIMIT 1"
        ).fetchall()[0]
        members = [r[0] for r in con.execute(
            "SELECT member_no FROM members WHERE org_code = ? ORDER BY member_no LIMIT 3",
            [club[0]],
        ).fetchall()]  # fmt: skip
        con.execute(
            "UPDATE billing SET status = 'cancelled' WHERE status = 'open' AND member_no IN (SELECT member_no FROM members WHERE org_code = ?)",
            [club[0]],
        )
        rows = pl.DataFrame(
            {
                "member_no": members,
                "issued_on": [dt.date(2026, 9, 15), dt.date(2026, 9, 15), dt.date(2026, 10, 20)],
            }
        )
        for no, day in rows.iter_rows():
            con.execute(
                "INSERT INTO billing (member_no, scheme, item, description, amount, issued_on,"
                " due_on, status, season) VALUES (?, 'saj', 'saj_competitor',"
                " '2026年度 SAJ競技者登録料 アルペン 3,000円', 3000, ?, ?, 'open', 2026)",
                [no, day, day + dt.timedelta(days=30)],
            )
    return club[0], club[1], members


def test_a_club_pays_lines_from_two_months_in_one_payment(page: Page, server):
    url, path = server
    club, name, members = open_lines_in_two_months(path)
    log_in(page, url, "hq_saj_tokyo")
    page.get_by_role("link", name="まとめて支払い").click()
    expect(page.get_by_role("heading", name="まとめて支払い").first).to_be_visible()
    org = page.get_by_role("combobox", name=re.compile("組織"))
    org.click()
    page.keyboard.type(club)
    page.keyboard.press("Enter")
    expect(org).to_have_value(f"{name}（{club}）")
    months = page.get_by_role("combobox", name=re.compile("請求月"))
    for month in ("2026年9月", "2026年10月"):
        months.click()
        page.keyboard.type(month)
        page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(page.get_by_text("未納の明細（3件）")).to_be_visible()

    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    click_row(page, grid, 0, page.get_by_text("3,000 円", exact=True))
    click_row(page, grid, 2, page.get_by_text("6,000 円", exact=True))
    expect(page.get_by_text("2 件", exact=True)).to_be_visible()
    page.get_by_label("参照番号（決済代行・銀行の受付番号）").fill("E2E-CVS-0001")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "club_payment.png"))
    page.get_by_role("button", name="入金を記録").click()
    expect(page.get_by_text("入金を記録しました", exact=False)).to_be_visible()

    with db.connect(path) as con:
        paid = con.execute(
            "SELECT b.member_no, b.issued_on, p.reference FROM billing b"
            " JOIN payments p USING (payment_id) WHERE p.reference = 'E2E-CVS-0001'"
            " ORDER BY b.issued_on, b.member_no"
        ).fetchall()
    assert [(no, day.month) for no, day, _ in paid] == [(members[0], 9), (members[2], 10)]
