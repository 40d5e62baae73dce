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
from core.courses import changes, enrolment
from core.documents import certificates
from core.store import db

from .course_helpers import J, T, add_course, at, clock

DAY = dt.date(2021, 7, 10)
FORM = "application_form"


@pytest.fixture
def now(monkeypatch):
    """The clock on the day the forms are printed (staff record arrivals and cancellations)."""
    return clock(monkeypatch, "2021-07-10 09:00")


def load(con, tmp_path: Path, enrolments: str) -> None:
    """Five courses recruiting from June (the teacher ones until two days before they are held)
    and the reservations of `enrolments` (enrolments.csv's rows), imported as staff would."""
    for code, title, held_on, hours, domain, fee in (
        ("C1", "教育の最新事情", "2021-08-02", 6, "mandatory", 500),
        ("C2", "学級経営の実践", "2021-08-03", 12, "elective", None),
        ("C3", "特別支援教育", "2021-07-10", 6, "elective_mandatory", 0),
        ("C4", "生徒指導の今日的課題", "2021-07-09", 6, "elective", 0),
    ):
        until = dt.date.fromisoformat(held_on) - dt.timedelta(days=2)
        add_course(con, code, title=title, held_on=held_on, hours=hours, domain=domain,
                   capacity=40, materials_fee=fee, recruit_from="2021-06-01",
                   recruit_until=f"{until} 17:00")  # fmt: skip
    add_course(con, "J1", scheme="jptec", title="JPTECプロバイダーコース", held_on="2021-08-10",
               hours=8, domain=None, capacity=30, recruit_from="2021-06-01",
               recruit_until="2021-08-01 17:00")  # fmt: skip
    (tmp_path / "enrolments.csv").write_text(
        "member_no,course_code,reserved_at,form_received_on\n" + enrolments, encoding="utf-8"
    )
    imports.import_file(con, "enrolments", tmp_path / "enrolments.csv", actor="test")


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def courses_printed(con, member_no: str) -> list[str]:
    return sorted(certificates.current(con, FORM, member_no=member_no, on=DAY)["course_code"])


def test_each_reservation_waiting_for_its_form_prints_one_page(people, tmp_path):
    load(
        people,
        tmp_path,
        f"{T[1]},C1,2021-07-01 06:00,\n"  # waiting: printed
        f"{T[1]},C2,2021-07-01 06:05,\n"  # waiting: printed
        f"{T[1]},C3,2021-06-20 06:00,\n"  # held today: still printed
        f"{T[1]},C4,2021-06-20 06:00,\n"  # held yesterday: too late
        f"{J[1]},J1,2021-07-02 09:00,\n"  # JPTEC has no such form
        f"{T[2]},C1,2021-07-01 06:10,2021-07-05\n",  # form arrived: nothing to print
    )
    printed = certificates.issue(people, T[1], FORM, actor="hq", on=DAY)
    assert len(printed.documents) == 3 and all(n.startswith("TAF-2021-") for n in printed.documents)
    assert courses_printed(people, T[1]) == ["C1", "C2", "C3"]
    words = text_of(printed.pdf, tmp_path)
    assert words.count("教員免許状更新講習 受講申込書") == 3
    for expected in (
        "教育の最新事情", "講習番号", "C1", "2021年8月2日（令和3年8月2日）", "6時間", "6,500円",
        "学級経営の実践", "12時間", "12,000円", "申込予約日", "2021年7月1日（令和3年7月1日）",
        "提出期限", "2021年7月15日（令和3年7月15日）", "2021年7月4日（令和3年7月4日）",
        "証明者の職・氏名", "証明者の印", "受講対象者の区分", "14日以内", "申込書番号",
        "教員免許状更新講習センター",
    ):  # fmt: skip
        assert expected in words, expected
    for member in (T[2], J[1]):
        with pytest.raises(certificates.NotAvailable, match="受講申込書がまだ届いていない"):
            certificates.issue(people, member, FORM, actor="hq", on=DAY)


