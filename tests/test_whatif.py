import datetime as dt

import pytest

from core import config, whatif
from core.config import ConfigError


def test_raising_the_course_threshold_moves_extended_instructors_to_lapsed(sample):
    result = whatif.compare(
        sample, dt.date(2026, 12, 1), {"jptec.instructor.min_courses_taught": 3}
    )
    moved = result.by_scheme().filter(result.by_scheme()["today"] != result.by_scheme()["proposed"])
    assert moved.rows() == [("jptec", "extended", "lapsed", 1)]
    assert result.moved == 1
    fees = dict(zip(result.fees["scheme"], result.fees["difference"], strict=True))
    assert fees["jptec"] == -2000
    # nothing was written
    assert sample.execute("SELECT count(*) FROM billing").fetchall() == [(0,)]


def test_a_fee_change_changes_income_not_outcomes(sample):
    result = whatif.compare(sample, dt.date(2026, 12, 1), {"jptec.instructor.renewal_fee": 2500})
    assert result.moved == 0
    row = result.fees.filter(result.fees["scheme"] == "jptec").row(0, named=True)
    assert (row["today_income"], row["proposed_income"], row["difference"]) == (2000, 2500, 500)


def test_the_comparison_is_scoped_to_the_users_organisation(sample):
    result = whatif.compare(
        sample, dt.date(2026, 12, 1), {"jptec.instructor.min_courses_taught": 3}, scope="SAJ"
    )
    assert result.moved == 0
    assert set(result.transitions["scheme"]) == {"saj"}  # only the SAJ tree's members are in scope


def test_a_bad_override_names_the_key():
    with pytest.raises(ConfigError, match=r"jptec\.instructor\.min_courses_taught"):
        config.load().with_overrides({"jptec.instructor.min_courses_taught": -1})


def test_every_tunable_key_is_numeric_and_read_by_the_rules():
    keys = whatif.tunable_keys()
    assert "jptec.instructor.min_courses_taught" in keys and "teacher.hours.total" in keys
    assert all(not k.endswith((".name", ".qualifications")) for k in keys)
