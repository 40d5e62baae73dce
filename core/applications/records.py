"""Applications as staff look them up: one by reference or id, its steps, a member's list,
and the sent-back ones a sender has to correct."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from core.members import organizations
from core.store import db


def history(con: duckdb.DuckDBPyConnection, application_id: int) -> pl.DataFrame:
    """Every step of one application, oldest first, with organisation names."""
    return db.frame(
        con,
        """
        SELECT s.acted_at, s.action, s.level, o.name AS org_name, s.next_level,
               n.name AS next_org_name, s.reason, s.note, s.actor
        FROM application_steps s
        LEFT JOIN organizations o ON o.org_code = s.org_code
        LEFT JOIN organizations n ON n.org_code = s.next_org_code
        WHERE s.application_id = ? ORDER BY s.acted_at, s.step_id
        """,
        [application_id],
    )


def get_by_id(con: duckdb.DuckDBPyConnection, application_id: int) -> dict[str, Any] | None:
    """One application by its id, or None."""
    found = db.frame(
        con, "SELECT * FROM applications WHERE application_id = ?", [application_id]
    ).to_dicts()
    return found[0] if found else None


def get(con: duckdb.DuckDBPyConnection, application_ref: str) -> dict[str, Any] | None:
    """One application by its reference, or None."""
    found = db.frame(
        con, "SELECT * FROM applications WHERE application_ref = ?", [application_ref]
    ).to_dicts()
    return found[0] if found else None


def sent_back(con: duckdb.DuckDBPyConnection, *, scope: str) -> pl.DataFrame:
    """Sent-back applications within a scope with the latest reason, for the sender."""
    prefix = organizations.scope_path(con, scope)
    return db.frame(
        con,
        """
        SELECT a.application_id, a.application_ref, a.version, a.scheme, a.kind, a.season,
               a.member_no,
               coalesce(m.family_name || ' ' || m.given_name,
                        a.family_name || ' ' || a.given_name) AS name,
               a.level, o.name AS level_org_name, s.reason, s.note AS send_back_note,
               s.actor AS sent_back_by, s.acted_at AS sent_back_at
        FROM applications a
        LEFT JOIN members m ON m.member_no = a.member_no
        LEFT JOIN organizations o ON o.org_code = a.level_org_code
        JOIN organizations home ON home.org_code = coalesce(a.org_code, m.org_code)
        LEFT JOIN (
            SELECT application_id, arg_max(reason, step_id) AS reason,
                   arg_max(note, step_id) AS note, arg_max(actor, step_id) AS actor,
                   max(acted_at) AS acted_at
            FROM application_steps WHERE action = 'sent_back' GROUP BY application_id
        ) s USING (application_id)
        WHERE a.status = 'sent_back' AND starts_with(home.path, ?)
        ORDER BY s.acted_at
        """,
        [prefix],
    )


def member_applications(con: duckdb.DuckDBPyConnection, member_no: str) -> pl.DataFrame:
    """A member's applications, newest first, for the member page."""
    return db.frame(
        con,
        """
        SELECT a.application_ref, a.scheme, a.kind, a.season, a.status, a.level,
               o.name AS level_org_name, a.submitted_at, a.decided_at, a.entered_by,
               a.qualification, a.reject_reason
        FROM applications a LEFT JOIN organizations o ON o.org_code = a.level_org_code
        WHERE a.member_no = ? ORDER BY a.submitted_at DESC
        """,
        [member_no],
    )
