import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from core import config
from core.config.settings import SETTINGS

DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


@pytest.fixture
def scheme_dir(tmp_path):
    """A copy of data/schemes to break on purpose."""
    target = tmp_path / "schemes"
    shutil.copytree(config.SCHEMES_DIR, target)
    return target


def test_the_shipped_configuration_is_valid_and_carries_spec_numbers():
    cfg = config.load()
    assert cfg.value("jptec.instructor.min_courses_taught") == 2
    assert cfg.value("jptec.instructor.new_fee") == 3000
    assert cfg.value("jptec.instructor.renewal_fee") == 2000
    assert cfg.value("jptec.instructor.unpaid_invalidation_months") == 4
    assert cfg.value("jptec.provider.extension_years") == 3
    assert cfg.value("itc.fee") == 21600
    assert cfg.value("itc.valid_until") == "05-31"
    assert cfg.value("jspo.window.months_before_expiry") == 2
    assert cfg.value("saj.fee.general.saj") + cfg.value("saj.fee.general.prefecture") == 3500
    assert (
        cfg.value("saj.fee.qualified_prefecture_total") - cfg.value("saj.fee.general.prefecture")
        == 2000
    )
    assert cfg.value("saj.approval.prefecture_sla_hours") == 48
    assert cfg.value("teacher.hours.total") == Decimal(30)
    assert cfg.value("teacher.attendance.max_minutes_late") == 30
    assert cfg.value("teacher.exam.pass_score") == 60
    assert cfg.value("teacher.scheme_ends") == dt.date(2022, 7, 1)
    assert cfg.value("common.payment_methods")["convenience_store"]["limit"] == 300000
    assert cfg.value("common.payment_methods")["card"]["fee_rate_percent"] == Decimal("4.2")


@pytest.mark.parametrize(
    ("day", "fee"),
    [(dt.date(2023, 9, 30), 0), (dt.date(2023, 10, 1), 700), (dt.date(2026, 11, 24), 700)],
)
def test_non_card_handling_fee_is_700_yen_from_2023_10_01(day, fee):
    assert config.load().value("jptec.non_card_handling_fee", on=day) == fee


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "jptec.toml",
            "min_courses_taught = 2",
            'min_courses_taught = "two"',
            "jptec.instructor.min_courses_taught: expected a whole number",
        ),
        (
            "jptec.toml",
            "min_courses_taught = 2",
            "min_courses_taught = -1",
            "expected a number ≥ 0",
        ),
        (
            "itc.toml",
            'valid_until = "05-31"',
            'valid_until = "5/31"',
            "itc.valid_until: expected a month and day",
        ),
        ("itc.toml", "fee = 21600", "fee = 21600\nfee_typo = 1", "itc.fee_typo: unknown key"),
        ("saj.toml", "saj_alpine = 3000\n", "", "saj.fee.competitor.saj_alpine: missing"),
        (
            "jptec.toml",
            "{ from = 2023-10-01, value = 700 }",
            "{ from = 1800-10-01, value = 700 }",
            "'from' dates must be distinct and ascending",
        ),
        (
            "jspo.toml",
            "required_trainings = 0\n",
            "",
            "jspo.licences.sport_leader: missing ['required_trainings']",
        ),
        (
            "saj.toml",
            'invoice_registration_no = ""',
            'invoice_registration_no = "1234567890123"',
            'saj.invoice_registration_no: expected "T" and 13 digits',
        ),
        (
            "teacher.toml",
            "scheme_ends = 2022-07-01",
            'scheme_ends = "2022-07-01"',
            "teacher.scheme_ends: expected a date",
        ),
    ],
)
def test_a_bad_value_is_reported_with_its_file_and_key(scheme_dir, file, old, new, message):
    _replace(scheme_dir / file, old, new)
    with pytest.raises(config.ConfigError) as caught:
        config.load(scheme_dir)
    assert str(scheme_dir / file) in str(caught.value)
    assert message in str(caught.value)


def test_a_broken_toml_file_names_the_file(scheme_dir):
    (scheme_dir / "itc.toml").write_text("fee = = 1", encoding="utf-8")
    with pytest.raises(config.ConfigError, match=re.escape(str(scheme_dir / "itc.toml"))):
        config.load(scheme_dir)


def test_current_reloads_when_a_file_changes(scheme_dir):
    assert config.current(scheme_dir).value("itc.fee") == 21600
    path = scheme_dir / "itc.toml"
    _replace(path, "fee = 21600", "fee = 22000")
    import os

    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    assert config.current(scheme_dir).value("itc.fee") == 22000


def test_every_declared_setting_is_documented():
    documented = DOCS.read_text(encoding="utf-8")
    missing = [s.key for s in SETTINGS if f"`{s.key}`" not in documented]
    assert missing == []


def test_snapshot_shows_the_value_in_force_on_the_day():
    rows = {r["key"]: r for r in config.load().snapshot("jptec", dt.date(2023, 9, 30))}
    assert rows["jptec.non_card_handling_fee"]["value"] == 0
    assert rows["jptec.non_card_handling_fee"]["changes"] == 2
