"""The approval pages with AppTest: the queue, application entry and resubmission, the SLA view."""

from __future__ import annotations

import datetime as dt

from streamlit.testing.v1 import AppTest

from core.applications.queue import QueueFilter
from core.store import db
from tests.test_approvals import SEASON, apply, approve_once, state
from tests.test_page_app import logged_in, open_page, page_titles, refused


def by_label(widgets, label: str):
    return next(w for w in widgets if w.label == label)


QUEUE_GRID = f"queue_grid_0_{QueueFilter().token()}"  # the grid before any action or filter


def select_rows(at: AppTest, rows: list[int], grid: str = QUEUE_GRID) -> AppTest:
    at.session_state[grid] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


def last_step(con, application_id: int) -> tuple:
    """The latest step of an application: action, where it was, where it went, why, who."""
    return db.one(
        con,
        "SELECT action, org_code, next_org_code, reason, note, actor FROM application_steps"
        " WHERE application_id = ? ORDER BY step_id DESC LIMIT 1",
        [application_id],
    )


def count(con, table: str) -> int:
    return db.table_count(con, table)


def test_approver_sees_their_level_and_approves_the_selection(sample_path):
    with db.connect(sample_path) as con:
        first = apply(con, member_no="A0000001", **SEASON)
        second = apply(con, member_no="A0000002", **SEASON)
        third = apply(con, member_no="A0000003", **SEASON)  # a club without a region
        approve_once(con, first)
        approve_once(con, second)
        seen = {app: state(con, app) for app in (first, second, third)}
    at = open_page(logged_in("approver"), "approval_queue")  # the regional body SAJ-22-R01
    assert not at.exception
    assert page_titles(at) == ["承認待ち"]
    assert {m.label: m.value for m in at.metric}["承認待ち"] == "2 件"
    assert set(at.dataframe[0].value["member_no"]) == {"A0000001", "A0000002"}
    at = select_rows(at, [0, 1])
    by_label(at.button, "選択した 2 件を承認").click()
    at.run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        "2 件を承認しました（次の段階へ 2 件、承認完了 0 件）。"
    ]
    with db.connect(sample_path) as con:
        for app in (first, second):  # one level on, to the prefecture, with the step recorded
            assert state(con, app) == ("pending", "SAJ-22", seen[app][2] + 1)
            assert last_step(con, app) == ("approved", "SAJ-22-R01", "SAJ-22", None, None,
                                            "approver")  # fmt: skip
        assert state(con, third) == seen[third]  # a club without a region: not theirs
        assert count(con, "billing") == 0  # the regional body's approval bills nothing


def test_approver_sends_one_back_with_a_reason(sample_path):
    with db.connect(sample_path) as con:
        app = apply(con, member_no="A0000001", **SEASON)
        approve_once(con, app)
        version = state(con, app)[2]
    at = select_rows(open_page(logged_in("approver"), "approval_queue"), [0])
    assert next(s.value for s in at.subheader).startswith("申請 ")
    # no reason is chosen in advance: sending back without one is refused, nothing changes
    assert by_label(at.selectbox, "差戻理由").value is None
    by_label(at.button, "差戻す").click()
    at.run()
    assert [e.value for e in at.error] == ["差戻理由を選んでください。"]
    with db.connect(sample_path) as con:
        assert state(con, app) == ("pending", "SAJ-22-R01", version)
    by_label(at.selectbox, "差戻理由").select("wrong_name")
    by_label(at.text_area, "メモ（申請者への連絡事項）").input("フリガナを確認してください")
    by_label(at.button, "差戻す").click()
    at.run()
    assert not at.exception
    assert any("氏名の誤り" in s.value for s in at.success)
    with db.connect(sample_path) as con:
        assert state(con, app) == ("sent_back", "SAJ-22-R01", version + 1)
        assert last_step(con, app) == ("sent_back", "SAJ-22-R01", None, "wrong_name",
                                       "フリガナを確認してください", "approver")  # fmt: skip


