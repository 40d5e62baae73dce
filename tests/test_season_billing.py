"""A season's SAJ lines for the whole membership in one step, never twice (seed 003)."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from core import config
from core.billing import season
from core.cli import cli
from core.store import db
from tests.test_approvals import SEASON, apply, lines, walk

DAY = dt.date(2026, 11, 24)


def approved_registration(con, member_no: str, **extra: str | None) -> None:
    """A registration approved elsewhere (imported from the previous system)."""
    con.execute(
        "INSERT INTO applications (application_ref, member_no, scheme, kind, season,"
        " submitted_at, status, decided_at, insurance_plan, competitor)"
        " VALUES (?, ?, 'saj', 'season_registration', 2026, '2026-08-10 10:00', 'approved',"
        " '2026-08-12 10:00', ?, ?)",
        [f"OLD-{member_no}", member_no, extra.get("insurance_plan"), extra.get("competitor")],
    )


def bill(con) -> dict[str, int]:
    return season.bill_season(con, 2026, on=DAY, actor="test", cfg=config.current())


def test_every_approved_registration_gets_its_lines_with_the_spec_amounts(sample):
    approved_registration(sample, "A0000001", insurance_plan="premium", competitor="saj_alpine")
    approved_registration(sample, "A0000002")
    approved_registration(sample, "A0000003")
    assert bill(sample) == {
        "saj_annual_fee": 3,
        "saj_competitor": 1,
        "saj_insurance": 1,
        "saj_prefecture_qualified": 1,
        "saj_qualification_registration": 2,
    }
    assert lines(sample, "A0000001") == {
        "saj_prefecture_qualified": [2000],
        "saj_annual_fee": [3500],
        "saj_qualification_registration": [1000, 1000],
        "saj_insurance": [5000],
        "saj_competitor": [3000],
    }
    assert lines(sample, "A0000002") == {"saj_annual_fee": [3500]}  # university: 3,000 + 500
    assert lines(sample, "A0000003") == {"saj_annual_fee": [1000]}  # high school: SAJ 1,000
    description = db.one(sample, "SELECT description FROM billing WHERE item = 'saj_insurance'")
    assert description == ("2026年度 スキー保険 充実プラン 5,000円",)


def test_running_the_season_again_creates_no_duplicates(sample):
    approved_registration(sample, "A0000001")
    first = bill(sample)
    assert sum(first.values()) == 4
    assert bill(sample) == {}
    assert db.table_count(sample, "billing") == 4


def test_lines_billed_at_approval_are_not_billed_again_by_the_season_run(sample):
    app = apply(sample, member_no="A0000001", **SEASON, insurance_plan="basic")
    walk(sample, app)
    before = db.table_count(sample, "billing")
    assert bill(sample) == {}
    assert db.table_count(sample, "billing") == before


def test_a_cancelled_line_is_billed_again(sample):
    approved_registration(sample, "A0000002")
    bill(sample)
    sample.execute("UPDATE billing SET status = 'cancelled'")
    assert bill(sample) == {"saj_annual_fee": 1}


def test_a_qualification_acquired_after_the_season_is_not_billed_for_it(sample):
    sample.execute(
        "UPDATE qualifications SET acquired_on = '2027-09-01' WHERE member_no = 'A0000001'"
        " AND qualification = 'examiner'"
    )
    approved_registration(sample, "A0000001")
    bill(sample)
    assert lines(sample, "A0000001")["saj_qualification_registration"] == [1000]


def test_each_line_is_audited_with_the_run(sample):
    approved_registration(sample, "A0000002")
    bill(sample)
    audited = sample.execute(
        "SELECT actor, action, table_name FROM audit_log WHERE table_name = 'billing'"
    ).fetchall()
    assert audited == [("test", "insert", "billing")]


def test_cli_bill_reports_per_item_and_then_nothing(sample_path):
    with db.connect(sample_path) as con:
        approved_registration(con, "A0000002")
    runner = CliRunner()
    first = runner.invoke(cli, ["bill", "--season", "2026", "--db", str(sample_path)])
    assert first.exit_code == 0, first.output
    assert "season 2026: saj_annual_fee 1 lines" in first.output
    again = runner.invoke(cli, ["bill", "--season", "2026", "--db", str(sample_path)])
    assert "nothing added" in again.output


def test_each_line_takes_its_items_tax_class_from_the_configuration(sample):
    approved_registration(sample, "A0000002", insurance_plan="basic")
    bill(sample)
    classes = dict(sample.execute("SELECT item, tax_class FROM billing").fetchall())
    assert classes == {"saj_annual_fee": "out_of_scope", "saj_insurance": "non_taxable"}
