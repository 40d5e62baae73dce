"""The demo generator: deterministic, internally consistent, and full of live work."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core import config, schemes
from core.demo import DEMO_TABLES, build_demo

from .conftest import in_memory_copy

MEMBERS = 2000
TODAY = dt.date(2026, 11, 24)
KEYS = {
    "organizations": "org_code",
    "members": "member_no",
    "qualifications": "qualification_id",
    "activities": "activity_id",
    "billing": "billing_id",
    "payments": "payment_id",
}
STAMPS = ("created_at", "updated_at", "recorded_at")


@pytest.fixture(scope="module")
def demo(migrated_template: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory database with the demo for 2,000 members (seed 42), closed after."""
    with in_memory_copy(migrated_template) as con:
        build_demo(con, members=MEMBERS, seed=42, today=TODAY)
        yield con


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def table(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    """A whole table ordered by its key, without the insertion timestamps."""
    frame = con.sql(f"SELECT * FROM {name} ORDER BY {KEYS[name]}").pl()
    return frame.drop([c for c in STAMPS if c in frame.columns])


def test_the_same_seed_gives_identical_rows_in_every_table(con, other_con):
    for database in (con, other_con):
        build_demo(database, members=MEMBERS, seed=42, today=TODAY)
    for name in KEYS:
        assert_frame_equal(table(con, name), table(other_con, name))


def test_another_seed_gives_other_members_and_qualifications(con, other_con):
    build_demo(con, members=MEMBERS, seed=42, today=TODAY)
    build_demo(other_con, members=MEMBERS, seed=43, today=TODAY)
    for name in ("members", "qualifications", "activities", "billing"):
        assert not table(con, name).equals(table(other_con, name)), name


def test_counts_match_the_tables_and_each_table_is_audited_once(demo):
    counts = {name: rows(demo, f"SELECT count(*) FROM {name}")[0][0] for name in DEMO_TABLES}
    assert counts == {  # seed 42, 2,000 members, as of TODAY
        "organizations": 737,
        "members": MEMBERS,
        "qualifications": 1670,
        "activities": 18791,
        "billing": 4667,
        "payments": 3469,
        "applications": 1521,
    }
    audit = rows(
        demo,
        "SELECT table_name, new_value, count(DISTINCT batch_id) OVER () FROM audit_log"
        " WHERE actor = 'cli:demo' AND action = 'demo' ORDER BY audit_id",
    )
    assert {name: int(value) for name, value, _ in audit} == counts
    assert len(audit) == len(DEMO_TABLES) and audit[0][2] == 1


def test_a_second_build_is_refused_and_writes_nothing(demo):
    before = rows(demo, "SELECT count(*) FROM members")[0][0]
    with pytest.raises(ValueError, match="already has"):
        build_demo(demo, members=10, seed=1, today=TODAY)
    assert rows(demo, "SELECT count(*) FROM members")[0][0] == before


def test_member_numbers_are_unique_and_carry_the_scheme_prefix(demo):
    cfg = config.current()
    found = rows(demo, "SELECT member_no, count(*) OVER (PARTITION BY member_no) FROM members")
    assert all(n == 1 for _, n in found)
    prefixes = {cfg.value(f"{s}.member_no_prefix") for s in schemes.CODES}
    assert all(re.fullmatch(r"[A-Z]\d{7}", no) and no[0] in prefixes for no, _ in found)


def test_scheme_shares_follow_the_split(demo):
    share = dict(
        rows(demo, "SELECT left(member_no, 1), count(*) / ? FROM members GROUP BY 1", [MEMBERS])
    )
    assert share == {"A": 0.40, "S": 0.25, "J": 0.15, "I": 0.10, "T": 0.10}


def test_every_kana_reading_is_katakana(demo):
    bad = rows(
        demo,
        "SELECT member_no FROM members WHERE status <> 'erased' AND NOT ("
        " regexp_full_match(family_name_kana, '^[ァ-ヶー]+$')"
        " AND regexp_full_match(given_name_kana, '^[ァ-ヶー]+$'))",
    )
    assert bad == []
    keys = rows(
        demo, "SELECT count(*) FROM members WHERE kana_key <> family_name_kana || given_name_kana"
    )
    assert keys == [(0,)]


def test_postal_code_prefecture_and_address_agree_with_japan_post(demo):
    bad = rows(
        demo,
        "SELECT m.member_no FROM members m LEFT JOIN ref_postal_codes r"
        " ON r.postal_code = m.postal_code AND r.prefecture = m.prefecture"
        " WHERE m.status <> 'erased' AND (r.postal_code IS NULL OR NOT starts_with(m.address, r.city))",
    )
    assert bad == []
    wide = rows(demo, "SELECT address FROM members WHERE regexp_matches(address, '[０-９（）]')")
    assert wide == []


def test_erased_members_keep_number_and_club_but_no_personal_data(demo):
    erased = rows(
        demo,
        "SELECT org_code, family_name, kana_key, birth_date, email, phone, address"
        " FROM members WHERE status = 'erased'",
    )
    assert len(erased) == 20  # seed 42
    assert all(r[0] and all(v is None for v in r[1:]) for r in erased)


def test_contact_data_looks_japanese(demo):
    phones = [p for (p,) in rows(demo, "SELECT phone FROM members WHERE phone IS NOT NULL")]
    assert all(re.fullmatch(r"0\d{1,3}-\d{2,4}-\d{4}", p) and len(p) in (12, 13) for p in phones)
    mobile = sum(p[:3] in ("090", "080", "070") for p in phones) / len(phones)
    assert 0.6 < mobile < 0.9
    emails = [e for (e,) in rows(demo, "SELECT email FROM members WHERE email IS NOT NULL")]
    assert all(re.fullmatch(r"[a-z0-9._]+@example\.(jp|com|ne\.jp)", e) for e in emails)


def test_org_paths_start_at_their_root_and_every_parent_exists(demo):
    bad = rows(
        demo,
        "SELECT o.org_code FROM organizations o LEFT JOIN organizations p ON p.org_code = o.parent_code"
        " WHERE NOT starts_with(o.path, '/' || o.root_code || '/') OR contains(o.org_code, '/')"
        " OR (o.parent_code IS NULL) <> (o.kind = 'national')"
        " OR (o.parent_code IS NOT NULL AND (p.org_code IS NULL OR o.path <> p.path || o.org_code || '/'))",
    )
    assert bad == []
    cfg = config.current()
    roots = {r for (r,) in rows(demo, "SELECT org_code FROM organizations WHERE kind = 'national'")}
    assert roots == {cfg.value(f"{s}.root_org_code") for s in schemes.CODES}
    per_root = rows(
        demo, "SELECT root_code, count(*) FROM organizations WHERE kind = 'prefecture' GROUP BY 1"
    )
    assert {n for _, n in per_root} == {47}
    assert rows(demo, "SELECT name FROM organizations WHERE org_code = 'SAJ-13'") == [
        ("東京都スキー連盟",)
    ]
    assert rows(demo, "SELECT prefecture FROM organizations WHERE org_code = 'JPTEC-01'") == [
        ("北海道",)
    ]
    regions = rows(
        demo, "SELECT count(*) FROM organizations WHERE kind = 'region' AND root_code = 'SAJ'"
    )
    assert regions == [(16,)]  # seed 42


def test_every_member_belongs_to_the_tree_of_their_scheme(demo):
    bad = rows(
        demo,
        "SELECT q.member_no FROM qualifications q JOIN members m USING (member_no)"
        " JOIN organizations o ON o.org_code = m.org_code"
        " WHERE o.root_code <> upper(q.scheme) OR o.kind IN ('national', 'region')",
    )
    assert bad == []
    homeless = rows(
        demo,
        "SELECT count(*) FROM members WHERE org_code NOT IN (SELECT org_code FROM organizations)",
    )
    assert homeless == [(0,)]


def test_every_status_of_the_check_list_occurs(demo):
    checks = rows(
        demo,
        "SELECT constraint_text FROM duckdb_constraints()"
        " WHERE table_name = 'qualifications' AND constraint_type = 'CHECK'",
    )
    allowed = {v for (text,) in checks if "status" in text for v in re.findall(r"'(\w+)'", text)}
    assert len(allowed) == 8
    found = {s for (s,) in rows(demo, "SELECT DISTINCT status FROM qualifications")}
    assert found == allowed


def test_qualification_codes_come_from_the_configuration(demo):
    cfg = config.current()
    for scheme, code in rows(demo, "SELECT DISTINCT scheme, qualification FROM qualifications"):
        assert code in cfg.value(f"{scheme}.qualifications"), (scheme, code)
    certs = rows(demo, "SELECT certificate_no FROM qualifications")
    assert len({c for (c,) in certs}) == len(certs)
    assert all(re.fullmatch(r"[A-Z]+-[A-Z]+-\d{4}-\d{6}", c) for (c,) in certs)


def test_validity_dates_are_ordered_and_include_month_ends(demo):
    assert rows(demo, "SELECT count(*) FROM qualifications WHERE valid_from > valid_until") == [
        (0,)
    ]
    ends = {
        d
        for (d,) in rows(demo, "SELECT DISTINCT strftime(valid_until, '%m-%d') FROM qualifications")
    }
    assert {"02-28", "02-29", "01-31", "03-31", "05-31", "07-31"} <= ends


def test_some_jptec_instructors_expired_yesterday_and_await_the_batch(demo):
    yesterday = TODAY - dt.timedelta(days=1)
    waiting = rows(
        demo,
        "SELECT count(*) FROM qualifications WHERE scheme = 'jptec'"
        " AND qualification = 'instructor' AND status = 'active' AND valid_until = ?",
        [yesterday],
    )
    assert waiting == [(3,)]  # seed 42


def test_jptec_instructors_ending_soon_taught_exactly_one_or_two_courses(demo):
    taught = rows(
        demo,
        "SELECT n, count(*) FROM (SELECT q.qualification_id, count(a.date) n FROM qualifications q"
        " LEFT JOIN activities a ON a.member_no = q.member_no AND a.kind = 'taught'"
        " AND a.date BETWEEN q.valid_from AND q.valid_until"
        " WHERE q.scheme = 'jptec' AND q.qualification = 'instructor' AND q.status = 'active'"
        " AND q.valid_until < ? + INTERVAL 3 MONTH GROUP BY 1) GROUP BY 1",
        [TODAY],
    )
    # seed 42: both sides of the two-course boundary (0 or 1 short, 2 exactly) and above
    assert dict(taught) == {0: 4, 1: 4, 2: 5, 3: 6, 4: 4, 5: 4}


def test_extended_instructors_taught_enough_in_the_period_before(demo):
    cfg = config.current()
    needed = cfg.value("jptec.instructor.min_courses_taught", on=TODAY)
    short = rows(
        demo,
        "SELECT q.qualification_id FROM qualifications q LEFT JOIN activities a"
        " ON a.member_no = q.member_no AND a.kind = 'taught'"
        " AND a.date BETWEEN q.valid_from - INTERVAL 2 YEAR AND q.valid_from - INTERVAL 1 DAY"
        " WHERE q.scheme = 'jptec' AND q.qualification = 'instructor' AND q.acquired_on < q.valid_from"
        " AND q.status IN ('active', 'renewed', 'renewal_open', 'invalidated')"
        " GROUP BY 1 HAVING count(a.date) < ?",
        [needed],
    )
    assert short == []


def test_itc_points_straddle_the_threshold(demo):
    cfg = config.current()
    threshold = float(cfg.value("itc.points.threshold", on=TODAY))
    totals = rows(
        demo,
        "SELECT sum(points)::DOUBLE FROM activities WHERE scheme = 'itc'"
        " AND date BETWEEN '2025-04-01' AND '2026-03-31' GROUP BY member_no",
    )
    values = [t for (t,) in totals]
    assert threshold - 0.5 in values and threshold in values
    assert any(t < threshold for t in values) and any(t > threshold for t in values)
    categories = {
        c for (c,) in rows(demo, "SELECT DISTINCT category FROM activities WHERE scheme = 'itc'")
    }
    assert categories <= set(cfg.value("itc.points.categories"))


def test_teacher_courses_hit_the_score_and_lateness_boundaries(demo):
    course = "FROM activities WHERE scheme = 'teacher' AND kind = 'course'"
    scores = {s for (s,) in rows(demo, f"SELECT DISTINCT score {course}")}
    late = {m for (m,) in rows(demo, f"SELECT DISTINCT minutes_late {course}")}
    assert {59, 60, None} <= scores and {30, 31, None} <= late
    assert rows(demo, f"SELECT DISTINCT hours::DOUBLE {course}") == [(6.0,)]
    domains = {d for (d,) in rows(demo, f"SELECT DISTINCT domain {course}")}
    assert domains == {"mandatory", "elective_mandatory", "elective"}
    repeats = rows(
        demo, f"SELECT member_no, course_name {course} GROUP BY 1, 2 HAVING count(*) > 1"
    )
    assert len(repeats) == 8  # seed 42: the same title taken twice, to be counted once


def test_teacher_licences_valid_at_the_scheme_end_lost_their_expiry(demo):
    end = config.current().value("teacher.scheme_ends")
    nulls, lapsed_late, licences = rows(
        demo,
        "SELECT count(*) FILTER (WHERE valid_until IS NULL),"
        " count(*) FILTER (WHERE status = 'lapsed' AND valid_until >= ?), count(*)"
        " FROM qualifications WHERE scheme = 'teacher'",
        [end],
    )[0]
    assert (nulls, lapsed_late, licences) == (149, 0, 200)  # seed 42


def test_activities_average_about_ten_per_member(demo):
    per_member = rows(demo, "SELECT count(*) / ? FROM activities", [MEMBERS])[0][0]
    assert 8 <= per_member <= 12
    kinds = set(rows(demo, "SELECT DISTINCT scheme, kind FROM activities"))
    assert kinds == {
        ("jptec", "taught"),
        ("jptec", "renewal_course"),
        ("itc", "points"),
        ("jspo", "training"),
        ("teacher", "course"),
    }


def test_nothing_happens_after_today(demo):
    late = rows(
        demo,
        "SELECT (SELECT max(date) FROM activities), (SELECT max(issued_on) FROM billing),"
        " (SELECT max(paid_on) FROM billing), (SELECT max(joined_on) FROM members)",
    )[0]
    assert all(d <= TODAY for d in late)


def test_billing_amounts_and_descriptions_follow_the_configuration(demo):
    cfg = config.current()
    fees = {
        "jptec_instructor_new": cfg.value("jptec.instructor.new_fee", on=TODAY),
        "jptec_instructor_renewal": cfg.value("jptec.instructor.renewal_fee", on=TODAY),
        "itc_renewal": cfg.value("itc.fee", on=TODAY),
        "saj_qualification_registration": cfg.value("saj.fee.qualification_registration", on=TODAY),
    }
    for item, fee in fees.items():
        assert rows(demo, "SELECT DISTINCT amount FROM billing WHERE item = ?", [item]) == [(fee,)]
    descriptions = [d for (d,) in rows(demo, "SELECT description FROM billing")]
    assert all(re.fullmatch(r"\d{4}年度 \S+.* [\d,]+円", d) for d in descriptions)
    general = cfg.value("saj.fee.general.saj", on=TODAY) + cfg.value(
        "saj.fee.general.prefecture", on=TODAY
    )
    described = rows(
        demo,
        "SELECT description, count(*) FROM billing WHERE description IN (?, ?) GROUP BY 1",
        [f"2026年度 一般会員会費 {general:,}円", "2026年度 県連会費有資格者差額 2,000円"],
    )
    assert dict(described) == {  # seed 42
        f"2026年度 一般会員会費 {general:,}円": 664,
        "2026年度 県連会費有資格者差額 2,000円": 134,
    }


def test_jptec_handling_fee_only_on_non_card_payments_after_it_started(demo):
    cfg = config.current()
    history = cfg.history("jptec.non_card_handling_fee")
    started = min(h.start for h in history if h.value > 0)
    fee = rows(
        demo,
        "SELECT DISTINCT b.handling_fee, p.method <> 'card', b.paid_on >= ? FROM billing b"
        " JOIN payments p USING (payment_id) WHERE b.scheme = 'jptec'",
        [started],
    )
    assert set(fee) == {(0, False, False), (0, False, True), (0, True, False), (700, True, True)}


def test_unpaid_instructor_fees_become_arrears_and_invalidate(demo):
    months = config.current().value("jptec.instructor.unpaid_invalidation_months", on=TODAY)
    lines = rows(
        demo,
        "SELECT q.status, b.issued_on <= ? - to_months(?) FROM billing b"
        " JOIN qualifications q USING (qualification_id) WHERE b.scheme = 'jptec' AND b.status = 'open'",
        [TODAY, months],
    )
    assert {("renewal_open", False), ("invalidated", True)} == set(lines)


def test_paid_lines_have_a_payment_that_sums_them(demo):
    orphans = rows(
        demo, "SELECT count(*) FROM billing WHERE (status = 'paid') <> (payment_id IS NOT NULL)"
    )
    assert orphans == [(0,)]
    mismatched = rows(
        demo,
        "SELECT p.payment_id FROM payments p JOIN billing b USING (payment_id)"
        " GROUP BY p.payment_id, p.amount HAVING p.amount <> sum(b.amount)",
    )
    assert mismatched == []


def test_sequences_continue_after_the_demo_ids(demo):
    for name, seq in (
        ("qualifications", "qualification_id_seq"),
        ("activities", "activity_id_seq"),
        ("billing", "billing_id_seq"),
        ("payments", "payment_id_seq"),
    ):
        key = KEYS[name]
        top, count = rows(demo, f"SELECT max({key}), count(*) FROM {name}")[0]
        assert top == count
        assert rows(demo, f"SELECT nextval('{seq}')")[0][0] == top + 1


def test_default_today_is_the_real_today(con):
    counts = build_demo(con, members=100, seed=5, today=None)
    latest = rows(con, "SELECT max(date) FROM activities")[0][0]
    assert counts["members"] == 100 and latest <= dt.date.today()


def test_the_intake_in_flight_has_every_level_and_a_history_in_time_order(demo):
    levels = {
        r[0] for r in rows(demo, "SELECT DISTINCT level FROM applications WHERE status = 'pending'")
    }
    assert levels >= {"club", "prefecture", "national"}
    out_of_order = rows(
        demo,
        "SELECT count(*) FROM application_steps s JOIN application_steps t"
        " ON s.application_id = t.application_id AND s.step_id < t.step_id"
        " AND s.acted_at > t.acted_at",
    )
    assert out_of_order == [(0,)]
    waiting_without_level = rows(
        demo, "SELECT count(*) FROM applications WHERE status = 'pending' AND level IS NULL"
    )
    assert waiting_without_level == [(0,)]
