"""The 送信トレイ page and the member page's 証明書・メール tab, with AppTest."""

from __future__ import annotations

import datetime as dt

from core.renewals import batch
from core.store import db

from .readable import problems
from .test_page_app import logged_in, open_page, refused

ON = dt.date(2026, 12, 1)


def with_mail(path) -> None:
    with db.connect(path) as con:
        batch.run(con, ON)  # J0000001's 「会費納入」 mail
        con.execute(
            "UPDATE outbox SET status = 'sent', sent_at = now(), last_attempt_at = now(), attempts = 1"
        )


def test_hq_reads_a_mail_as_written_and_resends_it(sample_path):
    with_mail(sample_path)
    at = open_page(logged_in("hq"), "outbox")
    assert not at.exception and problems(at) == []
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["送信済"] == "1 通" and metrics["送信待ち"] == "0 通"
    at.session_state["outbox_pick"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert any("インストラクター資格の更新と会費納入のお願い" in m.value for m in at.markdown)
    assert any("田中 健一 様（会員番号 J0000001）" in t.value for t in at.text)
    next(b for b in at.button if b.label == "このメールを再送する").click()
    at.run()
    assert not at.exception
    assert any("再送を作成しました" in s.value for s in at.success)
    with db.connect(sample_path) as con:
        rows = con.execute(
            "SELECT status, resent_from, created_by FROM outbox ORDER BY outbox_id"
        ).fetchall()
        audit_row = db.one(
            con, "SELECT actor, action, table_name FROM audit_log WHERE action = 'resend'"
        )
    assert rows[1] == ("pending", 1, "hq")
    assert audit_row == ("hq", "resend", "outbox")


def test_the_filters_narrow_the_list(sample_path):
    with_mail(sample_path)
    at = open_page(logged_in("hq"), "outbox")
    at.selectbox(key="outbox_status").set_value("failed")
    next(b for b in at.button if b.label == "絞り込む").click()
    at.run()
    assert any("条件に合うメールはありません" in i.value for i in at.info)


def test_a_template_is_previewed_with_sample_values(sample_path):
    at = open_page(logged_in("admin"), "outbox")
    at.selectbox(key="outbox_preview_scheme").set_value("itc")
    at.run()
    at.selectbox(key="outbox_preview_event").set_value("renewal_complete")
    at.run()
    assert any("資格更新通知 兼 資格証明" in m.value for m in at.markdown)
    assert any("資格更新者氏名：見本 太郎" in t.value for t in at.text)


def test_approvers_and_analysts_do_not_open_the_outbox(sample_path):
    for username in ("approver", "analyst"):
        refused(open_page(logged_in(username), "outbox"))


def test_the_member_page_offers_the_certificates_and_saves_the_invoice_addressee(sample_path):
    with db.connect(sample_path) as con:  # valid and paid up for years to come
        con.execute(
            "UPDATE qualifications SET valid_until = current_date + 700 WHERE member_no = 'J0000001'"
        )
    at = open_page(logged_in("hq"), "member_lookup", member="J0000001")
    assert not at.exception and problems(at) == []
    labels = [b.label for b in at.get("download_button")]
    assert "認定証PDF" in labels and "委嘱状PDF" in labels
    at.text_input(key="invoice_addressee").input("株式会社テスト 御中")
    at.text_input(key="invoice_addressee_reason").input("本人の依頼")
    next(b for b in at.button if b.label == "宛名を保存").click()
    at.run()
    assert not at.exception
    with db.connect(sample_path) as con:
        assert db.one(
            con, "SELECT invoice_addressee FROM members WHERE member_no = 'J0000001'"
        ) == ("株式会社テスト 御中",)


def test_the_configuration_page_shows_the_reminders_in_words(sample_path):
    at = open_page(logged_in("admin"), "admin_config")
    assert not at.exception and problems(at) == []
    cells = " ".join(str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel())
    assert "リマインド：会費の未納（請求日の後 1か月・14日以内に送信）" in cells
    assert "reminder_fee_unpaid" not in cells
