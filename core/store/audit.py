"""The audit log: who changed what, when, from which value to which, and why."""

from __future__ import annotations

import uuid
from typing import Any

import duckdb
import polars as pl

from core.store import db


def new_batch_id() -> str:
    """An id that groups the audit rows of one import or batch run."""
    return uuid.uuid4().hex[:12]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def record_changes(
    con: duckdb.DuckDBPyConnection,
    *,
    actor: str,
    action: str,
    table: str,
    row_key: str,
    changes: dict[str, tuple[Any, Any]],
    reason: str | None = None,
    member_no: str | None = None,
    batch_id: str | None = None,
) -> None:
    """One audit row per changed field: changes maps field -> (old value, new value)."""
    rows = [
        (actor, action, table, row_key, member_no, field, _text(old), _text(new), reason, batch_id)
        for field, (old, new) in changes.items()
    ]
    if rows:
        con.executemany(
            "INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,"
            " old_value, new_value, reason, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def record_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    actor: str,
    action: str,
    table: str,
    relation: str,
    key_column: str,
    member_column: str | None,
    reason: str,
    batch_id: str,
) -> None:
    """One audit row per row of a registered relation (an import), set-based."""
    member = f'"{member_column}"' if member_column else "NULL"
    con.execute(
        "INSERT INTO audit_log (actor, action, table_name, row_key, member_no, reason, batch_id)"
        f' SELECT ?, ?, ?, CAST("{key_column}" AS VARCHAR), {member}, ?, ? FROM "{relation}"',
        [actor, action, table, reason, batch_id],
    )


def member_history(
    con: duckdb.DuckDBPyConnection, member_no: str, limit: int = 200
) -> pl.DataFrame:
    """The audit rows about one member, newest first."""
    return db.frame(
        con,
        "SELECT changed_at, actor, action, table_name, field, old_value, new_value, reason"
        " FROM audit_log WHERE member_no = ? ORDER BY changed_at DESC, audit_id DESC LIMIT ?",
        [member_no, limit],
    )


def recent(
    con: duckdb.DuckDBPyConnection,
    table: str | None = None,
    limit: int = 200,
    *,
    actions: tuple[str, ...] | None = None,
) -> pl.DataFrame:
    """The latest audit rows, optionally for one table and of some actions only."""
    return db.frame(
        con,
        "SELECT changed_at, actor, action, table_name, row_key, field, old_value, new_value, reason"
        " FROM audit_log WHERE ($table::VARCHAR IS NULL OR table_name = $table)"
        " AND ($actions::VARCHAR[] IS NULL OR list_contains($actions, action))"
        " ORDER BY changed_at DESC, audit_id DESC LIMIT $limit",
        {"table": table, "actions": list(actions) if actions else None, "limit": limit},
    )


def batch(con: duckdb.DuckDBPyConnection, batch_id: str, limit: int = 1000) -> pl.DataFrame:
    """The audit rows one import or batch run wrote."""
    return db.frame(
        con,
        "SELECT changed_at, actor, action, table_name, row_key, member_no, field, old_value,"
        " new_value, reason FROM audit_log WHERE batch_id = ? ORDER BY audit_id LIMIT ?",
        [batch_id, limit],
    )
