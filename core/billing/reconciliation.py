"""入金消込: settle imported payments against open lines; staff resolve what does not match.

Matching (one set-based pass over a whole import, inside its transaction). A payment is for
the open lines of its member, scheme and item; a line is due its amount plus its own
handling fee:

1. a payment alone in the file for its member, scheme and item that equals the total of
   those open lines pays all of them (arrears paid at once);
2. otherwise the n-th payment of an amount pays the n-th oldest open line due exactly that
   amount (several payments for several lines of one item);
3. anything else goes to the reconciliation list: `under` (less than the open lines' total),
   `over` (more), `unmatched` (no open line, or an unknown member) or `ambiguous` (equal to
   the total of lines that other payments of the same file also compete for).

Staff resolve an item by applying the payment to a chosen open line, by recording that the
money was paid back (refunded) or by writing it off with a note. Each resolution is one
transaction with its audit rows and checks that the item (and line) are still open.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core.billing.payments import mark_paid, retrying
from core.errors import PaymentRefused
from core.store import audit, db
from core.vocabulary import RECONCILIATION_KINDS, RECONCILIATION_STATUSES


def match_imported(
    con: duckdb.DuckDBPyConnection, relation: str, *, batch_id: str, actor: str
) -> dict[str, int]:
    """Settle the payments whose references are in `relation` (code-named, just inserted).

    Runs inside the caller's transaction. Returns counts: lines paid, payments that paid
    lines, and reconciliation items by kind.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE recon_payments AS
        SELECT p.payment_id, p.member_no, p.scheme, p.item, p.amount, p.paid_on,
               count(*) OVER (PARTITION BY p.member_no, p.scheme, p.item) AS n_payments
        FROM "{relation}" s JOIN payments p USING (reference)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE recon_lines AS
        SELECT b.billing_id, b.member_no, b.scheme, b.item, b.amount + b.handling_fee AS due,
               b.issued_on,
               sum(b.amount + b.handling_fee) OVER (PARTITION BY b.member_no, b.scheme, b.item)
                   AS group_due
        FROM billing b
        SEMI JOIN (SELECT DISTINCT member_no, scheme, item FROM recon_payments) k
            USING (member_no, scheme, item)
        WHERE b.status = 'open'
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE recon_matches AS
        WITH whole AS (
            SELECT l.billing_id, p.payment_id, p.paid_on, p.member_no
            FROM recon_payments p JOIN recon_lines l USING (member_no, scheme, item)
            WHERE p.n_payments = 1 AND p.amount = l.group_due
        ),
        rest_payments AS (
            SELECT *, row_number() OVER (PARTITION BY member_no, scheme, item, amount
                                         ORDER BY paid_on, payment_id) AS k
            FROM recon_payments p ANTI JOIN whole w USING (payment_id)
        ),
        rest_lines AS (
            SELECT *, row_number() OVER (PARTITION BY member_no, scheme, item, due
                                         ORDER BY issued_on, billing_id) AS k
            FROM recon_lines l ANTI JOIN whole w USING (billing_id)
        ),
        paired AS (
            SELECT l.billing_id, p.payment_id, p.paid_on, p.member_no
            FROM rest_payments p JOIN rest_lines l
              ON p.member_no = l.member_no AND p.scheme = l.scheme AND p.item = l.item
             AND p.amount = l.due AND p.k = l.k
        )
        SELECT * FROM whole UNION ALL SELECT * FROM paired
        """
    )
    mark_paid(con, "recon_matches", actor=actor)
    con.execute(
        """
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field, old_value,
                               new_value, reason, batch_id)
        SELECT ?, 'pay', 'billing', CAST(billing_id AS VARCHAR), member_no, 'status',
               'open', 'paid', '入金取込（入金 #' || CAST(payment_id AS VARCHAR) || '）', ?
        FROM recon_matches
        """,
        [actor, batch_id],
    )
    con.execute(
        """
        INSERT INTO reconciliation (payment_id, kind, member_no, scheme, item, amount, expected,
                                    batch_id)
        SELECT p.payment_id,
               CASE WHEN e.expected IS NULL THEN 'unmatched'
                    WHEN p.amount < e.expected THEN 'under'
                    WHEN p.amount > e.expected THEN 'over'
                    ELSE 'ambiguous' END,
               p.member_no, p.scheme, p.item, p.amount, e.expected, ?
        FROM recon_payments p
        ANTI JOIN recon_matches m USING (payment_id)
        LEFT JOIN (
            SELECT member_no, scheme, item, sum(due)::INTEGER AS expected
            FROM recon_lines l ANTI JOIN recon_matches m USING (billing_id)
            GROUP BY ALL
        ) e USING (member_no, scheme, item)
        """,
        [batch_id],
    )
    con.execute(
        """
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field, new_value,
                               reason, batch_id)
        SELECT ?, 'insert', 'reconciliation', CAST(item_id AS VARCHAR), member_no, 'kind', kind,
               '入金取込: 明細と一致しない入金（入金 #' || CAST(payment_id AS VARCHAR) || '）', ?
        FROM reconciliation WHERE batch_id = ?
        """,
        [actor, batch_id, batch_id],
    )
    counts = {
        "lines_paid": _count(con, "SELECT count(*) FROM recon_matches"),
        "payments_matched": _count(con, "SELECT count(DISTINCT payment_id) FROM recon_matches"),
    }
    for kind in RECONCILIATION_KINDS:
        counts[kind] = _count(
            con,
            "SELECT count(*) FROM reconciliation WHERE batch_id = ? AND kind = ?",
            [batch_id, kind],
        )
    for table in ("recon_payments", "recon_lines", "recon_matches"):
        con.execute(f"DROP TABLE {table}")
    return counts


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    return int(con.execute(sql, params or []).fetchall()[0][0])


def items(
    con: duckdb.DuckDBPyConnection, *, status: str | None = "open", limit: int = 2000
) -> pl.DataFrame:
    """Reconciliation items with their payment, newest first; `status` None lists all."""
    return db.frame(
        con,
        """
        SELECT r.item_id, r.kind, r.status, r.member_no, r.scheme, r.item, r.amount, r.expected,
               p.method, p.paid_on, p.reference, r.billing_id, r.note, r.created_at,
               r.resolved_by
        FROM reconciliation r JOIN payments p USING (payment_id)
        WHERE ?::VARCHAR IS NULL OR r.status = ?
        ORDER BY r.item_id DESC LIMIT ?
        """,
        [status, status, limit],
    )


def candidate_lines(con: duckdb.DuckDBPyConnection, item_id: int) -> pl.DataFrame:
    """Open lines an item could be applied to: the member's lines, the same item first."""
    return db.frame(
        con,
        """
        SELECT b.billing_id, b.member_no, b.scheme, b.item, b.description, b.amount,
               b.handling_fee, b.issued_on
        FROM reconciliation r JOIN billing b ON b.member_no = r.member_no
        WHERE r.item_id = ? AND b.status = 'open'
        ORDER BY (b.scheme = r.scheme AND b.item = r.item) DESC, b.issued_on, b.billing_id
        """,
        [item_id],
    )


