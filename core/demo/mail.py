"""The demo's outbox as if the sender had been running: the mail its intake wrote spread over
the last two weeks, nearly all sent a few minutes after it was written, a few refused for good
by the receiving server (their addresses recorded as failing), today's still pending."""

from __future__ import annotations

import datetime as dt

import duckdb


def deliver(con: duckdb.DuckDBPyConnection, on: dt.date) -> None:
    """Backdate and settle the demo's outbox rows, deterministically by row id."""
    con.execute(
        """
        UPDATE outbox SET created_at = $noon - to_minutes((hash(outbox_id::VARCHAR) % 20160)::BIGINT)
        """,
        {
            "noon": dt.datetime.combine(on, dt.time(12)).replace(
                tzinfo=dt.timezone(dt.timedelta(hours=9))
            )
        },
    )
    con.execute(
        """
        UPDATE outbox SET
            status = CASE WHEN hash(outbox_id::VARCHAR) % 40 = 0 THEN 'failed' ELSE 'sent' END,
            status_reason = CASE WHEN hash(outbox_id::VARCHAR) % 40 = 0
                THEN '配信不能（550 5.1.1 Recipient address rejected: User unknown）' END,
            attempts = 1,
            sent_at = CASE WHEN hash(outbox_id::VARCHAR) % 40 <> 0 THEN created_at + INTERVAL '3 minutes' END,
            last_attempt_at = created_at + INTERVAL '3 minutes'
        WHERE status = 'pending' AND CAST(created_at AS DATE) < $on
        """,
        {"on": on},
    )
    con.execute(
        """
        INSERT INTO mail_failures (member_no, email, failed_at, reason, outbox_id)
        SELECT member_no, recipient, last_attempt_at, '550 5.1.1 User unknown', outbox_id
        FROM outbox WHERE status = 'failed'
        """
    )
