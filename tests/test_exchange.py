"""Data exchange as the app does it: an upload imported by the same code as `import` (encoding
detected, all or nothing, every problem listed, steps reported), and exports streamed batch by
batch in any format — scoped, masked, with people's headers, and an Excel sheet's limit refused
before a row is read."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import polars as pl
import pytest

from core import imports
from core.errors import InputFileError
from core.store import exports

from .conftest import DATA

MEMBERS = (DATA / "members.csv").read_bytes()


def test_an_upload_imports_exactly_as_the_file_does_and_reports_its_steps(con):
    imports.import_file(con, "organizations", DATA / "organizations.csv")
    steps: list[tuple[float, str]] = []
    raw = MEMBERS.decode("utf-8").encode("cp932")
    result = imports.import_bytes(con, "members", raw, file="会員.csv", actor="hq",
                                  progress=lambda done, doing: steps.append((done, doing)))  # fmt: skip
    assert (result.rows, result.encoding) == (6, "cp932")
    assert [round(done, 2) for done, _ in steps] == [0.33, 0.67, 1.0]
    assert all(doing for _, doing in steps)
    assert con.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'import' AND actor = 'hq'"
    ).fetchall() == [(6,)]


def test_a_preview_shows_the_first_rows_and_the_encoding(con):
    frame, encoding = imports.preview_bytes(b"\xef\xbb\xbf" + MEMBERS, file="m.csv", rows=2)
    assert encoding == "utf-8-sig"
    assert frame["member_no"].to_list() == ["A0000001", "A0000002"]
    assert frame["__line"].to_list() == [2, 3]


def test_an_upload_with_many_bad_rows_lists_every_problem_and_writes_nothing(con):
    imports.import_file(con, "organizations", DATA / "organizations.csv")
    header, *rows = MEMBERS.decode("utf-8").splitlines()
    bad = [r.replace("1980-04-01", "1980-02-30") for r in rows[:1]] * 30
    raw = "\n".join([header, *[r.replace("A0000001", f"A90{n:05d}") for n, r in enumerate(bad)]])
    with pytest.raises(InputFileError) as caught:
        imports.import_bytes(con, "members", raw.encode(), file="m.csv", actor="hq", limit=1000)
    assert caught.value.total == 30 and len(caught.value.problems) == 30  # the CLI lists 20
    assert {(p.file, p.column) for p in caught.value.problems} == {("m.csv", "birth_date")}
    assert con.execute("SELECT count(*) FROM members").fetchall() == [(0,)]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_a_streamed_export_holds_the_same_rows_as_the_table(sample, tmp_path, suffix, monkeypatch):
    monkeypatch.setattr(exports, "BATCH_ROWS", 2)  # several batches from six rows
    out = tmp_path / f"members{suffix}"
    assert exports.export_table(sample, "members", out) == 6
    expected = exports.table_frame(sample, "members")
    if suffix == ".csv":
        got = pl.read_csv(out, infer_schema=False)
        assert got.columns == expected.columns
        assert got["member_no"].to_list() == expected["member_no"].to_list()
        assert out.read_bytes().startswith(b"\xef\xbb\xbf")
        assert out.read_text(encoding="utf-8-sig").count("member_no") == 1  # one header
    elif suffix == ".parquet":
        got = pl.read_parquet(out)
        assert got.equals(expected)
    else:
        sheet = openpyxl.load_workbook(out).active
        values = list(sheet.values)
        assert list(values[0]) == expected.columns and len(values) == 7
        assert [r[0] for r in values[1:]] == expected["member_no"].to_list()


def test_an_excel_export_over_the_sheets_limit_is_refused_before_a_row_is_read(
    sample, tmp_path, monkeypatch
):
    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 5)
    reading = exports._batches

    def no_reading(*args, **kwargs):
        raise AssertionError("rows were read")

    monkeypatch.setattr(exports, "_batches", no_reading)
    out = tmp_path / "members.xlsx"
    with pytest.raises(ValueError, match="6 rows do not fit"):
        exports.export_table(sample, "members", out)
    assert not out.exists()
    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 6)  # at the limit: written
    monkeypatch.setattr(exports, "_batches", reading)
    assert exports.export_table(sample, "members", out) == 6


def test_a_scoped_export_holds_only_rows_beneath_the_scope(sample, tmp_path):
    from core.members.organizations import scope_path

    sql, params = exports.table_query("members", scope_path(sample, "SAJ-22"))
    out = tmp_path / "m.parquet"
    exports.stream(sample, sql, params, out)
    assert pl.read_parquet(out)["member_no"].to_list() == ["A0000001", "A0000002", "A0000003"]
    sql, params = exports.table_query("qualifications", scope_path(sample, "JPTEC"))
    exports.stream(sample, sql, params, out)
    assert set(pl.read_parquet(out)["member_no"]) == {"J0000001", "J0000002"}


def test_a_masked_export_for_people_masks_before_the_headers_turn_japanese(sample, tmp_path):
    out = tmp_path / "m.csv"
    sql, params = exports.table_query("members")
    exports.stream(sample, sql, params, out, masking=exports.masking_for("members", True),
                   headers={"member_no": "会員番号", "family_name": "姓", "phone": "電話番号"})  # fmt: skip
    got = pl.read_csv(io.StringIO(out.read_text(encoding="utf-8-sig")), infer_schema=False)
    assert got.columns[:3] == ["会員番号", "org_code", "姓"]
    assert got["姓"][0] == "山＊＊" and set(got["電話番号"]) == {"＊＊＊"}


def test_an_excel_export_keeps_types_empty_cells_and_awkward_text(con, tmp_path):
    frame = pl.DataFrame(
        {
            "text": ["普通", "<a & b>", " spaced ", None, "bell\x07"],
            "n": [1, None, -3, 1_400_000, 0],
            "x": [1.5, None, 0.1, 2.0, -0.25],
            "day": [None, *[dt.date(2026, 11, 24)] * 4],
            "flag": [True, False, None, True, False],
        },
        schema_overrides={"day": pl.Date},
    )
    frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias("empty"))
    from core.store import xlsx

    out = tmp_path / "t.xlsx"
    assert xlsx.write(out, frame.columns, iter([frame.head(2), frame.tail(3)]), 5) == 5
    sheet = openpyxl.load_workbook(out).active
    assert sheet.dimensions == "A1:F6"
    rows = list(sheet.values)
    assert rows[0] == tuple(frame.columns)
    assert rows[2][:5] == ("<a & b>", None, None, dt.datetime(2026, 11, 24), False)
    assert rows[3][0] == " spaced " and rows[5][0] == "bell"  # a control character dropped
    assert rows[4][1:3] == (1_400_000, 2.0)
    assert pl.read_excel(out)["n"].to_list() == [1, None, -3, 1_400_000, 0]