def test_a_promoted_reservations_form_is_due_from_the_promotion(people, tmp_path, now):
    load(people, tmp_path, f"{T[1]},C1,2021-07-01 06:00,\n")
    people.execute("UPDATE courses SET capacity = 1 WHERE course_code = 'C1'")
    now.set("2021-07-02 09:00")
    assert enrolment.reserve(people, T[2], "C1", actor="test").status == "waitlisted"
    with pytest.raises(certificates.NotAvailable):  # waiting for a seat: nothing to print yet
        certificates.issue(people, T[2], FORM, actor="hq", on=dt.date(2021, 7, 2))
    now.set("2021-07-05 09:00")
    changes.cancel(people, T[1], "C1", actor="hq")
    words = text_of(certificates.issue(people, T[2], FORM, actor="hq", on=DAY).pdf, tmp_path)
    assert "2021年7月2日（令和3年7月2日）" in words  # the reservation
    assert "2021年7月19日（令和3年7月19日）" in words  # 14 days from the promotion on 7月5日


def test_a_form_is_printable_until_it_arrives_or_the_reservation_is_cancelled(
    people, tmp_path, now
):
    load(people, tmp_path, f"{T[1]},C1,2021-07-01 06:00,\n{T[1]},C2,2021-07-01 06:05,\n")
    first = certificates.issue(people, T[1], FORM, actor="hq", on=DAY)
    now.set("2021-07-12 09:00")
    on = dt.date(2021, 7, 12)
    assert changes.record_forms(people, T[1], received_on=on, actor="hq", course_codes=["C1"]) == [
        "C1"
    ]
    changes.cancel(people, T[1], "C2", actor="hq", on=on)
    assert courses_printed(people, T[1]) == []
    listed = certificates.member_documents(people, T[1], on).filter(kind=FORM)
    assert listed.height == 2 and not listed["printable"].any()
    with pytest.raises(certificates.NotAvailable):
        certificates.issue(people, T[1], FORM, actor="hq", on=on)
    # a new reservation of the same course after the cancellation is a new form
    enrolment.reserve(people, T[1], "C2", actor="test", at=at("2021-07-12 10:00"))
    again = certificates.issue(people, T[1], FORM, actor="hq", on=on)
    assert len(again.documents) == 1 and again.documents[0] not in first.documents


def test_every_copy_is_the_same_document_and_each_print_is_recorded(people, tmp_path):
    load(people, tmp_path, f"{T[1]},C1,2021-07-01 06:00,\n")
    first = certificates.issue(people, T[1], FORM, actor="hq", on=DAY)
    second = certificates.issue(people, T[1], FORM, actor="staff2", on=DAY)
    assert first.pdf == second.pdf and first.documents == second.documents
    assert certificates.reprint(people, first.documents[0], actor="hq").pdf == first.pdf
    issues = people.execute(
        "SELECT copy_no, issued_by FROM document_issues ORDER BY copy_no"
    ).fetchall()
    assert issues == [(1, "hq"), (2, "staff2"), (3, "hq")]
    reasons = people.execute(
        "SELECT reason FROM audit_log WHERE action = 'issue' AND table_name = 'documents'"
        " ORDER BY audit_id"
    ).fetchall()
    assert reasons == [("受講申込書を発行",), ("受講申込書を発行（2回目の印刷）",),
                       ("受講申込書を発行（3回目の印刷）",)]  # fmt: skip


def test_the_command_line_prints_a_members_forms(people_path, tmp_path):
    with db.connect(people_path) as con:
        load(con, tmp_path, f"{T[1]},C1,2021-07-01 06:00,\n")
    out = tmp_path / "forms.pdf"
    args = ["documents", "--db", str(people_path), "--member", T[1], "--kind", FORM]
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--date", "2021-07-10"])
    assert result.exit_code == 0, result.output
    assert "教育の最新事情" in text_of(out.read_bytes(), tmp_path)
    late = CliRunner().invoke(cli, [*args, "--out", str(out), "--date", "2021-08-03"])
    assert late.exit_code == 2 and "受講申込書" in late.output


def test_the_member_page_offers_the_form_to_print(people_path):
    from .readable import problems
    from .test_page_app import logged_in, open_page

    today = dt.date.today()
    with db.connect(people_path) as con:
        add_course(con, "C9", title="教育の最新事情", held_on=str(today + dt.timedelta(days=30)),
                   recruit_from=str(today - dt.timedelta(days=1)),
                   recruit_until=str(today + dt.timedelta(days=20)))  # fmt: skip
        enrolment.reserve(con, T[1], "C9", actor="test")  # now
    at = open_page(logged_in("hq"), "member_lookup", member=T[1])
    assert not at.exception and problems(at) == []
    assert "受講申込書PDF" in [b.label for b in at.get("download_button")]
    cells = " ".join(str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel())
    assert "受講申込書" in cells and "application_form" not in cells
