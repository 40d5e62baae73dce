"""`documents --kind completion_certificate`: a member's 修了証明書 from the course results, one
page per course completed in one PDF; marked issued on the first print, every copy the same PDF
and audited; a member without a completed course, or a club, is told why (exit 2)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner

from core.cli import cli
from core.courses import enrolment, results
from core.store import db

from .course_helpers import T, add_course, at, clock

KIND = "completion_certificate"


def complete(con) -> None:
    """T[1] completes K1 and K2; T[2] completes K1; T[3] is absent from K1."""
    add_course(con, "K1", capacity=5, title="教育の最新事情")
    add_course(con, "K2", capacity=5, title="学級経営の実践", held_on="2021-08-03", hours=12,
               domain="elective")  # fmt: skip
    for i, code in ((1, "K1"), (2, "K1"), (3, "K1"), (1, "K2")):
        enrolment.reserve(con, T[i], code, actor="test", at=at(f"2021-05-01 06:0{i}"))
    results.record_grid(
        con,
        [{"member_no": m, "course_code": c, "attended": a, "minutes_late": None, "score": s,
          "exam_on": None}
         for m, c, a, s in ((T[1], "K1", "present", 80), (T[2], "K1", "present", 90),
                            (T[3], "K1", "absent", None), (T[1], "K2", "present", 75))],
        actor="test",
    )  # fmt: skip


def run(path: Path, out: Path, *who: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["documents", "--db", str(path), *who, "--kind", KIND, "--out", str(out)]
    )
    return result.exit_code, result.output


def text_of(path: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_a_members_completion_certificates_print_from_the_course_results(
    people_path, tmp_path, monkeypatch
):
    clock(monkeypatch)
    with db.connect(people_path) as con:
        complete(con)
        numbers = [r[0] for r in con.execute(
            "SELECT certificate_no FROM course_completions WHERE member_no = ?"
            " ORDER BY completed_on, enrolment_id", [T[1]]).fetchall()]  # fmt: skip
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    code, output = run(people_path, first, "--member", T[1])
    assert code == 0, output
    assert all(n in output for n in numbers) and len(numbers) == 2
    words = text_of(first)
    pages = [p for p in words.split("\f") if p.strip()]
    assert len(pages) == 2 and all("修了証明書" in p for p in pages)
    assert "教育の最新事情" in pages[0] and "学級経営の実践" in pages[1]  # in the order completed
    assert "教育の最新事情" in words and "学級経営の実践" in words and "12時間" in words
    assert all(n in words for n in numbers) and "80点" in words and "75点" in words
    assert "教員免許状更新講習センター" in words
    code, output = run(people_path, second, "--member", T[1])
    assert code == 0, output
    assert first.read_bytes() == second.read_bytes()  # every copy the same PDF
    with db.connect(people_path) as con:
        issued = con.execute(
            "SELECT member_no, certificate_issued_at IS NOT NULL FROM course_completions"
            " ORDER BY member_no, course_code"
        ).fetchall()
        assert issued == [(T[1], True), (T[1], True), (T[2], False)]  # T[2] not printed yet
        audited = con.execute(
            "SELECT action, reason FROM audit_log WHERE table_name = 'course_completions'"
            " AND action IN ('certificate', 'issue') ORDER BY audit_id"
        ).fetchall()
    assert audited == [
        ("certificate", "K1: 修了証明書の発行"), ("certificate", "K2: 修了証明書の発行"),
        ("issue", "K1: 修了証明書を発行"), ("issue", "K2: 修了証明書を発行"),
        ("issue", "K1: 修了証明書を発行（2回目の印刷）"),
        ("issue", "K2: 修了証明書を発行（2回目の印刷）"),
    ]  # fmt: skip


def test_no_completed_course_or_a_club_exits_2_with_the_reason(people_path, tmp_path, monkeypatch):
    clock(monkeypatch)
    with db.connect(people_path) as con:
        complete(con)
    out = tmp_path / "none.pdf"
    code, output = run(people_path, out, "--member", T[3])  # absent: not completed
    assert code == 2 and "修了証明書がありません" in output and "講習を修了したとき" in output
    code, output = run(people_path, out, "--org", "TEACHER-22")
    assert code == 2 and "講習ごと" in output
    assert not out.exists()
