"""The next season's forecast: who is due, their state and deadline, chances learned from earlier
forecasts the batch has since decided (shrunk toward the coarser level), fees, the members at
risk at the threshold's edge, keeping and scoping, the back-test, and `forecast` on the command
line; and the demo's years of history that feed it."""

from __future__ import annotations

import csv
import datetime as dt
import json

import polars as pl
import pytest
from click.testing import CliRunner

from core import config
from core.cli import cli
from core.renewals import batch
from core.stats import forecast, forecast_report
from core.store import db

from . import test_renewals
from .test_renewals import D

world = test_renewals.world  # an empty store with a body per scheme, and its helpers

TODAY = D(2026, 12, 1)


def instructor(world, until, taught, *, org="JPTEC"):
    m = world.holder(
        "jptec", "instructor", until.replace(year=until.year - 2) + dt.timedelta(days=1), until
    )
    for n in range(taught):
        world.activity(m, "jptec", "taught", D(2026, 1, 10 + n))
    if org != "JPTEC":
        world.con.execute("UPDATE members SET org_code = ? WHERE member_no = ?", [org, m])
    return m


def item(fc: forecast.Forecast, member_no: str) -> dict:
    rows = fc.items.filter(pl.col("member_no") == member_no)
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_due_qualifications_carry_their_missing_requirements_and_deadline(world):
    short = instructor(world, D(2027, 3, 31), 1)
    done = instructor(world, D(2027, 5, 31), 2)
    later = instructor(world, D(2028, 3, 31), 0)  # ends after the 12 months
    fc = forecast.compute(world.con, TODAY)
    assert fc.horizon_end == D(2027, 12, 1)
    assert set(fc.items["member_no"]) == {short, done}
    assert later not in set(fc.items["member_no"])
    lacking = item(fc, short)
    # one of two courses missing: a gap of half the requirement, marked :2 (two thirds or less)
    assert (lacking["state"], lacking["missing"], lacking["deadline"]) == (
        "courses_taught:2",
        ["courses_taught"],
        D(2027, 3, 31),
    )
    assert lacking["months_to_end"] == 3
    ready = item(fc, done)
    assert (ready["state"], ready["missing"], ready["fee"]) == ("", [], 2000)


def test_without_any_history_every_chance_is_the_assumed_rate(world):
    m = instructor(world, D(2027, 3, 31), 0)
    fc = forecast.compute(world.con, TODAY)
    assert item(fc, m)["p_renew"] == forecast.FALLBACK_RATE


def past_forecast(con, made_on, member_no, qid, state, months, valid_until):
    con.execute(
        "INSERT INTO forecast_items (made_on, qualification_id, member_no, scheme, qualification,"
        " valid_until, state, months_to_end, p_renew, fee) VALUES"
        " (?, ?, ?, 'jptec', 'instructor', ?, ?, ?, 0.5, 2000)",
        [made_on, qid, member_no, valid_until, state, months],
    )


def decided(con, as_of, member_no, qid, decision, valid_until):
    con.execute(
        "INSERT INTO renewal_outcomes (batch_id, as_of, qualification_id, member_no, scheme,"
        " qualification, decision, valid_until) VALUES (?, ?, ?, ?, 'jptec', 'instructor', ?, ?)",
        [f"b{member_no}{as_of}", as_of, qid, member_no, decision, valid_until],
    )


def test_chances_are_learned_from_earlier_forecasts_and_shrunk_toward_the_coarser_level(world):
    m = instructor(world, D(2027, 3, 31), 1)  # state courses_taught:2, 3 months left
    # 20 earlier forecasts in the same state 3 months ahead: 5 renewed, 15 lapsed
    for n in range(20):
        past_forecast(world.con, D(2025, 12, 1), f"P{n}", 1000 + n, "courses_taught:2", 3,
                      D(2026, 3, 31))  # fmt: skip
        decided(world.con, D(2026, 4, 1), f"P{n}", 1000 + n, "extend" if n < 5 else "lapse",
                D(2026, 3, 31))  # fmt: skip
    # 10 in the same state but 12 months ahead: all renewed (another months bucket)
    for n in range(10):
        past_forecast(world.con, D(2025, 3, 1), f"Q{n}", 2000 + n, "courses_taught:2", 12,
                      D(2026, 3, 31))  # fmt: skip
        decided(world.con, D(2026, 4, 1), f"Q{n}", 2000 + n, "extend", D(2026, 3, 31))
    # the instructors' own renewal rate, from the outcomes: 15 of 30 renewed
    k = forecast.SHRINK
    prior = 15 / 30
    p_state = (15 + k * prior) / (30 + k)  # all 30 in this state
    expected = round((5 + k * p_state) / (20 + k), 4)  # the 20 three months ahead
    assert item(forecast.compute(world.con, TODAY), m)["p_renew"] == expected


def test_a_forecast_undecided_or_made_after_the_day_teaches_nothing(world):
    m = instructor(world, D(2027, 3, 31), 1)
    past_forecast(world.con, D(2026, 9, 1), "U1", 3000, "courses_taught:2", 3, D(2026, 12, 31))
    past_forecast(world.con, D(2026, 12, 2), "U2", 3001, "courses_taught:2", 3, D(2026, 11, 30))
    decided(world.con, D(2026, 12, 2), "U2", 3001, "lapse", D(2026, 11, 30))
    assert item(forecast.compute(world.con, TODAY), m)["p_renew"] == forecast.FALLBACK_RATE


