"""Recording a payment for a selection of open billing lines (a member, or a club for many).

One payment is one transaction: the payments row, every line set paid, and their audit rows,
or nothing. DuckDB's concurrency is optimistic: when the renewal batch (or another clerk)
changes the same rows at the same time, one of the two transactions fails with a conflict.
A failed payment was rolled back whole, so it is retried from the start (re-reading what is
open) and, if it keeps failing, reported as :class:`PaymentConflict` — never half-written.

A paid line also marks its qualification row as touched (`updated_at`): the renewal batch
decides from a snapshot whether an unpaid fee invalidates or lapses a qualification, and a
payment committed meanwhile then makes the batch's update of that qualification conflict
(the batch rolls back and is run again) instead of invalidating a qualification whose fee
has just been paid.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import duckdb
import polars as pl

from core import config
from core.billing import methods
from core.errors import PaymentConflict, PaymentRefused
from core.store import db

T = TypeVar("T")
RETRY_DELAYS = (0.05, 0.2, 0.5)


@dataclass(frozen=True)
class Recorded:
    payment_id: int
    reference: str
    method: str
    paid_on: dt.date
    lines: int
    amount: int  # the lines' amounts and their own handling fees
    handling_fee: int  # the payer's fee for the method


def _rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # a failed COMMIT leaves no transaction behind
        con.execute("ROLLBACK")


def retrying(con: duckdb.DuckDBPyConnection, work: Callable[[], T], attempts: int = 3) -> T:
    """Run `work` in a transaction; a write conflict rolls it back and runs it again.

    After `attempts` conflicts, PaymentConflict: nothing of any attempt was written.
    """
    for attempt in range(attempts):
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                result = work()
            except BaseException:
                _rollback_quietly(con)
                raise
            con.execute("COMMIT")
            return result
        except duckdb.TransactionException as exc:
            _rollback_quietly(con)
            if attempt + 1 >= attempts:
                raise PaymentConflict(str(exc).splitlines()[0]) from exc
            time.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
    raise AssertionError("unreachable")


def _describe(rows: list[tuple[object, ...]]) -> str:
    shown = ", ".join(f"#{r[0]}（{r[1]} {r[2]}）" for r in rows[:10])
    return shown + (f" ほか{len(rows) - 10}件" if len(rows) > 10 else "")


def record_payment(
    con: duckdb.DuckDBPyConnection,
    billing_ids: Sequence[int],
    *,
    method: str,
    paid_on: dt.date,
    reference: str,
    actor: str,
    payer_org_code: str | None = None,
    attempts: int = 3,
    cfg: config.Config | None = None,
) -> Recorded:
    """Pay the chosen open lines with one payment, all or nothing.

    Refuses (PaymentRefused, nothing written) when a line does not exist or is no longer
    open (naming each), when the method does not take the total on `paid_on` (over its
    limit, or under its minimum), or when the reference was recorded before. A conflict with
    a concurrent transaction is retried; PaymentConflict after `attempts` tries.
    Opens its own transaction: call it outside one.
    """
    ids = sorted({int(i) for i in billing_ids})
    if not ids:
        raise PaymentRefused("明細を選んでください", "choose at least one billing line")
    reference = reference.strip()
    if not reference:
        raise PaymentRefused("入金の参照番号を入力してください", "a payment reference is required")
    methods.in_force(paid_on, cfg)  # the configuration answers for the date
    chosen = pl.DataFrame({"billing_id": ids}, schema={"billing_id": pl.Int64})

    def work() -> Recorded:
        con.register("chosen_lines", chosen)
        try:
            return _record(con, len(ids), method, paid_on, reference, actor, payer_org_code, cfg)
        finally:
            con.unregister("chosen_lines")

    return retrying(con, work, attempts)


def _record(
    con: duckdb.DuckDBPyConnection,
    count: int,
    method: str,
    paid_on: dt.date,
    reference: str,
    actor: str,
    payer_org_code: str | None,
    cfg: config.Config | None,
) -> Recorded:
    lines = con.execute(
        """
        SELECT c.billing_id, b.member_no, b.item, b.status, b.amount + b.handling_fee AS due,
               b.scheme
        FROM chosen_lines c LEFT JOIN billing b USING (billing_id) ORDER BY c.billing_id
        """
    ).fetchall()
    missing = [r for r in lines if r[3] is None]
    if missing:
        raise PaymentRefused(
            f"請求明細がありません: {', '.join(f'#{r[0]}' for r in missing)}",
            f"no such billing line: {', '.join(str(r[0]) for r in missing)}",
            tuple(int(r[0]) for r in missing),
        )
    closed = [r for r in lines if r[3] != "open"]
    if closed:
        raise PaymentRefused(
            f"未納ではなくなった明細があります（他で入金・取消済み）: {_describe(closed)}。"
            "一覧を読み込み直して選び直してください",
            "lines no longer open (paid or cancelled meanwhile): "
            + ", ".join(f"{r[0]} ({r[1]} {r[2]}: {r[3]})" for r in closed),
            tuple(int(r[0]) for r in closed),
        )
    total = sum(int(r[4]) for r in lines)
    fee = methods.check_total(method, total, paid_on, cfg)
    seen = con.execute(
        "SELECT payment_id FROM payments WHERE reference = ?", [reference]
    ).fetchall()
    if seen:
        raise PaymentRefused(
            f"参照番号 {reference} は入金記録済みです（二重入金）",
            f"reference {reference} was recorded before (payment {seen[0][0]}): a duplicate",
        )
    members = {r[1] for r in lines}
    schemes = {r[5] for r in lines}
    items = {r[2] for r in lines}
    only = lambda values: next(iter(values)) if len(values) == 1 else None  # noqa: E731
    payment_id = int(
        con.execute(
            """
            INSERT INTO payments (member_no, scheme, item, amount, handling_fee, method, paid_on,
                                  reference, recorded_by, payer_org_code)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING payment_id
            """,
            [
                only(members),
                only(schemes),
                only(items),
                total,
                fee,
                method,
                paid_on,
                reference,
                actor,
                payer_org_code,
            ],
        ).fetchall()[0][0]
    )
    mark_paid(con, "chosen_lines", payment_id=payment_id, paid_on=paid_on, actor=actor)
    updated = con.execute(
        "SELECT count(*) FROM billing WHERE payment_id = ? AND status = 'paid'", [payment_id]
    ).fetchall()[0][0]
    if updated != count:  # cannot happen inside one snapshot; refuse rather than half-pay
        raise PaymentConflict(f"{updated} of {count} lines set paid")
    why = f"入金 {reference}（{method}、{paid_on.isoformat()}）"
    con.execute(
        """
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field, old_value,
                               new_value, reason)
        SELECT ?, 'insert', 'payments', CAST(?::BIGINT AS VARCHAR), ?, 'amount', NULL,
               CAST(?::INTEGER AS VARCHAR), ?
        """,
        [actor, payment_id, only(members), total, f"{why} 手数料{fee}円"],
    )
    con.execute(
        """
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field, old_value,
                               new_value, reason)
        SELECT ?, 'pay', 'billing', CAST(b.billing_id AS VARCHAR), b.member_no, 'status',
               'open', 'paid', ?
        FROM billing b JOIN chosen_lines USING (billing_id)
        """,
        [actor, why],
    )
    return Recorded(payment_id, reference, method, paid_on, count, total, fee)


def mark_paid(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    *,
    payment_id: int | None = None,
    paid_on: dt.date | None = None,
    actor: str = "system",
) -> None:
    """Set the open lines of `relation` (a code-named relation with billing_id, and
    payment_id/paid_on columns when those arguments are None) paid, and touch their
    qualifications so a concurrent renewal batch conflicts instead of deciding on a stale
    unpaid fee. The documents the payment earns become available (JPTEC's 認定証・委嘱状,
    SAJ's 会員登録証) and each member paying gets the 入金完了 mail. Runs inside the
    caller's transaction."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE paying_lines AS
        SELECT b.billing_id, b.member_no, b.scheme, b.description,
               b.amount + b.handling_fee AS due
        FROM billing b JOIN "{relation}" r USING (billing_id) WHERE b.status = 'open'
        """
    )
    pid = "?" if payment_id is not None else "r.payment_id"
    day = "?" if paid_on is not None else "r.paid_on"
    params = [p for p in (payment_id, paid_on) if p is not None]
    con.execute(
        f"""
        UPDATE billing AS b SET status = 'paid', payment_id = {pid}, paid_on = {day},
               updated_at = current_timestamp
        FROM "{relation}" r WHERE b.billing_id = r.billing_id AND b.status = 'open'
        """,
        params,
    )
    con.execute(
        f"""
        UPDATE qualifications SET updated_at = current_timestamp
        WHERE qualification_id IN (
            SELECT b.qualification_id FROM billing b JOIN "{relation}" r USING (billing_id)
            WHERE b.qualification_id IS NOT NULL)
        """
    )
    _paid_mail(con, actor)


def _paid_mail(con: duckdb.DuckDBPyConnection, actor: str) -> None:
    """Documents now available, and one 入金完了 mail per member and scheme that paid."""
    from core.documents import available
    from core.notify import outbox

    row = db.one(
        con,
        "SELECT max(b.paid_on) FROM billing b JOIN paying_lines p USING (billing_id)",
    )
    if row is None or row[0] is None:
        return  # nothing was open
    day: dt.date = row[0]
    available.record(con, "paying_lines", on=day)
    documents = available.kinds_available(con, "paying_lines", day)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE paid_mail AS
        SELECT p.member_no, p.scheme,
               string_agg(p.description, chr(10) || '　' ORDER BY p.billing_id) AS items,
               {outbox.yen_sql("sum(p.due)")} AS amount,
               {outbox.date_sql("max(b.paid_on)")} AS paid_on,
               coalesce(any_value(d.documents), 'なし') AS documents
        FROM paying_lines p JOIN billing b USING (billing_id)
        LEFT JOIN "{documents}" d ON d.member_no = p.member_no AND d.scheme = p.scheme
        GROUP BY p.member_no, p.scheme
        """
    )
    outbox.write(con, "paid_mail", event="payment_complete", actor=actor, on=day)


