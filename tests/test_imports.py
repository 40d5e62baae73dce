import codecs
import datetime as dt
from pathlib import Path

import pytest

from core import imports
from core.errors import InputFileError
from core.store import db, exports, migrations

from .conftest import DATA

HEADER = "member_no,org_code,family_name,given_name,family_name_kana,given_name_kana,birth_date,email,phone,postal_code,prefecture,address,category\n"
GOOD = "A9000001,SAJ-22-C001,山田,太郎,ﾔﾏﾀﾞ,たろう,1980/4/1,taro@example.jp,０９０－１２３４－５６７８,４２００８５３,静岡県,静岡市葵区追手町9-6,general\n"


@pytest.fixture
def orgs(con):
    """The sample organisation tree only."""
    imports.import_file(con, "organizations", DATA / "organizations.csv")
    return con


def write(tmp_path: Path, body: str, encoding: str = "utf-8", name: str = "members.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(body.encode(encoding))
    return path


def problems_of(con, table, path):
    with pytest.raises(InputFileError) as caught:
        imports.import_file(con, table, path)
    return caught.value


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_members_import_in_utf8_bom_or_cp932_with_office_normalisation(orgs, tmp_path, encoding):
    result = imports.import_file(orgs, "members", write(tmp_path, HEADER + GOOD, encoding))
    assert result.rows == 1
    assert result.encoding == encoding
    row = orgs.execute(
        "SELECT family_name_kana, given_name_kana, kana_key, birth_date::VARCHAR, phone, phone_key,"
        " postal_code, status FROM members WHERE member_no = 'A9000001'"
    ).fetchone()
    assert row == (
        "ヤマダ",
        "タロウ",
        "ヤマダタロウ",
        "1980-04-01",
        "090-1234-5678",
        "09012345678",
        "420-0853",
        "active",
    )


def test_every_imported_row_gets_an_audit_entry_with_one_batch_id(orgs, tmp_path):
    second = GOOD.replace("A9000001", "A9000002")
    result = imports.import_file(orgs, "members", write(tmp_path, HEADER + GOOD + second))
    rows = orgs.execute(
        "SELECT member_no, action, batch_id FROM audit_log WHERE table_name = 'members' ORDER BY member_no"
    ).fetchall()
    assert rows == [
        ("A9000001", "import", result.batch_id),
        ("A9000002", "import", result.batch_id),
    ]


def test_a_bad_row_names_file_line_and_column_and_nothing_is_written(orgs, tmp_path):
    bad = GOOD.replace("A9000001", "A9000002").replace("1980/4/1", "1990-02-30")
    path = write(tmp_path, HEADER + GOOD + bad)
    error = problems_of(orgs, "members", path)
    assert [str(p) for p in error.problems] == [
        f"{path}:3: birth_date: 日付（YYYY-MM-DD または YYYY/MM/DD）ではありません: '1990-02-30'"
    ]
    assert db.table_count(orgs, "members") == 0
    assert db.table_count(orgs, "audit_log") == 10  # the organisations only


@pytest.mark.parametrize(
    ("column", "old", "new", "message"),
    [
        ("member_no", "A9000001", "A9000001/1", "会員番号は英数字とハイフン20文字までです"),
        ("org_code", "SAJ-22-C001", "SAJ-99", "組織コードが見つかりません"),
        ("family_name_kana", "ﾔﾏﾀﾞ", "山田", "カタカナ（フリガナ）ではありません"),
        ("email", "taro@example.jp", "taro.example.jp", "メールアドレスの形式ではありません"),
        ("phone", "０９０－１２３４－５６７８", "12-34", "電話番号の形式ではありません"),
        ("postal_code", "４２００８５３", "42008", "郵便番号は7桁の数字"),
        ("postal_code", "４２００８５３", "000-0000", "日本郵便のデータにない郵便番号です"),
        ("prefecture", "静岡県", "東京都", "郵便番号 420-0853 は静岡県の番号です: '東京都'"),
        ("prefecture", "静岡県", "静岡", "都道府県名ではありません"),
        (
            "category",
            "general",
            "adult",
            "categoryは general, university, high_school のいずれかです",
        ),
        ("birth_date", "1980/4/1", "2999-01-01", "未来の日付です"),
        ("given_name", "太郎", "", "値がありません"),
    ],
)
def test_each_member_rule_reports_the_column(orgs, tmp_path, column, old, new, message):
    row = GOOD.replace(old, new, 1)
    error = problems_of(orgs, "members", write(tmp_path, HEADER + row))
    assert [(p.line, p.column) for p in error.problems] == [(2, column)]
    assert message in error.problems[0].message


def test_a_member_number_is_never_reused(orgs, tmp_path):
    imports.import_file(orgs, "members", write(tmp_path, HEADER + GOOD))
    error = problems_of(orgs, "members", write(tmp_path, HEADER + GOOD, name="again.csv"))
    assert "再利用しません" in error.problems[0].message


def test_duplicates_within_the_file_are_refused(orgs, tmp_path):
    error = problems_of(orgs, "members", write(tmp_path, HEADER + GOOD + GOOD))
    assert [(p.line, p.column) for p in error.problems] == [(2, "member_no"), (3, "member_no")]


def test_at_most_20_problems_are_listed_but_all_are_counted(orgs, tmp_path):
    rows = "".join(
        GOOD.replace("A9000001", f"A91{i:05d}").replace("general", "x") for i in range(30)
    )
    error = problems_of(orgs, "members", write(tmp_path, HEADER + rows))
    assert len(error.problems) == 20
    assert error.total == 30
    assert [p.line for p in error.problems] == list(range(2, 22))


def test_a_missing_required_column_is_reported_on_line_1(orgs, tmp_path):
    header = HEADER.replace("birth_date,", "")
    row = GOOD.replace("1980/4/1,", "")
    error = problems_of(orgs, "members", write(tmp_path, header + row))
    assert [(p.line, p.column, p.message) for p in error.problems] == [
        (1, "birth_date", "必須の列がありません")
    ]


def test_a_ragged_line_is_named(orgs, tmp_path):
    error = problems_of(orgs, "members", write(tmp_path, HEADER + GOOD + "A9,SAJ-22-C001\n"))
    assert error.problems[0].line == 3
    assert "列の数" in error.problems[0].message


def test_bytes_that_are_neither_utf8_nor_cp932_are_refused_with_the_line(orgs, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(HEADER.encode() + GOOD.encode() + b"\xff\xff\xff\n")
    error = problems_of(orgs, "members", path)
    assert error.problems[0].line == 3
    assert "CP932" in error.problems[0].message


def test_cp932_file_with_bom_less_utf8_lookalike_is_detected(orgs, tmp_path):
    path = write(tmp_path, HEADER + GOOD, "cp932")
    assert codecs.BOM_UTF8 not in path.read_bytes()
    assert imports.import_file(orgs, "members", path).encoding == "cp932"


def test_organisation_paths_follow_the_tree(sample):
    rows = dict(sample.execute("SELECT org_code, path FROM organizations").fetchall())
    assert rows["SAJ-22-C001"] == "/SAJ/SAJ-22/SAJ-22-R01/SAJ-22-C001/"
    prefecture = sample.execute(
        "SELECT prefecture FROM organizations WHERE org_code = 'SAJ-22-C001'"
    ).fetchone()
    assert prefecture == ("静岡県",)


def test_an_organisation_cycle_is_refused_and_rolled_back(con, tmp_path):
    body = "org_code,name,kind,parent_code\nX,本部,national,\nA,甲,club,B\nB,乙,region,A\n"
    error = problems_of(con, "organizations", write(tmp_path, body, name="orgs.csv"))
    assert {(p.line, p.column) for p in error.problems} == {(3, "parent_code"), (4, "parent_code")}
    assert db.table_count(con, "organizations") == 0


def test_qualification_rules(sample, tmp_path):
    header = "member_no,scheme,qualification,acquired_on,valid_from,valid_until,status\n"
    rows = (
        "A0000002,saj,instructor,2020-01-01,2026-08-01,2027-07-31,\n"
        "A0000002,saj,pilot,2020-01-01,2026-08-01,2027-07-31,\n"
        "A0000002,jptec,instructor,2020-01-01,2026-08-01,2025-07-31,\n"
        "A0000001,saj,instructor,2020-01-01,2026-08-01,2027-07-31,\n"
        "Z9,saj,examiner,2020-01-01,2026-08-01,2027-07-31,expired\n"
    )
    error = problems_of(sample, "qualifications", write(tmp_path, header + rows, name="q.csv"))
    assert [(p.line, p.column) for p in error.problems] == [
        (3, "qualification"),
        (4, "valid_until"),
        (5, "qualification"),
        (6, "member_no"),
        (6, "status"),
    ]


def test_activity_rules_per_kind(sample, tmp_path):
    header = "member_no,scheme,kind,date,qualification,category,points,hours,domain,course_name,score,minutes_late\n"
    rows = (
        "J0000001,jptec,taught,2026-01-10,,,,,,,,\n"
        "J0000001,itc,points,2026-01-10,,journal,2.55,,,,,\n"
        "J0000001,teacher,course,2021-08-01,,,,6,elective,,101,31\n"
        "J0000001,jspo,training,2026-01-10,,,,,,,,\n"
        "J0000001,saj,taught,2026-01-10,,,,,,,,\n"
    )
    error = problems_of(sample, "activities", write(tmp_path, header + rows, name="a.csv"))
    assert [(p.line, p.column) for p in error.problems] == [
        (3, "points"),
        (4, "course_name"),
        (4, "score"),
        (5, "qualification"),
        (6, "kind"),
    ]


def test_activities_import_converts_numbers(sample, tmp_path):
    header = (
        "member_no,scheme,kind,date,category,points,hours,domain,course_name,score,minutes_late\n"
    )
    rows = "J0000001,itc,points,2026/1/10,journal,２.5,,,,,\nJ0000001,teacher,course,2021-08-01,,,6,elective,教育の最新事情,60,30\n"
    imports.import_file(sample, "activities", write(tmp_path, header + rows, name="a.csv"))
    got = sample.execute(
        "SELECT kind, points::VARCHAR, hours::VARCHAR, score, minutes_late FROM activities"
        " WHERE member_no = 'J0000001' AND kind IN ('points', 'course') ORDER BY kind"
    ).fetchall()
    assert got == [("course", None, "6.0", 60, 30), ("points", "2.5", None, None, None)]


def test_line_numbers_count_quoted_multi_line_cells_and_skip_blank_lines(orgs, tmp_path):
    multi = GOOD.replace("静岡市葵区追手町9-6", '"静岡市葵区追手町9-6\n県庁別館"')
    bad = GOOD.replace("A9000001", "A9000002").replace("general", "adult")
    error = problems_of(orgs, "members", write(tmp_path, HEADER + multi + "\n" + bad))
    assert [(p.line, p.column) for p in error.problems] == [(5, "category")]


# --- a newly acquired JPTEC instructor pays the new instructor's fee (seed 000: 3,000円) ---------


def _fiscal_year_start(today: dt.date) -> dt.date:
    return dt.date(today.year if today.month >= 4 else today.year - 1, 4, 1)


@pytest.mark.parametrize(
    ("days_before_the_year", "billed"),
    [(0, True), (1, False)],  # acquired on the 年度's first day: new; the day before: migrated
)
def test_a_new_instructor_imported_opens_the_3000_yen_new_instructor_fee(
    sample, tmp_path, days_before_the_year, billed
):
    acquired = _fiscal_year_start(dt.date.today()) - dt.timedelta(days=days_before_the_year)
    path = write(
        tmp_path,
        "member_no,scheme,qualification,acquired_on,valid_from,valid_until\n"
        f"J0000002,jptec,instructor,{acquired},{acquired},{acquired.replace(year=acquired.year + 2)}\n"
        f"J0000002,jptec,pre_instructor,{acquired},{acquired},{acquired.replace(year=acquired.year + 2)}\n",
        name="qualifications.csv",
    )
    result = imports.import_file(sample, "qualifications", path)
    lines = sample.execute(
        "SELECT b.item, b.amount, b.status, b.issued_on, b.season, q.qualification"
        " FROM billing b JOIN qualifications q USING (qualification_id)"
        " WHERE b.member_no = 'J0000002'"
    ).fetchall()
    if billed:
        year = _fiscal_year_start(dt.date.today()).year
        assert lines == [
            ("jptec_instructor_new", 3000, "open", dt.date.today(), year, "instructor")
        ]
        assert any("1 fee lines" in note for note in result.notes)
        description = sample.execute(
            "SELECT description FROM billing WHERE member_no = 'J0000002'"
        ).fetchone()
        assert description == (f"{year}年度 新規インストラクター会費 3,000円",)
    else:
        assert lines == [] and result.notes == ()


# --- hostile files: every problem is FILE:LINE: column: message, nothing written ---------------


@pytest.mark.parametrize(("length", "refused"), [(10_000, False), (10_001, True), (140_000, True)])
def test_a_cell_longer_than_10000_characters_is_named_by_line_and_column(
    orgs, tmp_path, length, refused
):
    # 140,000 is past the csv module's own field limit (131,072), which used to crash
    address = "静岡市葵区追手町9-6" + "あ" * (length - len("静岡市葵区追手町9-6"))
    row = GOOD.replace("静岡市葵区追手町9-6", address)
    path = write(tmp_path, HEADER + row)
    if not refused:
        assert imports.import_file(orgs, "members", path).rows == 1
        return
    error = problems_of(orgs, "members", path)
    problem = error.problems[0]
    assert (problem.line, problem.column) == (2, "address")
    assert f"{length:,}文字" in problem.message
    assert orgs.execute("SELECT count(*) FROM members").fetchone() == (0,)


def test_a_cp932_file_with_one_utf8_line_names_that_line(orgs, tmp_path):
    second = GOOD.replace("A9000001", "A9000002")
    third = GOOD.replace("A9000001", "A9000003")
    path = tmp_path / "mixed.csv"
    # 山田 in UTF-8 happens to be valid CP932 too: it would be read as other characters
    path.write_bytes(
        HEADER.encode() + GOOD.encode("cp932") + second.encode("cp932") + third.encode("utf-8")
    )
    problem = problems_of(orgs, "members", path).problems[0]
    assert (problem.line, problem.column) == (4, "-")
    assert "UTF-8" in problem.message and "CP932" in problem.message


def test_a_file_in_neither_encoding_names_the_line_that_is_in_neither(orgs, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(
        HEADER.encode() + GOOD.encode("cp932") + GOOD.encode("cp932") + b"A9,\x80\xff\n"
    )
    assert problems_of(orgs, "members", path).problems[0].line == 4


def test_an_export_neutralises_formulas_and_imports_back_unchanged(orgs, tmp_path):
    formula = '=HYPERLINK("http://example.invalid","x")'
    row = GOOD.replace("静岡市葵区追手町9-6", f'"{formula.replace(chr(34), chr(34) * 2)}"')
    imports.import_file(orgs, "members", write(tmp_path, HEADER + row))
    out = tmp_path / "members_export.csv"
    exports.export_table(orgs, "members", out)
    text = out.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text  # Excel shows it as text
    with db.connect(":memory:") as fresh:
        migrations.migrate(fresh)
        imports.import_file(fresh, "organizations", DATA / "organizations.csv")
        imports.import_file(fresh, "members", out)
        assert fresh.execute("SELECT address FROM members").fetchone() == (formula,)
