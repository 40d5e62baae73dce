"""The course commands of FORMATS.md: enrol, cancel, courses-daily, import attendance, export."""

from __future__ import annotations

import json

import polars as pl
import pytest
from click.testing import CliRunner

from core.cli import cli
from core.store import db

from .course_helpers import T, add_course


@pytest.fixture
def path(people_path):
    with db.connect(people_path) as con:
        add_course(con, "K1", capacity=1)
    return people_path


def run(path, *args: str):
    return CliRunner().invoke(cli, [*args, "--db", str(path)])


def enrol(path, member: str, when: str):
    return run(path, "enrol", "--member", member, "--course", "K1", "--at", when, "--json")


def test_enrol_prints_the_status_and_the_waitlist_position(path):
    first, second = enrol(path, T[1], "2021-05-01 06:00"), enrol(path, T[2], "2021-05-01 06:01")
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert json.loads(first.output) == {"status": "reserved", "position": None}
    assert json.loads(second.output) == {"status": "waitlisted", "position": 1}


def test_a_refused_reservation_exits_2_with_the_reason(path):
    result = enrol(path, T[1], "2021-05-01 05:59")
    assert result.exit_code == 2
    assert "募集期間の開始前です" in result.output


def test_cancel_promotes_the_first_waiting_and_prints_them(path):
    enrol(path, T[1], "2021-05-01 06:00")
    enrol(path, T[2], "2021-05-01 06:01")
    result = run(path, "cancel", "--member", T[1], "--course", "K1", "--on", "2021-05-02", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"promoted": [T[2]]}
    again = run(path, "cancel", "--member", T[1], "--course", "K1", "--json")
    assert again.exit_code == 2 and "予約（キャンセル待ち）はありません" in again.output


def test_courses_daily_prints_its_counts(path):
    enrol(path, T[1], "2021-05-01 06:00")
    enrol(path, T[2], "2021-05-01 06:01")
    result = run(path, "courses-daily", "--date", "2021-05-16", "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert (counts["late_forms"], counts["promoted"], counts["not_opened"]) == (1, 1, 0)


def test_import_attendance_names_the_line_and_column_and_writes_nothing(path, tmp_path):
    enrol(path, T[1], "2021-05-01 06:00")
    bad = tmp_path / "attendance.csv"
    bad.write_text(
        "member_no,course_code,attended,minutes_late,score,exam_on\n"
        f"{T[1]},K1,present,45,70,2021-08-02\n",
        encoding="utf-8",
    )
    result = run(path, "import", "attendance", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2: score:" in result.output and "30分を超える遅刻" in result.output
    with db.connect(path) as con:
        assert db.table_count(con, "course_attendance") == 0


def test_export_enrolments_has_the_contract_columns_and_statuses(path, tmp_path):
    enrol(path, T[1], "2021-05-01 06:00")
    enrol(path, T[2], "2021-05-01 06:01")
    out = tmp_path / "enrolments.csv"
    assert run(path, "export", "enrolments", "--out", str(out)).exit_code == 0
    frame = pl.read_csv(out)
    assert frame.columns[:6] == ["member_no", "course_code", "status", "waitlist_position",
                                 "reserved_at", "form_received_on"]  # fmt: skip
    assert frame.select("member_no", "status", "waitlist_position").rows() == [
        (T[1], "reserved", None),
        (T[2], "waitlisted", 1),
    ]
