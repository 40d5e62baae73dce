"""Every page as every demo role, over the demo data of all five schemes, with AppTest: each
table and text reads in Japanese — no raw codes, no None, True or False, no English headers
(tests/readable.py). The browser walk (tests/e2e/test_browser_walk.py) checks what is drawn."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from core.access import users
from core.demo import build_demo
from core.store import db
from ui.navigation import PAGES

from .conftest import ENGINES, PASSWORD
from .readable import labelled, problems
from .test_page_app import logged_in, open_page

MEMBERS = 600
ROLES = {u[0]: (u[2], u[3]) for u in users.DEMO_USERS}


@pytest.fixture(scope="module")
def demo_template(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo of all five schemes for a few hundred members, built once per module, with
    the demo log-ins (the test password)."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    shutil.copyfile(migrated_template, path)
    with db.connect(path) as con:
        build_demo(con, members=MEMBERS, seed=42, today=dt.date.today())
        for username, name, role, scope in users.DEMO_USERS:
            users.create(con, username=username, display_name=name, role=role, org_code=scope,
                         password=PASSWORD, email=None, actor="test")  # fmt: skip
        con.execute("CHECKPOINT")
    return path


@pytest.fixture
def demo_path(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_template, path)
    monkeypatch.setenv(db.DB_ENV, str(path))
    return path


def members_in_scope(path: Path | str, scope: str) -> list[str]:
    """One member of each scheme the scope reaches, the one with most rows to show."""
    with db.connect(path) as con:
        rows = con.execute(
            """
            SELECT arg_max(m.member_no, (SELECT count(*) FROM billing b
                                          WHERE b.member_no = m.member_no))
            FROM members m JOIN organizations o USING (org_code)
            JOIN qualifications q USING (member_no)
            WHERE $scope = '*' OR starts_with(o.path, (SELECT path FROM organizations
                                                       WHERE org_code = $scope))
            GROUP BY q.scheme ORDER BY q.scheme
            """,
            {"scope": scope},
        ).fetchall()
    return [r[0] for r in rows]


def readable(at, where: str) -> None:
    assert not at.exception, (where, at.exception)
    assert problems(at) == [], where


@pytest.fixture(scope="module")
def demo_on_postgres(pg_server, pg_migrated) -> str:
    """The same demo on a PostgreSQL store, built once per module; its URL."""
    url = pg_server.create("demo_pages", template=pg_migrated)
    with db.connect(url) as con:
        build_demo(con, members=MEMBERS, seed=42, today=dt.date.today())
        for username, name, role, scope in users.DEMO_USERS:
            users.create(con, username=username, display_name=name, role=role, org_code=scope,
                         password=PASSWORD, email=None, actor="test")  # fmt: skip
    return url


@pytest.mark.parametrize("username", list(ROLES))
def test_every_page_reads_in_japanese_for_every_role(demo_path, username):
    walk(demo_path, username)


@pytest.mark.skipif("postgres" not in ENGINES, reason="PostgreSQL not selected")
@pytest.mark.parametrize("username", ["admin", "approver_shizuoka"])
def test_every_page_works_on_postgresql(demo_on_postgres, monkeypatch, username):
    """The app over a PostgreSQL store (RENEWAL_DB a URL; the pages borrow pooled connections)."""
    monkeypatch.setenv(db.DB_ENV, demo_on_postgres)
    walk(demo_on_postgres, username)


def walk(demo_path: Path | str, username: str) -> None:
    """Every page the user may open, members of each scheme, a search, and the work of the
    pages that act: the queue's choice, the batch's preview, the dashboard, the audit log."""
    role, scope = ROLES[username]
    at = logged_in(username)
    readable(at, "home")
    for spec in PAGES:
        if not spec.allows(role, scope):
            continue
        at = open_page(at, spec.name)
        readable(at, spec.name)

    # the member page of a member of each scheme, every tab
    for member_no in members_in_scope(demo_path, scope):
        at = open_page(at, "member_lookup", member=member_no)
        readable(at, f"member {member_no}")
        assert at.subheader, member_no
    # a search by kana lists members (an analyst searches by number only)
    at = open_page(at, "member_lookup")
    at.text_input(key="lookup_keyword").input("ヤマ" if role != "analyst" else "A")
    next(b for b in at.button if b.label == "検索").click()
    at.run()
    readable(at, "member search")

    if role in ("hq_staff", "approver", "admin"):
        at = open_page(at, "approval_queue")
        grids = [d for d in at.dataframe if (d.key or "").startswith("queue_grid")]
        assert grids or scope != "*", "the demo has applications waiting"
        if grids:
            at.session_state[grids[0].key] = {
                "selection": {"rows": [0], "columns": [], "cells": []}
            }
            at.run()
            readable(at, "approval queue, one chosen")
            assert at.subheader[0].value.startswith("申請 ")
    if role == "admin" or (role == "hq_staff" and scope == "*"):
        at = open_page(at, "renewal_batch")
        next(b for b in at.button if b.label == "プレビュー（書き込みません）").click()
        at.run()
        readable(at, "renewal batch preview")
    if role in ("hq_staff", "analyst", "admin"):
        at = open_page(at, "fee_dashboard")
        for dimension in ("prefecture", "organization", "method"):
            at.radio(key="fees_dimension").set_value(dimension)
            at.run()
            readable(at, f"fee dashboard by {dimension}")
    if role == "admin":
        at = open_page(at, "admin_audit")
        for choice in at.selectbox(key="audit_table").options:
            at.selectbox(key="audit_table").select_index(
                at.selectbox(key="audit_table").options.index(choice)
            )
            at.run()
            readable(at, f"audit log: {choice}")


def test_an_analyst_cannot_find_a_person_by_name_or_telephone(demo_path):
    with db.connect(demo_path) as con:
        family, phone, member_no = con.execute(
            "SELECT family_name, phone, member_no FROM members WHERE phone IS NOT NULL"
            " AND status = 'active' ORDER BY member_no LIMIT 1"
        ).fetchall()[0]
    found = {}
    for username in ("hq", "analyst"):
        at = open_page(logged_in(username), "member_lookup")
        fields = at.selectbox(key="lookup_field").options
        for keyword in (family, phone, member_no):
            at.text_input(key="lookup_keyword").input(keyword)
            next(b for b in at.button if b.label == "検索").click()
            at.run()
            hits = [labelled(d) for d in at.dataframe]
            found[username, keyword] = member_no in set(hits[0]["会員番号"]) if hits else False
        found[username, "fields"] = fields
    assert found["hq", family] and found["hq", phone] and found["hq", member_no]
    # personal data is no search key for a role that may not see it: only the number finds
    assert not found["analyst", family] and not found["analyst", phone]
    assert found["analyst", member_no]
    assert found["analyst", "fields"] == ["会員番号"]
