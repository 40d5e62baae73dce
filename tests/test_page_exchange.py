"""データ取込・出力 with AppTest: an upload previewed with its encoding, imported by the same code
as `import` (all or nothing, the problems as a table), and every export table as a file,
scoped and masked for the role."""

from core.store import db

from .conftest import DATA
from .test_page_app import logged_in, open_page, refused

MEMBERS = (DATA / "members.csv").read_text(encoding="utf-8")


def button(at, label):
    return next(b for b in at.button if b.label == label)


def upload(at, table, name, content: bytes):
    at.selectbox(key="exchange_table").select(table)
    at.run()
    at.file_uploader(key="exchange_upload").set_value((name, content, "text/csv"))
    return at.run()


def test_only_hq_staff_and_admins_exchange_data(sample_path):
    assert not open_page(logged_in("hq"), "data_exchange").exception
    refused(open_page(logged_in("analyst"), "data_exchange"))
    refused(open_page(logged_in("approver"), "data_exchange"))


def test_an_upload_is_previewed_then_imported_all_at_once(sample_path):
    new = (
        MEMBERS.splitlines()[0]
        + "\n"
        + "\n".join(
            line.replace("A000000", "A900000").replace("J000000", "J900000")
            for line in MEMBERS.splitlines()[1:]
        )
    )
    at = upload(open_page(logged_in("hq"), "data_exchange"), "members", "会員.csv",
                new.encode("cp932"))  # fmt: skip
    assert not at.exception
    assert any("シフトJIS" in m.value for m in at.markdown)
    preview = at.dataframe[0].value
    assert list(preview.columns[:2]) == ["行", "会員番号"] and len(preview) == 6
    button(at, "取り込む").click()
    at.run()
    assert not at.exception
    assert any("会員を 6 行取り込みました" in s.value for s in at.success)
    with db.connect(sample_path) as con:
        assert con.execute(
            "SELECT count(*) FROM members WHERE member_no LIKE '_9%'"
        ).fetchall() == [(6,)]
        assert con.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'import' AND actor = 'hq'"
        ).fetchall() == [(6,)]


def test_a_bad_file_lists_its_problems_and_writes_nothing(sample_path):
    bad = MEMBERS.replace("A0000001", "A9100001").replace("1980-04-01", "1980-02-30")
    at = upload(open_page(logged_in("hq"), "data_exchange"), "members", "bad.csv", bad.encode())
    button(at, "取り込む").click()
    at.run()
    assert any("何も取り込んでいません" in e.value for e in at.error)
    problems = at.dataframe[-1].value
    assert list(problems.columns) == ["ファイル", "行", "列", "内容"]
    assert ("bad.csv", 2, "birth_date") in {tuple(r[:3]) for r in problems.itertuples(index=False)}
    with db.connect(sample_path) as con:
        assert con.execute(
            "SELECT count(*) FROM members WHERE member_no = 'A9100001'"
        ).fetchall() == [(0,)]


def test_a_file_in_neither_encoding_is_refused_before_import(sample_path):
    at = upload(open_page(logged_in("hq"), "data_exchange"), "members", "x.csv",
                b"member_no\nA1\x81\x20\n")  # fmt: skip
    assert any("読み込めません" in e.value for e in at.error)
    assert "取り込む" not in [b.label for b in at.button]


def test_an_export_is_scoped_and_its_headers_are_japanese(sample_path):
    at = open_page(logged_in("hq_shizuoka"), "data_exchange")
    at.selectbox(key="exchange_export_table").select("members")
    at.selectbox(key="exchange_export_format").select(".csv")
    at.run()
    button(at, "ファイルを作る").click()
    at.run()
    assert not at.exception
    assert any("ファイルができました（3 行）" in m.value for m in at.markdown)
    assert at.session_state["exchange_exported"][0] == "members.csv"
    data = at.session_state["exchange_exported"][1].decode("utf-8-sig")
    header, *rows = data.splitlines()
    assert header.startswith("会員番号,組織コード,姓")
    assert [r.split(",")[0] for r in rows] == ["A0000001", "A0000002", "A0000003"]


def test_codes_as_headers_export_what_import_takes_back(sample_path):
    at = open_page(logged_in("hq"), "data_exchange")
    at.selectbox(key="exchange_export_table").select("qualifications")
    at.radio(key="exchange_heading").set_value("codes")
    at.run()
    button(at, "ファイルを作る").click()
    at.run()
    data = at.session_state["exchange_exported"][1].decode("utf-8-sig")
    assert data.splitlines()[0].startswith("member_no,scheme,qualification,valid_from")
