"""Why a member's qualifications renew or not: the batch's requirements relation for one
member, in FORMATS.md's JSON shape (`explain`) and in Japanese sentences (`lines`, the member
page). It reads the very rows the batch decides from, so the two cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import duckdb
import polars as pl

from core import config, schemes, vocabulary
from core.renewals import batch
from core.store import db
from core.text import jp_date


def _number(value: Decimal | float | int | None) -> float | int | None:
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def explain(
    con: duckdb.DuckDBPyConnection,
    member_no: str,
    as_of: dt.date,
    *,
    cfg: config.Config | None = None,
) -> dict[str, Any]:
    """The member's qualifications with requirements and decisions, in FORMATS.md's JSON shape."""
    settings = cfg or config.current()
    held = db.frame(
        con,
        "SELECT qualification_id, scheme, qualification, status, valid_from, valid_until"
        " FROM qualifications WHERE member_no = ? ORDER BY scheme, qualification",
        [member_no],
    )
    # only the schemes the member takes part in: their qualifications and applications
    involved = {
        r[0]
        for r in con.execute(
            "SELECT scheme FROM qualifications WHERE member_no = ?"
            " UNION SELECT scheme FROM applications WHERE member_no = ?",
            [member_no, member_no],
        ).fetchall()
    }
    involved_schemes = tuple(s for s in schemes.CODES if s in involved)
    rows = (
        batch.requirements(con, as_of, schemes=involved_schemes, member_no=member_no, cfg=settings)
        if involved_schemes
        else pl.DataFrame()
    )
    by_id: dict[int, list[dict[str, Any]]] = {}
    for row in rows.iter_rows(named=True):
        by_id.setdefault(row["qualification_id"], []).append(row)
    qualifications = []
    for q in held.iter_rows(named=True):
        found = by_id.get(q["qualification_id"], [])
        first = found[0] if found else {}
        qualifications.append(
            {
                "scheme": q["scheme"],
                "qualification": q["qualification"],
                "label": settings.qualification_label(q["scheme"], q["qualification"]),
                "status": q["status"],
                "valid_from": _iso(q["valid_from"]),
                "valid_until": _iso(q["valid_until"]),
                "decision": first.get("decision", "none"),
                "effective_on": _iso(first.get("effective_on")),
                "new_valid_until": _iso(first.get("new_valid_until")),
                "requirements": [_requirement(r) for r in found],
            }
        )
    memberships = rows.filter(pl.col("qualification") == batch.MEMBERSHIP) if rows.height else rows
    for row in memberships.iter_rows(named=True):
        qualifications.insert(
            0,
            {
                "scheme": row["scheme"],
                "qualification": batch.MEMBERSHIP,
                "label": "会員登録",
                "status": row["status"],
                "valid_from": None,
                "valid_until": _iso(row["valid_until"]),
                "decision": row["decision"],
                "effective_on": _iso(row["effective_on"]),
                "new_valid_until": None,
                "requirements": [_requirement(row)],
            },
        )
    return {"member_no": member_no, "as_of": as_of.isoformat(), "qualifications": qualifications}


def _requirement(row: dict[str, Any]) -> dict[str, Any]:
    """One requirement row in FORMATS.md's JSON shape."""
    return {
        "code": row["code"],
        "label": row["label"],
        "required": _number(row["required"]),
        "actual": _number(row["actual"]),
        "met": bool(row["met"]),
        "period_from": _iso(row["period_from"]),
        "period_to": _iso(row["period_to"]),
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


# -- in words ----------------------------------------------------------------------------------

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
    text = (
        vocabulary.DECISIONS[q["decision"]].sentence
        if q["decision"] in vocabulary.DECISIONS
        else q["decision"]
    )
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


def lines(result: dict[str, Any], cfg: config.Config | None = None) -> list[str]:
    """The explanation as lines of text for the command line."""
    out = [f"会員番号 {result['member_no']}（{_day(result['as_of'])}時点）"]
    if not result["qualifications"]:
        out.append("  資格の登録はありません。")
    for q in result["qualifications"]:
        validity = f"{_day(q['valid_from'])}〜{_day(q['valid_until']) or '期限なし'}"
        scheme = (cfg or config.current()).scheme_name(q["scheme"])
        words = (
            vocabulary.MEMBER_STATUSES
            if q["qualification"] == batch.MEMBERSHIP
            else vocabulary.QUALIFICATION_STATUSES
        )
        status = words.get(q["status"], q["status"])
        out.append(f"■ {q['label']}（{scheme}）状態: {status}　有効期間: {validity}")
        if not q["requirements"]:
            out.append("  この資格に自動判定の対象となる要件はありません。")
        out.extend(f"  {requirement_sentence(r)}" for r in q["requirements"])
        out.append(f"  {decision_sentence(q)}")
    return out
