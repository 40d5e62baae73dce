"""JSPO (seed 002): the coach licences of the Japan Sport Association.

Renewal opens `window.months_before_expiry` months before the validity end for holders who
completed their licence's mandatory trainings (`licences.<code>.required_trainings`) in the
current period: the registration fee (`licences.<code>.fee`) is opened; once it is paid the
licence runs on for `licences.<code>.validity_years` years; unpaid past the end, it lapses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from core.schemes.base import Kind, Reader, Scheme

if TYPE_CHECKING:
    from core.config import Config


class Jspo(Scheme):
    code = "jspo"
    short_name = "JSPO"
    renewal_relation = "jspo_requirements"
    items: ClassVar[dict[str, str]] = {"jspo_registration": "登録料"}
    activity_kinds: ClassVar[dict[str, Kind]] = {"training": Kind(needs=("qualification",))}
    course_activity = "training"  # a completed course (core/courses) is a mandatory training

    def activity_choices(self, cfg: Config, column: str) -> dict[str, str] | None:
        if column == "qualification":  # the licence a mandatory training counts for
            return dict(cfg.value("jspo.qualifications"))
        return None

    def renewal_parameters(self, config: Reader) -> dict[str, Any]:
        licences: dict[str, dict[str, Any]] = config.read("jspo.licences")
        return {
            "months_before": config.read("jspo.window.months_before_expiry"),
            "licence_codes": list(licences),
            "licence_fees": [r["fee"] for r in licences.values()],
            "licence_years": [r["validity_years"] for r in licences.values()],
            "licence_trainings": [r["required_trainings"] for r in licences.values()],
            "licence_labels": [r["label"] for r in licences.values()],
        }


SCHEME = Jspo()
