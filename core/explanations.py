"""The renewal explanation in Japanese sentences, from the JSON that `renewals.explain` returns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.text import jp_date

DECISIONS = {
    "extend": "有効期間を延長します",
    "open_fee": "更新手続きを開始し、会費（登録料）を請求します",
    "lapse": "失効します",
    "invalidate": "会費未納のため無効になります",
    "erase": "抹消します",
    "convert": "制度終了により有効期限のない資格に移行します",
    "none": "今回の処理で変更はありません",
}
UNITS = {
    "courses_taught": "回",
    "fees_paid": "件",
    "renewal_course": "回",
    "mandatory_training": "回",
    "registration_fee": "件",
    "points": "ポイント",
    "application": "件",
    "renewal_fee": "件",
    "activity_report": "件",
}
DONE_OR_NOT = (
    "special_extension",
    "registration_fee",
    "application",
    "renewal_fee",
    "activity_report",
    "season_registration",
    "qualification_fee",
)


def _day(value: str | None) -> str:
    return jp_date(dt.date.fromisoformat(value)) if value else ""


def _amount(value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}"


def requirement_sentence(req: dict[str, Any]) -> str:
    """「2024年4月1日〜2026年3月31日の指導実績 1回（必要 2回）」"""
    if req["code"] == "deadline":
        return f"{req['label']}: {_day(req['period_to'])}"
    unit = UNITS.get(req["code"], "時間")
    period = ""
    if req["period_from"] and req["period_to"]:
        period = f"{_day(req['period_from'])}〜{_day(req['period_to'])}の"
    elif req["period_to"]:
        period = f"{_day(req['period_to'])}時点の"
    if req["code"] == "fees_paid":
        needed = "（完納が必要）"
    elif req["code"] in DONE_OR_NOT:
        mark = "○" if req["met"] else "×"
        return f"{mark} {period}{req['label']}: {'済' if req['met'] else '未'}"
    else:
        needed = f"（必要 {_amount(req['required'])}{unit}）"
    mark = "○" if req["met"] else "×"
    return f"{mark} {period}{req['label']} {_amount(req['actual'])}{unit}{needed}"


def decision_sentence(q: dict[str, Any]) -> str:
    text = DECISIONS.get(q["decision"], q["decision"])
    when = (
        f"{_day(q['effective_on'])}付けで" if q["effective_on"] and q["decision"] != "none" else ""
    )
    new = f"（新しい有効期限 {_day(q['new_valid_until'])}）" if q["new_valid_until"] else ""
    upcoming = (
        f"（次の判定日 {_day(q['effective_on'])}）"
        if q["decision"] == "none" and q["effective_on"]
        else ""
    )
    return f"判定: {when}{text}{new}{upcoming}"


def lines(result: dict[str, Any]) -> list[str]:
    """The explanation as lines of text for the command line."""
    out = [f"会員番号 {result['member_no']}（{_day(result['as_of'])}時点）"]
    if not result["qualifications"]:
        out.append("  資格の登録はありません。")
    for q in result["qualifications"]:
        validity = f"{_day(q['valid_from'])}〜{_day(q['valid_until']) or '期限なし'}"
        out.append(f"■ {q['label']}（{q['scheme']}）状態: {q['status']}　有効期間: {validity}")
        if not q["requirements"]:
            out.append("  この資格に自動判定の対象となる要件はありません。")
        out.extend(f"  {requirement_sentence(r)}" for r in q["requirements"])
        out.append(f"  {decision_sentence(q)}")
    return out
