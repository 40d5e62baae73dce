"""制度設定 with AppTest: an edit previewed over the population before it is saved, a second
admin's approval, a conflict with the files resolved on the page, the file in force."""

import datetime as dt

from core import config
from core.access import users
from core.store import db

from .conftest import PASSWORD
from .readable import labelled
from .test_page_app import logged_in, open_page

KEY = "jptec.instructor.min_courses_taught"
FEE = "jptec.instructor.renewal_fee"


def button(at, label):
    return next(b for b in at.button if b.label == label)


def edit(at, key, value, reason="理事会決定", *, days=1):
    at.selectbox(key="config_scheme").select("jptec")
    at.run()
    at.selectbox(key="config_key").select(key)
    at.run()
    at.number_input(key=f"config_value_{key}").set_value(value)
    at.date_input(key="config_from").set_value(dt.date.today() + dt.timedelta(days=days))
    at.text_area(key="config_reason").input(reason)
    button(at, "影響を確認する").click()
    return at.run()


def test_an_edit_is_previewed_over_the_population_then_saved_and_audited(sample_path):
    at = edit(open_page(logged_in("admin"), "admin_config"), KEY, 3)
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    # the sample's instructor taught two courses: three would lapse him (scope: everyone)
    assert labels["判定が変わる資格（担当範囲）"] == "1 件"
    assert labels["会費収入の差（請求額）"] == "-2,000 円"  # his 2,000-yen renewal fee
    button(at, "変更を保存").click()
    at.run()
    assert not at.exception
    assert [s.value for s in at.success] == ["変更を保存しました。施行日から適用されます。"]
    with db.connect(sample_path) as con:
        rows = con.execute(
            "SELECT actor, action, row_key, old_value, new_value, reason FROM audit_log"
            " WHERE table_name = 'config'"
        ).fetchall()
        later = dt.date.today() + dt.timedelta(days=1)
        assert config.current().value(KEY, on=later) == 3
        assert config.current().value(KEY, on=dt.date.today()) == 2
    assert rows == [("admin", "config_set", KEY, "2", "3", "理事会決定")]
    frame = labelled(at.dataframe[-1])  # the history of edits made here
    assert list(frame["状態"]) == ["有効"] and list(frame["種類"]) == ["値の変更"]


def test_a_changed_input_must_be_previewed_again_before_it_can_be_saved(sample_path):
    at = edit(open_page(logged_in("admin"), "admin_config"), FEE, 2500)
    at.number_input(key=f"config_value_{FEE}").set_value(2600)
    at.run()
    assert "変更を保存" not in [b.label for b in at.button]
    assert any("もう一度" in c.value for c in at.caption)


def test_a_past_effective_day_is_refused_in_words(sample_path):
    at = open_page(logged_in("admin"), "admin_config")
    at.selectbox(key="config_scheme").select("jptec")
    at.run()
    at.selectbox(key="config_key").select(FEE)
    at.run()
    at.date_input(key="config_from").set_value(dt.date.today())
    at.text_area(key="config_reason").input("x")
    with db.connect(sample_path) as con:
        con.execute(
            "INSERT INTO renewal_runs (as_of, schemes, actor, counts, batch_id)"
            " VALUES (current_date, 'jptec', 'cli', '[]', 'b')"
        )
    button(at, "影響を確認する").click()
    at.run()
    assert any("最後の更新処理の基準日" in e.value for e in at.error)


def test_with_second_approval_another_admin_approves_on_the_page(sample_path):
    with db.connect(sample_path) as con:
        users.create(con, username="admin2", display_name="管理 次郎", role="admin",
                     org_code="*", password=PASSWORD, email=None, actor="test")  # fmt: skip
        con.execute(
            "INSERT INTO config_changes (key, kind, effective_from, value_toml, reason,"
            " file_basis, status, requested_by, decided_by, decided_at) VALUES"
            " ('common.config.second_approval', 'set', current_date, 'true', '運用開始',"
            "  '[{ from = 1900-01-01, value = false }]', 'approved', 'admin', 'admin', now())"
        )
    at = edit(open_page(logged_in("admin"), "admin_config"), FEE, 2500)
    assert any("別の管理者が承認" in i.value for i in at.info)
    button(at, "変更を保存").click()
    at.run()
    assert [s.value for s in at.success] == [
        "変更を申請しました。別の管理者の承認後に有効になります。"
    ]
    assert "承認する" not in [b.label for b in at.button]  # not for one's own edit
    other = open_page(logged_in("admin2"), "admin_config")
    other.selectbox(key="config_scheme").select("jptec")
    other.run()
    button(other, "承認する").click()
    other.run()
    assert not other.exception
    with db.connect(sample_path):
        later = dt.date.today() + dt.timedelta(days=1)
        assert config.current().value(FEE, on=later) == 2500


def test_a_conflict_with_the_files_is_shown_and_resolved_with_a_reason(sample_path):
    with db.connect(sample_path) as con:
        con.execute(
            "INSERT INTO config_changes (key, kind, effective_from, value_toml, reason,"
            " file_basis, status, requested_by, decided_by, decided_at) VALUES"
            " (?, 'set', current_date + 10, '2500', '理事会決定',"
            "  '[{ from = 1900-01-01, value = 1900 }]', 'approved', 'admin', 'admin', now())",
            [FEE],
        )
    home = logged_in("admin")  # every page tells admins, not only 制度設定
    assert any("制度設定のファイルが" in w.value for w in home.warning)
    assert not any("制度設定のファイルが" in w.value for w in logged_in("hq").warning)
    at = open_page(home, "admin_config")
    assert any("後から変わっています" in w.value for w in at.warning)
    at.text_input(key=f"config_resolve_reason_{FEE}").input("ファイルが正しい")
    button(at, "ファイルに合わせる（この画面の変更を外す）").click()
    at.run()
    assert not at.exception
    assert not at.warning
    with db.connect(sample_path) as con:
        assert con.execute(
            "SELECT action, reason FROM audit_log WHERE table_name = 'config'"
        ).fetchall() == [("config_adopt_file", "ファイルが正しい")]
        assert config.current().value(FEE, on=dt.date.today() + dt.timedelta(days=20)) == 2000


def test_the_configuration_in_force_downloads_as_a_file(sample_path):
    at = open_page(logged_in("admin"), "admin_config")
    labels = [d.label for d in at.get("download_button")]
    assert "設定ファイルをダウンロード" in labels
