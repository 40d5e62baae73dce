"""What the 送信トレイ page reads and does: the outbox filtered, one mail as written, counts of
sent and failed mail per day, and resending a mail (a new row, audited)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from core.errors import ValidationError
from core.members.organizations import scope_path
from core.notify.outbox import SUPPRESSED
from core.store import audit, db

_SCOPED = """
FROM outbox x
LEFT JOIN members m ON m.member_no = x.member_no
LEFT JOIN organizations o ON o.org_code = m.org_code
WHERE ($path = '/' OR starts_with(o.path, $path))
"""


@dataclass(frozen=True)
class Filter:
    event: str | None = None
    status: str | None = None
    scheme: str | None = None
    member_no: str | None = None


def _path(con: duckdb.DuckDBPyConnection, scope: str) -> str:
    return "/" if scope == "*" else scope_path(con, scope)


def rows(
    con: duckdb.DuckDBPyConnection, scope: str, chosen: Filter, limit: int = 500
) -> tuple[int, pl.DataFrame]:
    """(how many match, the newest `limit` of them) within the user's scope."""
    params = {
        "path": _path(con, scope),
        "event": chosen.event,
        "status": chosen.status,
        "scheme": chosen.scheme,
        "member": (chosen.member_no or "").strip() or None,
        "limit": limit,
    }
    where = (
        _SCOPED + " AND ($event::VARCHAR IS NULL OR x.event = $event)"
        " AND ($status::VARCHAR IS NULL OR x.status = $status)"
        " AND ($scheme::VARCHAR IS NULL OR x.scheme = $scheme)"
        " AND ($member::VARCHAR IS NULL OR x.member_no = $member)"
    )
    total = db.one(
        con, "SELECT count(*) " + where, {k: v for k, v in params.items() if k != "limit"}
    )
    frame = db.frame(
        con,
        "SELECT x.outbox_id, x.created_at, x.event, x.scheme, x.member_no, x.recipient,"
        " x.subject, x.status, x.attempts, x.sent_at, x.status_reason "
        + where
        + " ORDER BY x.outbox_id DESC LIMIT $limit",
        params,
    )
    return (int(total[0]) if total else 0), frame


def one(con: duckdb.DuckDBPyConnection, scope: str, outbox_id: int) -> dict[str, Any] | None:
    """One mail as written (and as it is sent), if within the scope."""
    found = db.frame(
        con,
        "SELECT x.* " + _SCOPED + " AND x.outbox_id = $id",
        {"path": _path(con, scope), "id": outbox_id},
    )
    return found.row(0, named=True) if found.height else None


def status_counts(con: duckdb.DuckDBPyConnection, scope: str) -> dict[str, int]:
    found = con.execute(
        "SELECT x.status, count(*) " + _SCOPED + " GROUP BY x.status",
        {"path": _path(con, scope)},
    ).fetchall()
    return {str(s): int(n) for s, n in found}


def daily(con: duckdb.DuckDBPyConnection, scope: str, days: int = 30) -> pl.DataFrame:
    """(day, status, n): mail sent or failed per day over the last `days` days (Japan time)."""
    return db.frame(
        con,
        "SELECT CAST(coalesce(x.sent_at, x.last_attempt_at) AS DATE) AS day, x.status,"
        " count(*)::BIGINT AS n " + _SCOPED + " AND x.status IN ('sent', 'failed')"
        " AND coalesce(x.sent_at, x.last_attempt_at) >= current_date - to_days($days)"
        " GROUP BY ALL ORDER BY day, x.status",
        {"path": _path(con, scope), "days": days},
    )


def resend(con: duckdb.DuckDBPyConnection, scope: str, outbox_id: int, *, actor: str) -> int:
    """A new row repeating a mail, to the member's current address, under a new Message-ID
    (it is a new message); audited. Returns the new row's id."""
    with db.transaction(con):
        old = one(con, scope, outbox_id)
        if old is None:
            raise ValidationError(
                {"outbox_id": f"送信 #{outbox_id} は見つからないか、担当範囲の外です。"}
            )
        member = db.one(
            con,
            "SELECT nullif(trim(email), ''), status,"
            " EXISTS (SELECT 1 FROM mail_failures f WHERE f.member_no = m.member_no"
            " AND f.email = m.email) FROM members m WHERE member_no = ?",
            [old["member_no"]],
        )
        recipient = member[0] if member else old["recipient"]
        reason = None
        if member and member[1] == "erased":
            reason = SUPPRESSED["erased"]
        elif not recipient:
            reason = SUPPRESSED["no_address"]
        elif member and member[2]:
            reason = SUPPRESSED["failing"]
        domain = str(old["message_id"]).rsplit("@", 1)[-1].rstrip(">")
        message_id = f"<{uuid.uuid4()}@{domain}>"
        row = db.one(
            con,
            """
            INSERT INTO outbox (event, member_no, scheme, recipient, sender, subject, body,
                                status, status_reason, message_id, resent_from, created_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING outbox_id
            """,
            [
                old["event"], old["member_no"], old["scheme"], recipient, old["sender"],
                old["subject"], old["body"], "suppressed" if reason else "pending", reason,
                message_id, outbox_id, actor,
            ],
        )  # fmt: skip
        assert row is not None
        new_id = int(row[0])
        audit.record_changes(
            con,
            actor=actor,
            action="resend",
            table="outbox",
            row_key=str(new_id),
            changes={"message_id": (old["message_id"], message_id)},
            reason=f"再送（元の送信 #{outbox_id}「{old['subject']}」）",
            member_no=old["member_no"],
        )
    return new_id


def member_mail(con: duckdb.DuckDBPyConnection, member_no: str, limit: int = 100) -> pl.DataFrame:
    """A member's mail, newest first (the member page)."""
    return db.frame(
        con,
        "SELECT outbox_id, created_at, event, scheme, recipient, subject, status, sent_at,"
        " status_reason FROM outbox WHERE member_no = ? ORDER BY outbox_id DESC LIMIT ?",
        [member_no, limit],
    )


def failing_address(con: duckdb.DuckDBPyConnection, member_no: str) -> dt.datetime | None:
    """When a server last refused the member's current address for good, or None."""
    row = db.one(
        con,
        "SELECT max(f.failed_at) FROM mail_failures f JOIN members m USING (member_no)"
        " WHERE f.member_no = ? AND f.email = m.email",
        [member_no],
    )
    return row[0] if row else None
