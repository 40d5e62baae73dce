"""Recording a payment for chosen lines: all or nothing, limits, stale lines, concurrency."""

import datetime as dt
import threading

import duckdb
import pytest

from core.billing import payments
from core.errors import ConflictError, PaymentConflict, PaymentRefused
from core.renewals import batch

from .test_billing import add_line

PAID_ON = dt.date(2026, 11, 24)


def state(con, ids):
    return con.execute(
        "SELECT billing_id, status, payment_id, paid_on FROM billing"
        " WHERE list_contains(?, billing_id) ORDER BY billing_id",
        [list(ids)],
    ).fetchall()


def paid_without_payment(con):
    """The check query: paid lines that point at no payment (must be empty)."""
    return con.execute(
        "SELECT b.billing_id FROM billing b LEFT JOIN payments p USING (payment_id)"
        " WHERE b.status = 'paid' AND p.payment_id IS NULL"
    ).fetchall()


@pytest.fixture
def club_lines(sample):
    """Open SAJ lines of three members of 富士山/浜松 clubs across two billing months."""
    ids = [
        add_line(sample, "A0000001", "saj", "saj_annual_fee", 3500, dt.date(2026, 8, 1)),
        add_line(sample, "A0000002", "saj", "saj_annual_fee", 3500, dt.date(2026, 8, 1)),
        add_line(sample, "A0000003", "saj", "saj_annual_fee", 1000, dt.date(2026, 9, 1)),
    ]
    return sample, ids


