"""What happens to a reservation after it is made: the signed application form arrives
(受講申込書), the member cancels (before the form, free) or withdraws (after it, by a 受講辞退届,
no refund except the scheme's refund reasons), the reservation ends for the daily job's
reasons, or a course not opened sends its participants to another course.

`end` is the one way a reservation ends: its status, the reason and the day, its billing
lines (open lines cancelled; paid ones refunded where a refund reason applies, else kept),
an event and an audit row each, and the seats it frees given to the first people waiting —
in the caller's transaction, after guarding the courses (core.courses.seats).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from core import config, vocabulary
from core.billing import refunds
from core.config import Config
from core.courses import enrolment, policy, seats
from core.store import audit, db

# the refund reasons the product itself applies: a course it did not open, or cancelled
NOT_OPENED_REFUND = "not_opened"
CANCELLED_REFUND = "disaster"


@dataclass(frozen=True)
class Ended:
    ended: int
    promoted: tuple[str, ...]  # the member numbers given a freed seat
    lines_cancelled: int
    lines_refunded: int


def moment_of(on: dt.date | None) -> dt.datetime:
    """The moment an action dated `on` happens: now for today (or no date), else the day's start."""
    current = enrolment.now()
    return current if on is None or on == current.date() else dt.datetime.combine(on, dt.time())


def end(
    con: duckdb.DuckDBPyConnection,
    enrolment_ids: Sequence[int],
    *,
    status: str,
    reason: str,
    on: dt.date,
    actor: str,
    batch_id: str | None = None,
    refund_reason: str | None = None,
    moment: dt.datetime | None = None,
) -> Ended:
    """End these reservations (those still holding or waiting for a seat) in the caller's
    transaction: `status` cancelled | deleted | not_opened, `reason` a key of END_REASONS."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE ending AS
        SELECT e.enrolment_id, e.member_no, e.course_code, c.scheme, e.status AS old_status,
               e.billing_id, e.materials_billing_id
        FROM enrolments e JOIN courses c USING (course_code)
        WHERE e.enrolment_id IN (SELECT unnest($ids::BIGINT[])) AND e.status IN ('reserved', 'waitlisted')
        """,
        {"ids": [int(i) for i in enrolment_ids]},
    )
    codes = [r[0] for r in con.execute("SELECT DISTINCT course_code FROM ending").fetchall()]
    seats.guard(con, codes)
    con.execute(
        "UPDATE enrolments SET status = $status, end_reason = $reason, ended_on = $on,"
        " updated_at = current_timestamp WHERE enrolment_id IN (SELECT enrolment_id FROM ending)",
        {"status": status, "reason": reason, "on": on},
    )
    label = vocabulary.END_REASONS[reason]
    event = "cancelled" if status == "cancelled" else status
    seats.record(con, "ending", event, action="cancel" if status == "cancelled" else
                 {"deleted": "delete", "not_opened": "not_open"}[status], actor=actor,
                 batch_id=batch_id, new=status, detail=label)  # fmt: skip
    cancelled, refunded = _settle_lines(con, on=on, actor=actor, batch_id=batch_id,
                                        refund_reason=refund_reason, label=label)  # fmt: skip
    promoted = seats.promote(con, codes, moment=moment or moment_of(on), actor=actor,
                             batch_id=batch_id)  # fmt: skip
    n = db.one(con, "SELECT count(*) FROM ending")
    return Ended(int(n[0]) if n else 0, tuple(promoted["member_no"].to_list()), cancelled, refunded)


def _settle_lines(
    con: duckdb.DuckDBPyConnection,
    *,
    on: dt.date,
    actor: str,
    batch_id: str | None,
    refund_reason: str | None,
    label: str,
) -> tuple[int, int]:
    """The ended reservations' billing lines: open ones cancelled, paid ones refunded in full
    (line and handling fee) when a refund reason applies; returns (cancelled, refunded)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE ending_lines AS
        SELECT b.billing_id, b.member_no, b.scheme, b.status, b.amount + b.handling_fee AS amount,
               b.payment_id,
               CASE WHEN b.status = 'open' THEN 'cancelled'
                    WHEN b.status = 'paid' AND $refund IS NOT NULL THEN 'refunded' END AS new_status
        FROM billing b
        WHERE b.billing_id IN (SELECT billing_id FROM ending UNION ALL
                               SELECT materials_billing_id FROM ending)
        """,
        {"refund": refund_reason},
    )
    con.execute(
        """
        INSERT INTO refunds (billing_id, payment_id, member_no, scheme, amount, reason, note,
                             refunded_on, recorded_by)
        SELECT billing_id, payment_id, member_no, scheme, amount, $reason, $note, $on, $actor
        FROM ending_lines WHERE new_status = 'refunded'
        """,
        {"reason": refund_reason, "note": label, "on": on, "actor": actor},
    )
    con.execute(
        """
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field, old_value,
                               new_value, reason, batch_id)
        SELECT $actor, CASE WHEN new_status = 'refunded' THEN 'refund' ELSE 'update' END,
               'billing', billing_id::VARCHAR, member_no, 'status', status, new_status,
               '講習の予約の終了: ' || $label, $batch
        FROM ending_lines WHERE new_status IS NOT NULL
        """,
        {"actor": actor, "label": label, "batch": batch_id},
    )
    con.execute(
        """
        UPDATE billing AS b SET status = l.new_status, updated_at = current_timestamp
        FROM ending_lines l WHERE b.billing_id = l.billing_id AND l.new_status IS NOT NULL
        """
    )
    counts = db.one(
        con,
        "SELECT count(*) FILTER (WHERE new_status = 'cancelled'),"
        " count(*) FILTER (WHERE new_status = 'refunded') FROM ending_lines",
    )
    return (int(counts[0]), int(counts[1])) if counts else (0, 0)


