"""Renewal and lapse statistics from what the batch recorded: cycles and their final outcome,
returns and suspensions from the audit trail, member erasures, periods at their edges, scope,
dimensions, rates, lapse reasons and retention per cohort; `stats` on the command line."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from click.testing import CliRunner

from core.cli import cli
from core.stats import outcomes

D = dt.date
YEAR = outcomes.Period(D(2026, 1, 1), D(2026, 12, 31))
ACQUIRED = D(2015, 4, 1)


class Recorder:
    """Writes renewal_outcomes rows as runs would (members of the sample's organisations)."""

    def __init__(self, con):
        self.con = con
        self.runs = 0

    def outcome(self, member_no, qualification_id, decision, as_of, *, valid_until,
                new_valid_until=None, scheme="saj", qualification="instructor",
                org="SAJ-22-C001", prefecture="静岡県", age_band=40, acquired=ACQUIRED,
                unmet=()):  # fmt: skip
        self.runs += 1
        batch = f"b{self.runs:03d}"
        self.con.execute(
            "INSERT INTO renewal_outcomes (batch_id, as_of, qualification_id, member_no, scheme,"
            " qualification, decision, valid_until, new_valid_until, org_code, prefecture,"
            " age_band, acquired_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [batch, as_of, qualification_id, member_no, scheme, qualification, decision,
             valid_until, new_valid_until, org, prefecture, age_band, acquired],
        )  # fmt: skip
        for code in unmet:
            self.con.execute(
                "INSERT INTO renewal_unmet (batch_id, qualification_id, member_no, scheme,"
                " qualification, decision, code, label, required, actual)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 0)",
                [batch, qualification_id, member_no, scheme, qualification, decision, code, code],
            )
        return batch


@pytest.fixture
def rec(sample):
    return Recorder(sample)


def row(frame: pl.DataFrame, **where) -> dict:
    for key, value in where.items():
        frame = frame.filter(pl.col(key) == value)
    assert frame.height == 1, frame
    return frame.row(0, named=True)


def test_a_cycle_counts_once_with_its_final_outcome(rec):
    # A: fee opened, then extended: one cycle, renewed
    rec.outcome("A0000001", 1, "open_fee", D(2026, 5, 1), valid_until=D(2026, 6, 30))
    rec.outcome("A0000001", 1, "extend", D(2026, 7, 1), valid_until=D(2026, 6, 30),
                new_valid_until=D(2030, 6, 30))  # fmt: skip
    # B: extended, then invalidated for the unpaid fee: one cycle, invalidated
    rec.outcome("A0000002", 2, "extend", D(2026, 3, 1), valid_until=D(2026, 2, 28),
                new_valid_until=D(2028, 2, 29))  # fmt: skip
    rec.outcome("A0000002", 2, "invalidate", D(2026, 7, 1), valid_until=D(2028, 2, 29))
    # C: lapsed; D: a fee opened only (still under way): not due yet
    rec.outcome("A0000003", 3, "lapse", D(2026, 9, 1), valid_until=D(2026, 7, 31),
                org="SAJ-22-C002")  # fmt: skip
    rec.outcome("A0000004", 4, "open_fee", D(2026, 9, 1), valid_until=D(2026, 10, 31),
                org="SAJ-13-C001", prefecture="東京都")  # fmt: skip
    table = outcomes.by(rec.con, YEAR, "scheme")
    assert row(table, scheme="saj") | {} == {
        "scheme": "saj", "due": 3, "renewed": 1, "lapsed": 1, "invalidated": 1, "erased": 0,
        "converted": 0, "returned": 0, "suspended": 0, "members_erased": 0,
        "renewal_rate": 0.3333, "lapse_rate": 0.3333, "invalidation_rate": 0.3333,
        "erasure_rate": 0.0,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("as_of", "counted"),
    [
        (D(2025, 12, 31), False),
        (D(2026, 1, 1), True),
        (D(2026, 12, 31), True),
        (D(2027, 1, 1), False),
    ],
)
def test_the_period_includes_both_of_its_days(rec, as_of, counted):
    rec.outcome("A0000001", 1, "lapse", as_of, valid_until=as_of - dt.timedelta(days=1))
    table = outcomes.by(rec.con, YEAR, "scheme")
    assert (table["due"].sum() if table.height else 0) == (1 if counted else 0)


