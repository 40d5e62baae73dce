"""Payment methods: limits, the payer's fee by band or rate, and JPTEC's non-card fee."""

import datetime as dt

import polars as pl
import pytest

from core import config
from core.billing import methods
from core.errors import PaymentRefused

DAY = dt.date(2026, 11, 24)


def add_line(con, member_no, scheme, item, amount, issued_on, *, handling_fee=0, status="open"):
    """One billing line; returns its id."""
    return con.execute(
        "INSERT INTO billing (member_no, scheme, item, description, amount, handling_fee,"
        " issued_on, due_on, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING billing_id",
        [
            member_no,
            scheme,
            item,
            f"{item} {amount}円",
            amount,
            handling_fee,
            issued_on,
            issued_on + dt.timedelta(days=30),
            status,
        ],
    ).fetchall()[0][0]


@pytest.mark.parametrize(
    ("method", "total", "fee"),
    [
        ("card", 3500, 147),  # 4.2 % = 147.0
        ("card", 1000, 42),
        ("card", 999, 41),  # 41.958 rounded down
        ("card", 1_000_000, 42_000),
        ("convenience_store", 1, 160),
        ("convenience_store", 2999, 160),
        ("convenience_store", 3000, 220),
        ("convenience_store", 9999, 220),
        ("convenience_store", 10000, 330),
        ("convenience_store", 99999, 660),
        ("convenience_store", 100000, 1110),
        ("convenience_store", 300000, 1110),
        ("pay_easy", 9999, 170),
        ("pay_easy", 10000, 330),
        ("pay_easy", 299999, 1100),
        ("pay_easy", 300000, 1650),
        ("pay_easy", 1_000_000, 2750),
        ("pay_easy_cash_atm", 100000, 660),
        ("virtual_account", 500000, 0),
    ],
)
def test_the_payer_fee_follows_the_configured_band_or_rate(method, total, fee):
    assert methods.handling_fee(method, total, DAY) == fee


def test_convenience_store_takes_300000_and_refuses_300001_with_the_reason():
    by_method = {q.method: q for q in methods.quotes(300_000, DAY)}
    assert by_method["convenience_store"].allowed
    assert by_method["convenience_store"].fee == 1110
    assert not by_method["virtual_account"].allowed  # only above 300,000
    over = {q.method: q for q in methods.quotes(300_001, DAY)}
    assert not over["convenience_store"].allowed
    assert (
        over["convenience_store"].reason_ja == "コンビニ決済は1回300,000円までです（合計300,001円）"
    )
    assert "at most 300,000 yen" in over["convenience_store"].reason_en
    assert over["virtual_account"].allowed and over["card"].allowed and over["pay_easy"].allowed
    assert not over["pay_easy_cash_atm"].allowed
    with pytest.raises(PaymentRefused, match="1回300,000円まで"):
        methods.check_total("convenience_store", 300_001, DAY)
    assert methods.check_total("convenience_store", 300_000, DAY) == 1110


def test_card_takes_1000000_and_refuses_1000001():
    assert methods.check_total("card", 1_000_000, DAY) == 42_000
    with pytest.raises(PaymentRefused, match="1,000,000円まで"):
        methods.check_total("card", 1_000_001, DAY)


def test_cash_atm_pay_easy_stops_at_100000():
    assert methods.check_total("pay_easy_cash_atm", 100_000, DAY) == 660
    with pytest.raises(PaymentRefused):
        methods.check_total("pay_easy_cash_atm", 100_001, DAY)


def test_the_column_fee_expression_agrees_with_the_one_payment_fee():
    cfg = config.current()
    codes = list(methods.in_force(DAY))
    amounts = [1, 999, 2999, 3000, 9999, 10000, 29999, 30000, 99999, 100000, 300000, 1_000_000]
    frame = pl.DataFrame(
        {
            "method": [m for m in codes for _ in amounts],
            "amount": amounts * len(codes),
            "paid_on": [DAY] * (len(codes) * len(amounts)),
        }
    ).with_columns(fee=methods.fee_expression(cfg))
    expected = [
        methods.handling_fee(m, a, DAY)
        for m, a in zip(frame["method"], frame["amount"], strict=True)
    ]
    assert frame["fee"].to_list() == expected
