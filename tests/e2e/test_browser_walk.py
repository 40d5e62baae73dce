"""Every page as every demo role in headless Chromium, as a member of staff sees it: each page
renders without an exception or a red error box, and what it draws — labels, messages,
options, chart axes — has no None, True/False or nan, no raw code of the vocabularies and no
English outside a short list of names. Each page is also reloaded and must stay. A screenshot
of every page is kept (tests/e2e/artifacts; the README's with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from core.access.users import DEMO_PASSWORD, DEMO_USERS
from tests.readable import CODES
from ui.auth import COOKIE_NAME
from ui.navigation import PAGES

from .conftest import ROOT, SCREENSHOTS

pytestmark = pytest.mark.e2e
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts" / "walk"
# English that is Japanese office usage: the bodies' names, file kinds, and units
ALLOWED = frozenset(
    {"JPTEC", "ITC", "IT", "JSPO", "SAJ", "FIS", "CSV", "Excel", "PDF", "SLA", "ID", "TEL",
     "ATM", "DEMO", "REG", "EXT", "TRF", "RET", "SUS", "INF", "NEW", "POS", "CMP", "EXM",
     "JP", "Pay", "easy",
     "yyyy", "mm", "dd"}  # the mask of an empty date field (st.date_input has no placeholder)
    # user names are data, shown to admins (ユーザー管理, the demo-password warning)
    | {part for u in DEMO_USERS for part in u[0].split("_")}
)  # fmt: skip
# What the browser itself adds around the app: an icon's ligature name, the skip link
TEXT_OF_PAGE = """() => {
    const main = document.querySelector('[data-testid="stApp"]').cloneNode(true);
    main.querySelectorAll('[data-testid="stIconMaterial"], [data-testid="stDataFrame"],'
        + ' [data-testid="stSkipToContent"], style, script')
        .forEach((e) => e.remove());
    document.body.appendChild(main);
    main.style.position = 'absolute'; main.style.left = '-99999px';
    const text = main.innerText;
    main.remove();
    return text;
}"""
README_PAGES = {  # the README's screenshots: (user, page) → file
    ("hq", "home"): "home.png",
    ("hq", "fee_dashboard"): "fee_dashboard.png",
    ("hq", "approval_sla"): "approval_sla.png",
    ("hq", "renewal_batch"): "renewal_batch.png",
    ("admin", "admin_audit"): "admin_audit.png",
}


def settled(page: Page) -> None:
    """Wait until the script run has ended and the page has drawn."""
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"] button')"
        " && document.querySelectorAll('[data-stale=\"true\"]').length === 0"
        ' && !document.querySelector(\'[data-testid="stSkeleton"],'
        ' [data-testid="stSkeletonElement"], [data-testid="stAppSkeleton"]\')',
        timeout=30_000,
    )
    page.wait_for_timeout(250)  # charts draw after the elements arrive


def stumbles(text: str) -> list[str]:
    """What a Japanese member of staff would not understand in the page's text."""
    text = re.sub(r"[\w.+-]+@[\w.-]+", "", text)  # e-mail addresses are data
    found = [f"{w}" for w in re.findall(r"\b(None|True|False|nan|NaN)\b", text)]
    found += [
        f"code {w}" for w in re.findall(r"[a-z][a-z_]{2,}", text) if w in CODES and w not in ALLOWED
    ]
    found += [
        f"English {w}"
        for w in re.findall(r"[A-Za-z]{2,}", text)
        if w not in ALLOWED and w not in CODES
    ]
    return sorted(set(found))


def log_in(browser: Browser, url: str, username: str) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    page.goto(url)
    page.get_by_label("ユーザーID").fill(username)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="ホーム").first).to_be_visible()
    # the session cookie is written by the page once it has drawn: an address typed before
    # then would open the log-in form again
    page.wait_for_function(f"() => document.cookie.includes('{COOKIE_NAME}=')")
    return page


@pytest.mark.parametrize("user", [u for u in DEMO_USERS], ids=[u[0] for u in DEMO_USERS])
def test_every_page_as_every_role_reads_in_japanese_and_stays_on_reload(browser, server, user):
    url, _ = server
    username, _, role, scope = user
    page = log_in(browser, url, username)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    seen: dict[str, list[str]] = {}
    allowed = [spec for spec in PAGES if spec.allows(role, scope)]
    sidebar = page.get_by_test_id("stSidebarNav")
    links = [t.split("\n")[-1] for t in sidebar.get_by_role("link").all_inner_texts()]
    assert sorted(links) == sorted(spec.title for spec in allowed)  # after the icon's name
    for spec in allowed:
        sidebar.get_by_role("link", name=spec.title, exact=True).click()
        expect(page).to_have_url(re.compile(rf"/{spec.name}$" if spec.name != "home" else r"/$"))
        settled(page)
        expect(page.get_by_role("heading", name=spec.title).first).to_be_visible()
        problems = stumbles(page.evaluate(TEXT_OF_PAGE))
        if page.get_by_test_id("stException").count():
            problems.append("exception")
        if page.get_by_test_id("stAlertContentError").count():
            problems.append(
                "error: " + page.get_by_test_id("stAlertContentError").first.inner_text()
            )
        page.screenshot(path=str(ARTIFACTS / f"{username}_{spec.name}.png"))
        if (username, spec.name) in README_PAGES:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / README_PAGES[username, spec.name]))
        if problems:
            seen[spec.name] = problems
        if username == "admin":  # every page once: a reload keeps it
            address = page.url
            page.reload()
            settled(page)
            expect(page.get_by_role("heading", name=spec.title).first).to_be_visible()
            assert page.url == address
    page.context.close()
    (ARTIFACTS / f"{username}_problems.json").write_text(json.dumps(seen, ensure_ascii=False))
    assert seen == {}, json.dumps(seen, ensure_ascii=False, indent=1)


def test_an_address_no_page_has_says_so_in_japanese(browser, server):
    url, _ = server
    page = log_in(browser, url, "hq")
    page.goto(f"{url}/no_such_page")
    settled(page)
    expect(page.get_by_role("heading", name="ページが見つかりません")).to_be_visible()
    expect(
        page.get_by_text("「/no_such_page」というページはありません", exact=False)
    ).to_be_visible()
    assert stumbles(page.evaluate(TEXT_OF_PAGE).replace("no_such_page", "")) == []
    page.get_by_role("link", name="ホームを開く").click()
    expect(page.get_by_role("heading", name="ホーム").first).to_be_visible()
    page.context.close()
