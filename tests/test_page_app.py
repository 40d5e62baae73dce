"""The app with Streamlit's AppTest: log-in, navigation per role, scoping, masking, correction."""

import datetime as dt
from pathlib import Path

import bcrypt
from streamlit.testing.v1 import AppTest

from core import config
from core.renewals import whatif
from core.store import db

from .conftest import PASSWORD
from .readable import labelled, problems

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


def refused(at: AppTest) -> None:
    """A page the user's role may not open, opened by its address: said in Japanese, nothing
    of the page drawn."""
    assert not at.exception
    assert [e.value for e in at.error] == ["このページを開く権限がありません。"]
    assert page_titles(at) == []


def test_the_login_form_is_shown_first(sample_path):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["ユーザーID", "パスワード"]
    assert page_titles(at) == ["資格・会員更新管理"]  # the log-in screen, nothing of a page


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
    at.switch_page(f"views/{page}.py")
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
    refused(open_page(logged_in("hq"), "admin_users"))


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
            "SELECT actor, field, old_value, new_value, reason FROM audit_log"
            " WHERE member_no = 'A0000001' AND action = 'update' ORDER BY field"
        ).fetchall()
        stored = db.one(
            con,
            "SELECT postal_code, prefecture, address, phone FROM members"
            " WHERE member_no = 'A0000001'",
        )
    assert rows == [
        ("hq", "address", "静岡市葵区追手町9-6", "千代田区千代田1-1", "本人から転居の届出"),
        ("hq", "postal_code", "420-0853", "100-0001", "本人から転居の届出"),
        ("hq", "prefecture", "静岡県", "東京都", "本人から転居の届出"),
    ]
    assert stored == ("100-0001", "東京都", "千代田区千代田1-1", "090-1234-5678")


def test_a_bad_postal_code_is_explained_on_the_form(sample_path):
    at = open_page(logged_in("hq"), "member_lookup", member="A0000001")
    at.text_input(key="fix_postal").input("100-0001")
    at.text_area(key="fix_reason").input("転居")
    next(b for b in at.button if b.label == "修正を保存").click()
    at.run()
    messages = [e.value for e in at.error]
    assert any("東京都の番号です" in m for m in messages)
    assert any("千代田区" in i.value for i in at.info)
    with db.connect(sample_path) as con:  # refused: nothing changed, nothing audited
        assert db.one(
            con, "SELECT postal_code, prefecture FROM members WHERE member_no = 'A0000001'"
        ) == ("420-0853", "静岡県")
        assert db.one(
            con,
            "SELECT count(*) FROM audit_log WHERE member_no = 'A0000001' AND action <> 'import'",
        ) == (0,)


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
    form_inputs[2].input("clerk2@example.jp")
    form_inputs[3].input("secret-pass-1")
    next(s for s in at.selectbox if s.label == "役割").select("approver")  # the new-user form's
    next(s for s in at.selectbox if s.label.startswith("担当組織（")).select("SAJ-22-R01")
    next(b for b in at.button if b.label == "追加する").click()
    at.run()
    assert not at.exception
    assert [s.value for s in at.success] == ["ユーザー clerk2 を追加しました。"]
    with db.connect(sample_path) as con:
        user = db.one(
            con,
            "SELECT display_name, email, role, org_code, disabled, password_hash FROM users"
            " WHERE username = 'clerk2'",
        )
        audit_rows = con.execute(
            "SELECT actor, action, field, old_value, new_value, reason FROM audit_log"
            " WHERE table_name = 'users' AND row_key = 'clerk2' ORDER BY audit_id"
        ).fetchall()
    assert user is not None
    *stored, password_hash = user
    assert stored == ["事務 四郎", "clerk2@example.jp", "approver", "SAJ-22-R01", False]
    # only a bcrypt hash of the password is kept, and it matches the password given
    assert password_hash != "secret-pass-1"
    assert bcrypt.checkpw(b"secret-pass-1", password_hash.encode())
    assert audit_rows == [
        ("admin", "insert", "role", None, "approver", "ユーザー作成"),
        ("admin", "insert", "org_code", None, "SAJ-22-R01", "ユーザー作成"),
        ("admin", "insert", "display_name", None, "事務 四郎", "ユーザー作成"),
    ]


