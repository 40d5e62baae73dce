"""payments.csv import: checks, duplicates, matching to open lines, reconciliation, refunds."""

import datetime as dt

import pytest

from core import imports
from core.billing import reconciliation, refunds
from core.errors import InputFileError, PaymentRefused

from .test_billing import add_line

HEADER = "member_no,scheme,item,amount,method,paid_on,reference\n"


def write_csv(tmp_path, rows, name="payments.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes((HEADER + "".join(r + "\n" for r in rows)).encode(encoding))
    return path


def lines(con):
    return con.execute(
        "SELECT b.member_no, b.item, b.status, p.reference FROM billing b"
        " LEFT JOIN payments p USING (payment_id) ORDER BY b.billing_id"
    ).fetchall()


def test_exact_payments_pay_their_lines_and_the_rest_go_to_reconciliation(sample, tmp_path):
    add_line(sample, "A0000001", "saj", "saj_annual_fee", 3500, dt.date(2026, 8, 1))
    add_line(sample, "A0000002", "saj", "saj_annual_fee", 3500, dt.date(2026, 8, 1))
    add_line(sample, "A0000003", "saj", "saj_annual_fee", 1000, dt.date(2026, 8, 1))
    add_line(sample, "J0000001", "jptec", "jptec_instructor_renewal", 2000, dt.date(2025, 11, 1))
    add_line(
        sample,
        "J0000001",
        "jptec",
        "jptec_instructor_renewal",
        2000,
        dt.date(2026, 11, 1),
        handling_fee=700,
    )
    path = write_csv(
        tmp_path,
        [
            "A0000001,saj,saj_annual_fee,3500,convenience_store,2026/11/20,CVS-1",  # exact
            "A0000002,saj,saj_annual_fee,3000,convenience_store,2026-11-20,CVS-2",  # under
            "A0000003,saj,saj_annual_fee,1500,card,2026-11-20,CARD-3",  # over
            "A0000004,saj,saj_annual_fee,3500,card,2026-11-20,CARD-4",  # no open line
            "J0000001,jptec,jptec_instructor_renewal,4700,bank_transfer,2026-11-21,BANK-5",  # both
        ],
    )
    result = imports.import_file(sample, "payments", path, actor="cli:import")
    assert result.rows == 5
    assert "matched: 2 payments paid 3 lines" in result.notes
    assert lines(sample) == [
        ("A0000001", "saj_annual_fee", "paid", "CVS-1"),
        ("A0000002", "saj_annual_fee", "open", None),
        ("A0000003", "saj_annual_fee", "open", None),
        ("J0000001", "jptec_instructor_renewal", "paid", "BANK-5"),
        ("J0000001", "jptec_instructor_renewal", "paid", "BANK-5"),
    ]
    items = reconciliation.items(sample).sort("reference")
    assert items.select("reference", "kind", "amount", "expected").rows() == [
        ("CARD-3", "over", 1500, 1000),
        ("CARD-4", "unmatched", 3500, None),
        ("CVS-2", "under", 3000, 3500),
    ]
    # the payer's fee by method and amount on the payment date
    assert sample.execute(
        "SELECT reference, handling_fee FROM payments ORDER BY reference"
    ).fetchall() == [("BANK-5", 0), ("CARD-3", 63), ("CARD-4", 147), ("CVS-1", 220), ("CVS-2", 220)]
    assert sample.execute(
        "SELECT count(*) FROM audit_log WHERE batch_id = ? AND table_name = 'billing'",
        [result.batch_id],
    ).fetchall() == [(3,)]


def test_two_payments_for_two_lines_of_one_item_pair_oldest_first(sample, tmp_path):
    old = add_line(sample, "A0000001", "saj", "saj_insurance", 1500, dt.date(2025, 8, 1))
    new = add_line(sample, "A0000001", "saj", "saj_insurance", 1500, dt.date(2026, 8, 1))
    path = write_csv(
        tmp_path,
        [
            "A0000001,saj,saj_insurance,1500,card,2026-11-02,LATER",
            "A0000001,saj,saj_insurance,1500,card,2026-11-01,FIRST",
        ],
    )
    imports.import_file(sample, "payments", path)
    assert sample.execute(
        "SELECT billing_id, reference FROM billing JOIN payments USING (payment_id)"
        " ORDER BY billing_id"
    ).fetchall() == [(old, "FIRST"), (new, "LATER")]


def test_duplicate_references_are_listed_skipped_and_never_counted_twice(sample, tmp_path):
    add_line(sample, "A0000001", "saj", "saj_annual_fee", 3500, dt.date(2026, 8, 1))
    add_line(sample, "A0000002", "saj", "saj_annual_fee", 3500, dt.date(2026, 8, 1))
    first = write_csv(tmp_path, ["A0000001,saj,saj_annual_fee,3500,card,2026-11-20,REF-1"])
    imports.import_file(sample, "payments", first)
    again = write_csv(
        tmp_path,
        [
            "A0000001,saj,saj_annual_fee,3500,card,2026-11-20,REF-1",  # seen in the database
            "A0000002,saj,saj_annual_fee,3500,card,2026-11-20,REF-2",
            "A0000002,saj,saj_annual_fee,3500,card,2026-11-20,REF-2",  # twice in the file
        ],
        name="again.csv",
    )
    result = imports.import_file(sample, "payments", again)
    assert result.rows == 1
    assert result.notes[0].startswith("duplicates: 2 rows skipped")
    assert f"{again}:2: reference: duplicate, skipped: 'REF-1'" in result.notes
    assert f"{again}:4: reference: duplicate, skipped: 'REF-2'" in result.notes
    assert sample.execute("SELECT count(*), sum(amount) FROM payments").fetchall() == [(2, 7000)]
    assert reconciliation.items(sample).is_empty()  # the repeat of REF-2 did not over-pay
    assert [r[2] for r in lines(sample)] == ["paid", "paid"]


def test_every_bad_row_is_named_and_nothing_is_written(sample, tmp_path):
    add_line(sample, "A0000001", "saj", "saj_annual_fee", 3500, dt.date(2026, 8, 1))
    path = write_csv(
        tmp_path,
        [
            "A0000001,saj,saj_annual_fee,3500,card,2026-11-20,OK-1",
            "A0000001,ski,saj_annual_fee,3,500,card,2026-11-20,BAD-2",
            "A0000001,saj,saj_annual_fee,-5,cash,2026-02-30,BAD-3",
            "A0000001,saj,saj_annual_fee,100,card,2026-11-20,",
        ],
    )
    with pytest.raises(InputFileError) as failed:
        imports.import_file(sample, "payments", path)
    assert [str(p) for p in failed.value.problems] == [f"{path}:3: -: 列の数が8です（見出しは7列）"]
    path = write_csv(
        tmp_path,
        [
            "A0000001,saj,saj_annual_fee,3500,card,2026-11-20,OK-1",
            "A0000001,ski,saj_annual_fee,3500,card,2026-11-20,BAD-2",
            "A0000001,saj,saj_annual_fee,-5,cash,2026-02-30,BAD-3",
            "A0000001,saj,saj_annual_fee,100,card,2026-11-20,",
        ],
        name="bad.csv",
    )
    with pytest.raises(InputFileError) as failed:
        imports.import_file(sample, "payments", path)
    found = [str(p) for p in failed.value.problems]
    assert (
        f"{path}:3: scheme: schemeは jptec, itc, jspo, saj, teacher のいずれかです: 'ski'" in found
    )
    assert f"{path}:4: amount: 金額は1以上の整数（円）です: '-5'" in found
    assert any(p.startswith(f"{path}:4: method: methodは") for p in found)
    assert (
        f"{path}:4: paid_on: 日付（YYYY-MM-DD または YYYY/MM/DD）ではありません: '2026-02-30'"
        in found
    )
    assert f"{path}:5: reference: 値がありません" in found
    assert sample.execute("SELECT count(*) FROM payments").fetchall() == [(0,)]
    assert [r[2] for r in lines(sample)] == ["open"]


def test_a_cp932_file_with_full_width_digits_is_read(sample, tmp_path):
    add_line(sample, "A0000001", "saj", "saj_annual_fee", 3500, dt.date(2026, 8, 1))
    path = write_csv(
        tmp_path,
        ["Ａ0000001,saj,saj_annual_fee,３５００,convenience_store,2026/11/20,コンビニ-1"],
        encoding="cp932",
    )
    result = imports.import_file(sample, "payments", path)
    assert result.encoding == "cp932"
    assert [r[2] for r in lines(sample)] == ["paid"]


@pytest.fixture
def listed(sample, tmp_path):
    """One under-payment (3,000 for a 3,500 line) and one unmatched payment in the list."""
    line = add_line(sample, "A0000001", "saj", "saj_annual_fee", 3500, dt.date(2026, 8, 1))
    path = write_csv(
        tmp_path,
        [
            "A0000001,saj,saj_annual_fee,3000,card,2026-11-20,UNDER",
            "A9999999,saj,saj_annual_fee,3500,card,2026-11-20,NOBODY",
        ],
    )
    imports.import_file(sample, "payments", path)
    found = reconciliation.items(sample)
    ids = dict(zip(found["reference"], found["item_id"], strict=True))
    return sample, line, ids


def test_staff_apply_an_under_payment_to_the_chosen_line(listed):
    con, line, ids = listed
    assert reconciliation.candidate_lines(con, ids["UNDER"])["billing_id"].to_list() == [line]
    reconciliation.apply_to_line(con, ids["UNDER"], line, actor="hq", note="差額は次回請求")
    assert lines(con) == [("A0000001", "saj_annual_fee", "paid", "UNDER")]
    row = con.execute(
        "SELECT status, billing_id, resolved_by FROM reconciliation WHERE item_id = ?",
        [ids["UNDER"]],
    ).fetchall()
    assert row == [("applied", line, "hq")]
    assert con.execute(
        "SELECT table_name, new_value FROM audit_log WHERE actor = 'hq' ORDER BY table_name"
    ).fetchall() == [("billing", "paid"), ("reconciliation", "applied")]
    with pytest.raises(PaymentRefused, match="処理済み"):
        reconciliation.write_off(con, ids["UNDER"], actor="hq", note="二度目")


def test_an_item_cannot_be_applied_to_a_line_that_is_not_open(listed):
    con, line, ids = listed
    reconciliation.apply_to_line(con, ids["UNDER"], line, actor="hq")
    with pytest.raises(PaymentRefused, match="未納ではありません"):
        reconciliation.apply_to_line(con, ids["NOBODY"], line, actor="hq")
    assert reconciliation.items(con)["reference"].to_list() == ["NOBODY"]


def test_staff_mark_an_unmatched_payment_refunded_or_write_it_off_with_a_note(listed):
    con, _, ids = listed
    with pytest.raises(PaymentRefused, match="理由"):
        reconciliation.refund(con, ids["NOBODY"], actor="hq", note=" ")
    reconciliation.refund(
        con,
        ids["NOBODY"],
        actor="hq",
        note="会員番号不明のため振込元へ返金",
        on=dt.date(2026, 11, 25),
    )
    assert con.execute("SELECT amount, reason, refunded_on FROM refunds").fetchall() == [
        (3500, "reconciliation", dt.date(2026, 11, 25))
    ]
    reconciliation.write_off(con, ids["UNDER"], actor="hq", note="500円不足は免除（理事会承認）")
    assert reconciliation.items(con).is_empty()
    assert set(reconciliation.items(con, status=None)["status"]) == {"refunded", "written_off"}


def paid_line(con, member_no, scheme, item, amount):
    line = add_line(con, member_no, scheme, item, amount, dt.date(2026, 8, 1))
    con.execute(
        "INSERT INTO payments (member_no, scheme, item, amount, method, paid_on, reference)"
        " VALUES (?, ?, ?, ?, 'card', DATE '2026-08-10', ?)",
        [member_no, scheme, item, amount, f"P-{line}"],
    )
    con.execute(
        "UPDATE billing SET status = 'paid', paid_on = DATE '2026-08-10',"
        " payment_id = (SELECT payment_id FROM payments WHERE reference = ?) WHERE billing_id = ?",
        [f"P-{line}", line],
    )
    return line


@pytest.mark.parametrize("reason", ["double_payment", "not_opened", "disaster"])
def test_teacher_course_fees_are_refunded_for_the_three_reasons(sample, reason):
    line = paid_line(sample, "J0000002", "teacher", "teacher_course", 6000)
    refunds.refund_line(sample, line, reason=reason, on=dt.date(2026, 9, 1), actor="hq")
    assert sample.execute("SELECT status FROM billing").fetchall() == [("refunded",)]
    assert sample.execute("SELECT amount, reason FROM refunds").fetchall() == [(6000, reason)]
    assert sample.execute(
        "SELECT action, old_value, new_value FROM audit_log WHERE table_name = 'billing'"
    ).fetchall() == [("refund", "paid", "refunded")]


def test_a_teacher_absence_is_not_a_refund_reason(sample):
    line = paid_line(sample, "J0000002", "teacher", "teacher_course", 6000)
    with pytest.raises(PaymentRefused, match="返金できる事由ではありません"):
        refunds.refund_line(sample, line, reason="absent", on=dt.date(2026, 9, 1), actor="hq")
    assert sample.execute("SELECT status FROM billing").fetchall() == [("paid",)]


def test_saj_never_refunds_after_payment(sample):
    line = paid_line(sample, "A0000001", "saj", "saj_annual_fee", 3500)
    with pytest.raises(PaymentRefused, match="入金後の返金を受け付けません"):
        refunds.refund_line(
            sample, line, reason="double_payment", on=dt.date(2026, 9, 1), actor="hq"
        )
    assert sample.execute("SELECT count(*) FROM refunds").fetchall() == [(0,)]


def test_other_schemes_refund_a_double_payment_only(sample):
    line = paid_line(sample, "J0000001", "jptec", "jptec_instructor_renewal", 2000)
    with pytest.raises(PaymentRefused):
        refunds.refund_line(sample, line, reason="disaster", on=dt.date(2026, 9, 1), actor="hq")
    refunds.refund_line(sample, line, reason="double_payment", on=dt.date(2026, 9, 1), actor="hq")
    assert sample.execute("SELECT status FROM billing").fetchall() == [("refunded",)]


def test_an_open_line_cannot_be_refunded(sample):
    line = add_line(sample, "J0000002", "teacher", "teacher_course", 6000, dt.date(2026, 8, 1))
    with pytest.raises(PaymentRefused, match="入金済みではない"):
        refunds.refund_line(sample, line, reason="not_opened", on=dt.date(2026, 9, 1), actor="hq")
