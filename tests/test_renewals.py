"""The renewal rules at their boundaries, with the numbers of SPEC.md (JPTEC, JSPO, teacher)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from core import config
from core.renewals import batch

D = dt.date
BIRTH = D(1980, 5, 1)
LONG_AGO = D(2012, 6, 1)
WINDOW_OPENS = dt.datetime(2017, 4, 3, 13, 0)


@pytest.fixture
def world(con):
    """An empty store with one organisation per scheme and helpers to add members and facts."""
    con.execute(
        "INSERT INTO organizations (org_code, name, kind, parent_code, root_code, path) VALUES"
        " ('JPTEC', 'JPTEC協議会', 'national', NULL, 'JPTEC', '/JPTEC/'),"
        " ('JSPO', '日本スポーツ協会', 'national', NULL, 'JSPO', '/JSPO/'),"
        " ('TEACHER', '更新講習センター', 'national', NULL, 'TEACHER', '/TEACHER/'),"
        " ('ITC', 'ITコーディネータ協会', 'national', NULL, 'ITC', '/ITC/'),"
        " ('SAJ', '全日本スキー連盟', 'national', NULL, 'SAJ', '/SAJ/')"
    )
    return World(con)


class World:
    def __init__(self, con):
        self.con = con
        self.n = 0

    def holder(
        self,
        scheme,
        qualification,
        valid_from,
        valid_until,
        *,
        status="active",
        birth=BIRTH,
        acquired=None,
    ):
        self.n += 1
        member_no = f"M{self.n:04d}"
        org = {"jptec": "JPTEC", "jspo": "JSPO", "teacher": "TEACHER", "itc": "ITC", "saj": "SAJ"}[
            scheme
        ]
        self.con.execute(
            "INSERT INTO members (member_no, org_code, family_name, given_name, family_name_kana,"
            " given_name_kana, birth_date) VALUES (?, ?, '試験', '太郎', 'シケン', 'タロウ', ?)",
            [member_no, org, birth],
        )
        self.con.execute(
            "INSERT INTO qualifications (member_no, scheme, qualification, acquired_on, valid_from,"
            " valid_until, status) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                member_no,
                scheme,
                qualification,
                acquired or valid_from,
                valid_from,
                valid_until,
                status,
            ],
        )
        return member_no

    def activity(self, member_no, scheme, kind, date, **values):
        columns = ["member_no", "scheme", "kind", "date", *values]
        self.con.execute(
            f"INSERT INTO activities ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [member_no, scheme, kind, date, *values.values()],
        )

    def bill(self, member_no, scheme, item, issued_on, *, status="open", amount=2000, due_on=None):
        qid = self.con.execute(
            "SELECT qualification_id FROM qualifications WHERE member_no = ?", [member_no]
        ).fetchall()[0][0]
        self.con.execute(
            "INSERT INTO billing (member_no, scheme, item, description, amount, issued_on, due_on,"
            " status, qualification_id) VALUES (?, ?, ?, 'test', ?, ?, ?, ?, ?)",
            [member_no, scheme, item, amount, issued_on, due_on, status, qid],
        )

    def apply(self, member_no, scheme, kind, submitted_at, *, season=None, status="pending"):
        self.n += 1
        self.con.execute(
            "INSERT INTO applications (application_ref, member_no, scheme, kind, season, submitted_at, status)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [f"APP{self.n:05d}", member_no, scheme, kind, season, submitted_at, status],
        )

    def decision(self, member_no, as_of):
        result = explanation.explain(self.con, member_no, as_of)
        return result["qualifications"][0]

    def stored(self, member_no):
        return self.con.execute(
            "SELECT status, valid_from, valid_until FROM qualifications WHERE member_no = ?",
            [member_no],
        ).fetchall()[0]


def requirement(q, code):
    return next(r for r in q["requirements"] if r["code"] == code)


# --- JPTEC instructor ---------------------------------------------------------------------


def test_instructor_is_checked_the_day_after_the_validity_end(world):
    m = world.holder("jptec", "instructor", D(2024, 4, 1), D(2026, 3, 31))
    world.activity(m, "jptec", "taught", D(2024, 6, 1))
    world.activity(m, "jptec", "taught", D(2025, 9, 1))
    assert world.decision(m, D(2026, 3, 31))["decision"] == "none"
    q = world.decision(m, D(2026, 4, 1))
    assert (q["decision"], q["effective_on"], q["new_valid_until"]) == (
        "extend",
        "2026-04-01",
        "2028-03-31",
    )
    taught = requirement(q, "courses_taught")
    assert (taught["required"], taught["actual"], taught["met"]) == (2, 2, True)
    assert (taught["period_from"], taught["period_to"]) == ("2024-04-01", "2026-03-31")


def test_instructor_with_one_course_taught_is_not_extended(world):
    m = world.holder("jptec", "instructor", D(2024, 4, 1), D(2026, 3, 31))
    world.activity(m, "jptec", "taught", D(2025, 9, 1))
    q = world.decision(m, D(2026, 4, 1))
    assert q["decision"] == "lapse"
    assert requirement(q, "courses_taught")["actual"] == 1


@pytest.mark.parametrize(
    ("day", "counted"),
    [(D(2024, 3, 31), 1), (D(2024, 4, 1), 2), (D(2026, 3, 31), 2), (D(2026, 4, 1), 1)],
)
def test_the_counting_period_is_exactly_the_past_two_years(world, day, counted):
    m = world.holder("jptec", "instructor", D(2024, 4, 1), D(2026, 3, 31))
    world.activity(m, "jptec", "taught", D(2025, 1, 10))
    world.activity(m, "jptec", "taught", day)
    q = world.decision(m, D(2026, 4, 1))
    assert requirement(q, "courses_taught")["actual"] == counted
    assert q["decision"] == ("extend" if counted >= 2 else "lapse")


@pytest.mark.parametrize(
    ("valid_until", "extended_to"),
    [
        (D(2024, 2, 29), "2026-02-28"),
        (D(2026, 3, 31), "2028-03-31"),
        (D(2025, 8, 31), "2027-08-31"),
        (D(2023, 2, 28), "2025-02-28"),
    ],
)
def test_two_year_extension_across_month_ends_and_leap_days(world, valid_until, extended_to):
    m = world.holder("jptec", "instructor", valid_until - dt.timedelta(days=730), valid_until)
    world.activity(m, "jptec", "taught", valid_until - dt.timedelta(days=10))
    world.activity(m, "jptec", "taught", valid_until - dt.timedelta(days=100))
    assert world.decision(m, valid_until + dt.timedelta(days=1))["new_valid_until"] == extended_to


def test_arrears_hold_the_extension_until_paid(world):
    m = world.holder("jptec", "instructor", D(2024, 4, 1), D(2026, 3, 31))
    world.activity(m, "jptec", "taught", D(2024, 6, 1))
    world.activity(m, "jptec", "taught", D(2025, 9, 1))
    world.bill(m, "jptec", "jptec_instructor_new", D(2026, 1, 10))
    q = world.decision(m, D(2026, 4, 1))
    assert q["decision"] == "none"
    assert requirement(q, "fees_paid")["met"] is False
    world.con.execute("UPDATE billing SET status = 'paid', paid_on = DATE '2026-04-02'")
    assert world.decision(m, D(2026, 4, 3))["decision"] == "extend"


@pytest.mark.parametrize(
    ("as_of", "decision"), [(D(2027, 2, 27), "none"), (D(2027, 2, 28), "invalidate")]
)
def test_an_instructor_fee_unpaid_for_four_months_invalidates(world, as_of, decision):
    m = world.holder("jptec", "instructor", D(2026, 11, 1), D(2028, 10, 31))
    world.bill(m, "jptec", "jptec_instructor_renewal", D(2026, 10, 31))
    q = world.decision(m, as_of)
    assert q["decision"] == decision
    if decision == "invalidate":
        assert q["effective_on"] == "2027-02-28"


def test_the_batch_extends_opens_the_fee_audits_and_a_second_run_changes_nothing(world):
    m = world.holder("jptec", "instructor", D(2024, 4, 1), D(2026, 3, 31))
    world.activity(m, "jptec", "taught", D(2024, 6, 1))
    world.activity(m, "jptec", "taught", D(2025, 9, 1))
    dry = batch.run(world.con, D(2026, 4, 1), dry_run=True)
    assert world.stored(m) == ("active", D(2024, 4, 1), D(2026, 3, 31))
    first = batch.run(world.con, D(2026, 4, 1))
    assert dry.counts == first.counts
    assert {"scheme": "jptec", "outcome": "extended", "n": 1} in first.counts
    assert world.stored(m) == ("renewed", D(2026, 4, 1), D(2028, 3, 31))
    line = world.con.execute(
        "SELECT item, amount, issued_on, status, description FROM billing"
    ).fetchall()
    assert line == [
        (
            "jptec_instructor_renewal",
            2000,
            D(2026, 4, 1),
            "open",
            "2026年度 インストラクター更新会費 2,000円",
        )
    ]
    audit = world.con.execute(
        "SELECT field, old_value, new_value FROM audit_log WHERE action = 'renew' ORDER BY field"
    ).fetchall()
    assert audit == [
        ("status", "active", "renewed"),
        ("valid_from", "2024-04-01", "2026-04-01"),
        ("valid_until", "2026-03-31", "2028-03-31"),
    ]
    second = batch.run(world.con, D(2026, 4, 1))
    assert all(c["n"] == 0 for c in second.counts if c["outcome"] != "unchanged")
    assert world.con.execute("SELECT count(*) FROM billing").fetchall() == [(1,)]


# --- JPTEC provider --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("course", "new_valid_until"),
    [
        (D(2026, 5, 10), "2029-05-09"),  # 12 months remained: nothing added
        (D(2026, 6, 10), "2030-05-09"),  # 11 whole months remained: added
        (D(2027, 5, 1), "2030-04-30"),  # under a month remained
        (D(2025, 5, 10), "2028-05-09"),  # two years remained
    ],
)
def test_provider_renewal_course_gives_three_years_plus_remaining_months_under_a_year(
    world, course, new_valid_until
):
    m = world.holder("jptec", "provider", D(2024, 5, 10), D(2027, 5, 9))
    world.activity(m, "jptec", "renewal_course", course)
    q = world.decision(m, course)
    assert (q["decision"], q["effective_on"], q["new_valid_until"]) == (
        "extend",
        course.isoformat(),
        new_valid_until,
    )


def test_provider_without_a_renewal_course_lapses_after_the_end(world):
    m = world.holder("jptec", "provider", D(2024, 5, 10), D(2027, 5, 9))
    assert world.decision(m, D(2027, 5, 9))["decision"] == "none"
    assert world.decision(m, D(2027, 5, 10))["decision"] == "lapse"


# --- JPTEC special extension (有効期間延長等承認申請) ---------------------------------------------


def special_extension(world, m, qualification, submitted, status="approved", reason="childcare"):
    world.n += 1
    world.con.execute(
        "INSERT INTO applications (application_ref, member_no, scheme, kind, qualification, reason,"
        " submitted_at, status) VALUES (?, ?, 'jptec', 'extension', ?, ?, ?, ?)",
        [f"EXT{world.n:05d}", m, qualification, reason, submitted, status],
    )


@pytest.mark.parametrize(("status", "decision"), [("approved", "extend"), ("pending", "lapse")])
def test_an_approved_special_extension_credits_an_instructors_teaching_record(
    world, status, decision
):
    m = world.holder("jptec", "instructor", D(2024, 4, 1), D(2026, 3, 31))
    world.activity(m, "jptec", "taught", D(2025, 9, 1))
    special_extension(world, m, "instructor", dt.datetime(2025, 12, 1, 10), status)
    q = world.decision(m, D(2026, 4, 1))
    assert q["decision"] == decision
    assert requirement(q, "courses_taught")["met"] is (status == "approved")


@pytest.mark.parametrize(
    ("reason", "decision"),
    [
        ("disaster", "extend"),
        ("pregnancy_childbirth", "extend"),
        ("illness", "extend"),
        ("study_abroad", "extend"),
        ("overseas_work", "extend"),
        ("care", "lapse"),  # not one of the guide's reasons: no special extension
        ("other", "lapse"),
    ],
)
def test_only_the_guides_reasons_make_an_extension_special(world, reason, decision):
    m = world.holder("jptec", "instructor", D(2024, 4, 1), D(2026, 3, 31))
    special_extension(world, m, "instructor", dt.datetime(2025, 12, 1, 10), reason=reason)
    assert world.decision(m, D(2026, 4, 1))["decision"] == decision


def test_an_approved_special_extension_gives_a_provider_more_months_once(world):
    m = world.holder("jptec", "provider", D(2024, 5, 10), D(2027, 5, 9))
    special_extension(world, m, "provider", dt.datetime(2027, 1, 15, 10))
    assert world.decision(m, D(2027, 5, 9))["decision"] == "none"
    q = world.decision(m, D(2027, 5, 10))
    assert (q["decision"], q["effective_on"], q["new_valid_until"]) == (
        "extend",
        "2027-05-10",
        "2028-05-09",
    )
    batch.run(world.con, D(2027, 5, 10))
    assert world.stored(m) == ("renewed", D(2027, 5, 10), D(2028, 5, 9))
    assert world.decision(m, D(2028, 5, 10))["decision"] == "lapse"  # the application was used


# --- JSPO ----------------------------------------------------------------------------------


def test_jspo_renewal_opens_two_months_before_expiry_for_those_who_trained(world):
    m = world.holder("jspo", "handball_coach", D(2023, 4, 1), D(2027, 3, 31))
    world.activity(m, "jspo", "training", D(2025, 6, 1), qualification="handball_coach")
    assert world.decision(m, D(2027, 1, 30))["decision"] == "none"
    assert world.decision(m, D(2027, 1, 31))["decision"] == "open_fee"
    batch.run(world.con, D(2027, 1, 31))
    assert world.stored(m)[0] == "renewal_open"
    fee = world.con.execute("SELECT item, amount, status FROM billing").fetchall()
    assert fee == [("jspo_registration", 10000, "open")]
    assert world.decision(m, D(2027, 2, 1))["decision"] == "none"  # the fee is open already
    world.con.execute("UPDATE billing SET status = 'paid', paid_on = DATE '2027-02-10'")
    q = world.decision(m, D(2027, 2, 11))
    assert (q["decision"], q["new_valid_until"]) == ("extend", "2031-03-31")


def test_jspo_without_the_mandatory_training_cannot_renew_and_lapses(world):
    m = world.holder("jspo", "handball_coach", D(2023, 4, 1), D(2027, 3, 31))
    world.activity(
        m, "jspo", "training", D(2025, 6, 1), qualification="soccer_coach"
    )  # another licence's
    assert world.decision(m, D(2027, 2, 1))["decision"] == "none"
    assert world.decision(m, D(2027, 4, 1))["decision"] == "lapse"


# --- ITC ----------------------------------------------------------------------------------------


def itc_member(
    world,
    *,
    points=10.0,
    acquired=LONG_AGO,
    report=True,
    apply_at=WINDOW_OPENS,
):
    m = world.holder("itc", "coordinator", D(2016, 6, 1), D(2017, 5, 31), acquired=acquired)
    if points:
        world.activity(
            m, "itc", "points", D(2016, 10, 1), category="certified_training", points=points
        )
    if apply_at:
        world.apply(m, "itc", "season_registration", apply_at, season=2017)
    if report:
        world.activity(m, "itc", "report", D(2017, 5, 1))
    return m


def test_itc_application_with_enough_points_opens_the_21600_yen_fee(world):
    m = itc_member(world)
    q = world.decision(m, D(2017, 4, 10))
    assert (q["decision"], q["effective_on"]) == ("open_fee", "2017-04-10")
    batch.run(world.con, D(2017, 4, 10))
    assert world.con.execute("SELECT item, amount, status, tax_class FROM billing").fetchall() == [
        ("itc_renewal", 21600, "open", "taxable")  # 21,600 yen tax included
    ]
    world.con.execute("UPDATE billing SET status = 'paid', paid_on = DATE '2017-04-12'")
    q = world.decision(m, D(2017, 5, 2))
    assert (q["decision"], q["new_valid_until"]) == ("extend", "2018-05-31")


@pytest.mark.parametrize(("points", "met"), [(9.5, False), (10.0, True)])
def test_itc_points_of_the_previous_fiscal_year_against_the_threshold(world, points, met):
    m = itc_member(world, points=points)
    q = world.decision(m, D(2017, 4, 10))
    assert requirement(q, "points")["met"] is met
    assert (requirement(q, "points")["period_from"], requirement(q, "points")["period_to"]) == (
        "2016-04-01",
        "2017-03-31",
    )
    assert q["decision"] == ("open_fee" if met else "none")


@pytest.mark.parametrize(
    ("submitted", "counted"),
    [
        (dt.datetime(2017, 4, 3, 12, 59), False),
        (dt.datetime(2017, 4, 3, 13, 0), True),
        (dt.datetime(2017, 5, 31, 23, 59), True),
        (dt.datetime(2017, 6, 1, 0, 0), False),
    ],
)
def test_itc_application_counts_only_inside_the_window(world, submitted, counted):
    m = itc_member(world, apply_at=submitted)
    assert requirement(world.decision(m, D(2017, 6, 2)), "application")["met"] is counted


def test_itc_without_an_application_by_the_deadline_lapses(world):
    m = itc_member(world, apply_at=None)
    assert world.decision(m, D(2017, 5, 31))["decision"] == "none"
    assert world.decision(m, D(2017, 6, 1))["decision"] == "lapse"


@pytest.mark.parametrize(
    ("acquired", "exempt"), [(D(2016, 4, 1), True), (D(2017, 3, 31), True), (D(2016, 3, 31), False)]
)
def test_itc_certified_in_the_previous_fiscal_year_renew_without_a_fee(world, acquired, exempt):
    m = itc_member(world, acquired=acquired)
    q = world.decision(m, D(2017, 5, 2))
    assert q["decision"] == ("extend" if exempt else "open_fee")
    assert requirement(q, "renewal_fee")["required"] == (0 if exempt else 1)


def test_itc_renewal_needs_the_activity_report_by_its_own_deadline(world):
    # itc.report_due = 06-30: only the application is due by May 31 (seed 001, FAQ Q1)
    m = itc_member(world, report=False, acquired=D(2016, 5, 1))
    assert world.decision(m, D(2017, 5, 2))["decision"] == "none"
    assert world.decision(m, D(2017, 6, 1))["decision"] == "none"
    assert world.decision(m, D(2017, 6, 30))["decision"] == "none"
    q = world.decision(m, D(2017, 7, 1))
    assert (q["decision"], q["effective_on"]) == ("lapse", "2017-06-01")
    assert requirement(q, "activity_report")["period_to"] == "2017-06-30"


@pytest.mark.parametrize(
    ("answered", "decision"), [(D(2017, 6, 30), "extend"), (D(2017, 7, 1), "lapse")]
)
def test_itc_report_answered_after_may_counts_until_its_deadline(world, answered, decision):
    m = itc_member(world, report=False, acquired=D(2016, 5, 1))  # exempt from the fee
    world.activity(m, "itc", "report", answered)
    q = world.decision(m, D(2017, 7, 2))
    assert q["decision"] == decision
    if decision == "extend":
        assert (q["effective_on"], q["new_valid_until"]) == ("2017-06-01", "2018-05-31")


def test_itc_fee_paid_in_june_after_applying_in_may_renews_from_june_1(world):
    m = itc_member(world, apply_at=dt.datetime(2017, 5, 31, 20, 0))
    batch.run(world.con, D(2017, 5, 31))  # opens the fee, due a month later
    due = world.con.execute("SELECT due_on FROM billing WHERE member_no = ?", [m]).fetchone()
    assert due == (D(2017, 6, 30),)
    assert world.decision(m, D(2017, 6, 15))["decision"] == "none"  # not lapsed on June 1
    world.con.execute("UPDATE billing SET status = 'paid', paid_on = DATE '2017-06-20'")
    q = world.decision(m, D(2017, 6, 21))
    assert (q["decision"], q["effective_on"], q["new_valid_until"]) == (
        "extend",
        "2017-06-01",
        "2018-05-31",
    )


@pytest.mark.parametrize(
    ("as_of", "decision"), [(D(2017, 6, 30), "none"), (D(2017, 7, 1), "lapse")]
)
def test_itc_fee_unpaid_past_its_due_date_lapses(world, as_of, decision):
    m = itc_member(world, apply_at=dt.datetime(2017, 5, 31, 20, 0))
    batch.run(world.con, D(2017, 5, 31))
    q = world.decision(m, as_of)
    assert q["decision"] == decision
    assert requirement(q, "renewal_fee")["period_to"] == "2017-06-30"


def test_itc_too_few_points_lapse_on_june_1_whatever_else_is_pending(world):
    m = itc_member(world, points=5.0, report=False)
    assert world.decision(m, D(2017, 5, 31))["decision"] == "none"
    assert world.decision(m, D(2017, 6, 1))["decision"] == "lapse"


# --- SAJ ------------------------------------------------------------------------------------------


def saj_member(world, seasons=(2025,), *, pending=()):
    m = world.holder("saj", "instructor", D(2025, 8, 1), D(2026, 7, 31))
    for season in seasons:
        world.apply(
            m,
            "saj",
            "season_registration",
            dt.datetime(season, 8, 20, 10),
            season=season,
            status="approved",
        )
    for season in pending:
        world.apply(m, "saj", "season_registration", dt.datetime(season, 7, 20, 10), season=season)
    return m


@pytest.mark.parametrize(
    ("as_of", "decision"), [(D(2026, 7, 31), "none"), (D(2026, 8, 1), "erase")]
)
def test_saj_member_who_does_not_register_is_erased_after_the_season_ends(world, as_of, decision):
    m = saj_member(world)
    membership = world.decision(m, as_of)
    assert membership["qualification"] == "membership"
    assert (membership["decision"], membership["effective_on"]) == (decision, "2026-08-01")
    batch.run(world.con, as_of)
    row = world.con.execute(
        "SELECT status, family_name, kana_key, org_code FROM members WHERE member_no = ?", [m]
    ).fetchall()[0]
    if decision == "erase":
        assert row == ("erased", None, None, "SAJ")  # the number and the club stay, the person goes
        assert world.stored(m)[0] == "erased"
    else:
        assert row[0] == "active" and row[1] == "試験"


def test_saj_registration_for_the_new_season_keeps_the_member(world):
    m = saj_member(world, pending=(2026,))
    assert world.decision(m, D(2026, 8, 1))["decision"] == "none"


def test_saj_qualification_runs_on_once_the_yearly_fee_is_paid(world):
    m = saj_member(world, seasons=(2025, 2026))
    world.bill(
        m,
        "saj",
        "saj_qualification_registration",
        D(2026, 8, 21),
        amount=1000,
        due_on=D(2026, 9, 20),
    )
    quals = {
        q["qualification"]: q
        for q in explanation.explain(world.con, m, D(2026, 8, 22))["qualifications"]
    }
    assert quals["instructor"]["decision"] == "none"
    world.con.execute("UPDATE billing SET status = 'paid', paid_on = DATE '2026-08-25'")
    quals = {
        q["qualification"]: q
        for q in explanation.explain(world.con, m, D(2026, 8, 26))["qualifications"]
    }
    assert (quals["instructor"]["decision"], quals["instructor"]["new_valid_until"]) == (
        "extend",
        "2027-07-31",
    )


@pytest.mark.parametrize(
    ("as_of", "decision"), [(D(2026, 9, 20), "none"), (D(2026, 9, 21), "lapse")]
)
def test_saj_qualification_fee_unpaid_past_its_due_date_loses_the_qualification(
    world, as_of, decision
):
    m = saj_member(world, seasons=(2025, 2026))
    world.bill(
        m,
        "saj",
        "saj_qualification_registration",
        D(2026, 8, 21),
        amount=1000,
        due_on=D(2026, 9, 20),
    )
    quals = {
        q["qualification"]: q for q in explanation.explain(world.con, m, as_of)["qualifications"]
    }
    assert quals["instructor"]["decision"] == decision


def test_saj_members_without_registration_history_are_left_alone(world):
    m = world.holder("saj", "instructor", D(2025, 8, 1), D(2026, 7, 31))
    quals = explanation.explain(world.con, m, D(2026, 9, 1))["qualifications"]
    assert [q["qualification"] for q in quals] == ["instructor"]
    assert quals[0]["decision"] == "none"


# --- teacher licence renewal -------------------------------------------------------------------


def course(world, m, day, domain, *, hours=6, name=None, score=80, late=None):
    world.activity(
        m,
        "teacher",
        "course",
        day,
        hours=hours,
        domain=domain,
        course_name=name or f"{domain}-{day.isoformat()}",
        score=score,
        minutes_late=late,
    )


def full_course_load(world, m, *, elective_hours=6, late=None, score=80):
    course(world, m, D(2016, 8, 1), "mandatory")
    course(world, m, D(2016, 8, 2), "elective_mandatory")
    course(world, m, D(2017, 8, 1), "elective")
    course(world, m, D(2017, 8, 2), "elective")
    course(world, m, D(2017, 8, 3), "elective", hours=elective_hours, late=late, score=score)


def test_teacher_completing_30_hours_by_domain_is_renewed_after_the_deadline(world):
    m = world.holder("teacher", "regular", D(2008, 4, 1), D(2018, 3, 31), birth=D(1962, 4, 2))
    full_course_load(world, m)
    q = world.decision(m, D(2018, 4, 1))
    assert (q["decision"], q["new_valid_until"]) == ("extend", "2028-03-31")
    total = requirement(q, "total_hours")
    assert (total["actual"], total["period_from"], total["period_to"]) == (
        30,
        "2016-02-01",
        "2018-01-31",
    )
    assert world.decision(m, D(2018, 3, 31))["decision"] == "none"


@pytest.mark.parametrize(
    ("hours", "late", "score", "met"),
    [
        (6, None, 80, True),
        (5.5, None, 80, False),
        (6, 30, 80, True),
        (6, 31, 80, False),
        (6, None, 60, True),
        (6, None, 59, False),
    ],
)
def test_teacher_hours_lateness_and_pass_mark_boundaries(world, hours, late, score, met):
    m = world.holder("teacher", "regular", D(2008, 4, 1), D(2018, 3, 31))
    full_course_load(world, m, elective_hours=hours, late=late, score=score)
    q = world.decision(m, D(2018, 4, 1))
    assert requirement(q, "total_hours")["met"] is met
    assert q["decision"] == ("extend" if met else "lapse")


def test_a_course_title_counts_once_in_a_lifetime(world):
    m = world.holder("teacher", "regular", D(2008, 4, 1), D(2018, 3, 31))
    course(world, m, D(2016, 8, 1), "mandatory")
    course(world, m, D(2016, 8, 2), "elective_mandatory")
    for day in (D(2017, 8, 1), D(2017, 8, 2), D(2017, 8, 3)):
        course(world, m, day, "elective", name="教育の最新事情（選択）")
    q = world.decision(m, D(2018, 4, 1))
    assert requirement(q, "elective_hours")["actual"] == 6
    assert q["decision"] == "lapse"


def test_courses_outside_the_window_do_not_count(world):
    m = world.holder("teacher", "regular", D(2008, 4, 1), D(2018, 3, 31))
    full_course_load(world, m)
    course(world, m, D(2016, 1, 31), "elective")  # a day before the window opens
    course(world, m, D(2018, 2, 1), "elective")  # a day after it closes
    assert requirement(world.decision(m, D(2018, 4, 1)), "elective_hours")["actual"] == 18


@pytest.mark.parametrize(
    ("as_of", "decision", "stored_until"),
    [(D(2022, 6, 30), "none", D(2025, 3, 31)), (D(2022, 7, 1), "convert", None)],
)
def test_licences_valid_when_the_scheme_ended_lose_their_expiry(
    world, as_of, decision, stored_until
):
    m = world.holder("teacher", "regular", D(2015, 4, 1), D(2025, 3, 31))
    assert world.decision(m, as_of)["decision"] == decision
    batch.run(world.con, as_of)
    assert world.stored(m)[2] == stored_until
    assert world.stored(m)[0] == "active"
    later = world.decision(m, D(2026, 1, 1))["decision"]
    assert later == ("none" if decision == "convert" else "convert")  # converted ones never lapse


# --- one source of truth ---------------------------------------------------------------------

from collections import Counter  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from core.demo import build_demo  # noqa: E402
from core.members.records import ERASED_FIELDS  # noqa: E402
from core.renewals import explain as explanation  # noqa: E402
from core.store import db  # noqa: E402

from .test_demo import in_memory_copy  # noqa: E402

DEMO_TODAY = D(2026, 11, 24)
# the status each decision leaves a qualification in (convert and none keep theirs)
STATUS_AFTER = {
    "extend": "renewed",
    "open_fee": "renewal_open",
    "lapse": "lapsed",
    "invalidate": "invalidated",
    "erase": "erased",
}


def _text(value):
    """A value as the audit log keeps it."""
    return None if value is None else str(value)


def _day(value):
    return None if value is None else D.fromisoformat(value)


def _snapshot(con):
    """Qualifications by (member, scheme, qualification), members by number, billing by id."""
    held = {
        (m, s, q): (qid, status, since, until)
        for qid, m, s, q, status, since, until in con.execute(
            "SELECT qualification_id, member_no, scheme, qualification, status, valid_from,"
            " valid_until FROM qualifications"
        ).fetchall()
    }
    people = {
        row[0]: row[1:]
        for row in con.execute(
            f"SELECT member_no, status, {', '.join(ERASED_FIELDS)} FROM members"
        ).fetchall()
    }
    lines = {
        row[0]: row[1:]
        for row in con.execute(
            "SELECT billing_id, member_no, scheme, item, amount, issued_on, status,"
            " qualification_id FROM billing"
        ).fetchall()
    }
    return held, people, lines


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), days=st.integers(-400, 400))
def test_what_explain_predicts_is_what_the_batch_stores_and_audits_and_a_second_run_changes_nothing(
    migrated_template, seed, days
):
    as_of = DEMO_TODAY + dt.timedelta(days=days)
    with in_memory_copy(migrated_template) as con:
        build_demo(con, members=60, seed=seed, today=DEMO_TODAY)
        decided = batch.decisions(batch.requirements(con, as_of))
        rows = {
            (r["member_no"], r["scheme"], r["qualification"]): r
            for r in decided.iter_rows(named=True)
        }
        # before the run: what explain says will happen to the qualifications of every member
        # the rules read (the others' must not change)
        predicted = {
            (member_no, q["scheme"], q["qualification"]): q
            for member_no in sorted(set(decided["member_no"]))
            for q in explanation.explain(con, member_no, as_of)["qualifications"]
        }
        assert {k: q["decision"] for k, q in predicted.items() if q["requirements"]} == {
            k: r["decision"] for k, r in rows.items()
        }
        held, people, lines = _snapshot(con)

        first = batch.run(con, as_of)

        held_after, people_after, lines_after = _snapshot(con)
        audited = Counter(
            con.execute(
                "SELECT actor, action, table_name, row_key, member_no, field, old_value,"
                " new_value FROM audit_log WHERE batch_id = ?",
                [first.batch_id],
            ).fetchall()
        )
        assert con.execute("SELECT run_id, batch_id FROM renewal_runs").fetchall() == [
            (first.run_id, first.batch_id)
        ]

        expected_held, expected_people = dict(held), dict(people)
        expected_audit: Counter = Counter()
        expected_lines: Counter = Counter()
        for key, q in predicted.items():
            member_no, scheme, qualification = key
            decision = q["decision"]
            if qualification == batch.MEMBERSHIP:
                if decision == "erase":  # the person's data cleared, number and club kept
                    status = people[member_no][0]
                    expected_people[member_no] = ("erased",) + (None,) * len(ERASED_FIELDS)
                    expected_audit[("cli:renew", "erase", "members", member_no, member_no,
                                    "status", status, "erased")] += 1  # fmt: skip
                continue
            qid, status, since, until = held[key]
            assert (q["status"], _day(q["valid_from"]), _day(q["valid_until"])) == (
                status, since, until,
            )  # fmt: skip
            if decision == "extend":
                after = ("renewed", _day(q["effective_on"]), _day(q["new_valid_until"]))
                assert after[2] is not None and after[2] > (until or after[1])
            elif decision == "convert":
                after = (status, since, None)
            else:
                after = (STATUS_AFTER.get(decision, status), since, until)
            expected_held[key] = (qid, *after)
            for field, old, new in zip(("status", "valid_from", "valid_until"),
                                       (status, since, until), after, strict=True):  # fmt: skip
                if old != new:
                    expected_audit[("cli:renew", "renew", "qualifications", str(qid), member_no,
                                    field, _text(old), _text(new))] += 1  # fmt: skip
            fee = rows.get(key)
            if decision != "none" and fee is not None and fee["fee_item"] is not None:
                expected_lines[(member_no, scheme, fee["fee_item"], fee["fee_amount"], as_of,
                                "open", qid)] += 1  # fmt: skip

        assert held_after == expected_held
        assert people_after == expected_people
        assert {k: v for k, v in lines_after.items() if k in lines} == lines  # old lines kept
        opened = {k: v for k, v in lines_after.items() if k not in lines}
        assert Counter(opened.values()) == expected_lines
        for billing_id, (member_no, _, item, amount, *_) in opened.items():
            expected_audit[("cli:renew", "insert", "billing", str(billing_id), member_no, "item",
                            None, f"{item} {amount}")] += 1  # fmt: skip
        assert audited == expected_audit
        changed = sum(c["n"] for c in first.counts if c["outcome"] != "unchanged")
        assert changed == sum(1 for r in rows.values() if r["decision"] != "none")

        second = batch.run(con, as_of)
        assert [c for c in second.counts if c["outcome"] != "unchanged" and c["n"]] == []
        assert _snapshot(con) == (held_after, people_after, lines_after)
        assert db.one(
            con, "SELECT count(*) FROM audit_log WHERE batch_id = ?", [second.batch_id]
        ) == (0,)


# --- teacher deadlines from the birth or grant date, exemption and postponement -----------------


@pytest.mark.parametrize(
    ("birth", "deadline"),
    [
        (D(1962, 4, 1), "2017-03-31"),  # April 1 belongs to the school year before
        (D(1962, 4, 2), "2018-03-31"),  # 昭和37年4月2日〜昭和38年4月1日 → 平成30年3月31日
        (D(1963, 4, 1), "2018-03-31"),
        (D(1963, 4, 2), "2019-03-31"),
        (D(1972, 4, 2), "2018-03-31"),  # the age-45 cohort of the same year
        (D(1982, 4, 2), "2018-03-31"),  # and the age-35 one
    ],
)
def test_old_licence_deadline_comes_from_the_school_year_of_birth(world, birth, deadline):
    m = world.holder("teacher", "regular", D(2013, 4, 1), None, birth=birth, acquired=D(1990, 4, 1))
    q = world.decision(m, D(2016, 1, 1))
    assert requirement(q, "deadline")["period_to"] == deadline


@pytest.mark.parametrize(
    ("granted", "deadline"),
    [(D(2007, 4, 1), "2018-03-31"), (D(2008, 3, 31), "2018-03-31"), (D(2008, 4, 1), "2019-03-31")],
)
def test_nutrition_licence_deadline_comes_from_the_grant_date(world, granted, deadline):
    m = world.holder("teacher", "nutrition", granted, None, acquired=granted)
    assert requirement(world.decision(m, D(2016, 1, 1)), "deadline")["period_to"] == deadline


def test_the_deadline_day_of_the_school_year_comes_from_the_configuration(world):
    m = world.holder("teacher", "regular", D(2013, 4, 1), None, birth=D(1962, 4, 2),
                     acquired=D(1990, 4, 1))  # fmt: skip
    moved = config.current().with_overrides({"teacher.deadline_month_day": "03-30"})
    rows = batch.requirements(world.con, D(2016, 1, 1), schemes=("teacher",), cfg=moved)
    deadline = rows.filter((pl.col("member_no") == m) & (pl.col("code") == "deadline"))
    assert deadline["period_to"].to_list() == [D(2018, 3, 30)]


def relief(world, m, kind, reason, submitted):
    world.n += 1
    world.con.execute(
        "INSERT INTO applications (application_ref, member_no, scheme, kind, reason, submitted_at, status)"
        " VALUES (?, ?, 'teacher', ?, ?, ?, 'approved')",
        [f"REL{world.n:05d}", m, kind, reason, submitted],
    )


def test_an_exempt_teacher_renews_without_courses(world):
    m = world.holder("teacher", "regular", D(2008, 4, 1), D(2018, 3, 31))
    relief(world, m, "exemption", "principal", dt.datetime(2017, 10, 1, 9))
    q = world.decision(m, D(2018, 4, 1))
    assert (q["decision"], q["new_valid_until"]) == ("extend", "2028-03-31")
    assert "免除" in requirement(q, "deadline")["label"]


def test_an_exemption_for_a_category_that_is_not_exempt_does_not_count(world):
    m = world.holder("teacher", "regular", D(2008, 4, 1), D(2018, 3, 31))
    relief(world, m, "exemption", "other", dt.datetime(2017, 10, 1, 9))
    assert world.decision(m, D(2018, 4, 1))["decision"] == "lapse"


def test_a_postponed_deadline_moves_instead_of_lapsing(world):
    m = world.holder("teacher", "regular", D(2008, 4, 1), D(2018, 3, 31))
    relief(world, m, "postponement", "childcare", dt.datetime(2017, 6, 1, 9))
    q = world.decision(m, D(2018, 4, 1))
    assert (q["decision"], q["new_valid_until"]) == ("extend", "2019-03-31")
    batch.run(world.con, D(2018, 4, 1))
    assert world.decision(m, D(2019, 4, 1))["decision"] == "lapse"  # used once
