"""The display layer: codes in words, charts with Japanese axes, long work that reports."""

from __future__ import annotations

import datetime as dt

import plotly.express as px
import polars as pl

from core import config, vocabulary
from core.renewals import batch, whatif
from ui import charts, display

CFG = config.current()


def test_readable_words_codes_booleans_lists_and_qualifications_of_their_scheme():
    frame = pl.DataFrame(
        {
            "scheme": ["jptec", "saj", "saj"],
            "qualification": ["instructor", "instructor", "unknown_one"],
            "status": ["lapsed", "active", None],
            "level": ["prefecture", None, "club"],
            "disabled": [True, False, None],
            "schemes": [["jptec", "itc"], [], ["saj"]],
            "method": ["card", "bank_transfer", "atm"],
        }
    )
    shown = display.readable(frame, CFG, status=vocabulary.QUALIFICATION_STATUSES)
    assert shown.to_dicts() == [
        {"scheme": "JPTEC インストラクター・プロバイダー", "qualification": "インストラクター",
         "status": "失効", "level": "県連", "disabled": "はい",
         "schemes": "JPTEC インストラクター・プロバイダー、ITコーディネータ資格更新",
         "method": "クレジットカード"},
        {"scheme": "SAJ会員登録", "qualification": "指導員", "status": "有効",
         "level": None, "disabled": "いいえ", "schemes": "", "method": "銀行振込"},
        # a code no vocabulary knows stays as it is (and shows), rather than vanishing
        {"scheme": "SAJ会員登録", "qualification": "unknown_one", "status": None,
         "level": "クラブ", "disabled": None, "schemes": "SAJ会員登録", "method": "ATM決済"},
    ]  # fmt: skip


def test_audit_values_are_worded_by_their_table_and_field():
    rows = pl.DataFrame(
        {
            "table_name": ["members", "qualifications", "users", "users", "billing", "members"],
            "field": ["status", "status", "role", "org_code", "item", "address"],
            "action": ["erase", "renew", "insert", "insert", "insert", "update"],
            "old_value": ["active", "active", None, None, None, "静岡市"],
            "new_value": ["erased", "lapsed", "analyst", "*", "saj_annual_fee 3500", "active"],
        }
    )
    shown = display.audit_words(rows, CFG)
    assert shown.select("table_name", "field", "action", "old_value", "new_value").rows() == [
        ("会員", "状態", "抹消", "在籍", "抹消"),
        ("資格", "状態", "更新処理", "有効", "失効"),
        ("ユーザー", "役割", "追加", None, "分析担当"),
        ("ユーザー", "担当組織", "追加", None, "全組織"),
        ("請求", "請求項目", "追加", None, "年会費 3,500円"),
        ("会員", "住所", "変更", "静岡市", "active"),  # an address is no code, whatever it says
    ]


def test_charts_have_japanese_dates_yen_and_whole_counts():
    months = pl.DataFrame(
        {"month": [dt.date(2026, 1, 1), dt.date(2026, 2, 1)], "amount": [1_400_000, 3]}
    )
    money = charts.japanese(px.bar(months, x="month", y="amount"), x="month", y="yen")
    assert (money.layout.xaxis.tickformat, money.layout.yaxis.tickformat) == ("%Y年%-m月", ",.0f")
    assert money.layout.yaxis.ticksuffix == "円"
    few = pl.DataFrame({"day": [dt.date(2026, 11, 1), dt.date(2026, 11, 2)], "n": [1, 2]})
    counted = charts.japanese(px.bar(few, x="day", y="n"), x="day", y="count")
    assert counted.layout.xaxis.tickformat == "%-m月%-d日"
    assert (counted.layout.yaxis.tickformat, counted.layout.yaxis.dtick) == (",d", 1)
    many = pl.DataFrame({"day": [dt.date(2026, 11, 1)], "n": [400]})
    assert charts.japanese(px.bar(many, x="day", y="n"), y="count").layout.yaxis.dtick is None


def recorder():
    seen: list[tuple[float, str]] = []
    return seen, lambda done, doing: seen.append((done, doing))


def test_the_batch_and_the_whatif_say_how_far_they_have_come(sample):
    seen, progress = recorder()
    batch.run(sample, dt.date(2026, 12, 1), actor="test", progress=progress)
    fractions = [done for done, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 0.95
    assert seen[0][1] == "JPTEC インストラクター・プロバイダーの更新要件を判定しています"
    assert "実行を記録しています" in [doing for _, doing in seen]
    seen, progress = recorder()
    whatif.compare(
        sample, dt.date(2026, 12, 1), {"jptec.instructor.min_courses_taught": 3},
        progress=progress,
    )  # fmt: skip
    assert [doing for _, doing in seen] == [
        "現在の設定でJPTEC インストラクター・プロバイダーの更新要件を判定しています",
        "変更後の設定でJPTEC インストラクター・プロバイダーの更新要件を判定しています",
        "都道府県ごとに集計しています",
    ]