def test_the_totals_and_the_members_at_risk_at_the_thresholds_edge(world):
    low = instructor(world, D(2027, 3, 31), 0)
    edge = instructor(world, D(2027, 4, 30), 1)
    fine = instructor(world, D(2027, 5, 31), 2)
    fc = forecast.compute(world.con, TODAY)
    chances = {low: 0.1, edge: 0.8, fine: 1.0}  # 80 % is not below the shipped 80 %
    fc = forecast.Forecast(fc.made_on, fc.horizon_end,
                           fc.items.with_columns(pl.col("member_no").replace_strict(chances)
                                                 .alias("p_renew")), fc.gaps)  # fmt: skip
    totals = forecast_report.summary(world.con, fc, "scheme")
    assert totals.row(0, named=True) == {
        "scheme": "jptec", "due": 3, "expected_renewals": 1.9, "expected_lapses": 1.1,
        "expected_income": round(1.9 * 2000),
    }  # fmt: skip
    risk = forecast_report.at_risk(world.con, fc)
    assert risk.select("member_no", "missing", "missing_words", "deadline").rows() == [
        (low, "courses_taught", "指導実績 あと2", D(2027, 3, 31))
    ]


def test_a_kept_forecast_loads_within_a_scope_and_replaces_the_same_day(sample):
    fc = forecast.compute(sample, TODAY)
    forecast.keep(sample, fc, actor="test")
    forecast.keep(sample, fc, actor="test")
    assert forecast.latest(sample) == TODAY
    whole = forecast.load(sample, TODAY)
    assert whole.items.height == fc.items.height
    assert sample.execute("SELECT count(*) FROM forecast_runs").fetchall() == [(1,)]
    scoped = forecast.load(sample, TODAY, scope="SAJ-13")
    assert set(scoped.items["member_no"]) <= {"A0000004"}
    with pytest.raises(KeyError):
        forecast.load(sample, D(2020, 1, 1))


def test_the_backtest_compares_kept_forecasts_with_what_the_batch_then_did(world):
    for n, (p, outcome) in enumerate([(0.9, "extend"), (0.6, "lapse"), (0.5, "extend")]):
        world.con.execute(
            "INSERT INTO forecast_items (made_on, qualification_id, member_no, scheme,"
            " qualification, valid_until, state, months_to_end, p_renew, fee) VALUES"
            " ('2026-01-01', ?, ?, 'jptec', 'instructor', '2026-03-31', '', 3, ?, 2000)",
            [4000 + n, f"B{n}", p],
        )
        decided(world.con, D(2026, 4, 1), f"B{n}", 4000 + n, outcome, D(2026, 3, 31))
    # a fourth whose cycle the batch has not decided yet is left out
    world.con.execute(
        "INSERT INTO forecast_items (made_on, qualification_id, member_no, scheme, qualification,"
        " valid_until, state, months_to_end, p_renew, fee) VALUES"
        " ('2026-01-01', 4009, 'B9', 'jptec', 'instructor', '2026-12-31', '', 12, 0.1, 2000)"
    )
    table = forecast_report.backtest(world.con, TODAY)
    assert table.rows() == [(D(2026, 1, 1), "jptec", 3, 2.0, 2, 0.0, 0.0)]
    assert forecast_report.backtest_error(table) == 0.0


def test_forecast_prints_totals_as_json_and_writes_the_members_at_risk(sample_path, tmp_path):
    out = tmp_path / "at_risk.csv"
    with db.connect(sample_path) as con:
        # instructors mostly lapsed before: the sample's (ending 2026-11-30) is at risk
        for n in range(10):
            decided(con, D(2026, 6, 1), f"H{n}", 5000 + n, "extend" if n < 2 else "lapse",
                    D(2026, 5, 31))  # fmt: skip
    result = CliRunner().invoke(
        cli, ["forecast", "--db", str(sample_path), "--as-of", "2026-11-01", "--json",
              "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    totals = json.loads(result.stdout)
    assert list(totals[0]) == [
        "scheme", "due", "expected_renewals", "expected_lapses", "expected_income"
    ]  # fmt: skip
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:5] == ["member_no", "scheme", "qualification", "missing", "deadline"]
    assert {r["member_no"] for r in rows} >= {"J0000001"}


def test_the_demo_history_runs_the_batch_monthly_and_keeps_quarterly_forecasts(demo_history):
    runs = demo_history.execute("SELECT as_of FROM renewal_runs ORDER BY as_of").fetchall()
    days = [r[0] for r in runs]
    assert all(d.day == 1 for d in days) and len(days) == len(set(days)) >= 12
    kinds = {
        r[0]
        for r in demo_history.execute("SELECT DISTINCT decision FROM renewal_outcomes").fetchall()
    }
    assert {"extend", "lapse", "open_fee", "erase"} <= kinds
    made = [r[0] for r in demo_history.execute("SELECT made_on FROM forecast_runs").fetchall()]
    assert made and all(d.month % 3 == 0 for d in made)
    # every forecast item is due before its horizon and has a chance between 0 and 1
    bad = demo_history.execute(
        "SELECT count(*) FROM forecast_items i JOIN forecast_runs r USING (made_on)"
        " WHERE i.valid_until >= r.horizon_end OR i.p_renew NOT BETWEEN 0 AND 1"
    ).fetchall()
    assert bad == [(0,)]
    table = forecast_report.backtest(demo_history, dt.date.today())
    assert table.height and (table["decided"] > 0).all()


def test_a_run_on_the_demo_decides_what_the_forecast_said_was_due(demo_history):
    today = dt.date.today()
    fc = forecast.compute(demo_history, today, cfg=config.current())
    decided_now = batch.decisions(batch.requirements(demo_history, fc.horizon_end))
    acting = decided_now.filter(pl.col("decision") != "none")
    assert fc.items.height <= acting.height
