import datetime as dt

import pytest

from core import config, schemes
from core.config import ConfigError
from core.config.settings import BY_KEY
from core.renewals import whatif
from core.schemes.base import Reader


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
    change = {"jptec.instructor.min_courses_taught": 3}
    outside = whatif.compare(sample, dt.date(2026, 12, 1), change, scope="SAJ")
    assert outside.moved == 0 and outside.transitions.is_empty()  # no JPTEC member under SAJ
    inside = whatif.compare(sample, dt.date(2026, 12, 1), change, scope="JPTEC")
    assert inside.moved == 1 and set(inside.transitions["scheme"]) == {"jptec"}


def test_a_bad_override_names_the_key():
    with pytest.raises(ConfigError, match=r"jptec\.instructor\.min_courses_taught"):
        config.load().with_overrides({"jptec.instructor.min_courses_taught": -1})


def test_the_tunable_keys_are_the_numbers_the_renewal_rules_read():
    cfg = config.current()
    day = dt.date(2026, 12, 1)
    keys = whatif.tunable_keys(cfg, day)
    assert {"jptec.instructor.min_courses_taught", "itc.points.threshold", "teacher.hours.total",
            "jspo.window.months_before_expiry", "jptec.instructor.renewal_fee"} <= set(keys)  # fmt: skip
    # a fee no renewal rule bills, names and labels are not offered
    assert "jptec.non_card_handling_fee" not in keys
    assert all(BY_KEY[k].type in ("int", "decimal") for k in keys)
    for key in keys:  # each one changes what the scheme's query is given
        scheme = schemes.get(key.split(".")[0])
        changed = cfg.with_overrides({key: cfg.value(key, day) + 1})
        assert scheme.renewal_parameters(Reader(changed, day)) != scheme.renewal_parameters(
            Reader(cfg, day)
        ), key
