"""The daily course job (`courses-daily`), for a day D:

1. bill: reservations whose signed form arrived by D get their invoice (core.billing
   .course_fees: one invoice per member and form day);
2. late forms: a seat given on day S whose form has not arrived by S + the scheme's days (14)
   is cancelled on D > S + 14, freeing the seat;
3. unpaid invoices: a reservation with a line still open after its due date (due < D) is
   deleted (申込がなかったもの) and its open lines cancelled, freeing the seat;
4. not opened: a scheduled course whose recruitment (the extra period included) ended before
   D with fewer seats taken than its minimum is not opened: its reservations end, open fees
   are cancelled and paid ones refunded; staff then offer transfers (core.courses.transfers);
5. promotions: every freed seat goes to the first person waiting (also any free seat a change
   elsewhere left behind).

Steps 2–5 run in one transaction (rolled back whole and run again on a conflict with staff
working at the same moment); each is one set-based statement over every course.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import duckdb
import polars as pl

from core import config
from core.billing import course_fees
from core.config import Config
from core.courses import changes, policy, seats
from core.store import audit, db


@dataclass(frozen=True)
class DailyCounts:
    billed: int  # billing lines written
    late_forms: int  # reservations cancelled: form not received in time
    unpaid: int  # reservations deleted: invoice unpaid past its due date
    not_opened: int  # courses not opened
    not_opened_reservations: int
    refunded: int  # paid lines refunded (courses not opened)
    promoted: int  # people given a seat from the waitlist

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _ids(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> list[int]:
    return [int(r[0]) for r in con.execute(sql, params).fetchall()]


def run_daily(
    con: duckdb.DuckDBPyConnection, *, on: dt.date, actor: str, cfg: Config | None = None
) -> DailyCounts:
    """The daily job for day `on` (see the module's docstring); returns what it did."""
    settings = cfg or config.current()
    billed = sum(course_fees.bill_courses(con, on=on, actor=actor, cfg=settings).values())
    policies = policy.frame(settings, on)
    moment = changes.moment_of(on)

    def work() -> DailyCounts:
        batch = audit.new_batch_id()
        with db.registered(con, course_policies=policies):
            late = _ids(
                con,
                """
                SELECT e.enrolment_id FROM enrolments e JOIN courses c USING (course_code)
                JOIN course_policies p ON p.scheme = c.scheme
                WHERE e.status = 'reserved' AND e.form_received_on IS NULL
                  AND p.form_due_days > 0 AND e.seated_at::DATE + p.form_due_days < $on
                """,
                {"on": on},
            )
        ended_late = changes.end(con, late, status="cancelled", reason="late_form", on=on,
                                 actor=actor, batch_id=batch, moment=moment)  # fmt: skip
        unpaid = _ids(
            con,
            """
            WITH line AS (  -- a reservation's fee line and materials line
                SELECT enrolment_id, billing_id FROM enrolments
                WHERE status = 'reserved' AND billing_id IS NOT NULL
                UNION ALL
                SELECT enrolment_id, materials_billing_id FROM enrolments
                WHERE status = 'reserved' AND materials_billing_id IS NOT NULL
            )
            SELECT DISTINCT l.enrolment_id FROM line l JOIN billing b USING (billing_id)
            WHERE b.status = 'open' AND b.due_on < $on
            """,
            {"on": on},
        )
        ended_unpaid = changes.end(con, unpaid, status="deleted", reason="unpaid", on=on,
                                   actor=actor, batch_id=batch, moment=moment)  # fmt: skip
        closing = _under_minimum(con, policies, on)
        seats.guard(con, closing)
        closing = _under_minimum(con, policies, on)  # counted again with the seats held
        con.execute(
            "UPDATE courses SET status = 'not_opened', status_on = $on,"
            " updated_at = current_timestamp WHERE course_code IN (SELECT unnest($codes::VARCHAR[]))",
            {"on": on, "codes": closing},
        )
        con.execute(
            """
            INSERT INTO audit_log (actor, action, table_name, row_key, field, old_value,
                                   new_value, reason, batch_id)
            SELECT $actor, 'not_open', 'courses', course_code, 'status', 'scheduled',
                   'not_opened', '募集終了時に開講最少人数に満たない', $batch
            FROM courses WHERE course_code IN (SELECT unnest($codes::VARCHAR[]))
            """,
            {"actor": actor, "batch": batch, "codes": closing},
        )
        members = _ids(
            con,
            "SELECT enrolment_id FROM enrolments WHERE course_code IN (SELECT unnest($codes::VARCHAR[]))"
            " AND status IN ('reserved', 'waitlisted')",
            {"codes": closing},
        )
        ended_closed = changes.end(con, members, status="not_opened", reason="not_opened", on=on,
                                   actor=actor, batch_id=batch, moment=moment,
                                   refund_reason=changes.NOT_OPENED_REFUND)  # fmt: skip
        waiting = [r[0] for r in con.execute(
            "SELECT DISTINCT e.course_code FROM enrolments e JOIN courses c USING (course_code)"
            " WHERE e.status = 'waitlisted' AND c.status = 'scheduled' AND c.held_on > ?",
            [on]).fetchall()]  # fmt: skip
        seats.guard(con, waiting)
        swept = seats.promote(con, waiting, moment=moment, actor=actor, batch_id=batch)
        promoted = len(ended_late.promoted) + len(ended_unpaid.promoted) + swept.height
        return DailyCounts(billed, ended_late.ended, ended_unpaid.ended, len(closing),
                           ended_closed.ended, ended_closed.lines_refunded, promoted)  # fmt: skip

    counts, _ = seats.run(con, work)
    return counts


def _under_minimum(
    con: duckdb.DuckDBPyConnection, policies: pl.DataFrame, on: dt.date
) -> list[str]:
    """Scheduled courses still to come whose last recruitment ended before `on` with fewer
    seats taken than their minimum (their own, else the scheme's unless the capacity is small)."""
    with db.registered(con, course_policies=policies):
        rows = con.execute(
            """
            SELECT c.course_code
            FROM courses c JOIN course_policies p USING (scheme)
            LEFT JOIN enrolments e ON e.course_code = c.course_code AND e.status = 'reserved'
            WHERE c.status = 'scheduled' AND c.held_on >= $on
              AND CASE WHEN c.extra_from IS NOT NULL THEN coalesce(c.extra_until::DATE, c.held_on - 1)
                       ELSE c.recruit_until::DATE END < $on
            GROUP BY c.course_code, c.min_to_open, c.capacity, p.small_capacity, p.min_applicants
            HAVING count(e.enrolment_id) < coalesce(
                c.min_to_open,
                CASE WHEN c.capacity <= p.small_capacity THEN 0 ELSE p.min_applicants END)
            ORDER BY c.course_code
            """,
            {"on": on},
        ).fetchall()
    return [r[0] for r in rows]