def test_a_cycle_belongs_to_the_day_it_came_up_even_when_it_ends_later(rec):
    rec.outcome("A0000002", 2, "extend", D(2025, 12, 1), valid_until=D(2025, 11, 30),
                new_valid_until=D(2027, 11, 30))  # fmt: skip
    rec.outcome("A0000002", 2, "invalidate", D(2026, 4, 1), valid_until=D(2027, 11, 30))
    assert outcomes.by(rec.con, YEAR, "scheme").is_empty()
    last_year = outcomes.Period(D(2025, 1, 1), D(2025, 12, 31))
    assert row(outcomes.by(rec.con, last_year, "scheme"), scheme="saj")["invalidated"] == 1


def test_returns_suspensions_and_member_erasures_are_counted_beside_the_cycles(rec):
    con = rec.con
    ids = dict(con.execute("SELECT qualification, qualification_id FROM qualifications"
                           " WHERE member_no = 'A0000001'").fetchall())  # fmt: skip
    con.execute(
        "INSERT INTO audit_log (changed_at, actor, action, table_name, row_key, member_no, field,"
        " old_value, new_value, reason) VALUES"
        " ('2026-03-01 10:00+09', 'approver', 'update', 'qualifications', ?, 'A0000001', 'status',"
        "  'active', 'erased', '資格返上 R1'),"
        " ('2026-04-01 10:00+09', 'approver', 'update', 'qualifications', ?, 'A0000001', 'status',"
        "  'active', 'suspended', '休止 R2'),"
        # the batch's own erasure of a qualification is a cycle, not a return
        " ('2026-05-01 10:00+09', 'cli:renew', 'renew', 'qualifications', ?, 'A0000001', 'status',"
        "  'active', 'erased', '更新処理')",
        [str(ids["instructor"]), str(ids["examiner"]), str(ids["examiner"])],
    )
    rec.outcome("A0000003", None, "erase", D(2026, 8, 1), valid_until=D(2026, 7, 31),
                qualification="membership", org="SAJ-22-C002")  # fmt: skip
    saj = row(outcomes.by(rec.con, YEAR, "scheme"), scheme="saj")
    assert (saj["returned"], saj["suspended"], saj["members_erased"], saj["due"]) == (1, 1, 1, 0)
    assert saj["renewal_rate"] is None  # nothing was due


def test_dimensions_break_the_counts_down_and_sum_to_the_whole(rec):
    rec.outcome("A0000001", 1, "extend", D(2026, 2, 1), valid_until=D(2026, 1, 31),
                age_band=45, acquired=D(2012, 5, 1))  # fmt: skip
    rec.outcome("A0000003", 3, "lapse", D(2026, 2, 1), valid_until=D(2026, 1, 31),
                org="SAJ-22-C002", age_band=None, acquired=D(2020, 5, 1))  # fmt: skip
    rec.outcome("A0000004", 4, "lapse", D(2026, 3, 1), valid_until=D(2026, 2, 28),
                org="SAJ-13-C001", prefecture="東京都", age_band=45)  # fmt: skip
    months = outcomes.by(rec.con, YEAR, "month")
    assert months.select("month", "due", "renewed", "lapsed").rows() == [
        (D(2026, 2, 1), 2, 1, 1),
        (D(2026, 3, 1), 1, 0, 1),
    ]
    bands = outcomes.by(rec.con, YEAR, "age_band")
    assert bands.select("age_band", "due", "lapsed").rows() == [(45, 2, 1), (None, 1, 1)]
    prefectures = outcomes.by(rec.con, YEAR, "prefecture")
    assert prefectures.select("prefecture", "due").rows() == [("東京都", 1), ("静岡県", 2)]
    organisations = outcomes.by(rec.con, YEAR, "org")
    assert organisations.select("org", "org_name", "due").rows() == [
        ("SAJ-13-C001", "東京雪友会", 1),
        ("SAJ-22-C001", "富士山スキークラブ", 1),
        ("SAJ-22-C002", "浜松スキークラブ", 1),
    ]
    cohorts = outcomes.by(rec.con, YEAR, "cohort")
    assert cohorts.select("cohort", "due").rows() == [(2012, 1), (2015, 1), (2020, 1)]
    for frame in (months, bands, prefectures, organisations, cohorts):
        assert frame["due"].sum() == 3


