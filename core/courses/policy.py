"""Each scheme's course policy as a relation the course queries join (`course_policies`)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from core import schemes
from core.config import Config
from core.schemes.base import CoursePolicy

# the activity columns a completion can fill (FORMATS.md activities.csv), from the course
# (hours, domain, title, licence) or from the results (score, minutes late)
ACTIVITY_COLUMNS = ("hours", "domain", "course_name", "qualification", "score", "minutes_late")


def course_schemes() -> tuple[str, ...]:
    """The schemes that run courses."""
    return tuple(s.code for s in schemes.every() if s.course_activity is not None)


def policy(cfg: Config, scheme: str, on: dt.date) -> CoursePolicy:
    """The scheme's course policy on a day; ValueError for a scheme that runs no courses."""
    found = schemes.get(scheme).course_policy(cfg, on)
    if found is None:
        raise ValueError(f"{cfg.scheme_name(scheme)}は講習を扱いません")
    return found


def frame(cfg: Config, on: dt.date) -> pl.DataFrame:
    """One row per scheme that runs courses: its policy on `on`, the root of its organisation
    tree (a member beneath it is in the scheme) and which activity columns a completion fills."""
    rows = []
    for code in course_schemes():
        p = policy(cfg, code, on)
        rows.append(
            {
                "scheme": code,
                "activity": p.activity,
                "unique_titles": p.unique_titles,
                "form_due_days": p.form_due_days,
                "min_applicants": p.min_applicants,
                "small_capacity": p.small_capacity,
                "certificate_due_months": p.certificate_due_months,
                "max_late": p.max_minutes_late,
                "pass_score": p.pass_score,
                "root_org_code": str(cfg.value(f"{code}.root_org_code", on=on)),
                **{f"with_{c}": c in p.activity_columns for c in ACTIVITY_COLUMNS},
            }
        )
    whole = ("form_due_days", "min_applicants", "small_capacity", "certificate_due_months",
             "max_late", "pass_score")  # fmt: skip
    # INTEGER in SQL: a date plus a number of days needs one
    return pl.DataFrame(rows).with_columns(pl.col(whole).cast(pl.Int32))