def _active(con: duckdb.DuckDBPyConnection, member_no: str, course_code: str) -> dict[str, Any]:
    rows = db.frame(
        con,
        "SELECT e.enrolment_id, e.status, e.form_received_on, e.reserved_at, c.scheme"
        " FROM enrolments e JOIN courses c USING (course_code)"
        " WHERE e.member_no = ? AND e.course_code = ? AND e.status IN ('reserved', 'waitlisted')",
        [member_no, course_code],
    )
    if rows.is_empty():
        raise ValueError(
            f"会員 {member_no} の講習 {course_code} の予約（キャンセル待ち）はありません"
        )
    return rows.row(0, named=True)


@dataclass(frozen=True)
class Cancelled:
    enrolment_id: int
    kind: str  # member (before the form) | withdrawal (受講辞退届)
    promoted: tuple[str, ...]
    refunded: int  # paid lines refunded
    attempts: int


def cancel(
    con: duckdb.DuckDBPyConnection,
    member_no: str,
    course_code: str,
    *,
    actor: str,
    on: dt.date | None = None,
    refund_reason: str | None = None,
    note: str | None = None,
    cfg: Config | None = None,
) -> Cancelled:
    """Cancel a reservation or a place on the waitlist: before the signed form arrived, free
    (取消); after it, a withdrawal (受講辞退届 received on `on`): paid fees are not refunded
    unless `refund_reason` is one of the scheme's refund reasons (a disaster postponement the
    member cannot attend, a double payment). The first person waiting gets the seat."""
    settings = cfg or config.current()
    day = on or enrolment.now().date()

    def work() -> Cancelled:
        found = _active(con, member_no, course_code)
        if day < found["reserved_at"].date():
            raise ValueError(f"取消日 {day} が予約日より前です")
        kind = "member" if found["form_received_on"] is None else "withdrawal"
        if refund_reason is not None:
            allowed = refunds.reasons(str(found["scheme"]), day, settings)
            if refund_reason not in allowed:
                raise ValueError(
                    f"返還できる事由ではありません（{'、'.join(allowed.values()) or 'なし'}）"
                )
        detail = None if note is None else note.strip() or None
        done = end(con, [int(found["enrolment_id"])], status="cancelled", reason=kind, on=day,
                   actor=actor, refund_reason=refund_reason, moment=moment_of(on))  # fmt: skip
        if detail:
            audit.record_changes(con, actor=actor, action="cancel", table="enrolments",
                                 row_key=str(found["enrolment_id"]), member_no=member_no,
                                 changes={"note": (None, detail)}, reason=course_code)  # fmt: skip
        return Cancelled(int(found["enrolment_id"]), kind, done.promoted, done.lines_refunded, 0)

    result, attempts = seats.run(con, work)
    return Cancelled(result.enrolment_id, result.kind, result.promoted, result.refunded, attempts)


def record_forms(
    con: duckdb.DuckDBPyConnection,
    member_no: str,
    *,
    received_on: dt.date,
    actor: str,
    course_codes: Sequence[str] | None = None,
    cfg: Config | None = None,
) -> list[str]:
    """The member's envelope of signed application forms arrived on `received_on`: every
    reservation of theirs holding a seat and waiting for its form (or those of
    `course_codes`) is marked received, in one action. ValueError (nothing written) when
    there is none, or when the day is before a seat was given, in the future, or past a
    form's deadline (the daily job cancels that reservation). Returns the course codes."""
    settings = cfg or config.current()
    if received_on > enrolment.now().date():
        raise ValueError(f"到着日 {received_on} が未来の日付です")
    with db.registered(con, course_policies=policy.frame(settings, received_on)):
        waiting = db.frame(
            con,
            """
            SELECT e.enrolment_id, e.member_no, e.course_code, c.scheme, c.title,
                   e.seated_at::DATE AS seated_on,
                   e.seated_at::DATE + p.form_due_days AS due_on, NULL::VARCHAR AS old_status
            FROM enrolments e JOIN courses c USING (course_code)
            JOIN course_policies p ON p.scheme = c.scheme
            WHERE e.member_no = $member AND e.status = 'reserved'
              AND e.form_received_on IS NULL AND p.form_due_days > 0
              AND ($codes::VARCHAR[] IS NULL OR e.course_code IN (SELECT unnest($codes::VARCHAR[])))
            ORDER BY e.seated_at
            """,
            {"member": member_no, "codes": list(course_codes) if course_codes else None},
        )
    if waiting.is_empty():
        raise ValueError(f"会員 {member_no} に申込書を待っている予約はありません")
    early = waiting.filter(pl.col("seated_on") > received_on)
    late = waiting.filter(pl.col("due_on") < received_on)
    for rows, words in ((early, "予約より前の日付です"), (late, "提出期限を過ぎています")):
        if rows.height:
            named = "、".join(
                f"{r['title']}（期限 {r['due_on']}）" for r in rows.iter_rows(named=True)
            )
            raise ValueError(f"到着日 {received_on} は{words}: {named}")

    def work() -> None:
        with db.registered(con, forms=waiting):
            con.execute(
                "UPDATE enrolments SET form_received_on = $on, updated_at = current_timestamp"
                " WHERE enrolment_id IN (SELECT enrolment_id FROM forms)"
                " AND status = 'reserved' AND form_received_on IS NULL",
                {"on": received_on},
            )
            con.execute("CREATE OR REPLACE TEMP TABLE form_rows AS SELECT * FROM forms")
        seats.record(con, "form_rows", "form_received", action="form_received",
                     field="form_received_on", actor=actor, batch_id=None,
                     new=received_on.isoformat(), detail="受講申込書の受理")  # fmt: skip

    seats.run(con, work)
    return waiting["course_code"].to_list()
