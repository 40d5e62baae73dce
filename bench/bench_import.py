"""Importing a 1,000,000-row CP932 members.csv into a database that has the organisations.

Usage: python bench/bench_import.py --db bench/out/full.duckdb [--runs 2]
Exports the members of the full-scale demo database as CP932 CSV with fresh member
numbers (and half-width kana, full-width digits in phones, slashed dates, as office
files have them), then times `python -m core import members` into a fresh database holding
only the organisation tree, and records the time and the importer's peak memory.

The demo gives a few members a postal code of another prefecture on purpose (the intake
checks must find them), and the import is all or nothing, so such a file is refused. The
file made here gives those rows the first postal code of their own prefecture from
ref_postal_codes: every row is one a correct product must accept. After each run the
script checks that every row was written, normalised, with its audit row. All files are
made in a temporary folder under bench/out and removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
from pathlib import Path

import polars as pl
from common import OUT, PYTHON, record, run_timed

from core.store import db, exports

HALF_WIDTH_KANA = "[\uff66-\uff9f]"
FULL_WIDTH_DIGITS = "[\uff10-\uff19\uff0d]"


def make_files(source: Path, folder: Path) -> tuple[Path, Path, int, int]:
    """organizations.csv and members_cp932.csv; the rows and how many postal codes were fixed."""
    with db.connect(source, read_only=True) as con:
        orgs = exports.table_frame(con, "organizations")
        people = exports.table_frame(con, "members").filter(pl.col("status") != "erased")
        postal = db.frame(
            con, "SELECT postal_code, prefecture AS postal_prefecture FROM ref_postal_codes"
        )
        first_of_prefecture = db.frame(
            con,
            "SELECT prefecture, min(postal_code) AS own_postal_code FROM ref_postal_codes"
            " GROUP BY prefecture",
        )
    people = people.join(postal, on="postal_code", how="left").join(
        first_of_prefecture, on="prefecture", how="left"
    )
    disagrees = (
        pl.col("postal_code").is_not_null()
        & pl.col("prefecture").is_not_null()
        & (pl.col("postal_prefecture").is_null() | (pl.col("postal_prefecture") != pl.col("prefecture")))
    )  # fmt: skip
    fixed = people.filter(disagrees).height
    people = people.with_columns(
        postal_code=pl.when(disagrees).then(pl.col("own_postal_code")).otherwise("postal_code")
    ).drop("postal_prefecture", "own_postal_code")
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
    return orgs_file, members_file, office.height, fixed


def verify(target: Path, rows: int, output: str) -> dict[str, int]:
    """What the import wrote: every row, normalised, one audit row each; raises otherwise."""
    match = re.search(r"batch (\S+)", output)
    assert match, f"no batch id in the importer's output: {output!r}"
    with db.connect(target, read_only=True) as con:
        found = db.one(
            con,
            "SELECT count(*), count(*) FILTER (WHERE starts_with(member_no, 'X')),"
            " count(*) FILTER (WHERE regexp_matches(family_name_kana, ?)),"
            " count(*) FILTER (WHERE regexp_matches(phone, ?)),"
            " count(*) FILTER (WHERE birth_date IS NULL)"
            " FROM members",
            [HALF_WIDTH_KANA, FULL_WIDTH_DIGITS],
        )
        audited = db.one(
            con,
            "SELECT count(*) FROM audit_log WHERE batch_id = ? AND table_name = 'members'",
            [match.group(1)],
        )
        wrong_postal = db.one(
            con,
            "SELECT count(*) FROM members m JOIN ref_postal_codes r USING (postal_code)"
            " WHERE m.prefecture <> r.prefecture",
        )
    assert found and audited and wrong_postal
    members, renumbered, half_width, full_width, no_birth = found
    assert members == rows, f"{members:,} members written, the file has {rows:,}"
    assert renumbered == rows, f"only {renumbered:,} rows carry the file's member numbers"
    assert half_width == 0 and full_width == 0, (half_width, full_width)
    assert no_birth == 0, f"{no_birth:,} birth dates not parsed"
    assert audited[0] == rows, f"{audited[0]:,} audit rows for {rows:,} rows"
    assert wrong_postal[0] == 0, f"{wrong_postal[0]:,} postal codes of another prefecture"
    return {"members_written": members, "audit_rows": audited[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT, prefix="import-") as tmp:
        folder = Path(tmp)
        orgs_file, members_file, rows, fixed = make_files(args.db, folder)
        runs = []
        for n in range(args.runs):
            target = folder / f"import-{n}.duckdb"
            run_timed(
                [PYTHON, "-m", "core", "import", "organizations", str(orgs_file),
                 "--db", str(target)]
            )  # fmt: skip
            seconds, peak, output = run_timed(
                [PYTHON, "-m", "core", "import", "members", str(members_file), "--db", str(target)]
            )
            written = verify(target, rows, output)
            runs.append((seconds, peak, output, written))
            target.unlink()
        file_mb = members_file.stat().st_size / 2**20
    times = [r[0] for r in runs]
    record(
        "import_members_cp932",
        {
            "rows": rows,
            "postal_codes_fixed": fixed,
            "file_mb": round(file_mb, 1),
            "seconds": round(statistics.median(times), 1),
            "seconds_each": [round(t, 1) for t in times],
            "peak_rss_mib": round(max(r[1] for r in runs)),
            **runs[-1][3],
            "output": runs[-1][2].strip(),
        },
    )


if __name__ == "__main__":
    main()