def _open_item(con: duckdb.DuckDBPyConnection, item_id: int) -> tuple[int, str | None, int]:
    row = con.execute(
        "SELECT payment_id, member_no, amount, status FROM reconciliation WHERE item_id = ?",
        [item_id],
    ).fetchall()
    if not row:
        raise PaymentRefused(
            f"消込項目 #{item_id} がありません", f"no reconciliation item {item_id}"
        )
    if row[0][3] != "open":
        raise PaymentRefused(
            f"消込項目 #{item_id} は処理済みです（{RECONCILIATION_STATUSES.get(row[0][3], row[0][3])}）",
            f"reconciliation item {item_id} is already {row[0][3]}",
        )
    return int(row[0][0]), row[0][1], int(row[0][2])


def _close(
    con: duckdb.DuckDBPyConnection,
    item_id: int,
    member_no: str | None,
    status: str,
    actor: str,
    note: str | None,
    billing_id: int | None = None,
) -> None:
    con.execute(
        "UPDATE reconciliation SET status = ?, note = ?, billing_id = ?,"
        " resolved_at = current_timestamp, resolved_by = ? WHERE item_id = ? AND status = 'open'",
        [status, note, billing_id, actor, item_id],
    )
    audit.record_changes(
        con,
        actor=actor,
        action="resolve",
        table="reconciliation",
        row_key=str(item_id),
        member_no=member_no,
        changes={"status": ("open", status)},
        reason=note,
    )


