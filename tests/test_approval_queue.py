"""Business days, SLA deadlines, the approver's queue, intake checks and applications.csv."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core import config, imports
from core.applications import approvals, business_days, forms, intake, queue
from core.applications.queue import QueueFilter
from core.errors import InputFileError, ValidationError
from core.store import db
from tests.test_approvals import NOW, SEASON, apply, approve_once, state

CFG = config.current()
D = dt.date


# -- business days -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrived", "due"),
    [
        (D(2026, 4, 30), D(2026, 5, 1)),  # Thursday → Friday
        (D(2026, 5, 1), D(2026, 5, 7)),  # Golden Week: 2–6 May (6th is a substitute holiday)
        (D(2025, 5, 2), D(2025, 5, 7)),  # 2025: 6 May substitute for みどりの日 on a Sunday
        (D(2026, 9, 18), D(2026, 9, 24)),  # 21 敬老の日, 22 国民の休日, 23 秋分の日
        (D(2026, 12, 28), D(2027, 1, 4)),  # year-end closure 12-29 … 01-03
        (D(2026, 12, 26), D(2026, 12, 28)),  # Saturday → Monday before the closure
        (D(2027, 1, 8), D(2027, 1, 12)),  # Friday → Tuesday after 成人の日 (11 Jan)
    ],
)
def test_next_business_day_skips_weekends_holidays_and_the_year_end(arrived, due):
    assert business_days.add_business_days(CFG, "saj", arrived, 1) == due


def test_substitute_holiday_is_not_a_business_day():
    assert not business_days.is_business_day(CFG, "saj", D(2025, 5, 6))
    assert business_days.is_business_day(CFG, "saj", D(2025, 5, 7))


def test_calendar_relation_agrees_with_day_by_day_arithmetic():
    frame = business_days.calendar_frame(CFG, ("saj",), D(2026, 11, 24))
    year = frame.filter(frame["day"].is_between(D(2026, 1, 1), D(2027, 1, 31)))
    for day, business in year.select("day", "business").iter_rows():
        assert business == business_days.is_business_day(CFG, "saj", day), day
    # 2026: 365 days − 104 weekend days − 17 holidays on weekdays − the closure's weekdays
    # not already holidays (Fri 2 Jan; Tue 29 – Thu 31 Dec)
    in_2026 = year.filter(year["day"].dt.year() == 2026)
    assert in_2026["business"].sum() == 365 - 104 - 17 - 1 - 3


# -- SLA in the queue ----------------------------------------------------------------------


def at_level(sample, member_no: str, levels: int, when: dt.datetime) -> int:
    app = apply(sample, member_no=member_no, **SEASON)
    for _ in range(levels):
        approve_once(sample, app, now=when)
    return app


def test_prefecture_sla_is_48_hours_from_arrival(sample):
    arrived = dt.datetime(2026, 11, 20, 9, 0)
    app = at_level(sample, "A0000003", 1, arrived)  # club → now at the prefecture
    assert state(sample, app)[1] == "SAJ-22"

    def sla(now: dt.datetime) -> tuple[object, object]:
        rows, _ = queue.queue(sample, role="admin", scope="*", now=now)
        row = rows.filter(rows["application_id"] == app).row(0, named=True)
        return row["due_at"], row["sla"]

    assert sla(dt.datetime(2026, 11, 21, 8, 59)) == (dt.datetime(2026, 11, 22, 9), "ok")
    assert sla(dt.datetime(2026, 11, 21, 9, 0)) == (dt.datetime(2026, 11, 22, 9), "due")
    assert sla(dt.datetime(2026, 11, 22, 9, 0))[1] == "overdue"


def test_national_sla_ends_with_the_next_business_day(sample):
    friday = dt.datetime(2026, 5, 1, 15, 0)  # arrives at SAJ before Golden Week
    app = at_level(sample, "A0000003", 2, friday)
    assert state(sample, app)[1] == "SAJ"
    rows, counts = queue.queue(sample, role="admin", scope="*", now=dt.datetime(2026, 5, 7, 12))
    row = rows.filter(rows["application_id"] == app).row(0, named=True)
    assert row["due_at"] == dt.datetime(2026, 5, 8, 0, 0)  # end of Thursday 7 May
    assert row["sla"] == "due"
    rows, counts = queue.queue(sample, role="admin", scope="*", now=dt.datetime(2026, 5, 8, 0, 1))
    assert counts["overdue"] == 1


def test_approver_sees_only_their_own_level_and_subtree(sample):
    club_level = apply(sample, member_no="A0000001", **SEASON)
    at_prefecture = at_level(sample, "A0000003", 1, NOW)
    tokyo = apply(sample, member_no="A0000004", **SEASON)
    rows, _ = queue.queue(sample, role="approver", scope="SAJ-22", now=NOW)
    assert rows["application_id"].to_list() == [at_prefecture]
    rows, _ = queue.queue(sample, role="approver", scope="SAJ-22-C001", now=NOW)
    assert rows["application_id"].to_list() == [club_level]
    rows, _ = queue.queue(sample, role="hq_staff", scope="SAJ-13", now=NOW)
    assert rows["application_id"].to_list() == [tokyo]


@pytest.mark.parametrize(
    ("role", "scope", "expected"),
    [("approver", "SAJ-22", 1), ("approver", "SAJ-22-C001", 1), ("hq_staff", "SAJ-22", 2),
     ("hq_staff", "*", 3), ("approver", "SAJ-13", 0)],
)  # fmt: skip
def test_the_sla_page_counts_today_what_the_queue_holds(sample, role, scope, expected):
    apply(sample, member_no="A0000001", **SEASON)  # waits at its club
    at_level(sample, "A0000003", 1, NOW)  # waits at the prefecture
    apply(sample, member_no="A0000004", **SEASON)  # Tokyo's club
    now = NOW + dt.timedelta(hours=2)
    _, counts = queue.queue(sample, role=role, scope=scope, now=now)
    history = queue.sla_history(
        sample, role=role, scope=scope, first=now.date(), last=now.date(), now=now
    )
    per_org = history.filter(history["org_code"].is_not_null())
    assert counts["total"] == per_org["pending"].sum() == expected


def test_queue_filters_by_kind_and_flag(sample):
    apply(sample, member_no="A0000001", **SEASON)
    back = apply(sample, member_no="A0000001", scheme="saj", kind="qualification_return",
                 season="2026", qualification="examiner")  # fmt: skip
    rows, counts = queue.queue(
        sample, role="admin", scope="*", filters=QueueFilter(kind="qualification_return"), now=NOW
    )
    assert rows["application_id"].to_list() == [back]
    rows, counts = queue.queue(
        sample, role="admin", scope="*", filters=QueueFilter(flag="returns_qualification"), now=NOW
    )
    assert counts["total"] == 2  # the return and the registration that carries it


# -- intake checks -------------------------------------------------------------------------


def test_same_member_applying_twice_in_a_season_is_flagged_with_the_other(sample):
    first = apply(sample, member_no="A0000002", **SEASON)
    second = apply(sample, member_no="A0000002", **SEASON)
    flags = {a: intake.flagged(sample, a)["duplicate_of"] for a in (first, second)}
    refs = {a: approvals_ref(sample, a) for a in (first, second)}
    assert flags == {first: refs[second], second: refs[first]}


def test_a_withdrawn_application_is_not_a_duplicate(sample):
    first = apply(sample, member_no="A0000002", **SEASON)
    approvals.withdraw(sample, first, state(sample, first)[2], note="", actor="x")
    second = apply(sample, member_no="A0000002", **SEASON)
    assert intake.flagged(sample, second)["duplicate_of"] is None


def test_same_person_under_two_member_numbers_is_flagged(sample):
    sample.execute(
        "INSERT INTO members (member_no, org_code, family_name, given_name, family_name_kana,"
        " given_name_kana, birth_date, name_key, kana_key) VALUES ('A0000099', 'SAJ-13-C001',"
        " '佐藤', '花子', 'サトウ', 'ハナコ', '1992-02-29', '佐藤花子', 'サトウハナコ')"
    )
    app = apply(sample, member_no="A0000002", **SEASON)
    assert intake.flagged(sample, app)["same_person_as"] == "A0000099"


def test_same_name_with_another_birth_date_is_not_the_same_person(sample):
    sample.execute(
        "INSERT INTO members (member_no, org_code, family_name, given_name, family_name_kana,"
        " given_name_kana, birth_date, name_key, kana_key) VALUES ('A0000099', 'SAJ-13-C001',"
        " '佐藤', '花子', 'サトウ', 'ハナコ', '1992-03-01', '佐藤花子', 'サトウハナコ')"
    )
    app = apply(sample, member_no="A0000002", **SEASON)
    assert intake.flagged(sample, app)["same_person_as"] is None


@pytest.mark.parametrize(
    ("postal", "prefecture", "address", "problem"),
    [
        ("420-0853", "静岡県", "静岡市葵区追手町9-6", None),
        ("999-9999", "静岡県", "静岡市葵区追手町9-6", "日本郵便のデータにありません"),
        ("420-0853", "東京都", "静岡市葵区追手町9-6", "は静岡県の番号です"),
        ("420-0853", "静岡県", "浜松市中央区中央1-2-3", "市区町村（静岡市葵区）で始まっていません"),
        ("420-0853", "静岡県", "静岡県静岡市葵区追手町9-6", None),
    ],
)
def test_address_must_agree_with_japan_post(sample, postal, prefecture, address, problem):
    sample.execute(
        "UPDATE members SET postal_code = ?, prefecture = ?, address = ? WHERE member_no = 'A0000002'",
        [postal, prefecture, address],
    )
    app = apply(sample, member_no="A0000002", **SEASON)
    found = intake.flagged(sample, app)["address_problem"]
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def approvals_ref(con, application_id: int) -> str:
    row = db.one(
        con, "SELECT application_ref FROM applications WHERE application_id = ?", [application_id]
    )
    assert row is not None
    return str(row[0])


# -- applications.csv ----------------------------------------------------------------------

HEADER = (
    "application_ref,member_no,scheme,kind,season,submitted_at,proxy_org_code,qualification,"
    "target_org_code,reason,valid_until_claimed,note\n"
)


def write(tmp_path: Path, body: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "applications.csv"
    path.write_bytes((HEADER + body).encode(encoding))
    return path


def test_import_routes_each_row_and_reports_references_seen_before(sample, tmp_path):
    path = write(
        tmp_path,
        "X1,A0000001,saj,season_registration,2026,2026/11/20 10:00,,,,,,\n"
        "X2,A0000002,saj,season_registration,2026,2026-11-20 10:05,SAJ-22-C001,,,,,代理\n"
        "X3,J0000001,jptec,extension,,2026-11-20 11:00,,instructor,,disaster,,被災\n",
        "cp932",
    )
    result = imports.import_file(sample, "applications", path)
    assert (result.rows, result.duplicates) == (3, ())
    routed = sample.execute(
        "SELECT application_ref, status, level_org_code, entered_by FROM applications"
        " ORDER BY application_ref"
    ).fetchall()
    assert routed == [
        ("X1", "pending", "SAJ-22-C001", "member"),
        ("X2", "pending", "SAJ-22-R01", "proxy"),
        ("X3", "pending", "JPTEC", "member"),
    ]
    again = imports.import_file(sample, "applications", path)
    assert (again.rows, again.duplicates) == (0, ("X1", "X2", "X3"))
    assert db.table_count(sample, "applications") == 3


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("Y1,A9999999,saj,season_registration,2026,2026-11-20 10:00,,,,,,", "member_no",
         "会員番号が見つかりません"),
        ("Y1,A0000001,saj,renewal,2026,2026-11-20 10:00,,,,,,", "kind", "kindは"),
        ("Y1,A0000001,saj,season_registration,,2026-11-20 10:00,,,,,,", "season", "season"),
        ("Y1,A0000001,saj,season_registration,2026,20-11-2026,,,,,,", "submitted_at", "日時"),
        ("Y1,A0000004,saj,transfer,2026,2026-11-20 10:00,,,,,,", "target_org_code", "移籍先"),
        ("Y1,A0000004,saj,transfer,2026,2026-11-20 10:00,,,SAJ-99,,,", "target_org_code",
         "組織コードが見つかりません"),
        ("Y1,J0000001,jptec,extension,,2026-11-20 10:00,,instructor,,,,", "reason", "事由"),
        ("Y1,J0000001,jptec,extension,,2026-11-20 10:00,,instructor,,vacation,,", "reason",
         "reasonは"),
        ("Y1,J0000001,jptec,suspension,,2026-11-20 10:00,,provider,,illness,,", "qualification",
         "持っていません"),
        ("Y1,A0000001,saj,non_card_payment,,2026-11-20 10:00,,,,,,", "kind", "JPTECだけ"),
        ("Y1,J0000001,jptec,season_registration,2026,2026-11-20 10:00,,,,,,", "kind",
         "ITC・SAJだけ"),
    ],
)  # fmt: skip
def test_bad_rows_name_file_line_and_column_and_nothing_is_written(
    sample, tmp_path, row, column, message
):
    path = write(
        tmp_path, "OK1,A0000002,saj,season_registration,2026,2026-11-20 10:00,,,,,,\n" + row + "\n"
    )
    with pytest.raises(InputFileError) as caught:
        imports.import_file(sample, "applications", path)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.column) == (str(path), 3, column)
    assert message in problem.message
    assert db.table_count(sample, "applications") == 0


def test_new_registration_row_carries_the_member_columns(sample, tmp_path):
    path = tmp_path / "applications.csv"
    path.write_text(
        "application_ref,scheme,kind,season,submitted_at,org_code,family_name,given_name,"
        "family_name_kana,given_name_kana,birth_date,postal_code,prefecture,address\n"
        "N1,saj,new_registration,2026,2026-11-20 10:00,SAJ-22-C002,森,優,もり,ゆう,2000-01-01,"
        "4300929,静岡県,浜松市中央区中央1-2-3\n"
        "N2,saj,new_registration,2026,2026-11-20 10:00,SAJ-22-C002,森,優,モリ,,2000-01-01,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputFileError) as caught:
        imports.import_file(sample, "applications", path)
    assert [(p.line, p.column) for p in caught.value.problems] == [(3, "given_name_kana")]


def test_renewal_batch_counts_a_nationally_approved_registration(sample):
    from core.renewals import batch

    app = apply(sample, member_no="A0000002", **SEASON)
    while state(sample, app)[0] == "pending":
        approve_once(sample, app)
    frame = batch.requirements(sample, D(2026, 11, 25), member_no="A0000002")
    membership = frame.filter(frame["qualification"] == "membership").row(0, named=True)
    assert membership["met"] and membership["decision"] == "none"


def test_sla_history_counts_each_day_with_waiting_times_and_overdue(sample):
    arrived = dt.datetime(2026, 11, 20, 9, 0)  # a Friday; Monday 23 Nov is a holiday
    prefecture = at_level(sample, "A0000003", 1, arrived)
    national = at_level(sample, "A0000002", 3, arrived)
    sample.execute(  # both were submitted the day before they climbed
        "UPDATE application_steps SET acted_at = '2026-11-19 09:00' WHERE action = 'submitted'"
        " AND application_id IN (?, ?)",
        [prefecture, national],
    )
    history = queue.sla_history(
        sample, scope="*", first=D(2026, 11, 20), last=D(2026, 11, 25),
        now=dt.datetime(2026, 11, 25, 12, 0),
    )  # fmt: skip
    totals = {
        (r["day"], r["level"]): (r["pending"], r["median_hours"], r["overdue"])
        for r in history.filter(history["org_code"].is_null()).iter_rows(named=True)
    }
    assert totals[(D(2026, 11, 20), "prefecture")] == (1, 15.0, 0)
    assert totals[(D(2026, 11, 21), "prefecture")] == (1, 39.0, 0)
    assert totals[(D(2026, 11, 22), "prefecture")] == (1, 63.0, 1)  # 48 h ran out at 09:00
    # SAJ: due by the end of the next business day after Friday: Tuesday 24 (23 is a holiday)
    assert totals[(D(2026, 11, 23), "national")] == (1, 87.0, 0)
    assert totals[(D(2026, 11, 24), "national")] == (1, 111.0, 0)
    assert totals[(D(2026, 11, 25), "national")] == (1, 123.0, 1)  # at noon the next day
    per_org = history.filter(history["org_code"] == "SAJ-22")
    assert per_org["pending"].to_list() == [1] * 6


def test_two_information_changes_of_one_member_in_one_file_both_apply(sample, tmp_path):
    path = tmp_path / "applications.csv"
    path.write_text(
        "application_ref,member_no,scheme,kind,submitted_at,email,phone\n"
        "I1,A0000003,saj,information_change,2026-11-20 10:00,new1@example.jp,\n"
        "I2,A0000003,saj,information_change,2026-11-20 11:00,,090-1111-2222\n",
        encoding="utf-8",
    )
    imports.import_file(sample, "applications", path)
    assert db.one(
        sample, "SELECT email, phone, phone_key FROM members WHERE member_no = 'A0000003'"
    ) == ("new1@example.jp", "090-1111-2222", "09011112222")
    audited = sample.execute(
        "SELECT field, new_value FROM audit_log WHERE member_no = 'A0000003'"
        " AND action = 'update' ORDER BY field"
    ).fetchall()
    assert audited == [("email", "new1@example.jp"), ("phone", "090-1111-2222")]


@pytest.mark.parametrize(
    ("postal", "refused"),
    [("420-0853", False), ("100-0001", True)],  # A0000002 lives in 静岡県; 100-0001 is 東京都
)
def test_an_information_change_of_the_postal_code_alone_must_fit_the_prefecture_on_record(
    sample, tmp_path, postal, refused
):
    path = tmp_path / "applications.csv"
    path.write_text(
        "application_ref,member_no,scheme,kind,submitted_at,postal_code\n"
        f"P1,A0000002,saj,information_change,2026-11-20 10:00,{postal}\n",
        encoding="utf-8",
    )
    if not refused:
        imports.import_file(sample, "applications", path)
        assert db.one(sample, "SELECT postal_code FROM members WHERE member_no = 'A0000002'") == (
            postal,
        )
        return
    with pytest.raises(InputFileError) as caught:
        imports.import_file(sample, "applications", path)
    problem = caught.value.problems[0]
    assert (problem.line, problem.column) == (2, "postal_code")
    assert "東京都" in problem.message and "静岡県" in problem.message
    # the form is the same one-row import: the same answer, keyed by the field
    with pytest.raises(ValidationError) as form:
        forms.submit(
            sample,
            {"member_no": "A0000002", "scheme": "saj", "kind": "information_change",
             "postal_code": postal},
            actor="hq", entered_by="admin",
        )  # fmt: skip
    assert "東京都" in form.value.errors["postal_code"]
    assert db.one(sample, "SELECT postal_code FROM members WHERE member_no = 'A0000002'") == (
        "420-0853",
    )


def test_an_extension_approved_years_ago_is_not_a_duplicate_of_a_new_one(sample):
    old = apply(sample, member_no="J0000001", scheme="jptec", kind="extension",
                qualification="instructor", reason="illness")  # fmt: skip
    approve_once(sample, old)
    again = apply(sample, member_no="J0000001", scheme="jptec", kind="extension",
                  qualification="instructor", reason="childcare")  # fmt: skip
    assert intake.flagged(sample, again)["duplicate_of"] is None
    twice = apply(sample, member_no="J0000001", scheme="jptec", kind="extension",
                  qualification="instructor", reason="childcare")  # fmt: skip
    assert intake.flagged(sample, twice)["duplicate_of"] == approvals_ref(sample, again)