def test_a_club_pays_lines_across_months_in_one_payment(club_lines):
    con, ids = club_lines
    done = payments.record_payment(
        con,
        ids,
        method="convenience_store",
        paid_on=PAID_ON,
        reference="CVS-0001",
        actor="hq",
        payer_org_code="SAJ-22",
    )
    assert (done.lines, done.amount, done.handling_fee) == (3, 8000, 220)
    assert state(con, ids) == [(i, "paid", done.payment_id, PAID_ON) for i in ids]
    assert con.execute(
        "SELECT member_no, scheme, item, amount, handling_fee, method, payer_org_code, recorded_by"
        " FROM payments"
    ).fetchall() == [
        (None, "saj", "saj_annual_fee", 8000, 220, "convenience_store", "SAJ-22", "hq")
    ]
    audited = con.execute(
        "SELECT table_name, count(*) FROM audit_log WHERE actor = 'hq' GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert audited == [("billing", 3), ("payments", 1)]
    assert paid_without_payment(con) == []


def test_convenience_store_takes_a_300000_total_and_refuses_300001(sample):
    exact = add_line(sample, "A0000001", "saj", "saj_competitor", 300_000, dt.date(2026, 8, 1))
    done = payments.record_payment(
        sample, [exact], method="convenience_store", paid_on=PAID_ON, reference="R1", actor="hq"
    )
    assert (done.amount, done.handling_fee) == (300_000, 1110)
    over = add_line(sample, "A0000002", "saj", "saj_competitor", 300_000, dt.date(2026, 8, 1))
    one = add_line(sample, "A0000002", "saj", "saj_insurance", 1, dt.date(2026, 8, 1))
    with pytest.raises(PaymentRefused) as refused:
        payments.record_payment(
            sample,
            [over, one],
            method="convenience_store",
            paid_on=PAID_ON,
            reference="R2",
            actor="hq",
        )
    assert "コンビニ決済は1回300,000円までです（合計300,001円）" in refused.value.ja
    assert "at most 300,000 yen" in refused.value.en
    assert state(sample, [over, one]) == [(over, "open", None, None), (one, "open", None, None)]
    assert sample.execute("SELECT count(*) FROM payments").fetchall() == [(1,)]
    # the same total by card or virtual account is fine
    done = payments.record_payment(
        sample, [over, one], method="virtual_account", paid_on=PAID_ON, reference="R2", actor="hq"
    )
    assert (done.amount, done.handling_fee) == (300_001, 0)


def test_lines_paid_meanwhile_are_refused_by_name_and_nothing_is_written(club_lines):
    con, ids = club_lines
    payments.record_payment(
        con, ids[:1], method="card", paid_on=PAID_ON, reference="CARD-1", actor="member"
    )
    with pytest.raises(PaymentRefused) as refused:
        payments.record_payment(
            con, ids, method="convenience_store", paid_on=PAID_ON, reference="CVS-2", actor="hq"
        )
    assert refused.value.lines == (ids[0],)
    assert f"#{ids[0]}（A0000001 saj_annual_fee）" in refused.value.ja
    assert state(con, ids[1:]) == [(i, "open", None, None) for i in ids[1:]]
    assert con.execute("SELECT reference FROM payments").fetchall() == [("CARD-1",)]


def test_a_reference_recorded_before_is_a_duplicate(club_lines):
    con, ids = club_lines
    payments.record_payment(con, ids[:1], method="card", paid_on=PAID_ON, reference="X", actor="hq")
    with pytest.raises(PaymentRefused, match="二重入金"):
        payments.record_payment(
            con, ids[1:], method="card", paid_on=PAID_ON, reference="X", actor="hq"
        )
    assert state(con, ids[1:]) == [(i, "open", None, None) for i in ids[1:]]


def test_an_unknown_line_is_refused(sample):
    with pytest.raises(PaymentRefused, match="請求明細がありません: #999"):
        payments.record_payment(
            sample, [999], method="card", paid_on=PAID_ON, reference="R", actor="hq"
        )


# --- concurrency: the renewal batch and a payment at the same time ------------------------


@pytest.fixture
def overdue(sample):
    """J0000001's instructor fee, unpaid since 2026-07-01 and linked to the qualification."""
    qid = sample.execute(
        "SELECT qualification_id FROM qualifications WHERE member_no = 'J0000001'"
    ).fetchall()[0][0]
    sample.execute(
        "UPDATE qualifications SET valid_from = DATE '2026-07-01', valid_until = DATE '2028-06-30'"
        " WHERE qualification_id = ?",
        [qid],
    )
    line = add_line(
        sample, "J0000001", "jptec", "jptec_instructor_renewal", 2000, dt.date(2026, 7, 1)
    )
    sample.execute("UPDATE billing SET qualification_id = ? WHERE billing_id = ?", [qid, line])
    return sample, qid, line


AS_OF = dt.date(2026, 11, 24)  # more than four months after 2026-07-01: the batch invalidates


def qualification_status(con, qid):
    return con.execute(
        "SELECT status FROM qualifications WHERE qualification_id = ?", [qid]
    ).fetchall()[0][0]


def test_a_payment_committed_while_the_batch_decides_makes_the_batch_roll_back(
    overdue, monkeypatch
):
    con, qid, line = overdue
    clerk = con.cursor()
    decide = batch.decisions
    recorded = []

    def decide_then_a_clerk_pays(rows):
        decided = decide(rows)  # the batch has read its snapshot: the fee is unpaid
        recorded.append(
            payments.record_payment(
                clerk, [line], method="bank_transfer", paid_on=AS_OF, reference="P-1", actor="hq"
            )
        )
        return decided

    monkeypatch.setattr(batch, "decisions", decide_then_a_clerk_pays)
    with pytest.raises(ConflictError, match="もう一度実行してください"):
        batch.run(con, AS_OF, schemes=("jptec",))
    monkeypatch.undo()
    # the payment stands; the batch wrote nothing, so the paid fee did not invalidate
    assert state(con, [line]) == [(line, "paid", recorded[0].payment_id, AS_OF)]
    assert qualification_status(con, qid) == "active"
    assert con.execute("SELECT count(*) FROM renewal_runs").fetchall() == [(0,)]
    # run again: nothing to invalidate any more
    batch.run(con, AS_OF, schemes=("jptec",))
    assert qualification_status(con, qid) == "active"
    assert paid_without_payment(con) == []


def test_a_payment_during_the_batch_write_is_refused_as_retryable_then_succeeds(
    overdue, monkeypatch
):
    con, _, line = overdue
    clerk = con.cursor()
    apply = batch._apply
    conflicts = []

    def write_then_a_clerk_pays(*args, **kwargs):
        apply(*args, **kwargs)  # the batch has invalidated, not yet committed
        with pytest.raises(PaymentConflict) as conflict:
            payments.record_payment(
                clerk,
                [line],
                method="bank_transfer",
                paid_on=AS_OF,
                reference="P-1",
                actor="hq",
                attempts=1,
            )
        conflicts.append(conflict.value)

    monkeypatch.setattr(batch, "_apply", write_then_a_clerk_pays)
    batch.run(con, AS_OF, schemes=("jptec",))
    monkeypatch.undo()
    assert "もう一度実行してください" in conflicts[0].ja
    assert con.execute("SELECT count(*) FROM payments").fetchall() == [(0,)]
    assert state(con, [line]) == [(line, "open", None, None)]
    # the retry after the batch committed records the payment in full
    done = payments.record_payment(
        clerk, [line], method="bank_transfer", paid_on=AS_OF, reference="P-1", actor="hq"
    )
    assert state(con, [line]) == [(line, "paid", done.payment_id, AS_OF)]
    assert paid_without_payment(con) == []


def test_a_payment_that_meets_a_concurrent_writer_conflicts_and_is_retried(sample, monkeypatch):
    """The batch holds the line (uncommitted) when the clerk pays it: the payment's first
    attempt conflicts and rolls back, the batch commits, the retry pays it — once."""
    line = add_line(sample, "A0000001", "saj", "saj_insurance", 1500, dt.date(2026, 8, 1))
    due = sample.execute("SELECT due_on FROM billing WHERE billing_id = ?", [line]).fetchone()
    batch_cursor, clerk = sample.cursor(), sample.cursor()
    batch_holds, conflicted, batch_committed = (threading.Event() for _ in range(3))
    conflicts = []
    rollback = payments._rollback_quietly

    def rollback_and_let_the_batch_finish(con):
        rollback(con)
        if not conflicted.is_set():
            conflicts.append(1)
            conflicted.set()
            assert batch_committed.wait(10)  # the retry comes after the other writer is done

    monkeypatch.setattr(payments, "_rollback_quietly", rollback_and_let_the_batch_finish)

    def batch_like():
        batch_cursor.execute("BEGIN TRANSACTION")
        # DuckDB tracks updates per column: a writer that touches the same row's updated_at
        # (as the renewal batch and every payment do) conflicts with the clerk's payment
        batch_cursor.execute(
            "UPDATE billing SET due_on = due_on + 1, updated_at = current_timestamp"
            " WHERE billing_id = ?",
            [line],
        )
        batch_holds.set()
        assert conflicted.wait(10)  # the clerk's first attempt met the held row
        batch_cursor.execute("COMMIT")
        batch_committed.set()

    writer = threading.Thread(target=batch_like)
    writer.start()
    assert batch_holds.wait(10)
    recorded = payments.record_payment(
        clerk, [line], method="card", paid_on=PAID_ON, reference="R-1", actor="hq"
    )
    writer.join()
    assert conflicts == [1]  # the conflict happened, and was retried
    assert state(sample, [line]) == [(line, "paid", recorded.payment_id, PAID_ON)]
    assert sample.execute("SELECT due_on FROM billing WHERE billing_id = ?", [line]).fetchone() == (
        due[0] + dt.timedelta(days=1),
    )  # the batch's change stands too
    assert sample.execute("SELECT count(*) FROM payments").fetchone() == (1,)
    audited = sample.execute(
        "SELECT count(*) FROM audit_log WHERE table_name = 'billing' AND action = 'pay'"
    ).fetchone()
    assert audited == (1,)  # the failed attempt left no audit row


def test_payments_and_batch_like_updates_on_two_threads_lose_nothing(sample):
    """Two cursors at once: each payment either stands whole or wrote nothing."""
    lines = [
        add_line(sample, "A0000001", "saj", "saj_insurance", 1500, dt.date(2026, 8, 1))
        for _ in range(12)
    ]
    batch_cursor, clerk = sample.cursor(), sample.cursor()
    start = threading.Barrier(2)
    outcomes: dict[int, object] = {}

    def batch_like():
        start.wait()
        for _ in range(12):
            try:  # a renewal-like transaction that rewrites every open line's due date
                batch_cursor.execute("BEGIN TRANSACTION")
                batch_cursor.execute(
                    "UPDATE billing SET due_on = due_on + 1, updated_at = current_timestamp"
                    " WHERE status = 'open'"
                )
                batch_cursor.execute(
                    "INSERT INTO billing (member_no, scheme, item, description, amount,"
                    " issued_on, status) VALUES ('A0000004', 'saj', 'saj_insurance', 'x', 1500,"
                    " DATE '2026-11-24', 'open')"
                )
                batch_cursor.execute("COMMIT")
            except duckdb.TransactionException:
                payments._rollback_quietly(batch_cursor)

    def pay():
        start.wait()
        for n, line in enumerate(lines):
            try:
                outcomes[line] = payments.record_payment(
                    clerk, [line], method="card", paid_on=PAID_ON, reference=f"T-{n}", actor="hq"
                )
            except PaymentConflict as exc:
                outcomes[line] = exc

    threads = [threading.Thread(target=batch_like), threading.Thread(target=pay)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorded = {k: v for k, v in outcomes.items() if isinstance(v, payments.Recorded)}
    assert len(outcomes) == len(lines)
    for line, outcome in outcomes.items():
        if isinstance(outcome, payments.Recorded):
            assert state(sample, [line]) == [(line, "paid", outcome.payment_id, PAID_ON)]
        else:
            assert state(sample, [line]) == [(line, "open", None, None)]
    assert sample.execute("SELECT count(*) FROM payments").fetchall() == [(len(recorded),)]
    assert paid_without_payment(sample) == []
