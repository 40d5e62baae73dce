"""The app with Streamlit's AppTest: log-in, navigation per role, scoping, masking, correction."""

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import config
from core.renewals import whatif
from core.store import db

from .conftest import PASSWORD

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 30


def logged_in(username: str, password: str = PASSWORD) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    inputs = at.text_input
    inputs[0].input(username)
    inputs[1].input(password)
    at.button[0].click()
    at.run()
    return at


def page_titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def test_the_login_form_is_shown_first(sample_path):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["ユーザーID", "パスワード"]
    assert page_titles(at) == []


def test_a_wrong_password_is_refused(sample_path):
    at = logged_in("hq", "wrong-password")
    assert not at.exception
    assert any("パスワードが違います" in e.value for e in at.error)


def test_hq_staff_lands_on_home_with_their_figures(sample_path):
    at = logged_in("hq")
    assert not at.exception
    assert page_titles(at) == ["ホーム"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["会員数（担当範囲）"] == "6 人"


def open_page(at: AppTest, page: str, **query: str) -> AppTest:
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(f"pages/{page}.py")
    return at.run()


def search(at: AppTest, keyword: str) -> AppTest:
    at.text_input(key="lookup_keyword").input(keyword)
    next(b for b in at.button if b.label == "検索").click()
    return at.run()


def test_a_user_sees_only_members_beneath_their_organisation_on_home(sample_path):
    at = logged_in("hq_shizuoka")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["会員数（担当範囲）"] == "3 人"


def test_admin_pages_are_only_for_admins(sample_path):
    admin = open_page(logged_in("admin"), "admin_users")
    assert not admin.exception
    assert page_titles(admin) == ["ユーザー管理"]
    with pytest.raises(ValueError, match="Known pages"):
        open_page(logged_in("hq"), "admin_users")


def test_member_lookup_finds_by_hiragana_kana(sample_path):
    at = search(open_page(logged_in("hq"), "member_lookup"), "やまだ")
    assert not at.exception
    frame = at.dataframe[0].value
    assert list(frame["member_no"]) == ["J0000002", "A0000001"]
    assert "山田 太郎" in list(frame["name"])


def test_lookup_is_scoped(sample_path):
    at = search(open_page(logged_in("hq_shizuoka"), "member_lookup"), "やまだ")
    assert list(at.dataframe[0].value["member_no"]) == ["A0000001"]


def test_analysts_see_masked_personal_data(sample_path):
    at = search(open_page(logged_in("analyst"), "member_lookup"), "A0000001")
    row = at.dataframe[0].value.iloc[0]
    assert row["name"] == "山＊＊" and row["phone"] == "＊＊＊" and row["email"] == "＊＊＊"
    detail = open_page(at, "member_lookup", member="A0000001")
    assert not detail.exception
    assert "修正を保存" not in [b.label for b in detail.button]
    assert all("taro" not in str(t.value) for t in detail.table)


def test_hq_corrects_an_address_and_the_audit_shows_it(sample_path):
    at = open_page(logged_in("hq"), "member_lookup", member="A0000001")
    assert not at.exception
    at.text_input(key="fix_postal").input("100-0001")
    at.selectbox(key="fix_prefecture").select("東京都")
    at.text_input(key="fix_address").input("千代田区千代田1-1")
    at.text_area(key="fix_reason").input("本人から転居の届出")
    next(b for b in at.button if b.label == "修正を保存").click()
    at.run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("住所" in s.value and "千代田区千代田1-1" in s.value for s in at.success)
    history = at.dataframe[-1].value
    assert "千代田区千代田1-1" in list(history["new_value"])
    with db.connect(sample_path) as con:
        rows = con.execute(
            "SELECT actor, field, new_value FROM audit_log WHERE member_no = 'A0000001' AND action = 'update' ORDER BY field"
        ).fetchall()
    assert rows == [
        ("hq", "address", "千代田区千代田1-1"),
        ("hq", "postal_code", "100-0001"),
        ("hq", "prefecture", "東京都"),
    ]


def test_a_bad_postal_code_is_explained_on_the_form(sample_path):
    at = open_page(logged_in("hq"), "member_lookup", member="A0000001")
    at.text_input(key="fix_postal").input("100-0001")
    at.text_area(key="fix_reason").input("転居")
    next(b for b in at.button if b.label == "修正を保存").click()
    at.run()
    messages = [e.value for e in at.error]
    assert any("東京都の番号です" in m for m in messages)
    assert any("千代田区" in i.value for i in at.info)


def test_admin_reads_the_configuration_in_force_on_a_date(sample_path):
    at = open_page(logged_in("admin"), "admin_config")
    at.selectbox[0].select("jptec")
    at.date_input[0].set_value(dt.date(2023, 9, 30))
    at.run()
    frame = at.dataframe[0].value
    fee = frame[frame["設定キー"] == "jptec.non_card_handling_fee"].iloc[0]
    assert fee["値"] == "0 円"
    at.date_input[0].set_value(dt.date(2023, 10, 1))
    at.run()
    frame = at.dataframe[0].value
    assert frame[frame["設定キー"] == "jptec.non_card_handling_fee"].iloc[0]["値"] == "700 円"


def test_admin_creates_a_user(sample_path):
    at = open_page(logged_in("admin"), "admin_users")
    form_inputs = at.text_input
    form_inputs[0].input("clerk2")
    form_inputs[1].input("事務 四郎")
    form_inputs[3].input("secret-pass-1")
    next(b for b in at.button if b.label == "追加する").click()
    at.run()
    assert not at.exception
    assert any("clerk2" in s.value for s in at.success)


def test_admin_audit_page_lists_changes(sample_path):
    at = open_page(logged_in("admin"), "admin_audit")
    assert not at.exception
    assert at.dataframe[0].value.shape[0] > 0


def test_the_member_page_explains_each_renewal_decision(sample_path):
    at = open_page(logged_in("hq"), "member_lookup", member="J0000001")
    assert not at.exception
    texts = [m.value for m in at.markdown]
    assert any("指導実績" in t and "必要 2回" in t for t in texts)
    assert any(t.startswith("判定:") for t in texts)


def test_hq_previews_then_runs_the_renewal_batch_and_sees_its_audit(sample_path):
    at = open_page(logged_in("hq"), "renewal_batch")
    assert not at.exception
    at.date_input(key="batch_as_of").set_value(dt.date(2026, 12, 1))
    next(b for b in at.button if b.label == "プレビュー（書き込みません）").click()
    at.run()
    assert not at.exception
    counts = at.dataframe[0].value
    jptec = counts[counts["制度"] == "JPTEC インストラクター・プロバイダー"].iloc[0]
    assert jptec["延長"] == 1
    at.checkbox(key="batch_confirm").check()
    at.run()
    next(b for b in at.button if b.label == "更新処理を実行").click()
    at.run()
    assert not at.exception
    assert any("実行番号 1" in s.value for s in at.success)
    audit_rows = at.dataframe[-1].value
    assert "有効期限" in list(audit_rows["field"])
    with db.connect(sample_path) as con:
        assert con.execute("SELECT actor FROM renewal_runs").fetchall() == [("hq",)]


def test_the_batch_page_is_not_offered_to_scoped_staff(sample_path):
    with pytest.raises(ValueError, match="Known pages"):
        open_page(logged_in("hq_shizuoka"), "renewal_batch")


def test_the_whatif_page_compares_a_changed_threshold(sample_path):
    at = open_page(logged_in("analyst"), "whatif")
    assert not at.exception
    at.date_input(key="whatif_as_of").set_value(dt.date(2026, 12, 1))
    at.run()
    keys = whatif.tunable_keys(config.current(), dt.date(2026, 12, 1))
    row = keys.index("jptec.instructor.min_courses_taught")
    at.session_state["whatif_editor"] = {
        "edited_rows": {row: {"変更後の値": 3}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    next(b for b in at.button if b.label == "シミュレーション実行").click()
    at.run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["判定が変わる資格"] == "1 件"
    moved = at.dataframe[-2].value
    assert list(moved.iloc[0][["現在", "変更後", "件数"]]) == ["延長", "失効", 1]


def test_the_fee_dashboard_shows_income_arrears_and_rates(sample_path):
    at = open_page(logged_in("analyst"), "fee_dashboard")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["入金額（期間）"] == "0 円"  # the sample has no payments
    assert "回収率（期間内の請求）" in metrics
    assert [r.label for r in at.radio] == ["集計の軸"]


def test_the_member_page_offers_invoice_and_receipt_pdfs(sample_path):
    with db.connect(sample_path) as con:
        con.execute(
            "INSERT INTO billing (member_no, scheme, item, description, amount, issued_on, due_on, status)"
            " VALUES ('A0000001', 'saj', 'saj_annual_fee', '2026年度 一般会員会費 3,500円', 3500,"
            " DATE '2026-11-01', DATE '2026-12-01', 'open')"
        )
    at = open_page(logged_in("hq"), "member_lookup", member="A0000001")
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "請求書PDF（1件・3,500円）" in labels
    assert any("領収書に載せる明細はありません" in c.value for c in at.caption)
