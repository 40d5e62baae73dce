"""受講申込書 (seed 004): after a reservation the participant prints the form, has it certified
and posts it within 14 days. One page per reservation waiting for its form, all of a member's in
one PDF; printable until the form arrives, the reservation is cancelled or the course is held;
every copy the same document, each print recorded."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from core import imports
from core.cli import cli
from core.documents import certificates
from core.store import db

DAY = dt.date(2021, 7, 10)
FORM = "application_form"


def load(con, tmp_path: Path, enrolments: str) -> None:
    (tmp_path / "courses.csv").write_text(
        "course_code,scheme,title,held_on,hours,domain,capacity,materials_fee\n"
        "C1,teacher,教育の最新事情,2021-08-02,6,mandatory,40,500\n"
        "C2,teacher,学級経営の実践,2021-08-03,12,elective,40,\n"
        "C3,teacher,特別支援教育,2021-07-10,6,elective_mandatory,40,0\n"
        "C4,teacher,生徒指導の今日的課題,2021-07-09,6,elective,40,0\n"
        "J1,jptec,JPTECプロバイダーコース,2021-08-10,8,,30,0\n",
        encoding="utf-8",
    )
    (tmp_path / "enrolments.csv").write_text(
        "member_no,course_code,reserved_at,form_received_on\n" + enrolments, encoding="utf-8"
    )
    imports.import_file(con, "courses", tmp_path / "courses.csv")
    imports.import_file(con, "enrolments", tmp_path / "enrolments.csv")


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def courses_printed(con, member_no: str) -> list[str]:
    return sorted(certificates.current(con, FORM, member_no=member_no, on=DAY)["course_code"])


def test_each_reservation_waiting_for_its_form_prints_one_page(sample, tmp_path):
    load(
        sample,
        tmp_path,
        "A0000001,C1,2021-07-01 06:00,\n"  # waiting: printed
        "A0000001,C2,2021-07-01 06:05,\n"  # waiting: printed
        "A0000001,C3,2021-06-20 06:00,\n"  # held today: still printed
        "A0000001,C4,2021-06-20 06:00,\n"  # held yesterday: too late
        "A0000001,J1,2021-07-02 09:00,\n"  # JPTEC has no such form
        "A0000002,C1,2021-07-01 06:10,2021-07-05\n",  # form arrived: nothing to print
    )
    printed = certificates.issue(sample, "A0000001", FORM, actor="hq", on=DAY)
    assert len(printed.documents) == 3 and all(n.startswith("TAF-2021-") for n in printed.documents)
    assert courses_printed(sample, "A0000001") == ["C1", "C2", "C3"]
    words = text_of(printed.pdf, tmp_path)
    assert words.count("教員免許状更新講習 受講申込書") == 3
    for expected in (
        "教育の最新事情", "講習番号", "C1", "2021年8月2日（令和3年8月2日）", "6時間", "6,500円",
        "学級経営の実践", "12時間", "12,000円", "申込予約日", "2021年7月1日（令和3年7月1日）",
        "証明者の職・氏名", "証明者の印", "受講対象者の区分", "14日以内", "申込書番号",
        "教員免許状更新講習センター",
    ):  # fmt: skip
        assert expected in words, expected
    with pytest.raises(certificates.NotAvailable, match="受講申込書がまだ届いていない"):
        certificates.issue(sample, "A0000002", FORM, actor="hq", on=DAY)


def test_a_form_is_printable_until_it_arrives_or_the_reservation_is_cancelled(sample, tmp_path):
    load(sample, tmp_path, "A0000001,C1,2021-07-01 06:00,\nA0000001,C2,2021-07-01 06:05,\n")
    first = certificates.issue(sample, "A0000001", FORM, actor="hq", on=DAY)
    sample.execute(
        "UPDATE enrolments SET form_received_on = DATE '2021-07-12' WHERE course_code = 'C1'"
    )
    sample.execute("UPDATE enrolments SET status = 'cancelled' WHERE course_code = 'C2'")
    assert courses_printed(sample, "A0000001") == []
    listed = certificates.member_documents(sample, "A0000001", DAY).filter(kind=FORM)
    assert listed.height == 2 and not listed["printable"].any()
    with pytest.raises(certificates.NotAvailable):
        certificates.issue(sample, "A0000001", FORM, actor="hq", on=DAY)
    # a new reservation of the same course after the cancellation is a new form
    sample.execute(
        "INSERT INTO enrolments (course_code, member_no, reserved_at)"
        " VALUES ('C2', 'A0000001', TIMESTAMP '2021-07-11 08:00')"
    )
    again = certificates.issue(sample, "A0000001", FORM, actor="hq", on=DAY)
    assert len(again.documents) == 1 and again.documents[0] not in first.documents


def test_every_copy_is_the_same_document_and_each_print_is_recorded(sample, tmp_path):
    load(sample, tmp_path, "A0000001,C1,2021-07-01 06:00,\n")
    first = certificates.issue(sample, "A0000001", FORM, actor="hq", on=DAY)
    second = certificates.issue(sample, "A0000001", FORM, actor="staff2", on=DAY)
    assert first.pdf == second.pdf and first.documents == second.documents
    assert certificates.reprint(sample, first.documents[0], actor="hq").pdf == first.pdf
    issues = sample.execute(
        "SELECT copy_no, issued_by FROM document_issues ORDER BY copy_no"
    ).fetchall()
    assert issues == [(1, "hq"), (2, "staff2"), (3, "hq")]
    reasons = sample.execute(
        "SELECT reason FROM audit_log WHERE action = 'issue' AND table_name = 'documents'"
        " ORDER BY audit_id"
    ).fetchall()
    assert reasons == [("受講申込書を発行",), ("受講申込書を発行（2回目の印刷）",),
                       ("受講申込書を発行（3回目の印刷）",)]  # fmt: skip


def test_the_command_line_prints_a_members_forms(sample_path, tmp_path):
    with db.connect(sample_path) as con:
        load(con, tmp_path, "A0000001,C1,2021-07-01 06:00,\n")
    out = tmp_path / "forms.pdf"
    args = ["documents", "--db", str(sample_path), "--member", "A0000001", "--kind", FORM]
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--date", "2021-07-10"])
    assert result.exit_code == 0, result.output
    assert "教育の最新事情" in text_of(out.read_bytes(), tmp_path)
    late = CliRunner().invoke(cli, [*args, "--out", str(out), "--date", "2021-08-03"])
    assert late.exit_code == 2 and "受講申込書" in late.output


def test_the_member_page_offers_the_form_to_print(sample_path):
    from .readable import problems
    from .test_page_app import logged_in, open_page

    held_on = dt.date.today() + dt.timedelta(days=30)
    with db.connect(sample_path) as con:
        con.execute(
            "INSERT INTO courses (course_code, scheme, title, held_on, hours, materials_fee)"
            " VALUES ('C9', 'teacher', '教育の最新事情', ?, 6, 0)",
            [held_on],
        )
        con.execute(
            "INSERT INTO enrolments (course_code, member_no, reserved_at)"
            " VALUES ('C9', 'A0000001', current_timestamp::TIMESTAMP)"
        )
    at = open_page(logged_in("hq"), "member_lookup", member="A0000001")
    assert not at.exception and problems(at) == []
    assert "受講申込書PDF" in [b.label for b in at.get("download_button")]
    cells = " ".join(str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel())
    assert "受講申込書" in cells and "application_form" not in cells
