"""Course documents as PDF: completion certificates (修了証明書), one page per participant — for
one participant or the whole course in one file — and the roster's sign-in sheet (受講者名簿・
出席簿) to print for the day. Japanese text, western and 和暦 dates, the issuing body from the
scheme's configuration."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb
import polars as pl
from fpdf import FPDF, FontFace

from core import config, text, vocabulary
from core.courses import catalogue, enrolment, results, roster, seats
from core.documents import font
from core.store import db

_F = font.FAMILY
_PLAIN = FontFace(emphasis="")
SEATED = ("reserved", "completed", "absent", "failed")  # the statuses of a seat given
SHEET_HEADINGS = ("No.", "会員番号", "氏名", "フリガナ", "所属", "出欠・署名", "遅刻（分）")


def _when(course: dict[str, Any]) -> str:
    days = text.jp_date(course["held_on"], with_wareki=True)
    if course["held_until"] and course["held_until"] != course["held_on"]:
        days += f" 〜 {text.jp_date(course['held_until'])}"
    if course["starts_at"] and course["ends_at"]:
        days += f" {course['starts_at']:%H:%M}〜{course['ends_at']:%H:%M}"
    return days


def _facts(course: dict[str, Any], cfg: config.Config) -> list[tuple[str, str]]:
    facts = [("講習名", course["title"]), ("講習コード", course["course_code"])]
    if course["domain"]:
        facts.append(("領域", vocabulary.COURSE_DOMAINS.get(course["domain"], course["domain"])))
    if course["qualification"]:
        facts.append(
            ("対象資格", cfg.qualification_label(course["scheme"], course["qualification"]))
        )
    facts += [("時間数", f"{course['hours']}時間"), ("開催日", _when(course))]
    facts += [(k, course[c]) for k, c in (("会場", "venue"), ("講師", "lecturer")) if course[c]]
    return facts


def certificates(
    con: duckdb.DuckDBPyConnection,
    code: str,
    enrolment_ids: Sequence[int] | None = None,
    *,
    issued_on: dt.date | None = None,
    cfg: config.Config | None = None,
) -> bytes:
    """The completion certificates of a course (those of `enrolment_ids` only, if given), one
    page each. ValueError when none of them completed the course."""
    settings = cfg or config.current()
    day = issued_on or enrolment.now().date()
    return _render_certificates(_pages(con, code, enrolment_ids, {}, day, settings))


def member_certificates(
    con: duckdb.DuckDBPyConnection, member_no: str, *, actor: str, cfg: config.Config | None = None
) -> tuple[bytes, tuple[str, ...]]:
    """A member's completion certificates, one page per course completed (in the order
    completed) in one PDF, and their numbers; empty when the member completed none. Those not
    issued yet are marked issued now (core.courses.results), each dated the day it was first
    issued so every copy is the same PDF, and every print is audited with its copy number."""
    settings = cfg or config.current()

    def work() -> pl.DataFrame:
        found = db.frame(
            con,
            "SELECT enrolment_id, course_code, certificate_no FROM course_completions"
            " WHERE member_no = ? ORDER BY completed_on, enrolment_id",
            [member_no],
        )
        if found.is_empty():
            return found
        ids = found["enrolment_id"].to_list()
        results.mark_issued(con, ids, actor=actor)
        con.execute(
            """
            INSERT INTO audit_log (actor, action, table_name, row_key, member_no, reason)
            SELECT $actor, 'issue', 'course_completions', k.enrolment_id::VARCHAR, k.member_no,
                   k.course_code || ': 修了証明書を発行' || CASE WHEN coalesce(n.copies, 0) > 0
                       THEN '（' || (n.copies + 1)::VARCHAR || '回目の印刷）' ELSE '' END
            FROM course_completions k
            LEFT JOIN (SELECT row_key, count(*) AS copies FROM audit_log
                       WHERE table_name = 'course_completions' AND action = 'issue'
                         AND row_key IN (SELECT unnest($keys::VARCHAR[]))
                       GROUP BY row_key) n ON n.row_key = k.enrolment_id::VARCHAR
            WHERE k.enrolment_id IN (SELECT unnest($ids::BIGINT[]))
            """,
            {"actor": actor, "ids": ids, "keys": [str(i) for i in ids]},
        )
        return db.frame(
            con,
            "SELECT enrolment_id, course_code, certificate_no, certificate_issued_at"
            " FROM course_completions WHERE enrolment_id IN (SELECT unnest($ids::BIGINT[]))"
            " ORDER BY completed_on, enrolment_id",
            {"ids": ids},
        )

    issued, _ = seats.run(con, work)
    if issued.is_empty():
        return b"", ()
    days = {
        int(r["enrolment_id"]): r["certificate_issued_at"].astimezone(enrolment.JST).date()
        for r in issued.iter_rows(named=True)
    }
    pages = [
        page
        for code in dict.fromkeys(issued["course_code"].to_list())
        for page in _pages(con, code, list(days), days, enrolment.now().date(), settings)
    ]
    return _render_certificates(pages), tuple(issued["certificate_no"].to_list())


def _pages(
    con: duckdb.DuckDBPyConnection,
    code: str,
    enrolment_ids: Sequence[int] | None,
    days: dict[int, dt.date],
    day: dt.date,
    settings: config.Config,
) -> list[dict[str, Any]]:
    """One page per participant of the course who completed it (of `enrolment_ids`, if
    given), dated `days[enrolment_id]` or `day`."""
    course = catalogue.course(con, code, cfg=settings)
    people = roster.participants(con, [code], cfg=settings).filter(stage="completed")
    if enrolment_ids is not None:
        people = people.filter(people["enrolment_id"].is_in(list(enrolment_ids)))
    if people.is_empty():
        raise ValueError(f"講習 {code} に修了した受講者はいません")
    births = dict(con.execute(
        "SELECT member_no, birth_date FROM members WHERE member_no IN (SELECT unnest($m::VARCHAR[]))",
        {"m": people["member_no"].to_list()}).fetchall())  # fmt: skip
    pages = []
    for person in people.iter_rows(named=True):
        on = days.get(int(person["enrolment_id"]), day)
        lines = [*_facts(course, settings)]
        if person["score"] is not None:
            lines.append(
                ("修了認定試験", f"{person['score']}点（{text.jp_date(person['exam_on'])}）")
            )
        born = births.get(person["member_no"])
        pages.append({
            "number": f"証明書番号 {person['certificate_no']}",
            "name": f"{person['name']} 様",
            "who": f"会員番号 {person['member_no']}" + (
                f"　生年月日 {text.jp_date(born, with_wareki=True)}" if born else ""),
            "lines": lines,
            "day": on,
            "date": f"{text.jp_date(on)}（{text.wareki(on)}）",
            "body": str(settings.value(f"{course['scheme']}.body_name", on=on)),
            "address": str(settings.value(f"{course['scheme']}.issuer.address", on=on)),
        })  # fmt: skip
    return pages


def _render_certificates(pages: list[dict[str, Any]]) -> bytes:
    lead = "上記の者は、下記の講習を受講し、修了の認定を受けたことを証明します。"
    strings = [lead, "修了証明書", "記"]
    for page in pages:
        strings += [page["number"], page["name"], page["who"], page["date"], page["body"]]
        strings += [page["address"], *(s for pair in page["lines"] for s in pair)]
    pdf = FPDF(format="A4")
    first: dt.date = min(page["day"] for page in pages)  # the same date for every copy
    pdf.set_creation_date(dt.datetime(first.year, first.month, first.day, tzinfo=enrolment.JST))
    pdf.set_auto_page_break(auto=True, margin=18)
    font.register(pdf, "".join(strings))
    for page in pages:
        pdf.add_page()
        pdf.set_font(_F, size=10)
        pdf.cell(0, 6, page["number"], align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(10)
        pdf.set_font(_F, size=26)
        pdf.cell(0, 16, "修了証明書", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(10)
        pdf.set_font(_F, size=16)
        pdf.cell(0, 10, page["name"], border="B", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_F, size=10)
        pdf.cell(0, 7, page["who"], new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
        pdf.set_font(_F, size=12)
        pdf.multi_cell(0, 7, lead, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.cell(0, 8, "記", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_F, size=11)
        with pdf.table(
            col_widths=(40, 130), headings_style=_PLAIN, first_row_as_headings=False
        ) as grid:
            for label, value in page["lines"]:
                grid.row([label, value])
        pdf.ln(14)
        pdf.cell(0, 7, page["date"], align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_F, size=13)
        pdf.cell(0, 9, page["body"], align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_F, size=9)
        pdf.cell(0, 5, page["address"], align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def sign_in_sheet(
    con: duckdb.DuckDBPyConnection, code: str, *, cfg: config.Config | None = None
) -> bytes:
    """The roster to print for the day: every participant holding a seat, in reservation
    order, with a column to sign and one for minutes late."""
    settings = cfg or config.current()
    course = catalogue.course(con, code, cfg=settings)
    everyone = roster.participants(con, [code], cfg=settings)
    people = everyone.filter(everyone["status"].is_in(SEATED))
    rows = [
        (str(n), p["member_no"], p["name"] or "", p["kana"] or "", p["organization"] or "", "", "")
        for n, p in enumerate(people.iter_rows(named=True), start=1)
    ]
    title = "受講者名簿（出席簿）"
    facts = _facts(course, settings)
    capacity = f"定員 {course['capacity']}人　受講者 {len(rows)}人" if course["capacity"] else ""
    strings = [title, capacity, *SHEET_HEADINGS, *(s for r in rows for s in r),
               *(s for pair in facts for s in pair)]  # fmt: skip
    pdf = FPDF(format="A4", orientation="landscape")
    pdf.set_auto_page_break(auto=True, margin=12)
    font.register(pdf, "".join(strings))
    pdf.add_page()
    pdf.set_font(_F, size=16)
    pdf.cell(0, 10, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_F, size=10)
    pdf.multi_cell(0, 6, "　".join(f"{k}: {v}" for k, v in facts), new_x="LMARGIN", new_y="NEXT")
    if capacity:
        pdf.cell(0, 6, capacity, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(_F, size=10)
    with pdf.table(col_widths=(12, 30, 45, 50, 55, 60, 25), headings_style=_PLAIN,
                   line_height=9) as grid:  # fmt: skip
        for row in (SHEET_HEADINGS, *rows):
            grid.row(list(row))
    return bytes(pdf.output())