def open_lines(
    con: duckdb.DuckDBPyConnection,
    org_code: str,
    *,
    months: Sequence[dt.date] = (),
    limit: int = 5000,
) -> pl.DataFrame:
    """Open lines of the members beneath an organisation, oldest first; optionally only
    those issued in the given months (first days)."""
    return db.frame(
        con,
        """
        SELECT b.billing_id, b.issued_on, b.member_no,
               concat_ws(' ', m.family_name, m.given_name) AS name, o.name AS organization,
               b.scheme, b.item, b.description, b.amount, b.handling_fee, b.due_on
        FROM billing b
        JOIN members m USING (member_no)
        JOIN organizations o ON o.org_code = m.org_code
        WHERE b.status = 'open'
          AND starts_with(o.path, (SELECT path FROM organizations WHERE org_code = ?))
          AND (len(?::DATE[]) = 0 OR list_contains(?::DATE[], date_trunc('month', b.issued_on)::DATE))
        ORDER BY b.issued_on, b.member_no, b.billing_id
        LIMIT ?
        """,
        [org_code, list(months), list(months), limit],
    )


def open_months(con: duckdb.DuckDBPyConnection, org_code: str) -> list[dt.date]:
    """The billing months (first days) that have open lines beneath an organisation."""
    rows = con.execute(
        """
        SELECT DISTINCT date_trunc('month', b.issued_on)::DATE AS month
        FROM billing b JOIN members m USING (member_no)
        JOIN organizations o ON o.org_code = m.org_code
        WHERE b.status = 'open'
          AND starts_with(o.path, (SELECT path FROM organizations WHERE org_code = ?))
        ORDER BY month
        """,
        [org_code],
    ).fetchall()
    return [r[0] for r in rows]