def _need_note(note: str | None) -> str:
    if not note or not note.strip():
        raise PaymentRefused("理由（メモ）を入力してください", "a note is required")
    return note.strip()


def apply_to_line(
    con: duckdb.DuckDBPyConnection,
    item_id: int,
    billing_id: int,
    *,
    actor: str,
    note: str | None = None,
) -> None:
    """Settle a chosen open line with the item's payment (its date); the item is `applied`."""

    def work() -> None:
        payment_id, member_no, amount = _open_item(con, item_id)
        line = con.execute(
            "SELECT status, member_no, amount + handling_fee FROM billing WHERE billing_id = ?",
            [billing_id],
        ).fetchall()
        if not line or line[0][0] != "open":
            state = line[0][0] if line else "none"
            raise PaymentRefused(
                f"請求明細 #{billing_id} は未納ではありません（{state}）",
                f"billing line {billing_id} is not open ({state})",
                (billing_id,),
            )
        paid_on = con.execute(
            "SELECT paid_on FROM payments WHERE payment_id = ?", [payment_id]
        ).fetchall()[0][0]
        con.register(
            "applied_line",
            pl.DataFrame(
                {"billing_id": [billing_id], "payment_id": [payment_id], "paid_on": [paid_on]}
            ),
        )
        try:
            mark_paid(con, "applied_line", actor=actor)
        finally:
            con.unregister("applied_line")
        why = f"消込 #{item_id}: 入金 {amount:,}円を明細（{line[0][2]:,}円）に充当" + (
            f"。{note}" if note else ""
        )
        audit.record_changes(
            con,
            actor=actor,
            action="pay",
            table="billing",
            row_key=str(billing_id),
            member_no=line[0][1],
            changes={"status": ("open", "paid")},
            reason=why,
        )
        _close(con, item_id, member_no, "applied", actor, why, billing_id)

    retrying(con, work)


def refund(
    con: duckdb.DuckDBPyConnection,
    item_id: int,
    *,
    actor: str,
    note: str | None,
    on: dt.date | None = None,
) -> None:
    """Record that the item's money was paid back to the payer (a refunds row)."""
    text = _need_note(note)

    def work() -> None:
        _, member_no, _ = _open_item(con, item_id)
        con.execute(
            "INSERT INTO refunds (item_id, payment_id, member_no, scheme, amount, reason, note,"
            " refunded_on, recorded_by) SELECT item_id, payment_id, member_no, scheme, amount,"
            " 'reconciliation', ?, ?, ? FROM reconciliation WHERE item_id = ?",
            [text, on or dt.date.today(), actor, item_id],
        )
        _close(con, item_id, member_no, "refunded", actor, text)

    retrying(con, work)


def write_off(
    con: duckdb.DuckDBPyConnection, item_id: int, *, actor: str, note: str | None
) -> None:
    """Close the item without touching any line (e.g. a small difference kept); needs a note."""
    text = _need_note(note)

    def work() -> None:
        _, member_no, _ = _open_item(con, item_id)
        _close(con, item_id, member_no, "written_off", actor, text)

    retrying(con, work)
