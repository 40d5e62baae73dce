"""Exports: what a file for another system or for a person holds, masked where the role needs."""

from __future__ import annotations

import io

import polars as pl
import pytest

from core import imports
from core.errors import InputFileError
from core.members import contact
from core.store import db, exports, migrations

from .conftest import DATA


def test_a_masked_audit_log_hides_the_personal_values_it_recorded(sample):
    contact.correct_contact(
        sample,
        scope="*",
        member_no="A0000001",
        values={
            "postal_code": "420-0853",
            "prefecture": "静岡県",
            "address": "静岡市葵区追手町9-6",
            "phone": "090-1234-5678",
            "email": "secret.person@example.jp",
        },
        expected={
            f: db.one(sample, f"SELECT {f} FROM members WHERE member_no = 'A0000001'")[0]
            for f in contact.CONTACT_FIELDS
        },
        reason="本人から連絡",
        actor="hq",
    )
    masked = exports.table_frame(sample, "audit_log", masked=True)
    changed = masked.filter(pl.col("field") == "email")
    assert changed["new_value"].to_list() == ["＊＊＊"]
    assert "secret.person@example.jp" not in masked.write_csv()
    # what is not personal stays readable
    assert changed["reason"].to_list() == ["本人から連絡"]


def test_a_masked_organisation_export_keeps_the_organisations_names(sample):
    masked = exports.table_frame(sample, "organizations", masked=True)
    assert "静岡県スキー連盟" in masked["name"].to_list()


def test_a_download_for_a_person_neutralises_formulas(sample):
    frame = pl.DataFrame(
        {"note": ["=1+1", "+81 3", "-", "@SUM(A1)", "普通のメモ"], "n": [1, -2, 3, 4, 5]}
    )
    text = exports.to_bytes(frame, ".csv").decode("utf-8-sig")
    assert pl.read_csv(io.StringIO(text))["note"].to_list() == [
        "'=1+1",
        "'+81 3",
        "'-",
        "'@SUM(A1)",
        "普通のメモ",
    ]
    assert pl.read_csv(io.StringIO(text))["n"].to_list() == [1, -2, 3, 4, 5]  # numbers stay


def test_erased_members_export_and_import_into_a_new_installation_as_erased(sample, tmp_path):
    sample.execute(
        "UPDATE members SET status = 'erased', family_name = NULL, given_name = NULL,"
        " family_name_kana = NULL, given_name_kana = NULL, birth_date = NULL, email = NULL,"
        " phone = NULL, postal_code = NULL, address = NULL WHERE member_no = 'A0000004'"
    )
    out = tmp_path / "members.csv"
    n = exports.export_table(sample, "members", out)
    with db.connect(":memory:") as fresh:
        migrations.migrate(fresh)
        imports.import_file(fresh, "organizations", DATA / "organizations.csv")
        assert imports.import_file(fresh, "members", out).rows == n
        assert fresh.execute(
            "SELECT status, family_name, birth_date FROM members WHERE member_no = 'A0000004'"
        ).fetchone() == ("erased", None, None)
        # the number stays taken: a new member cannot have it
        assert fresh.execute("SELECT count(*) FROM members").fetchone() == (n,)


def test_an_erased_member_row_with_a_name_is_refused(sample, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text(
        "member_no,org_code,family_name,given_name,family_name_kana,given_name_kana,birth_date,"
        "status\nA9000009,SAJ-22-C001,山田,,,,,erased\n",
        encoding="utf-8",
    )
    with pytest.raises(InputFileError) as caught:
        imports.import_file(sample, "members", path)
    problems = caught.value.problems
    assert [(p.line, p.column) for p in problems] == [(2, "family_name")]
    assert "抹消" in problems[0].message


def test_a_download_for_people_has_japanese_headers_words_and_dates():
    import datetime as dt

    import openpyxl

    from core import config
    from core.vocabulary import QUALIFICATION_STATUSES
    from ui import display

    frame = pl.DataFrame(
        {
            "member_no": ["J0000001", "I0000002"],
            "scheme": ["jptec", "itc"],
            "qualification": ["instructor", "coordinator"],
            "status": ["renewal_open", None],
            "valid_until": [dt.date(2026, 11, 24), None],
            "changed_at": [dt.datetime(2026, 11, 24, 1, 5, tzinfo=dt.UTC), None],
            "disabled": [True, False],
            "item": ["jptec_instructor_renewal", "itc_renewal"],
        }
    )
    people = display.for_people(frame, config.current(), status=QUALIFICATION_STATUSES)
    csv = exports.to_bytes(people, ".csv", people=True).decode("utf-8-sig").splitlines()
    assert csv == [
        "会員番号,制度,資格,状態,有効期限,日時,無効化,項目",
        "J0000001,JPTEC インストラクター・プロバイダー,インストラクター,更新手続中,2026/11/24,"
        "2026/11/24 10:05,はい,インストラクター更新会費",
        "I0000002,ITコーディネータ資格更新,ITコーディネータ,,,,いいえ,ITコーディネータ資格更新料",
    ]
    book = openpyxl.load_workbook(io.BytesIO(exports.to_bytes(people, ".xlsx", people=True)))
    sheet = book.active
    assert [c.value for c in sheet[1]] == people.columns
    assert sheet["E2"].value == dt.datetime(2026, 11, 24)
    assert sheet["E2"].number_format == "yyyy/mm/dd"
    assert sheet["F2"].value == dt.datetime(2026, 11, 24, 10, 5)  # Japan's wall clock
    assert sheet["F2"].number_format == "yyyy/mm/dd hh:mm"
