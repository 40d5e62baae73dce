import datetime as dt

import pytest

from core.billing import fees

D = dt.date
ALL = ("jptec", "itc", "jspo", "saj", "teacher")


@pytest.fixture
def billed(sample):
    """The sample members with paid, open and cancelled lines and two payments."""
    sample.execute(
        """
        INSERT INTO payments (payment_id, member_no, scheme, item, amount, handling_fee, method, paid_on, reference)
        VALUES (1, 'A0000001', 'saj', 'saj_annual_fee', 3500, 160, 'convenience_store', DATE '2026-09-05', 'R1'),
               (2, 'J0000001', 'jptec', 'jptec_instructor_renewal', 2000, 84, 'card', DATE '2026-10-02', 'R2')
        """
    )
    sample.execute(
        """
        INSERT INTO billing (member_no, scheme, item, description, amount, handling_fee, issued_on, due_on, paid_on, status, payment_id)
        VALUES ('A0000001', 'saj', 'saj_annual_fee', '2026年度 一般会員会費 3,500円', 3500, 160, DATE '2026-08-20', DATE '2026-09-20', DATE '2026-09-05', 'paid', 1),
               ('J0000001', 'jptec', 'jptec_instructor_renewal', '会費', 2000, 84, DATE '2026-09-30', DATE '2026-10-30', DATE '2026-10-02', 'paid', 2),
               ('J0000002', 'jptec', 'jptec_instructor_renewal', '会費', 2000, 0, DATE '2026-07-20', DATE '2026-08-20', NULL, 'open', NULL),
               ('A0000004', 'saj', 'saj_annual_fee', '会費', 3500, 0, DATE '2026-11-01', DATE '2026-12-01', NULL, 'open', NULL),
               ('A0000002', 'saj', 'saj_annual_fee', '会費', 3500, 0, DATE '2026-08-21', NULL, NULL, 'cancelled', NULL)
        """
    )
    return sample


PERIOD = fees.Period(D(2026, 8, 1), D(2026, 11, 30), ALL)


def test_income_counts_paid_lines_by_the_month_they_were_paid(billed):
    month = fees.income_by_month(billed, "*", PERIOD)
    assert month.select("month", "scheme", "amount", "handling_fee").rows() == [
        (D(2026, 9, 1), "saj", 3500, 160),
        (D(2026, 10, 1), "jptec", 2000, 84),
    ]


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [
        ("scheme", {"saj": 3500, "jptec": 2000}),
        ("prefecture", {"静岡県": 3500, "東京都": 2000}),
        ("method", {"convenience_store": 3500, "card": 2000}),
        ("organization", {"富士山スキークラブ": 3500, "東京都指定地域組織": 2000}),
    ],
)
def test_income_by_each_dimension(billed, dimension, expected):
    frame = fees.income_by(billed, "*", PERIOD, dimension)
    assert dict(zip(frame[dimension], frame["amount"], strict=True)) == expected


def test_outstanding_lines_fall_into_age_bands(billed):
    aging = fees.outstanding(billed, "*", PERIOD, D(2026, 11, 24))
    assert aging.select("scheme", "age_band", "lines", "amount").rows() == [
        ("jptec", "121日以上", 1, 2000),  # issued 2026-07-20: 127 days
        ("saj", "0–30日", 1, 3500),
    ]
    on_the_band_edge = fees.outstanding(billed, "*", PERIOD, D(2026, 11, 17))  # 120 days
    assert ("jptec", "91–120日") in [(r[0], r[1]) for r in on_the_band_edge.rows()]


def test_collection_rate_leaves_cancelled_lines_out(billed):
    rate = {r["scheme"]: r for r in fees.collection_rate(billed, "*", PERIOD).iter_rows(named=True)}
    assert (rate["saj"]["billed"], rate["saj"]["paid"], rate["saj"]["rate_percent"]) == (
        7000,
        3500,
        50.0,
    )
    assert (rate["jptec"]["billed"], rate["jptec"]["paid"]) == (
        2000,
        2000,
    )  # the open one was issued before the period


def test_figures_are_scoped(billed):
    scoped = fees.income_by(billed, "SAJ-22", PERIOD, "scheme")
    assert scoped.rows() == [("saj", 3500, 160, 1)]


def test_handling_fees_count_each_payment_once(billed):
    assert fees.handling_fees(billed, "*", PERIOD) == 160 + 84
    assert fees.handling_fees(billed, "SAJ", PERIOD) == 160
