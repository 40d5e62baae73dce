"""The teacher licence renewal courses (教員免許状更新講習, seed 004).

Between `window.opens_months_before` and `window.closes_months_before` months before the
completion deadline (修了確認期限) the holder completes `hours.total` hours of courses, at least
`hours.mandatory` mandatory, `hours.elective_mandatory` elective-mandatory and `hours.elective`
elective. A course counts when the holder was at most `attendance.max_minutes_late` minutes
late and scored `exam.pass_score` or more; a title counts once in a lifetime. Met → the
deadline moves `new_licence_validity_years` on; not met → the licence lapses the day after.

The deadline is the stored validity end, or — for old licences (granted before
`old_licence_before`) — `deadline_month_day` of the school year (`school_year_starts`) in
which the holder reaches one of `deadline_ages`, from `first_deadline` on. An approved
exemption (`exempt_categories`) renews without courses; an approved postponement
(`postponement_categories`) moves the deadline `postponement.months` months. From
`scheme_ends` (2022-07-01) every licence valid that day loses its expiry.

Courses are paid by the hour (`fee_per_hour`) plus materials, within `payment_due_days`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from core import vocabulary
from core.schemes.base import COMMON_KINDS, Kind, Reader, Scheme, month_day

if TYPE_CHECKING:
    from core.config import Config


class Teacher(Scheme):
    code = "teacher"
    short_name = "教員免許状更新"
    renewal_relation = "teacher_requirements"
    items: ClassVar[dict[str, str]] = {"teacher_course": "講習料", "teacher_materials": "教材費"}
    kinds: ClassVar[dict[str, Kind]] = {**COMMON_KINDS, "exemption": Kind(needs=("reason",))}
    activity_kinds: ClassVar[dict[str, Kind]] = {
        "course": Kind(needs=("hours", "domain", "course_name"), takes=("score", "minutes_late"))
    }
    course_items = ("teacher_course", "teacher_materials")
    course_activity = "course"  # a completed course (core/courses) counts its hours by domain
    unique_course_titles = True  # 同一名称の講習は受講できない（過年度を含む）

    def renewal_parameters(self, config: Reader) -> dict[str, Any]:
        read = config.read
        school_year = month_day(read("teacher.school_year_starts"))
        deadline = month_day(read("teacher.deadline_month_day"))
        return {
            "scheme_ends": read("teacher.scheme_ends"),
            "opens_months": read("teacher.window.opens_months_before"),
            "closes_months": read("teacher.window.closes_months_before"),
            "total_hours": read("teacher.hours.total"),
            "mandatory_hours": read("teacher.hours.mandatory"),
            "elective_mandatory_hours": read("teacher.hours.elective_mandatory"),
            "elective_hours": read("teacher.hours.elective"),
            "max_late": read("teacher.attendance.max_minutes_late"),
            "pass_score": read("teacher.exam.pass_score"),
            "validity_years": read("teacher.new_licence_validity_years"),
            "postponement_months": read("teacher.postponement.months"),
            "first_deadline": read("teacher.first_deadline"),
            "old_licence_before": read("teacher.old_licence_before"),
            "ages": [int(age) for age in read("teacher.deadline_ages")],
            "sy_month": school_year[0],
            "sy_day": school_year[1],
            "deadline_month": deadline[0],
            "deadline_day": deadline[1],
            "exempt_categories": list(read("teacher.exempt_categories")),
            "postponement_categories": list(read("teacher.postponement_categories")),
        }

    def reasons(self, cfg: Config, kind: str, on: dt.date) -> dict[str, str]:
        if kind == "exemption":
            return dict(cfg.value("teacher.exempt_categories", on=on))
        if kind == "postponement":
            return dict(cfg.value("teacher.postponement_categories", on=on))
        return super().reasons(cfg, kind, on)

    def activity_choices(self, cfg: Config, column: str) -> dict[str, str] | None:
        return dict(vocabulary.COURSE_DOMAINS) if column == "domain" else None

    def course_fees(self, cfg: Config, on: dt.date) -> tuple[int, int] | None:
        return int(cfg.value("teacher.fee_per_hour", on=on)), int(
            cfg.value("teacher.payment_due_days", on=on)
        )


SCHEME = Teacher()