def test_the_queue_shows_flags_with_the_other_record(sample_path):
    with db.connect(sample_path) as con:
        apply(con, member_no="A0000002", **SEASON)
        apply(con, member_no="A0000002", **SEASON)
    at = open_page(logged_in("admin"), "approval_queue")
    assert {m.label: m.value for m in at.metric}["要確認"] == "2 件"
    at = select_rows(at, [1])
    assert any("二重申請の疑い" in w.value for w in at.warning)


def test_analysts_have_no_queue_but_see_the_sla_view(sample_path):
    at = logged_in("analyst")
    refused(open_page(at, "approval_queue"))
    sla = open_page(logged_in("analyst"), "approval_sla")
    assert not sla.exception
    assert page_titles(sla) == ["承認SLA"]


def test_staff_enter_a_proxy_application_that_skips_the_club(sample_path):
    at = open_page(logged_in("hq"), "applications")
    assert not at.exception
    at.selectbox(key="apply_scheme").select("saj")
    at.run()  # the kinds offered are the scheme's
    at.selectbox(key="apply_kind").select("season_registration")
    at.radio(key="apply_entry").set_value("proxy")
    at.run()
    by_label(at.selectbox, "代理申請したクラブ").select("SAJ-22-C002")
    by_label(at.text_input, "会員番号").input("A0000003")
    by_label(at.button, "申請を登録").click()
    at.run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    with db.connect(sample_path) as con:
        (app, ref), *others = con.execute(
            "SELECT application_id, application_ref FROM applications"
        ).fetchall()
        assert others == []
        row = db.one(
            con,
            "SELECT member_no, scheme, kind, proxy_org_code, entered_by, status, level,"
            " level_org_code FROM applications WHERE application_id = ?",
            [app],
        )
        # the club that entered it is skipped: its chain starts at the prefecture (no region)
        assert row == ("A0000003", "saj", "season_registration", "SAJ-22-C002", "proxy",
                       "pending", "prefecture", "SAJ-22")  # fmt: skip
        assert last_step(con, app) == ("submitted", None, "SAJ-22", None, None, "hq")
        assert con.execute(
            "SELECT actor, action, row_key, member_no FROM audit_log"
            " WHERE table_name = 'applications'"
        ).fetchall() == [("hq", "import", ref, "A0000003")]
    assert [s.value for s in at.success] == [f"申請 {ref} を登録しました。県連の承認待ちです。"]


def test_a_bad_member_number_is_named_on_the_form(sample_path):
    at = open_page(logged_in("hq_shizuoka"), "applications")
    at.selectbox(key="apply_scheme").select("saj")
    at.run()  # the kinds offered are the scheme's
    at.selectbox(key="apply_kind").select("season_registration")
    at.radio(key="apply_entry").set_value("admin")
    at.run()
    by_label(at.text_input, "会員番号").input("A0000004")  # Tokyo: outside Shizuoka
    by_label(at.button, "申請を登録").click()
    at.run()
    assert any("会員番号" in e.value and "担当範囲" in e.value for e in at.error)
    assert not at.success
    with db.connect(sample_path) as con:
        assert count(con, "applications") == count(con, "application_steps") == 0


def test_a_sent_back_application_is_corrected_and_resubmitted(sample_path):
    with db.connect(sample_path) as con:
        app = apply(con, member_no="A0000001", **SEASON)
        from core.applications import approvals

        approvals.send_back(con, app, state(con, app)[2], reason="duplicate", note="確認",
                            role="admin", scope="*", actor="pref")  # fmt: skip
        ref, version = db.one(
            con, "SELECT application_ref, version FROM applications WHERE application_id = ?", [app]
        )
    at = open_page(logged_in("hq"), "applications")
    assert "同一会員の二重申請" in list(at.dataframe[0].value["reason"])
    at = select_rows(at, [0], grid="apply_sent_back_grid_0")
    # the entry form on the first tab has a 備考 too: the resubmission form's is the last
    [*_, note] = (w for w in at.text_area if w.label == "備考")
    note.input("重複ではありません")
    by_label(at.button, "修正して再申請").click()
    at.run()
    assert not at.exception
    assert [s.value for s in at.success] == [f"申請 {ref} を再申請しました。"]
    with db.connect(sample_path) as con:  # back at the start of its chain, with the note
        assert state(con, app) == ("pending", "SAJ-22-C001", version + 1)
        assert db.one(con, "SELECT note FROM applications WHERE application_id = ?", [app]) == (
            "重複ではありません",
        )
        assert last_step(con, app) == ("resubmitted", None, "SAJ-22-C001", None, None, "hq")


