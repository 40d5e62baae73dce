"""Seats: how a seat is given or freed, so a course is never overbooked and never keeps a seat
empty while someone waits — also when staff, an import, a cancellation and the daily job act
on one course at the same moment.

DuckDB's concurrency is optimistic: two transactions may both read a course's seat count and
both decide there is one seat left. So every transaction that gives or frees a seat first
bumps the course's `seat_version` (`guard`). Of two such transactions on one course only one
can change that row: the other fails with a conflict — at once while the first is open, or
at its own update when the first has committed since it began — and is rolled back whole and
run again (`run`) from a snapshot that includes the first one's seats. Counting and deciding
come after the guard, so a decision is always made on the latest seats. (On PostgreSQL the
same update would make the second transaction wait instead.)

A freed seat goes, in the same transaction, to the first person waiting (`promote`): ordered
by the moment their reservation was received, then by its number.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import duckdb
import polars as pl

from core.errors import ConflictError
from core.notify import course_mail
from core.store import db

T = TypeVar("T")
ATTEMPTS = 60  # a rush of thousands of reservations on a few courses meets many conflicts
MAX_DELAY = 0.25  # seconds; the wait before a retry grows to this, jittered


class CourseConflict(ConflictError):
    """Other transactions kept changing the same course's seats; nothing was written."""

    def __init__(self, detail: str = ""):
        super().__init__(
            "他の処理と同時に同じ講習の座席を変更したため、記録できませんでした。もう一度実行してください。"
            + (f"（{detail}）" if detail else "")
        )


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # a failed COMMIT leaves no transaction behind
        con.execute("ROLLBACK")


def run(
    con: duckdb.DuckDBPyConnection, work: Callable[[], T], attempts: int = ATTEMPTS
) -> tuple[T, int]:
    """Run `work` in a transaction; a write conflict rolls it back and runs it again after a
    short random wait. Returns (its result, the attempts it took); CourseConflict when every
    attempt met a conflict. Call it outside a transaction."""
    for attempt in range(1, attempts + 1):
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                result = work()
            except BaseException:
                _rollback(con)
                raise
            con.execute("COMMIT")
            return result, attempt
        except duckdb.TransactionException as exc:
            _rollback(con)
            if "onflict" not in str(exc):  # not another writer: an error of this transaction
                raise
            if attempt == attempts:
                raise CourseConflict(str(exc).splitlines()[0]) from exc
            time.sleep(random.uniform(0, min(0.004 * attempt, MAX_DELAY)))
    raise AssertionError("unreachable")


def guard(con: duckdb.DuckDBPyConnection, codes: Sequence[str]) -> None:
    """Claim the seats of these courses for this transaction (see the module's docstring)."""
    con.execute(
        "UPDATE courses SET seat_version = seat_version + 1"
        " WHERE course_code IN (SELECT unnest($codes::VARCHAR[]))",
        {"codes": list(codes)},
    )


def promote(
    con: duckdb.DuckDBPyConnection,
    codes: Sequence[str],
    *,
    moment: dt.datetime,
    actor: str,
    batch_id: str | None = None,
) -> pl.DataFrame:
    """Give every free seat of these (guarded) courses to the first people waiting, while the
    course is still to come (until the day before it) and scheduled; each promotion is
    audited, recorded as a `promoted` event and mailed (core.notify.course_mail). Returns the
    promoted reservations (enrolment_id, member_no, course_code)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE promoted AS
        WITH free AS (
            SELECT c.course_code, c.scheme,
                   c.capacity - count(e.enrolment_id) FILTER (WHERE e.status = 'reserved') AS free
            FROM courses c LEFT JOIN enrolments e USING (course_code)
            WHERE c.course_code IN (SELECT unnest($codes::VARCHAR[])) AND c.status = 'scheduled'
              AND c.capacity IS NOT NULL AND c.held_on > $moment::DATE
            GROUP BY c.course_code, c.scheme, c.capacity
        ),
        waiting AS (
            SELECT e.enrolment_id, e.member_no, e.course_code, f.scheme, f.free,
                   row_number() OVER (PARTITION BY e.course_code
                                      ORDER BY e.reserved_at, e.enrolment_id) AS place
            FROM enrolments e JOIN free f USING (course_code)
            WHERE e.status = 'waitlisted' AND f.free > 0
        )
        SELECT enrolment_id, member_no, course_code, scheme, place, 'waitlisted' AS old_status
        FROM waiting WHERE place <= free
        """,
        {"codes": list(codes), "moment": moment},
    )
    con.execute(
        "UPDATE enrolments SET status = 'reserved', seated_at = $moment,"
        " updated_at = current_timestamp WHERE enrolment_id IN (SELECT enrolment_id FROM promoted)",
        {"moment": moment},
    )
    record(con, "promoted", "promoted", action="promote", actor=actor, batch_id=batch_id,
           new="reserved", detail="キャンセル待ちから繰上げ（空席）")  # fmt: skip
    con.execute(
        "CREATE OR REPLACE TEMP TABLE promoted_mail AS"
        " SELECT 'promoted' AS event, enrolment_id, member_no, course_code FROM promoted"
    )
    course_mail.write(con, "promoted_mail", actor=actor, on=moment.date(), batch_id=batch_id)
    return db.frame(con, "SELECT enrolment_id, member_no, course_code FROM promoted ORDER BY ALL")


def record(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    event: str,
    *,
    actor: str,
    batch_id: str | None,
    new: str | None,
    detail: str,
    field: str = "status",
    action: str | None = None,
) -> None:
    """An event row (for the members' mail) and an audit row per reservation in `relation`
    (a code-named relation with enrolment_id, member_no, course_code, scheme and old_status,
    the value before). `event` is the course_events code; `action` the audit action (default:
    the event's); `new` the value after."""
    con.execute(
        f"""
        INSERT INTO course_events (event, enrolment_id, member_no, course_code, scheme, detail)
        SELECT $event, enrolment_id, member_no, course_code, scheme, $detail FROM "{relation}"
        """,
        {"event": event, "detail": detail},
    )
    con.execute(
        f"""
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field, old_value,
                               new_value, reason, batch_id)
        SELECT $actor, $action, 'enrolments', enrolment_id::VARCHAR, member_no, $field,
               old_status, $new, course_code || ': ' || $detail, $batch
        FROM "{relation}"
        """,
        {"actor": actor, "action": action or event, "field": field, "new": new, "detail": detail,
         "batch": batch_id},
    )  # fmt: skip
