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
    assert month.select("month", "scheme", "amount", "payment_fee").rows() == [
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


def headline_fee(con, scope):
    month = fees.income_by_month(con, scope, PERIOD)
    rate = fees.collection_rate(con, scope, PERIOD)
    aging = fees.outstanding(con, scope, PERIOD, D(2026, 11, 24))
    return fees.headline(month, rate, aging)["handling_fee"]


def test_handling_fees_count_each_payment_once(billed):
    assert headline_fee(billed, "*") == 160 + 84
    assert headline_fee(billed, "SAJ") == 160


@pytest.fixture
def club_payment(billed):
    """One payment of 101 yen in fees for three lines of two schemes and two prefectures."""
    billed.execute(
        """
        INSERT INTO payments (payment_id, member_no, scheme, item, amount, handling_fee, method, paid_on, reference)
        VALUES (3, NULL, NULL, NULL, 9000, 101, 'pay_easy', DATE '2026-11-02', 'R3');
        INSERT INTO billing (billing_id, member_no, scheme, item, description, amount, handling_fee, issued_on, due_on, paid_on, status, payment_id)
        VALUES (901, 'A0000003', 'saj', 'saj_annual_fee', '会費', 3500, 0, DATE '2026-10-01', NULL, DATE '2026-11-02', 'paid', 3),
               (902, 'A0000004', 'saj', 'saj_annual_fee', '会費', 3500, 0, DATE '2026-10-01', NULL, DATE '2026-11-02', 'paid', 3),
               (903, 'J0000002', 'jptec', 'jptec_instructor_renewal', '会費', 2000, 0, DATE '2026-10-01', NULL, DATE '2026-11-02', 'paid', 3);
        """
    )
    return billed


def test_a_payments_fee_is_shared_by_its_lines_and_every_breakdown_adds_up(club_payment):
    # 101 yen over 3,500 : 3,500 : 2,000 → 39.3, 39.3, 22.4: floors 39 + 39 + 22 = 100, and
    # the first line takes the yen left over
    by_scheme = fees.income_by(club_payment, "*", PERIOD, "scheme")
    assert by_scheme.sort("scheme").select("scheme", "payment_fee").rows() == [
        ("jptec", 84 + 22),
        ("saj", 160 + 40 + 39),
    ]
    total = headline_fee(club_payment, "*")
    assert total == 160 + 84 + 101
    for dimension in fees.DIMENSIONS:
        frame = fees.income_by(club_payment, "*", PERIOD, dimension)
        assert frame["payment_fee"].sum() == total, dimension
