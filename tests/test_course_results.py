"""Results (seed 004 修了認定試験・修了認定, 遅刻・欠席等): attendance, lateness, exam scores and
re-exams, at both sides of each boundary; completions that the renewal rules count."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest

from core import imports
from core.courses import enrolment, results, roster
from core.documents import courses as course_documents
from core.errors import InputFileError
from core.renewals import explain

from .course_helpers import J, S, T, add_course, at, clock

D = dt.date


@pytest.fixture
def held(people, monkeypatch):
    """Teacher course K1 (held 2021-08-02, 6 hours, mandatory) with T[1]…T[3] seated."""
    clock(monkeypatch)
    add_course(people, "K1", capacity=5, title="教育の最新事情")
    for i in (1, 2, 3):
        enrolment.reserve(people, T[i], "K1", actor="test", at=at(f"2021-05-01 06:0{i}"))
    return people


def record(con, *rows):
    return results.record_grid(con, [dict(r) for r in rows], actor="test")


def row(member, attended="present", late=None, score=None, exam_on=None, code="K1", **more):
    return {"member_no": member, "course_code": code, "attended": attended,
            "minutes_late": late, "score": score, "exam_on": exam_on, **more}  # fmt: skip


def outcome(con, member, code="K1"):
    found = roster.participants(con, [code]).filter(member_no=member)
    return found["stage"][0]


@pytest.mark.parametrize(
    ("late", "stage"), [(None, "completed"), (30, "completed"), (31, "absent")]
)
def test_more_than_thirty_minutes_late_counts_as_absent(held, late, stage):
    record(held, row(T[1], late=late, score=None if late == 31 else 70))
    assert outcome(held, T[1]) == stage


@pytest.mark.parametrize(
    ("score", "stage"), [(59, "failed"), (60, "completed"), (100, "completed")]
)
def test_sixty_points_pass(held, score, stage):
    record(held, row(T[1], score=score))
    assert outcome(held, T[1]) == stage


def test_a_completion_becomes_the_teacher_course_activity_with_its_hours(held):
    record(held, row(T[1], late=10, score=75), row(T[2], score=40), row(T[3], "absent"))
    activities = held.execute(
        "SELECT member_no, kind, date, hours, domain, course_name, score, minutes_late"
        " FROM activities WHERE scheme = 'teacher'"
    ).fetchall()
    assert activities == [(T[1], "course", D(2021, 8, 2), 6, "mandatory", "教育の最新事情", 75, 10)]
    stages = roster.participants(held, ["K1"]).select("member_no", "stage", "status").rows()
    assert stages == [(T[1], "completed", "completed"), (T[2], "failed", "failed"),
                      (T[3], "absent", "absent")]  # fmt: skip


def test_a_re_exam_is_a_later_score_row_and_its_pass_completes(held):
    record(held, row(T[1], score=50, exam_on="2021-08-02"))
    assert outcome(held, T[1]) == "failed"
    record(held, row(T[1], score=65, exam_on="2021-08-20"))
    assert outcome(held, T[1]) == "completed"
    scores = held.execute("SELECT exam_on, score FROM course_scores ORDER BY exam_on").fetchall()
    assert scores == [(D(2021, 8, 2), 50), (D(2021, 8, 20), 65)]
    with pytest.raises(InputFileError, match="合格済み"):
        record(held, row(T[1], score=90, exam_on="2021-08-25"))


def test_a_correction_that_undoes_a_pass_withdraws_the_completion(held):
    record(held, row(T[1], score=80, exam_on="2021-08-02"))
    record(held, row(T[1], score=45, exam_on="2021-08-02"))  # the same exam day: a correction
    assert outcome(held, T[1]) == "failed"
    assert held.execute("SELECT count(*) FROM activities WHERE scheme = 'teacher'").fetchall() == [
        (0,)
    ]
    actions = held.execute(
        "SELECT action, old_value, new_value FROM audit_log"
        " WHERE table_name IN ('course_scores', 'enrolments') AND action <> 'reserve'"
        " ORDER BY audit_id"
    ).fetchall()
    assert actions == [("record", None, "80"), ("complete", None, "completed"),
                       ("record", "80", "45"), ("uncomplete", "completed", None)]  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "column", "words"),
    [
        (row(T[1], "absent", score=70), "score", "対象外"),
        (row(T[1], late=31, score=70), "score", "30分を超える遅刻"),
        (row(T[1], "absent", late=5), "minutes_late", "欠席の受講者"),
        (row(T[1], score=101), "score", "0〜100"),
        (row(T[1], attended="late"), "attended", "attended"),
        (row(T[1], score=70, exam_on="2021-08-01"), "exam_on", "開始日より前"),
        (row(T[9]), "course_code", "受講者"),
    ],
)
def test_bad_results_name_the_row_and_column_and_nothing_is_written(held, bad, column, words):
    with pytest.raises(InputFileError) as caught:
        record(held, row(T[2], score=80), bad)
    problem = caught.value.problems[0]
    assert (problem.line, problem.column) == (3, column) and words in problem.message
    assert held.execute("SELECT count(*) FROM course_attendance").fetchall() == [(0,)]


def test_attendance_csv_records_results_all_or_nothing(held, tmp_path):
    path = tmp_path / "attendance.csv"
    path.write_text(
        "member_no,course_code,attended,minutes_late,score,exam_on\n"
        f"{T[1]},K1,present,,88,2021-08-02\n{T[2]},K1,present,12,61,2021-08-02\n"
        f"{T[3]},K1,absent,,,\n",
        encoding="cp932",
    )
    result = imports.import_file(held, "attendance", path)
    assert result.rows == 3 and "2 completed" in result.notes[0]


def test_the_certificate_is_due_at_the_end_of_the_following_month(held):
    record(held, row(T[1], score=80))
    due = roster.participants(held, ["K1"]).filter(member_no=T[1])["certificate_due"][0]
    assert due == D(2021, 9, 30)
    assert roster.overdue_certificates(held, D(2021, 9, 30)).height == 0
    overdue = roster.overdue_certificates(held, D(2021, 10, 1))
    assert overdue["member_no"].to_list() == [T[1]]
    enrolment_id = roster.participants(held, ["K1"])["enrolment_id"][0]
    assert results.issue_certificates(held, [enrolment_id], actor="test") == 1
    assert roster.overdue_certificates(held, D(2021, 10, 1)).height == 0


def test_certificates_and_the_sign_in_sheet_print_as_pdf(held):
    record(held, row(T[1], score=80), row(T[2], score=90))
    pdf = course_documents.certificates(held, "K1")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()  # fmt: skip
    assert text.count("修了証明書") == 2 and "教育の最新事情" in text
    sheet = course_documents.sign_in_sheet(held, "K1")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=sheet, capture_output=True,
                          check=True).stdout.decode()  # fmt: skip
    assert "受講者名簿" in text and T[3] in text


def test_teacher_completions_feed_the_hours_of_the_renewal_explanation(held):
    held.execute(
        "INSERT INTO qualifications (member_no, scheme, qualification, acquired_on, valid_from,"
        " valid_until, status) VALUES (?, 'teacher', 'regular', '2000-04-01', '2012-04-01',"
        " '2022-03-31', 'active')",
        [T[1]],
    )
    record(held, row(T[1], score=80))
    found = explain.explain(held, T[1], D(2021, 12, 1))["qualifications"][0]["requirements"]
    actual = {r["code"]: r["actual"] for r in found}
    assert (actual["mandatory_hours"], actual["total_hours"]) == (6, 6)


def test_a_jptec_renewal_course_completion_renews_the_provider(people, monkeypatch):
    sample = people
    clock(monkeypatch, "2026-10-01 10:00")
    today = dt.date.today()
    sample.execute(
        "INSERT INTO qualifications (member_no, scheme, qualification, acquired_on, valid_from,"
        " valid_until, status) VALUES (?, 'jptec', 'provider', '2020-01-01', ?, ?, 'active')",
        [J[0], today - dt.timedelta(days=900), today + dt.timedelta(days=200)],
    )
    held_on = (today - dt.timedelta(days=3)).isoformat()
    add_course(sample, "P1", scheme="jptec", title="JPTECプロバイダー更新コース", domain=None,
               held_on=held_on, recruit_from=None, recruit_until=None, capacity=20)  # fmt: skip
    enrolment.reserve(sample, J[0], "P1", actor="test", at=at("2026-10-01 10:00"))
    record(sample, row(J[0], score=72, code="P1"))
    kinds = sample.execute("SELECT kind, date FROM activities WHERE member_no = ? AND date = ?",
                           [J[0], held_on]).fetchall()  # fmt: skip
    assert kinds == [("renewal_course", dt.date.fromisoformat(held_on))]
    provider = next(q for q in explain.explain(sample, J[0], today)["qualifications"]
                    if q["qualification"] == "provider")  # fmt: skip
    assert provider["decision"] == "extend"


def test_a_jspo_training_completes_by_attendance_and_counts_for_its_licence(people, monkeypatch):
    sample = people
    clock(monkeypatch, "2026-10-01 10:00")
    today = dt.date.today()
    sample.execute(
        "INSERT INTO qualifications (member_no, scheme, qualification, acquired_on, valid_from,"
        " valid_until, status) VALUES (?, 'jspo', 'handball_coach', '2015-04-01', ?, ?, 'active')",
        [S[1], today - dt.timedelta(days=1000), today + dt.timedelta(days=300)],
    )
    held_on = (today - dt.timedelta(days=2)).isoformat()
    add_course(sample, "H1", scheme="jspo", title="ハンドボールコーチ義務研修", domain=None,
               qualification="handball_coach", held_on=held_on, recruit_from=None,
               recruit_until=None, capacity=30)  # fmt: skip
    enrolment.reserve(sample, S[1], "H1", actor="test", at=at("2026-10-01 10:00"))
    with pytest.raises(InputFileError, match="試験はありません"):
        record(sample, row(S[1], score=80, code="H1"))
    record(sample, row(S[1], code="H1"))
    training = sample.execute(
        "SELECT kind, qualification FROM activities WHERE member_no = ? AND kind = 'training'",
        [S[1]],
    ).fetchall()
    assert training == [("training", "handball_coach")]
    found = explain.explain(sample, S[1], today)["qualifications"][0]["requirements"]
    assert next(r for r in found if r["code"] == "mandatory_training")["met"] is True
