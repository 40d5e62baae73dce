import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from core.cli import cli
from core.store import db, migrations

from .conftest import DATA

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def loaded(db_path):
    """The CLI's view of the sample data (imported through the CLI itself)."""
    for table in ("organizations", "members", "qualifications", "activities"):
        result = run("import", table, str(DATA / f"{table}.csv"), "--db", str(db_path))
        assert result.exit_code == 0, result.output
    return db_path


def test_init_is_idempotent_and_says_what_it_did(tmp_path):
    path = str(tmp_path / "x.duckdb")
    first = run("init", "--db", path)
    assert first.exit_code == 0 and "applied 0001_initial" in first.output
    second = run("init", "--db", path)
    assert second.exit_code == 0 and second.output.strip() == "schema is up to date"


def test_python_m_core_runs_and_uses_renewal_db(tmp_path):
    path = tmp_path / "env.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "core", "init"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"RENEWAL_DB": str(path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert path.exists()


def test_import_reports_counts(loaded):
    with db.connect(loaded) as con:
        assert db.table_count(con, "members") == 6
        assert db.table_count(con, "activities") == 3


def test_a_bad_import_exits_2_with_file_line_column_and_writes_nothing(loaded, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "member_no,scheme,qualification,acquired_on,valid_from,valid_until\n"
        "A0000002,saj,instructor,2020-01-01,2026-08-01,2027-07-31\n"
        "A0000002,saj,examiner,2020-01-01,2026-08-01,2027/02/30\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["import", "qualifications", str(bad), "--db", str(loaded)])
    assert result.exit_code == 2
    assert f"{bad}:3: valid_until: " in result.stderr
    assert "nothing was written" in result.stderr
    with db.connect(loaded) as con:
        assert db.table_count(con, "qualifications") == 4


def test_an_unknown_table_is_refused(loaded):
    result = CliRunner().invoke(cli, ["import", "widgets", "x.csv", "--db", str(loaded)])
    assert result.exit_code == 2


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_export_by_extension_has_the_contract_columns(loaded, tmp_path, suffix):
    out = tmp_path / f"qualifications{suffix}"
    result = run("export", "qualifications", "--out", str(out), "--db", str(loaded))
    assert result.exit_code == 0, result.output
    reader = {".csv": pl.read_csv, ".parquet": pl.read_parquet, ".xlsx": pl.read_excel}[suffix]
    frame = reader(out)
    assert frame.columns[:6] == [
        "member_no",
        "scheme",
        "qualification",
        "valid_from",
        "valid_until",
        "status",
    ]
    assert frame.height == 4


def test_csv_export_has_a_bom_for_excel(loaded, tmp_path):
    out = tmp_path / "members.csv"
    run("export", "members", "--out", str(out), "--db", str(loaded))
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_masked_export_hides_personal_data(loaded, tmp_path):
    out = tmp_path / "members.csv"
    run("export", "members", "--out", str(out), "--masked", "--db", str(loaded))
    frame = pl.read_csv(out)
    row = frame.filter(pl.col("member_no") == "A0000001").row(0, named=True)
    assert (
        row["family_name"] == "山＊＊"
        and row["email"] == "＊＊＊"
        and row["birth_date"] == "1980年"
    )
    assert "taro" not in out.read_text(encoding="utf-8-sig")


def test_backup_and_restore_round_trip(loaded, tmp_path):
    folder = tmp_path / "backup"
    assert run("backup", "--out", str(folder), "--db", str(loaded)).exit_code == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["counts"]["members"] == 6
    target = tmp_path / "restored.duckdb"
    result = run("restore", str(folder), "--db", str(target))
    assert result.exit_code == 0, result.output
    with db.connect(target) as con:
        assert db.table_count(con, "members") == 6
        assert migrations.migrate(con) == []


def test_restore_refuses_a_database_that_has_data(loaded, tmp_path):
    folder = tmp_path / "backup"
    run("backup", "--out", str(folder), "--db", str(loaded))
    result = CliRunner().invoke(cli, ["restore", str(folder), "--db", str(loaded)])
    assert result.exit_code == 2 and "not empty" in result.stderr


def test_backup_refuses_a_folder_with_files(loaded, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    result = CliRunner().invoke(
        cli, ["backup", "--out", str(tmp_path / "full"), "--db", str(loaded)]
    )
    assert result.exit_code == 2


def test_a_command_that_finds_the_file_busy_waits_then_names_the_holder(db_path):
    # The holder keeps the file until the command has finished (its stdin closes), however
    # slowly the command starts: a fixed sleep let a slow start find the file free.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(db_path)!r}); print('ok', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "core",
                "export",
                "members",
                "--out",
                str(db_path.parent / "m.csv"),
                "--db",
                str(db_path),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "RENEWAL_LOCK_TIMEOUT": "1"},
            check=False,
        )
    finally:
        holder.communicate(timeout=30)  # closes its stdin: let go, then exit
    assert done.returncode == 1
    assert f"busy: {db_path} is in use by process {holder.pid}" in done.stderr
    assert "Traceback" not in done.stderr