def test_sla_view_counts_what_waited_each_day(sample_path):
    with db.connect(sample_path) as con:
        apply(con, member_no="A0000001", **SEASON)
    at = open_page(logged_in("admin"), "approval_sla")
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["承認待ち（最終日）"] == "1 件"


def test_the_member_page_lists_the_members_applications(sample_path):
    with db.connect(sample_path) as con:
        apply(con, member_no="A0000001", **SEASON)
    at = open_page(logged_in("hq"), "member_lookup", member="A0000001")
    assert not at.exception
    assert "申請（1）" in [t.label for t in at.tabs]
    assert "承認待ち" in list(at.dataframe[-2].value["status"])


def test_staff_enter_a_new_member_from_the_admin_side_which_needs_the_club(sample_path):
    at = open_page(logged_in("hq"), "applications")
    at.selectbox(key="apply_scheme").select("saj")
    at.run()  # the kinds offered are the scheme's
    at.selectbox(key="apply_kind").select("new_registration")
    at.radio(key="apply_entry").set_value("admin")
    at.run()
    by_label(at.selectbox, "所属する組織").select("SAJ-13-C001")
    for label, value in (("姓", "伊藤"), ("名", "蓮"), ("セイ", "いとう"), ("メイ", "れん"),
                         ("郵便番号", "100-0001"), ("都道府県", "東京都"),
                         ("住所（市区町村から）", "千代田区千代田1-1")):  # fmt: skip
        by_label(at.text_input, label).input(value)
    by_label(at.date_input, "生年月日").set_value(dt.date(2001, 5, 5))
    by_label(at.button, "申請を登録").click()
    at.run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    with db.connect(sample_path) as con:
        ref, *row = db.one(
            con,
            "SELECT application_ref, member_no, family_name, given_name, family_name_kana,"
            " given_name_kana, birth_date, entered_by, status, level, level_org_code"
            " FROM applications WHERE kind = 'new_registration'",
        )
        # hiragana readings stored as katakana; no member number until the chain approves it
        assert row == [None, "伊藤", "蓮", "イトウ", "レン", dt.date(2001, 5, 5), "admin",
                       "pending", "club", "SAJ-13-C001"]  # fmt: skip
        assert count(con, "applications") == 1
        assert count(con, "members") == 6  # the sample's: nobody is created before approval
    assert [s.value for s in at.success] == [f"申請 {ref} を登録しました。クラブの承認待ちです。"]


def test_a_phone_change_entered_on_the_form_applies_at_once(sample_path):
    at = open_page(logged_in("hq"), "applications")
    at.selectbox(key="apply_scheme").select("saj")
    at.run()  # the kinds offered are the scheme's
    at.selectbox(key="apply_kind").select("information_change")
    at.radio(key="apply_entry").set_value("admin")
    at.run()
    by_label(at.text_input, "会員番号").input("A0000002")
    by_label(at.text_input, "新しい電話番号").input("090-5555-6666")
    by_label(at.button, "申請を登録").click()
    at.run()
    assert not at.exception
    with db.connect(sample_path) as con:
        ref, status, level = db.one(con, "SELECT application_ref, status, level FROM applications")
        assert (status, level) == ("approved", None)  # an information change needs no approval
        assert db.one(con, "SELECT phone FROM members WHERE member_no = 'A0000002'") == (
            "090-5555-6666",
        )
        changed = con.execute(
            "SELECT actor, table_name, row_key, field, old_value, new_value FROM audit_log"
            " WHERE member_no = 'A0000002' AND action <> 'import'"
        ).fetchall()
    assert changed == [("hq", "members", "A0000002", "phone", "054-221-1111", "090-5555-6666")]
    assert [s.value for s in at.success] == [f"申請 {ref} を登録しました。承認済。"]
