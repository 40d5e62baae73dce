"""Two app processes over one PostgreSQL database, in headless Chromium: an approval saved
through one process is seen through the other, and two approvers on the two processes who
approve the same application together get one approval and one refusal in Japanese."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import duckdb
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from core import text
from core.access import users
from core.access.users import DEMO_PASSWORD, DEMO_USERS
from core.applications import approvals, routing
from core.demo import build_demo
from core.store import db, migrations

from ..conftest import ENGINES
from ..postgres_server import Server
from .conftest import App
from .test_browser_queues import click_row

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif("postgres" not in ENGINES, reason="PostgreSQL not selected"),
]
MEMBERS = 600
APPROVER = "approver_shizuoka"  # approves at Shizuoka's federation (SAJ-22), on process A
ADMIN = "admin"  # may approve at every level, on process B
REFS = ["E2E-PG-0", "E2E-PG-1"]
APPROVED = "件を承認しました"
REFUSED = "何も承認していません"  # both of approve()'s conflict messages end with it


def waiting_at_shizuoka(con: duckdb.DuckDBPyConnection) -> None:
    """Leave exactly two SAJ season registrations open anywhere, both waiting at Shizuoka's
    federation: the demo's own are approved to the end first, so both grids show just these."""
    now = text.jst_now()
    with db.transaction(con):
        while True:
            waiting = db.frame(
                con, "SELECT application_id FROM applications WHERE status = 'pending'"
            )
            if waiting.is_empty():
                break
            approvals.advance(con, waiting, actor="e2e", now=now)
        members = con.execute(
            """
            SELECT m.member_no, m.org_code FROM members m JOIN organizations o USING (org_code)
            WHERE o.path LIKE '/SAJ/SAJ-22/%' AND o.kind = 'club' AND m.status = 'active'
            ORDER BY m.member_no LIMIT 2
            """
        ).fetchall()
        assert len(members) == 2, "the demo has too few Shizuoka club members"
        con.executemany(
            "INSERT INTO applications (application_ref, member_no, scheme, kind, season,"
            " submitted_at, proxy_org_code, entered_by) VALUES (?, ?, 'saj',"
            " 'season_registration', 2099, ?, ?, 'proxy')",
            [[ref, no, now - dt.timedelta(hours=30), org]
             for ref, (no, org) in zip(REFS, members, strict=True)],
        )  # fmt: skip
        ours = "SELECT application_id FROM applications WHERE application_ref LIKE 'E2E-PG-%'"
        routing.start(con, db.frame(con, ours), actor="e2e", now=now)
        while True:  # proxy applications start above the club: climb to the prefecture
            below = db.frame(con, ours + " AND level = 'region'")
            if below.is_empty():
                break
            approvals.advance(con, below, actor="e2e", now=now)
    assert con.execute(
        "SELECT application_ref, level_org_code FROM applications WHERE status = 'pending'"
        " ORDER BY application_ref"
    ).fetchall() == [(ref, "SAJ-22") for ref in REFS]


def build(url: str) -> None:
    """The demo, the two users, and the two applications waiting at Shizuoka."""
    with db.connect(url) as con:
        build_demo(con, members=MEMBERS, seed=42, today=dt.date.today())
        for username, name, role, scope in DEMO_USERS:
            if username in (APPROVER, ADMIN):
                users.create(con, username=username, display_name=name, role=role,
                             org_code=scope, password=DEMO_PASSWORD, email=None, actor="e2e",
                             demo=True)  # fmt: skip
        waiting_at_shizuoka(con)


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str, Future[None]]]:
    """A PostgreSQL server of the module's own and two app processes over one database on it:
    (address of A, address of B, database URL, the demo being built). The demo is built in
    the background while the processes and the browsers start (the migrated schema is all an
    app needs to show its log-in)."""
    folder = tmp_path_factory.mktemp("e2e_pg")
    server = Server()
    started: list[App] = []
    try:
        url = server.create("e2e")
        with db.connect(url) as con:
            migrations.migrate(con)
        started += [App(url, folder / "a.log"), App(url, folder / "b.log")]
        with ThreadPoolExecutor(1) as pool:
            built = pool.submit(build, url)
            yield started[0].wait(), started[1].wait(), url, built
    finally:
        for app in started:  # both asked to stop before either is waited for
            app.process.terminate()
        for app in started:
            app.stop()
        server.stop()


