"""Course fees (seed 004): 1,000 yen an hour plus materials, one invoice per submission date."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from core import config, imports
from core.billing import course_fees
from core.cli import cli
from core.documents import invoices
from core.errors import InputFileError
from core.store import db

DAY = dt.date(2021, 7, 10)


def load(con, tmp_path: Path, enrolments: str) -> None:
    (tmp_path / "courses.csv").write_text(
        "course_code,scheme,title,held_on,hours,domain,capacity,materials_fee\n"
        "C1,teacher,教育の最新事情,2021-08-02,6,mandatory,40,500\n"
        "C2,teacher,学級経営の実践,2021-08-03,6,elective,40,\n"
        "C3,teacher,特別支援教育,2021-08-04,6,elective_mandatory,40,0\n",
        encoding="utf-8",
    )
    (tmp_path / "enrolments.csv").write_text(
        "member_no,course_code,reserved_at,form_received_on\n" + enrolments, encoding="utf-8"
    )
    imports.import_file(con, "courses", tmp_path / "courses.csv")
    imports.import_file(con, "enrolments", tmp_path / "enrolments.csv")


def bill(con, on: dt.date = DAY) -> dict[str, int]:
    return course_fees.bill_courses(con, on=on, actor="test", cfg=config.current())


def lines(con) -> list[tuple]:
    return con.execute(
        "SELECT issued_on::VARCHAR, due_on::VARCHAR, item, amount, description FROM billing"
        " ORDER BY issued_on, item, amount"
    ).fetchall()


def test_a_reservation_is_billed_by_the_hour_plus_materials_once_its_form_arrives(people, tmp_path):
    load(
        people, tmp_path, "T0000001,C1,2021-06-01 06:00,2021-06-08\nT0000001,C2,2021-06-01 06:05,\n"
    )
    assert bill(people) == {"teacher_course": 1, "teacher_materials": 1}
    assert lines(people) == [
        ("2021-06-08", "2021-06-22", "teacher_course", 6000,
         "2021年度 講習「教育の最新事情」6時間 6,000円"),
        ("2021-06-08", "2021-06-22", "teacher_materials", 500,
         "2021年度 講習「教育の最新事情」教材費 500円"),
    ]  # fmt: skip
    assert bill(people) == {}  # billed once
    people.execute("UPDATE enrolments SET form_received_on = '2021-06-09' WHERE course_code = 'C2'")
    assert bill(people) == {"teacher_course": 1}  # no materials fee on C2
    linked = people.execute(
        "SELECT e.course_code, b.amount FROM enrolments e JOIN billing b USING (billing_id)"
        " ORDER BY 1"
    ).fetchall()
    assert linked == [("C1", 6000), ("C2", 6000)]


def test_a_form_arriving_after_the_run_date_or_a_cancelled_reservation_is_not_billed(
    people, tmp_path
):
    load(
        people,
        tmp_path,
        "T0000001,C1,2021-06-01 06:00,2021-07-11\nT0000002,C3,2021-06-01 06:00,2021-06-05\n",
    )
    people.execute("UPDATE enrolments SET status = 'cancelled' WHERE member_no = 'T0000002'")
    assert bill(people, DAY) == {}
    assert bill(people, DAY + dt.timedelta(days=1)) == {"teacher_course": 1, "teacher_materials": 1}


def test_one_invoice_per_submission_date(people, tmp_path):
    load(
        people,
        tmp_path,
        "T0000001,C1,2021-06-01 06:00,2021-06-08\n"
        "T0000001,C2,2021-06-01 06:01,2021-06-08\n"
        "T0000001,C3,2021-06-02 06:00,2021-06-15\n",
    )
    bill(people, dt.date(2021, 6, 30))
    first = invoices.issue(people, "T0000001", "invoice", issued_on=dt.date(2021, 6, 8))
    second = invoices.issue(people, "T0000001", "invoice", issued_on=dt.date(2021, 6, 15))
    assert (first.lines, second.lines) == (3, 1)
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=first.pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "教育の最新事情" in text and "学級経営の実践" in text and "特別支援教育" not in text
    assert "12,500" in text  # 6,000 + 500 + 6,000


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("A9999999,C1,2021-06-01 06:00,", "member_no", "会員番号が見つかりません"),
        ("T0000001,C9,2021-06-01 06:00,", "course_code", "講習コードが見つかりません"),
        ("T0000001,C1,2021-06-10 06:00,2021-06-08", "form_received_on", "予約より前"),
        ("T0000001,C1,6月1日,", "reserved_at", "日時"),
    ],
)
def test_bad_reservation_rows_name_line_and_column(people, tmp_path, row, column, message):
    with pytest.raises(InputFileError) as caught:
        load(people, tmp_path, row + "\n")
    problem = caught.value.problems[0]
    assert (problem.line, problem.column) == (2, column) and message in problem.message
    assert db.table_count(people, "enrolments") == 0


def test_cli_bill_courses(people_path, tmp_path):
    with db.connect(people_path) as con:
        load(con, tmp_path, "T0000001,C2,2021-06-01 06:00,2021-06-08\n")
    result = CliRunner().invoke(
        cli, ["bill-courses", "--date", "2021-07-10", "--db", str(people_path)]
    )
    assert result.exit_code == 0, result.output
    assert "teacher_course 1 lines" in result.output
    again = CliRunner().invoke(
        cli, ["bill-courses", "--date", "2021-07-10", "--db", str(people_path)]
    )
    assert "no reservation waits for its bill" in again.output
