"""The まとめて支払い and 入金消込 pages and refunds on the member page, with AppTest."""

import datetime as dt

import pytest

from core import imports
from core.store import db

from .readable import labelled, problems
from .test_billing import add_line
from .test_page_app import logged_in, open_page, refused


def select_rows(at, key, rows):
    at.session_state[key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


def button(at, label):
    return next(b for b in at.button if b.label == label)


@pytest.fixture
def club_bills(sample_path):
    """Open SAJ lines under 静岡県スキー連盟 in August and September, one in Tokyo."""
    with db.connect(sample_path) as con:
        ids = [
            add_line(con, "A0000001", "saj", "saj_annual_fee", 3500, dt.date(2026, 8, 1)),
            add_line(con, "A0000002", "saj", "saj_annual_fee", 3500, dt.date(2026, 8, 1)),
            add_line(con, "A0000003", "saj", "saj_annual_fee", 1000, dt.date(2026, 9, 1)),
            add_line(con, "A0000004", "saj", "saj_annual_fee", 3500, dt.date(2026, 8, 1)),
        ]
    return sample_path, ids


def test_staff_select_a_clubs_lines_see_fees_and_record_one_payment(club_bills):
    path, ids = club_bills
    at = open_page(logged_in("hq_shizuoka"), "club_payment")
    assert not at.exception
    assert at.title[0].value == "まとめて支払い"
    assert list(at.dataframe[0].value["billing_id"]) == ids[:3]  # Tokyo's line is out of scope
    at.multiselect(key="pay_months").select(dt.date(2026, 8, 1))
    at.run()
    assert list(at.dataframe[0].value["billing_id"]) == ids[:2]
    at.multiselect(key="pay_months").unselect(dt.date(2026, 8, 1))
    at.run()
    at = select_rows(at, "pay_lines", [0, 2])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["合計（明細の金額＋事務手数料）"] == "4,500 円"
    assert problems(at) == []
    fees = labelled(at.dataframe[1]).set_index("支払方法")
    assert list(fees.columns) == ["決済手数料（支払者負担）", "支払総額", "利用"]
    assert fees.loc["コンビニ決済", "決済手数料（支払者負担）"] == 220
    assert fees.loc["クレジットカード", "決済手数料（支払者負担）"] == 189  # 4.2 % of 4,500
    assert fees.loc["クレジットカード", "支払総額"] == 4500 + 189
    assert fees.loc["コンビニ決済", "利用"] == "○"
    assert fees.loc["バーチャル口座振込（30万円超）", "利用"].startswith("×")
    at.selectbox(key="pay_method").select("convenience_store")
    at.text_input(key="pay_reference").input("CVS-2026-0001")
    button(at, "入金を記録").click()
    at.run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    today = dt.date.today()  # the form's default 入金日
    with db.connect(path) as con:
        [(payment_id, *payment)] = con.execute(
            "SELECT payment_id, amount, handling_fee, method, paid_on, reference, payer_org_code,"
            " recorded_by FROM payments"
        ).fetchall()
        assert payment == [4500, 220, "convenience_store", today, "CVS-2026-0001", "SAJ-22",
                           "hq_shizuoka"]  # fmt: skip
        assert con.execute(
            "SELECT billing_id, status, payment_id, paid_on FROM billing ORDER BY billing_id"
        ).fetchall() == [
            (ids[0], "paid", payment_id, today),
            (ids[1], "open", None, None),
            (ids[2], "paid", payment_id, today),
            (ids[3], "open", None, None),
        ]
        audited = con.execute(
            "SELECT actor, action, table_name, row_key, old_value, new_value FROM audit_log"
            " WHERE action IN ('insert', 'pay') AND table_name IN ('payments', 'billing')"
            " ORDER BY audit_id"
        ).fetchall()
    assert audited == [
        ("hq_shizuoka", "insert", "payments", str(payment_id), None, "4500"),
        ("hq_shizuoka", "pay", "billing", str(ids[0]), "open", "paid"),
        ("hq_shizuoka", "pay", "billing", str(ids[2]), "open", "paid"),
    ]
    assert [s.value for s in at.success] == [
        f"入金を記録しました（入金番号 {payment_id}・2件・4,500円、手数料 220円）。"
    ]


def test_a_total_over_the_convenience_store_limit_is_refused_on_the_page(sample_path):
    with db.connect(sample_path) as con:
        add_line(con, "A0000001", "saj", "saj_competitor", 200_000, dt.date(2026, 8, 1))
        add_line(con, "A0000002", "saj", "saj_competitor", 100_001, dt.date(2026, 8, 1))
    at = open_page(logged_in("hq"), "club_payment")
    at.selectbox(key="pay_org").select("SAJ-22")
    at.run()
    at = select_rows(at, "pay_lines", [0, 1])
    fees = labelled(at.dataframe[1]).set_index("支払方法")
    assert (
        fees.loc["コンビニ決済", "利用"] == "× コンビニ決済は1回300,000円までです（合計300,001円）"
    )
    assert fees.loc["バーチャル口座振込（30万円超）", "利用"] == "○"
    at.selectbox(key="pay_method").select("convenience_store")
    at.text_input(key="pay_reference").input("CVS-X")
    button(at, "入金を記録").click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["コンビニ決済は1回300,000円までです（合計300,001円）"]
    with db.connect(sample_path) as con:
        assert con.execute("SELECT count(*) FROM payments").fetchall() == [(0,)]
        assert con.execute("SELECT DISTINCT status FROM billing").fetchall() == [("open",)]


def test_the_payment_pages_are_not_offered_to_analysts(sample_path):
    refused(open_page(logged_in("analyst"), "club_payment"))
    refused(open_page(logged_in("analyst"), "reconciliation"))


def test_staff_apply_an_under_payment_from_the_reconciliation_page(sample_path, tmp_path):
    with db.connect(sample_path) as con:
        line = add_line(con, "A0000001", "saj", "saj_annual_fee", 3500, dt.date(2026, 8, 1))
        file = tmp_path / "payments.csv"
        file.write_text(
            "member_no,scheme,item,amount,method,paid_on,reference\n"
            "A0000001,saj,saj_annual_fee,3000,card,2026-11-20,UNDER-1\n"
            "A9999999,saj,saj_annual_fee,3500,card,2026-11-20,NOBODY-1\n",
            encoding="utf-8",
        )
        imports.import_file(con, "payments", file)
    at = open_page(logged_in("hq"), "reconciliation")
    assert not at.exception
    listed = at.dataframe[0].value
    assert sorted(listed["kind"]) == ["不足", "該当なし"]
    row = list(listed["reference"]).index("UNDER-1")
    at = select_rows(at, "recon_pick", [row])
    at.radio(key="recon_action").set_value("apply")
    at.run()
    assert at.selectbox(key="recon_line").value == line
    at.text_area(key="recon_note").input("差額500円は次年度に請求")
    button(at, "明細に充当する").click()
    at.run()
    assert not at.exception
    item = listed.iloc[row]["item_id"]
    assert [s.value for s in at.success] == [
        f"消込番号 {item} を「明細に充当する」で処理しました。"
    ]
    assert list(at.dataframe[0].value["reference"]) == ["NOBODY-1"]
    # a write-off without a note is refused in words
    at = select_rows(at, "recon_pick", [0])
    at.radio(key="recon_action").set_value("write_off")
    at.run()
    button(at, "処理済みにする（償却・メモ必須）").click()
    at.run()
    assert [e.value for e in at.error] == ["理由（メモ）を入力してください"]
    with db.connect(sample_path) as con:
        # the line is paid by the under-payment, on the day it was paid
        [(status, paid_on, reference)] = con.execute(
            "SELECT b.status, b.paid_on, p.reference FROM billing b JOIN payments p USING (payment_id)"
        ).fetchall()
        assert (status, paid_on, reference) == ("paid", dt.date(2026, 11, 20), "UNDER-1")
        why = f"消込 #{item}: 入金 3,000円を明細（3,500円）に充当。差額500円は次年度に請求"
        assert con.execute(
            "SELECT p.reference, r.status, r.resolved_by, r.billing_id, r.note FROM reconciliation r"
            " JOIN payments p USING (payment_id) ORDER BY p.reference"
        ).fetchall() == [
            ("NOBODY-1", "open", None, None, None),
            ("UNDER-1", "applied", "hq", line, why),
        ]
        audited = con.execute(
            "SELECT actor, action, table_name, row_key, old_value, new_value FROM audit_log"
            " WHERE actor = 'hq' AND table_name <> 'users' ORDER BY audit_id"
        ).fetchall()
    assert audited == [
        ("hq", "pay", "billing", str(line), "open", "paid"),
        ("hq", "resolve", "reconciliation", str(item), "open", "applied"),
    ]  # the refused write-off wrote nothing


def test_staff_refund_a_double_payment_and_saj_refuses_refunds(sample_path):
    with db.connect(sample_path) as con:
        con.execute(
            "INSERT INTO payments (payment_id, member_no, scheme, amount, method, paid_on,"
            " reference) VALUES (900, 'J0000001', 'jptec', 2000, 'card', '2026-11-02', 'R-900')"
        )
        con.execute(
            "INSERT INTO billing (member_no, scheme, item, description, amount, issued_on,"
            " paid_on, status, payment_id) VALUES ('J0000001', 'jptec',"
            " 'jptec_instructor_renewal', '2026年度 更新会費 2,000円', 2000, '2026-11-01',"
            " '2026-11-02', 'paid', 900), ('A0000001', 'saj', 'saj_annual_fee',"
            " '2026年度 一般会員会費 3,500円', 3500, '2026-11-01', '2026-11-02', 'paid', 900)"
        )
    at = open_page(logged_in("hq"), "member_lookup", member="J0000001")
    next(b for b in at.button if b.label == "返金を記録").click()
    at.run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        "返金を記録しました（2026年度 更新会費 2,000円（2,000円・入金日 2026/11/02）・二重払い）。"
    ]
    saj = open_page(logged_in("hq"), "member_lookup", member="A0000001")
    assert any("入金後の返金はできません" in i.value for i in saj.info)
    with db.connect(sample_path) as con:
        assert con.execute(
            "SELECT member_no, status FROM billing ORDER BY member_no"
        ).fetchall() == [("A0000001", "paid"), ("J0000001", "refunded")]
        [(billing_id, *refund)] = con.execute(
            "SELECT billing_id, payment_id, member_no, scheme, amount, reason, note, refunded_on,"
            " recorded_by FROM refunds"
        ).fetchall()
        assert refund == [900, "J0000001", "jptec", 2000, "double_payment", None,
                          dt.date.today(), "hq"]  # fmt: skip
        audited = con.execute(
            "SELECT actor, action, table_name, row_key, old_value, new_value, reason"
            " FROM audit_log WHERE actor = 'hq' AND table_name <> 'users'"
        ).fetchall()
    assert audited == [
        ("hq", "refund", "billing", str(billing_id), "paid", "refunded", "返金 2,000円: 二重払い")
    ]
