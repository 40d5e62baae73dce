"""Log-in in headless Chromium: the lock holds across browsers, a typed address and a reload keep
their page, an idle session asks for the password again and returns to the same page, and no
password typed reaches the server's log."""

from __future__ import annotations

import subprocess
import sys

import pytest
from playwright.sync_api import Browser, Page, expect

from core.access import users
from core.access.users import DEMO_PASSWORD
from core.store import db

from .conftest import ROOT

pytestmark = pytest.mark.e2e
STRONG = "Hayashi-Mizuumi-Sora-2031"
WRONG = "Nise-Pass-Word-2031"
PAGES = {  # address → the page's heading (an hq_staff user may open all of these)
    "member_lookup": "会員検索",
    "approval_queue": "承認待ち",
    "fee_dashboard": "会費ダッシュボード",
    "renewal_batch": "更新処理",
    "account": "パスワード変更",
}


def fill_log_in(page: Page, username: str, password: str) -> None:
    page.get_by_label("ユーザーID").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()


def fresh(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)  # a loaded 2-core machine renders slowly
    return page


def test_five_failures_from_five_browsers_lock_the_name_until_users_unlock(browser, server):
    url, path = server
    with db.connect(path) as con, db.transaction(con):
        users.create(con, username="lockme", display_name="錠 太郎", role="hq_staff",
                     org_code="*", password=STRONG, email=None, actor="test")  # fmt: skip
    for attempt in range(1, 6):  # a new browser each time: the count is the server's
        page = fresh(browser)
        page.goto(url)
        fill_log_in(page, "lockme", WRONG)
        said = "ユーザーIDまたはパスワードが違います" if attempt < 5 else "ログインが一時的に制限"
        expect(page.get_by_text(said, exact=False)).to_be_visible()
        page.context.close()
    page = fresh(browser)
    page.goto(url)
    fill_log_in(page, "lockme", STRONG)  # the right password does not open a locked name
    expect(page.get_by_text("ログインが一時的に制限されています", exact=False)).to_be_visible()
    done = subprocess.run(
        [sys.executable, "-m", "core", "users", "unlock", "lockme", "--db", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=150,
    )  # fmt: skip
    assert done.returncode == 0 and "unlocked" in done.stdout, done.stderr
    fill_log_in(page, "lockme", STRONG)
    expect(page.get_by_role("heading", name="ホーム").first).to_be_visible()
    page.context.close()
    log = (path.parent / "streamlit.log").read_text(errors="replace")
    assert STRONG not in log and WRONG not in log  # no password typed reaches a log
    with db.connect(path) as con:
        rows = " ".join(
            str(v) for r in con.execute("SELECT * FROM audit_log").fetchall() for v in r
        )
    assert STRONG not in rows and WRONG not in rows


def test_a_typed_address_opens_after_log_in_and_every_reload_stays_on_its_page(browser, server):
    url, _ = server
    page = fresh(browser)
    page.goto(f"{url}/member_lookup")  # bookmarked, not logged in yet
    expect(page.get_by_role("button", name="ログイン")).to_be_visible()
    expect(page.get_by_text("admin users", exact=False)).to_have_count(0)  # no file names listed
    fill_log_in(page, "hq", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="会員検索").first).to_be_visible()
    for address, heading in PAGES.items():
        page.goto(f"{url}/{address}")
        expect(page.get_by_role("heading", name=heading).first).to_be_visible()
        for _ in range(10):
            page.reload()
            expect(page.get_by_role("heading", name=heading).first).to_be_visible()
            expect(page.get_by_role("button", name="ログイン")).to_have_count(0)
    page.context.close()


def test_an_idle_session_asks_for_the_password_and_returns_to_the_same_page(browser, server):
    url, path = server
    page = fresh(browser)
    page.goto(f"{url}/fee_dashboard")
    fill_log_in(page, "hq", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="会費ダッシュボード").first).to_be_visible()
    with db.connect(path) as con:  # 31 minutes without interaction, as far as the server knows
        con.execute(
            "UPDATE login_sessions SET last_seen_at = last_seen_at - INTERVAL 31 MINUTE"
            " WHERE username = 'hq' AND ended_at IS NULL"
        )
    page.reload()
    expect(page.get_by_text("しばらく操作がなかったため", exact=False)).to_be_visible()
    fill_log_in(page, "hq", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="会費ダッシュボード").first).to_be_visible()
    with db.connect(path) as con:
        why = con.execute(
            "SELECT ended_why FROM login_sessions WHERE username = 'hq' AND ended_at IS NOT NULL"
            " ORDER BY ended_at DESC LIMIT 1"
        ).fetchone()
    assert why == ("idle",)
    page.context.close()


def test_an_admin_is_warned_while_a_demo_password_is_in_use(page, server):
    url, _ = server
    page.goto(url)
    fill_log_in(page, "admin", DEMO_PASSWORD)
    expect(page.get_by_text("デモ用のパスワード", exact=False).first).to_be_visible()
    expect(page.get_by_role("link", name="ユーザー管理を開く")).to_be_visible()
    expect(page.get_by_text("analyst、approver_jptec", exact=False).first).to_be_visible()