def test_renew_prints_counts_and_json_and_a_dry_run_writes_nothing(loaded):
    dry = run("renew", "--as-of", "2026-12-01", "--dry-run", "--json", "--db", str(loaded))
    assert dry.exit_code == 0, dry.output
    body = json.loads(dry.output)
    assert body["as_of"] == "2026-12-01" and body["dry_run"] is True
    assert {"scheme": "jptec", "outcome": "extended", "n": 1} in body["counts"]
    with db.connect(loaded) as con:
        assert con.execute("SELECT count(*) FROM renewal_runs").fetchall() == [(0,)]
        assert con.execute(
            "SELECT valid_until::VARCHAR FROM qualifications WHERE member_no = 'J0000001'"
        ).fetchall() == [("2026-11-30",)]
    real = run("renew", "--as-of", "2026-12-01", "--db", str(loaded))
    assert real.exit_code == 0
    assert any(line.split() == ["jptec", "extended", "1"] for line in real.output.splitlines())
    with db.connect(loaded) as con:
        assert con.execute(
            "SELECT valid_until::VARCHAR FROM qualifications WHERE member_no = 'J0000001'"
        ).fetchall() == [("2028-11-30",)]
        assert con.execute("SELECT count(*) FROM renewal_runs").fetchall() == [(1,)]


def test_explain_words_and_json(loaded):
    words = run("explain", "--member", "J0000001", "--as-of", "2026-12-01", "--db", str(loaded))
    assert words.exit_code == 0, words.output
    assert "○ 2024年12月1日〜2026年11月30日の指導実績 2回（必要 2回）" in words.output
    assert (
        "判定: 2026年12月1日付けで有効期間を延長します（新しい有効期限 2028年11月30日）"
        in words.output
    )
    body = json.loads(
        run(
            "explain",
            "--member",
            "J0000001",
            "--as-of",
            "2026-12-01",
            "--json",
            "--db",
            str(loaded),
        ).output
    )
    q = body["qualifications"][0]
    assert set(q) >= {
        "scheme",
        "qualification",
        "status",
        "valid_from",
        "valid_until",
        "decision",
        "effective_on",
        "new_valid_until",
        "requirements",
    }
    assert q["requirements"][0] == {
        "code": "courses_taught",
        "label": "指導実績",
        "required": 2,
        "actual": 2,
        "met": True,
        "period_from": "2024-12-01",
        "period_to": "2026-11-30",
    }


def test_explain_an_unknown_member_exits_2(loaded):
    result = CliRunner().invoke(cli, ["explain", "--member", "NOPE", "--db", str(loaded)])
    assert result.exit_code == 2 and "NOPE" in result.stderr


