"""What the course pages and exports read: a course's roster (受講者名簿), a member's
reservations and completions, the contract's enrolments export, overdue certificates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import polars as pl

from core import config
from core.config import Config
from core.courses import enrolment, policy, results
from core.members import organizations
from core.store import db, queries


def participants(
    con: duckdb.DuckDBPyConnection,
    codes: Sequence[str] | None,
    *,
    scope: str = organizations.ALL_SCOPE,
    today: dt.date | None = None,
    cfg: Config | None = None,
) -> pl.DataFrame:
    """core/sql/courses/roster.sql for these courses (every course when None), members within
    `scope` only."""
    settings = cfg or config.current()
    day = today or enrolment.now().date()
    outcome = results.outcomes(con, codes, cfg=settings, on=day)
    with db.registered(con, course_results=outcome, course_policies=policy.frame(settings, day)):
        return db.frame(
            con,
            queries.query("courses", "roster"),
            {
                "codes": list(codes) if codes is not None else None,
                "scope_path": organizations.scope_path(con, scope),
                "today": day,
            },
        )


def export(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The enrolments export (FORMATS.md): the contract's columns first."""
    return participants(con, None).select(
        "member_no", "course_code", "status", "waitlist_position", "reserved_at",
        "form_received_on", "stage", "seated_at", "form_due_on", "ended_on", "end_reason",
        "attended", "minutes_late", "score", "exam_on", "certificate_no",
    ).sort("reserved_at", "course_code", "member_no")  # fmt: skip


def of_member(con: duckdb.DuckDBPyConnection, member_no: str) -> pl.DataFrame:
    """A member's reservations, places on waitlists and completions, newest course first."""
    codes = [r[0] for r in con.execute(
        "SELECT DISTINCT course_code FROM enrolments WHERE member_no = ?", [member_no]).fetchall()]  # fmt: skip
    if not codes:
        return pl.DataFrame()
    rows = participants(con, codes).filter(pl.col("member_no") == member_no)
    facts = db.frame(
        con,
        "SELECT course_code, scheme, title, domain, hours, held_on FROM courses"
        " WHERE course_code IN (SELECT unnest($codes::VARCHAR[]))",
        {"codes": codes},
    )
    return rows.join(facts, on="course_code").sort("held_on", "reserved_at", descending=True)


def overdue_certificates(con: duckdb.DuckDBPyConnection, today: dt.date) -> pl.DataFrame:
    """Completion certificates not issued by their due day (the end of the following month)."""
    return db.frame(
        con,
        """
        SELECT k.course_code, c.title, k.member_no, k.certificate_no, k.completed_on,
               k.certificate_due
        FROM course_completions k JOIN courses c USING (course_code)
        WHERE k.certificate_issued_at IS NULL AND k.certificate_due < $today
        ORDER BY k.certificate_due, k.course_code, k.member_no
        """,
        {"today": today},
    )


def history(con: duckdb.DuckDBPyConnection, code: str, limit: int = 500) -> pl.DataFrame:
    """What happened on a course, newest first: its reservations' events and its own edits."""
    return db.frame(
        con,
        """
        SELECT happened_at, event, member_no, detail FROM (
            SELECT happened_at, event, member_no, detail, event_id AS n
            FROM course_events WHERE course_code = $code
            UNION ALL
            SELECT changed_at, 'course_' || action, NULL,
                   coalesce(field || ': ' || coalesce(old_value, '—') || ' → '
                            || coalesce(new_value, '—'), '') || coalesce('（' || reason || '）', ''),
                   audit_id
            FROM audit_log WHERE table_name = 'courses' AND row_key = $code
        )
        ORDER BY happened_at DESC, n DESC LIMIT $limit
        """,
        {"code": code, "limit": limit},
    )
