"""What a renewal run keeps for statistics: one outcome row per decision, the member's place and
age band before personal data goes, the requirements unmet at an ending; runs from before the
recording began rebuilt from the audit trail."""

from __future__ import annotations

import datetime as dt

from core.renewals import batch
from core.store import migrations

from . import test_renewals
from .test_renewals import BIRTH, D

world = test_renewals.world  # an empty store with a body per scheme, and its helpers


def outcomes(con):
    return con.execute(
        "SELECT member_no, qualification, decision, valid_until, new_valid_until, fee_amount,"
        " org_code, age_band, recorded FROM renewal_outcomes ORDER BY member_no, qualification"
    ).fetchall()


def unmet(con):
    return con.execute(
        "SELECT member_no, decision, code, required, actual FROM renewal_unmet"
        " ORDER BY member_no, code"
    ).fetchall()


def test_a_run_records_each_decision_with_the_members_place_and_age_band(world):
    extended = world.holder("jptec", "instructor", D(2024, 4, 1), D(2026, 3, 31))
    for day in (D(2024, 6, 1), D(2025, 6, 1)):
        world.activity(extended, "jptec", "taught", day)
    lapsed = world.holder("jptec", "instructor", D(2024, 4, 1), D(2026, 3, 31))
    world.activity(lapsed, "jptec", "taught", D(2025, 1, 1))
    waiting = world.holder("jptec", "instructor", D(2024, 5, 1), D(2026, 4, 30))  # not yet
    result = batch.run(world.con, D(2026, 4, 1))
    age = (dt.date(2026, 4, 1).year - BIRTH.year - 1) // 5 * 5  # BIRTH's birthday is later
    assert outcomes(world.con) == [
        (
            extended,
            "instructor",
            "extend",
            D(2026, 3, 31),
            D(2028, 3, 31),
            2000,
            "JPTEC",
            age,
            True,
        ),
        (lapsed, "instructor", "lapse", D(2026, 3, 31), None, None, "JPTEC", age, True),
    ]
    assert waiting not in {row[0] for row in outcomes(world.con)}
    # the ending keeps the requirement it lacked, with the numbers of the run
    assert unmet(world.con) == [(lapsed, "lapse", "courses_taught", 2, 1)]
    # every row carries the run's batch id, the same as its audit rows
    ids = world.con.execute("SELECT DISTINCT batch_id FROM renewal_outcomes").fetchall()
    assert ids == [(result.batch_id,)]


def test_a_dry_run_records_nothing_and_a_second_run_records_no_new_decision(world):
    m = world.holder("jptec", "provider", D(2023, 4, 1), D(2026, 3, 31))
    batch.run(world.con, D(2026, 4, 1), dry_run=True)
    assert outcomes(world.con) == []
    batch.run(world.con, D(2026, 4, 1))
    batch.run(world.con, D(2026, 4, 1))
    assert [(r[0], r[2]) for r in outcomes(world.con)] == [(m, "lapse")]


def test_an_erased_member_keeps_age_band_and_place_after_personal_data_is_cleared(world):
    m = world.holder("saj", "instructor", D(2025, 8, 1), D(2026, 7, 31), birth=D(1990, 8, 2))
    world.apply(m, "saj", "season_registration", dt.datetime(2025, 7, 1, 10), season=2025,
                status="approved")  # fmt: skip
    batch.run(world.con, D(2026, 8, 1))
    assert world.con.execute(
        "SELECT birth_date FROM members WHERE member_no = ?", [m]
    ).fetchall() == [(None,)]
    rows = {(r[1], r[2], r[7]) for r in outcomes(world.con)}
    assert rows == {("membership", "erase", 35), ("instructor", "erase", 35)}  # 35 on 2026-08-01
    assert ("season_registration", 1, 0) in {(r[2], r[3], r[4]) for r in unmet(world.con)}


def test_runs_from_before_the_recording_are_rebuilt_from_the_audit_trail(world):
    m = world.holder("jptec", "provider", D(2023, 4, 1), D(2026, 3, 31))
    n = world.holder("jptec", "provider", D(2023, 4, 1), D(2026, 3, 31))
    world.activity(n, "jptec", "renewal_course", D(2026, 2, 1))
    batch.run(world.con, D(2026, 4, 1))
    world.con.execute("DELETE FROM renewal_outcomes")
    world.con.execute("DELETE FROM renewal_unmet")
    backfill = (migrations.MIGRATIONS_DIR / "0020_renewal_outcomes.sql").read_text(encoding="utf-8")
    world.con.execute(backfill[backfill.index("-- Runs from before") :])
    assert [(r[0], r[2], r[3], r[4], r[8]) for r in outcomes(world.con)] == [
        (m, "lapse", D(2026, 3, 31), None, False),
        (n, "extend", D(2026, 3, 31), D(2029, 3, 31), False),
    ]
    assert unmet(world.con) == []  # not known for those runs