def test_documents_writes_one_pdf_for_a_club_with_a_cover_and_the_grand_total(loaded, tmp_path):
    with db.connect(loaded) as con:
        con.execute(
            """
            INSERT INTO billing (member_no, scheme, item, description, amount, handling_fee, issued_on, due_on, status)
            VALUES ('A0000001', 'saj', 'saj_annual_fee', '2026年度 一般会員会費 3,500円', 3500, 0, DATE '2026-08-20', DATE '2026-09-20', 'open'),
                   ('A0000002', 'saj', 'saj_annual_fee', '2026年度 大学生会員会費 3,500円', 3500, 160, DATE '2026-08-20', DATE '2026-09-20', 'open')
            """
        )
    out = tmp_path / "club.pdf"
    result = run(
        "documents", "--org", "SAJ-22-C001", "--kind", "invoice", "--out", str(out),
        "--date", "2026-11-24", "--db", str(loaded),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wrote 2 invoices for SAJ-22-C001" in result.output and "7,160 yen" in result.output
    pages = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    assert "請求書 一括発行 一覧" in pages[0] and "総合計 7,160 円" in pages[0]
    assert "山田 太郎 様" in pages[1] and "佐藤 花子 様" in pages[2]


def test_documents_for_an_unknown_club_or_one_without_lines_exits_2(loaded, tmp_path):
    out = tmp_path / "none.pdf"
    for org in ("NOPE", "SAJ-13-C001"):
        result = CliRunner().invoke(
            cli,
            [
                "documents",
                "--org",
                org,
                "--kind",
                "receipt",
                "--out",
                str(out),
                "--db",
                str(loaded),
            ],
        )
        assert result.exit_code == 2 and org in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_import_payments_reports_duplicates_and_matching_and_export_lists_them(loaded, tmp_path):
    with db.connect(loaded) as con:
        con.execute(
            "INSERT INTO billing (member_no, scheme, item, description, amount, issued_on, status)"
            " VALUES ('A0000001', 'saj', 'saj_annual_fee', '年会費', 3500, DATE '2026-08-01', 'open')"
        )
    file = tmp_path / "payments.csv"
    file.write_text(
        "member_no,scheme,item,amount,method,paid_on,reference\n"
        "A0000001,saj,saj_annual_fee,3500,convenience_store,2026-11-20,CVS-1\n"
        "A0000001,saj,saj_annual_fee,3500,convenience_store,2026-11-20,CVS-1\n",
        encoding="utf-8",
    )
    result = run("import", "payments", str(file), "--db", str(loaded))
    assert result.exit_code == 0, result.output
    assert "imported 1 payments rows" in result.output
    assert f"{file}:3: reference: duplicate, skipped: 'CVS-1'" in result.output
    assert "matched: 1 payments paid 1 lines" in result.output
    again = run("import", "payments", str(file), "--db", str(loaded))
    assert (
        "imported 0 payments rows" in again.output and "duplicates: 2 rows skipped" in again.output
    )
    out = tmp_path / "payments_out.csv"
    assert run("export", "payments", "--out", str(out), "--db", str(loaded)).exit_code == 0
    exported = pl.read_csv(out)
    assert exported.select("reference", "amount", "handling_fee").rows() == [("CVS-1", 3500, 220)]


def test_a_bad_payments_file_exits_2_naming_file_line_and_column(loaded, tmp_path):
    file = tmp_path / "bad.csv"
    file.write_text(
        "member_no,scheme,item,amount,method,paid_on,reference\n"
        "A0000001,saj,saj_annual_fee,abc,card,2026-11-20,R1\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["import", "payments", str(file), "--db", str(loaded)])
    assert result.exit_code == 2
    assert f"{file}:2: amount: 金額は1以上の整数（円）です: 'abc'" in result.output


HEAVY = ("duckdb", "polars", "fpdf", "streamlit", "numpy")


@pytest.mark.parametrize("args", [["--help"], ["renew", "--help"], ["import", "--help"]])
def test_help_loads_no_database_data_frame_or_pdf_library(args):
    """`python -m core … --help` answers at once: the commands import the core lazily."""
    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['core', *{args!r}]\n"
        "try:\n    runpy.run_module('core', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    *help_text, loaded = done.stdout.strip().splitlines()
    assert "Usage:" in "\n".join(help_text)
    assert loaded == "[]"
