"""The approval pages with AppTest: the queue, application entry and resubmission, the SLA view."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from core.applications.queue import QueueFilter
from core.store import db
from tests.test_approvals import SEASON, apply, approve_once, state
from tests.test_page_app import logged_in, open_page, page_titles


def by_label(widgets, label: str):
    return next(w for w in widgets if w.label == label)


QUEUE_GRID = f"queue_grid_0_{QueueFilter().token()}"  # the grid before any action or filter


def select_rows(at: AppTest, rows: list[int], grid: str = QUEUE_GRID) -> AppTest:
    at.session_state[grid] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


def test_approver_sees_their_level_and_approves_the_selection(sample_path):
    with db.connect(sample_path) as con:
        first = apply(con, member_no="A0000001", **SEASON)
        second = apply(con, member_no="A0000002", **SEASON)
        apply(con, member_no="A0000003", **SEASON)  # a club without a region: not theirs
        approve_once(con, first)
        approve_once(con, second)
    at = open_page(logged_in("approver"), "approval_queue")  # the regional body SAJ-22-R01
    assert not at.exception
    assert page_titles(at) == ["承認待ち"]
    assert {m.label: m.value for m in at.metric}["承認待ち"] == "2 件"
    assert set(at.dataframe[0].value["member_no"]) == {"A0000001", "A0000002"}
    at = select_rows(at, [0, 1])
    by_label(at.button, "選択した 2 件を承認").click()
    at.run()
    assert not at.exception
    assert any("2 件を承認しました" in s.value for s in at.success)
    with db.connect(sample_path) as con:
        assert state(con, first)[1] == state(con, second)[1] == "SAJ-22"


def test_approver_sends_one_back_with_a_reason(sample_path):
    with db.connect(sample_path) as con:
        app = apply(con, member_no="A0000001", **SEASON)
        approve_once(con, app)
    at = select_rows(open_page(logged_in("approver"), "approval_queue"), [0])
    assert next(s.value for s in at.subheader).startswith("申請 ")
    by_label(at.selectbox, "差戻理由").select("wrong_name")
    by_label(at.text_area, "メモ（申請者への連絡事項）").input("フリガナを確認してください")
    by_label(at.button, "差戻す").click()
    at.run()
    assert not at.exception
    assert any("氏名の誤り" in s.value for s in at.success)
    with db.connect(sample_path) as con:
        assert state(con, app)[0] == "sent_back"


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
    with pytest.raises(ValueError, match="Known pages"):
        open_page(at, "approval_queue")
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
    assert any("県連の承認待ちです" in s.value for s in at.success)


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


def test_a_sent_back_application_is_corrected_and_resubmitted(sample_path):
    with db.connect(sample_path) as con:
        app = apply(con, member_no="A0000001", **SEASON)
        from core.applications import approvals

        approvals.send_back(con, app, state(con, app)[2], reason="duplicate", note="確認",
                            role="admin", scope="*", actor="pref")  # fmt: skip
    at = open_page(logged_in("hq"), "applications")
    assert "同一会員の二重申請" in list(at.dataframe[0].value["reason"])
    at = select_rows(at, [0], grid="apply_sent_back_grid_0")
    by_label(at.text_area, "備考").input("重複ではありません")
    by_label(at.button, "修正して再申請").click()
    at.run()
    assert not at.exception
    assert any("再申請しました" in s.value for s in at.success)
    with db.connect(sample_path) as con:
        assert state(con, app)[:2] == ("pending", "SAJ-22-C001")


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
    assert any("クラブの承認待ちです" in s.value for s in at.success)
    with db.connect(sample_path) as con:
        row = db.one(
            con,
            "SELECT family_name_kana, entered_by, level_org_code FROM applications"
            " WHERE kind = 'new_registration'",
        )
    assert row == ("イトウ", "admin", "SAJ-13-C001")


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
    assert any("承認済" in s.value for s in at.success)
    with db.connect(sample_path) as con:
        assert db.one(con, "SELECT phone FROM members WHERE member_no = 'A0000002'") == (
            "090-5555-6666",
        )
