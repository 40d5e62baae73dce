"""Refunds of paid lines, only where the scheme's rules allow (`<scheme>.refund_reasons`).

The teacher scheme refunds a double payment, a course the university did not open, or a
disaster cancellation the participant cannot attend (seed 004); SAJ never refunds after
payment (seed 003: an empty list); JPTEC, ITC and JSPO refund only a double payment (an
assumption, docs/assumptions.md). The refund covers the line's amount and its own handling
fee; the payment provider's fee the payer bore is not refunded. Money that paid no line
(reconciliation items) is refunded from the reconciliation list instead.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from core import config
from core.billing.payments import retrying
from core.errors import PaymentRefused
from core.store import audit


def reasons(scheme: str, on: dt.date, cfg: config.Config | None = None) -> dict[str, str]:
    """The refund reasons a scheme accepts on a day (code -> label); empty: no refunds."""
    settings = cfg or config.current()
    found: dict[str, str] = settings.value(f"{scheme}.refund_reasons", on)
    return found


def refund_line(
    con: duckdb.DuckDBPyConnection,
    billing_id: int,
    *,
    reason: str,
    on: dt.date,
    actor: str,
    note: str | None = None,
    cfg: config.Config | None = None,
) -> int:
    """Refund one paid line for an allowed reason: status `refunded`, a refunds row, audit.

    Returns the refund id. PaymentRefused (nothing written) when the line is not paid or the
    scheme does not refund for that reason on `on`. Opens its own transaction.
    """

    def work() -> int:
        row = con.execute(
            "SELECT member_no, scheme, status, amount + handling_fee, payment_id FROM billing"
            " WHERE billing_id = ?",
            [billing_id],
        ).fetchall()
        if not row:
            raise PaymentRefused(
                f"請求明細 #{billing_id} がありません", f"no billing line {billing_id}"
            )
        member_no, scheme, status, amount, payment_id = row[0]
        if status != "paid":
            raise PaymentRefused(
                f"請求明細 #{billing_id} は入金済みではないため返金できません（{status}）",
                f"billing line {billing_id} is {status}, not paid: nothing to refund",
                (billing_id,),
            )
        allowed = reasons(scheme, on, cfg)
        if not allowed:
            raise PaymentRefused(
                f"{(cfg or config.current()).scheme_name(scheme)}は入金後の返金を受け付けません",
                f"{scheme} does not refund after payment",
                (billing_id,),
            )
        if reason not in allowed:
            raise PaymentRefused(
                f"返金できる事由ではありません（{', '.join(allowed.values())} のみ）",
                f"{scheme} refunds only for {', '.join(allowed)}; not {reason!r}",
                (billing_id,),
            )
        refund_id = int(
            con.execute(
                "INSERT INTO refunds (billing_id, payment_id, member_no, scheme, amount, reason,"
                " note, refunded_on, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " RETURNING refund_id",
                [billing_id, payment_id, member_no, scheme, amount, reason, note, on, actor],
            ).fetchall()[0][0]
        )
        con.execute(
            "UPDATE billing SET status = 'refunded', updated_at = current_timestamp"
            " WHERE billing_id = ? AND status = 'paid'",
            [billing_id],
        )
        audit.record_changes(
            con,
            actor=actor,
            action="refund",
            table="billing",
            row_key=str(billing_id),
            member_no=member_no,
            changes={"status": ("paid", "refunded")},
            reason=f"返金 {amount:,}円: {allowed[reason]}" + (f"。{note}" if note else ""),
        )
        return refund_id

    return retrying(con, work)