def test_a_scope_sees_only_its_organisations_cycles(rec):
    rec.outcome("A0000001", 1, "extend", D(2026, 2, 1), valid_until=D(2026, 1, 31))
    rec.outcome("A0000004", 4, "lapse", D(2026, 3, 1), valid_until=D(2026, 2, 28),
                org="SAJ-13-C001", prefecture="東京都")  # fmt: skip
    assert outcomes.by(rec.con, YEAR, "scheme", scope="SAJ-13")["lapsed"].to_list() == [1]
    assert outcomes.by(rec.con, YEAR, "scheme", scope="SAJ-22")["renewed"].to_list() == [1]
    assert outcomes.by(rec.con, YEAR, "scheme", scope="JPTEC").is_empty()


def test_lapse_reasons_give_the_share_of_endings_that_lacked_each_requirement(rec):
    for n, codes in enumerate([("mandatory_training", "registration_fee"), ("registration_fee",),
                               ("registration_fee",), ()]):  # fmt: skip
        rec.outcome(f"S{n}", 10 + n, "lapse", D(2026, 4, 1), valid_until=D(2026, 3, 31),
                    scheme="jspo", qualification="soccer_coach", unmet=codes)  # fmt: skip
    # one ending rebuilt from the audit trail: its requirements are unknown
    rec.con.execute("UPDATE renewal_outcomes SET recorded = false WHERE member_no = 'S3'")
    reasons = outcomes.lapse_reasons(rec.con, YEAR)
    assert reasons.select("code", "lacking", "endings", "known", "share").rows() == [
        ("registration_fee", 3, 4, 3, 1.0),
        ("mandatory_training", 1, 4, 3, 0.3333),
    ]


def test_retention_follows_each_qualification_through_its_cycles_and_leaves_the_unfinished_out(
    rec,
):
    # cohort 2020: q1 renews twice; q2 renews once then lapses; q3 lapses at once;
    # q4 renewed once and its second cycle has not come up (censored after cycle 1)
    plan = {1: ["extend", "extend"], 2: ["extend", "lapse"], 3: ["lapse"], 4: ["extend"]}
    for qid, decisions in plan.items():
        for k, decision in enumerate(decisions):
            rec.outcome(f"A00000{qid:02d}", qid, decision, D(2024 + k, 8, 1),
                        valid_until=D(2024 + k, 7, 31), acquired=D(2020, 4, 1))  # fmt: skip
    frame = outcomes.retention(rec.con, outcomes.Period(D(2000, 1, 1), D(2026, 12, 31)))
    assert frame.select("cohort", "cycle", "at_risk", "renewed", "retention").rows() == [
        (2020, 1, 4, 3, 0.75),
        (2020, 2, 2, 1, 0.375),  # q4 is not at risk at cycle 2: 0.75 × 1/2
    ]


def test_stats_prints_the_contracts_json(sample_path):
    from core.store import db

    with db.connect(sample_path) as con:
        rec = Recorder(con)
        rec.outcome("A0000001", 1, "extend", D(2026, 2, 1), valid_until=D(2026, 1, 31))
        rec.outcome("A0000003", 3, "lapse", D(2026, 2, 1), valid_until=D(2026, 1, 31),
                    org="SAJ-22-C002")  # fmt: skip
    result = CliRunner().invoke(
        cli,
        ["stats", "--db", str(sample_path), "--from", "2026-01-01", "--to", "2026-12-31",
         "--by", "prefecture", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows == [
        {"scheme": "saj", "prefecture": "静岡県", "due": 2, "renewed": 1, "lapsed": 1,
         "invalidated": 0, "returned": 0, "erased": 0, "renewal_rate": 0.5, "converted": 0,
         "suspended": 0, "members_erased": 0, "lapse_rate": 0.5, "invalidation_rate": 0.0,
         "erasure_rate": 0.0}
    ]  # fmt: skip
    assert list(rows[0])[:9] == ["scheme", "prefecture", "due", "renewed", "lapsed",
                                 "invalidated", "returned", "erased", "renewal_rate"]  # fmt: skip


def test_stats_refuses_a_period_that_ends_before_it_starts(sample_path):
    result = CliRunner().invoke(
        cli, ["stats", "--db", str(sample_path), "--from", "2026-02-01", "--to", "2026-01-01",
              "--json"],
    )  # fmt: skip
    assert result.exit_code == 2 and "--to" in result.output
