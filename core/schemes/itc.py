"""ITC (seed 001): the IT coordinator's yearly renewal with practical points.

A certificate valid to May 31 (`valid_until`) of year Y renews in Y's window
(`window.opens` at `window.opens_at` … `window.closes`): the member applies (an application of
kind `season_registration` for season Y) within the window — the only step due by May 31 (the
guide's FAQ Q1) — with the points of the previous fiscal year (`fiscal_year_starts`) reaching
`points.threshold`. Applying with enough points opens the fee (`fee`), paid by the fee line's
own due date (`fee_due_months`); those certified in the previous fiscal year are exempt
(`exempt_if_certified_previous_fiscal_year`). The practical activity report is answered by
`report_due` when `report_required`. All done → valid for another year from June 1. Each step
lapses the certificate only once its own deadline has passed undone.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from core import vocabulary
from core.schemes.base import COMMON_KINDS, Kind, Reader, Scheme, month_day

if TYPE_CHECKING:
    from core.config import Config


class Itc(Scheme):
    code = "itc"
    short_name = "ITC"
    renewal_relation = "itc_requirements"
    items: ClassVar[dict[str, str]] = {"itc_renewal": "ITコーディネータ資格更新料"}
    kinds: ClassVar[dict[str, Kind]] = {
        **COMMON_KINDS,
        "season_registration": Kind(needs=("season",)),
    }
    activity_kinds: ClassVar[dict[str, Kind]] = {
        "points": Kind(needs=("category", "points")),
        "report": Kind(),  # the practical activity report (実務活動報告書) answered
    }
    year_starts_key = "itc.fiscal_year_starts"

    def renewal_parameters(self, config: Reader) -> dict[str, Any]:
        read = config.read
        opens, closes = month_day(read("itc.window.opens")), month_day(read("itc.window.closes"))
        fiscal, until = (
            month_day(read("itc.fiscal_year_starts")),
            month_day(read("itc.valid_until")),
        )
        report = month_day(read("itc.report_due"))
        hour, minute = (int(part) for part in read("itc.window.opens_at").split(":"))
        return {
            "opens_month": opens[0],
            "opens_day": opens[1],
            "opens_hour": hour,
            "opens_minute": minute,
            "closes_month": closes[0],
            "closes_day": closes[1],
            "fy_month": fiscal[0],
            "fy_day": fiscal[1],
            "until_month": until[0],
            "until_day": until[1],
            "threshold": read("itc.points.threshold"),
            "fee": read("itc.fee"),
            "exempt_previous_year": read("itc.exempt_if_certified_previous_fiscal_year"),
            "report_required": read("itc.report_required"),
            "report_month": report[0],
            "report_day": report[1],
        }

    def activity_choices(self, cfg: Config, column: str) -> dict[str, str] | None:
        if column == "category":  # the practical points' categories (実践力ポイントの区分)
            return dict(cfg.value("itc.points.categories"))
        return None

    def reasons(self, cfg: Config, kind: str, on: dt.date) -> dict[str, str]:
        if kind == "suspension":  # 休止の事由
            codes = cfg.value("itc.suspension.reasons", on=on)
            return {code: vocabulary.REASONS.get(code, code) for code in codes}
        return super().reasons(cfg, kind, on)


SCHEME = Itc()
