"""Importing a 1,000,000-row CP932 members.csv into a database that has the organisations.

Usage: python bench/bench_import.py --db bench/out/full.duckdb
Exports the members of the full-scale demo database as CP932 CSV with fresh member
numbers (and half-width kana, full-width digits in phones, slashed dates, as office
files have them), then times `python -m core import members` into a copy holding only
the organisation tree, and records the time and the importer's peak memory.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl
from common import OUT, PYTHON, record, run_timed

from core.store import db, exports


def make_files(source: Path, folder: Path) -> tuple[Path, Path, int]:
    with db.connect(source) as con:
        orgs = exports.table_frame(con, "organizations")
        people = exports.table_frame(con, "members").filter(pl.col("status") != "erased")
    folder.mkdir(parents=True, exist_ok=True)
    orgs_file = folder / "organizations.csv"
    orgs.write_csv(orgs_file)
    office = people.with_columns(
        member_no=pl.lit("X") + pl.col("member_no"),
        birth_date=pl.col("birth_date").dt.strftime("%Y/%m/%d"),
        family_name_kana=pl.col("family_name_kana").str.replace_many(
            ["ア", "カ", "サ", "タ", "ナ"], ["ｱ", "ｶ", "ｻ", "ﾀ", "ﾅ"]
        ),
        phone=pl.col("phone").str.replace_many(["0", "1", "2", "-"], ["０", "１", "２", "－"]),
    )
    members_file = folder / "members_cp932.csv"
    members_file.write_bytes(office.write_csv().encode("cp932", errors="replace"))
    return orgs_file, members_file, office.height


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    args = parser.parse_args()
    folder = OUT / "import"
    orgs_file, members_file, rows = make_files(args.db, folder)
    target = folder / "import.duckdb"
    target.unlink(missing_ok=True)
    run_timed(
        [PYTHON, "-m", "core", "import", "organizations", str(orgs_file), "--db", str(target)]
    )
    seconds, peak, output = run_timed(
        [PYTHON, "-m", "core", "import", "members", str(members_file), "--db", str(target)]
    )
    record(
        "import_members_cp932",
        {
            "rows": rows,
            "file_mb": round(members_file.stat().st_size / 2**20, 1),
            "seconds": round(seconds, 1),
            "peak_rss_mib": round(peak),
            "output": output.strip(),
        },
    )


if __name__ == "__main__":
    main()