@pytest.fixture
def two_pages(browser: Browser) -> Iterator[tuple[Page, Page]]:
    """Two browsers of their own (separate cookies and sessions)."""
    contexts = [
        browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
        for _ in range(2)
    ]
    pages = [context.new_page() for context in contexts]
    for page in pages:
        page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)  # a loaded 2-core machine renders slowly
    yield pages[0], pages[1]
    for context in contexts:
        context.close()


def open_queues(signed: dict[Page, tuple[str, str]], built: Future[None]) -> None:
    """Log each page in (address, user) once the demo is `built`, and open 承認待ち: the
    browsers side by side, so the two processes do their first runs at the same time."""
    for page, (url, _) in signed.items():
        page.goto(url)
        expect(page.get_by_label("ユーザーID")).to_be_visible()
    built.result(timeout=120)
    for page, (_, username) in signed.items():
        page.get_by_label("ユーザーID").fill(username)
        page.get_by_label("パスワード").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="ログイン").click()
    for page in signed:
        expect(page.get_by_role("heading", name="ホーム").first).to_be_visible()
        page.get_by_role("link", name="承認待ち").click()
    for page in signed:
        expect(page.get_by_role("heading", name="承認待ち").first).to_be_visible()


def choose(page: Page, label: str, option: str) -> None:
    box = page.get_by_role("combobox", name=re.compile(label))
    box.click()
    page.keyboard.type(option)
    page.keyboard.press("Enter")
    expect(box).to_have_value(option)


def waiting(page: Page) -> Locator:
    """The 承認待ち count at the top of the queue."""
    return page.get_by_test_id("stMetric").filter(has_text="承認待ち").first


def test_an_approval_in_one_process_is_seen_in_the_other_and_a_race_has_one_winner(apps, two_pages):
    url_a, url_b, url, built = apps
    a, b = two_pages
    open_queues({a: (url_a, APPROVER), b: (url_b, ADMIN)}, built)
    grid_a = a.get_by_test_id("stDataFrame").first
    grid_b = b.get_by_test_id("stDataFrame").first
    for page, grid in ((a, grid_a), (b, grid_b)):
        expect(waiting(page)).to_contain_text("2 件")
        for ref in REFS:
            expect(grid).to_contain_text(ref)

    # A approves the first; B, on the other process, sees it waiting at the national level
    click_row(a, grid_a, 0, a.get_by_role("heading", name=f"申請 {REFS[0]}"))
    a.get_by_role("button", name="選択した 1 件を承認").click()
    expect(a.get_by_text("1 件を承認しました", exact=False)).to_be_visible()
    expect(waiting(a)).to_contain_text("1 件")
    expect(grid_a).not_to_contain_text(REFS[0])
    choose(b, "段階", "本部")
    expect(waiting(b)).to_contain_text("1 件")
    expect(grid_b).to_contain_text(REFS[0])
    expect(grid_b).not_to_contain_text(REFS[1])

    # both pick the second at Shizuoka's federation and press 承認 together
    choose(b, "段階", "県連")
    expect(grid_b).to_contain_text(REFS[1])
    for page, grid in ((a, grid_a), (b, grid_b)):
        click_row(page, grid, 0, page.get_by_role("heading", name=f"申請 {REFS[1]}"))
    buttons = [page.get_by_role("button", name="選択した 1 件を承認") for page in (a, b)]
    for button in buttons:
        expect(button).to_be_enabled()
    for button in buttons:
        button.click()
    said = {}
    for name, page in ((APPROVER, a), (ADMIN, b)):
        outcome = page.get_by_text(APPROVED, exact=False).or_(
            page.get_by_text(REFUSED, exact=False)
        )
        expect(outcome).to_be_visible()
        said[name] = outcome.first.inner_text()
    winners = [name for name, message in said.items() if APPROVED in message]
    losers = [name for name, message in said.items() if REFUSED in message]
    assert len(winners) == 1 and len(losers) == 1, said
    assert "ほかの承認者が" in said[losers[0]]

    with db.connect(url) as con:
        steps = con.execute(
            "SELECT s.actor, s.level FROM application_steps s JOIN applications a"
            " USING (application_id) WHERE a.application_ref = ? AND s.action = 'approved'"
            " ORDER BY s.step_id",
            [REFS[1]],
        ).fetchall()
        state = con.execute(
            "SELECT status, level, level_org_code FROM applications WHERE application_ref = ?",
            [REFS[1]],
        ).fetchall()
    # the region's approval from the set-up, then the one winner's at the prefecture
    assert steps[-1] == (winners[0], "prefecture")
    assert [actor for actor, level in steps if level == "prefecture"] == winners
    assert state == [("pending", "national", "SAJ")]