def test_admin_audit_page_lists_changes(sample_path):
    at = open_page(logged_in("admin"), "admin_audit")
    assert not at.exception
    assert problems(at) == []
    listed = labelled(at.dataframe[0])
    with db.connect(sample_path) as con:
        stored = con.execute(
            "SELECT actor, row_key FROM audit_log ORDER BY changed_at DESC, audit_id DESC"
        ).fetchall()
    # every row of the log, newest first (the sample's 38 and whatever logging in wrote)
    assert len(stored) >= 38
    assert listed[["実施者", "キー"]].values.tolist() == [list(r) for r in stored]
    assert f"新しい順に {len(stored)} 件" in [m.value for m in at.markdown]
    # codes in words: a user created as an approver, for every organisation, logged in
    created = listed[(listed["キー"] == "approver") & (listed["項目"] == "役割")]
    assert created[["操作", "対象", "変更後"]].values.tolist() == [["追加", "ユーザー", "承認者"]]
    analyst = listed[(listed["キー"] == "analyst") & (listed["項目"] == "担当組織")]
    assert analyst["変更後"].tolist() == ["全組織"]
    logins = listed[(listed["キー"] == "admin") & (listed["操作"] == "ログイン")]
    assert logins["変更後"].tolist() == ["ログイン"]
    at.selectbox[0].select("table:members")
    at.run()
    members = labelled(at.dataframe[0])
    # only the members table: the six members of the sample, imported in file order
    assert list(members["キー"]) == [
        "J0000002",
        "J0000001",
        "A0000004",
        "A0000003",
        "A0000002",
        "A0000001",
    ]
    assert set(members["実施者"]) == {"test"}
    assert set(members["操作"]) == {"取込"}
    for choice, actions in (("logins", {"ログイン"}), ("action:pay", set())):
        at.selectbox[0].select(choice)
        at.run()
        assert set(labelled(at.dataframe[0])["操作"]) == actions, choice


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
    assert list(audit_rows["field"]) == ["状態", "有効開始日", "有効期限", "請求項目"]
    with db.connect(sample_path) as con:
        [(actor, as_of, batch_id)] = con.execute(
            "SELECT actor, as_of, batch_id FROM renewal_runs"
        ).fetchall()
        qualifications = con.execute(
            "SELECT qualification_id, status, valid_from, valid_until FROM qualifications"
            " ORDER BY qualification_id"
        ).fetchall()
        bills = con.execute(
            "SELECT member_no, item, amount, issued_on, status, qualification_id FROM billing"
        ).fetchall()
        audited = con.execute(
            "SELECT actor, table_name, row_key, field, old_value, new_value FROM audit_log"
            " WHERE batch_id = ? ORDER BY audit_id",
            [batch_id],
        ).fetchall()
    assert (actor, as_of) == ("hq", dt.date(2026, 12, 1))
    # J0000001 taught twice in 2024-12-01〜2026-11-30: two more years from the day after the
    # end, and the renewal fee opened; the SAJ qualifications run to 2027 and J0000002's
    # provider qualification had already lapsed
    assert qualifications == [
        (1, "active", dt.date(2026, 8, 1), dt.date(2027, 7, 31)),
        (2, "active", dt.date(2026, 8, 1), dt.date(2027, 7, 31)),
        (3, "renewed", dt.date(2026, 12, 1), dt.date(2028, 11, 30)),
        (4, "lapsed", dt.date(2023, 5, 10), dt.date(2026, 5, 9)),
    ]
    assert bills == [
        ("J0000001", "jptec_instructor_renewal", 2000, dt.date(2026, 12, 1), "open", 3)
    ]
    assert audited == [
        ("hq", "qualifications", "3", "status", "active", "renewed"),
        ("hq", "qualifications", "3", "valid_from", "2024-12-01", "2026-12-01"),
        ("hq", "qualifications", "3", "valid_until", "2026-11-30", "2028-11-30"),
        ("hq", "billing", "1", "item", None, "jptec_instructor_renewal 2000"),
    ]


def test_the_batch_page_is_not_offered_to_scoped_staff(sample_path):
    refused(open_page(logged_in("hq_shizuoka"), "renewal_batch"))


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
    assert problems(at) == []
    moved = labelled(at.dataframe[-2])
    assert moved.values.tolist() == [["JPTEC インストラクター・プロバイダー", "延長", "失効", 1]]
    assert list(moved.columns) == ["制度", "現在の判定", "変更後の判定", "資格数"]
    change = next(m.value for m in at.markdown if m.value.startswith("変更: "))
    assert (
        change
        == "変更: JPTEC インストラクター・プロバイダー 延長に必要な指導回数（期間内） 2回 → 3回"
    )


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
