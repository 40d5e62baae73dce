"""Importing a 1,000,000-row payments.csv into a copy of the full-scale demo database.

Usage: python bench/bench_payments.py --db bench/out/full.duckdb
Copies the database (the source is never modified) and, in the copy, sets REOPENED paid
lines back to open (the demo has few open lines; a provider's month of payments settles
many). The provider file then holds an exact payment for every open line, under-payments
for a tenth of them, payments for lines still paid (they land in the reconciliation list as
unmatched) and 1,000 references the database has seen before (duplicates, skipped) —
1,000,000 rows in all. Then
times `python -m core import payments` on the copy (migrations included) and records the time,
the importer's peak memory and what it reported. The copy and the file live in a temporary folder
under bench/out that is removed when the script ends, also when it fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
from common import OUT, PYTHON, record, run_timed

from core.store import db

METHODS = ("card", "convenience_store", "pay_easy", "bank_transfer", "net_banking", "atm")
DUPLICATES = 1_000
REOPENED = 800_000


def reopen(target: Path, n: int) -> None:
    with db.connect(target) as con:
        con.execute(
            "UPDATE billing SET status = 'open', paid_on = NULL, payment_id = NULL"
            " WHERE billing_id IN (SELECT billing_id FROM billing WHERE status = 'paid'"
            " ORDER BY hash(billing_id) LIMIT ?)",
            [n],
        )


def make_file(source: Path, out: Path, rows: int, seed: int = 7) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    with db.connect(source, read_only=True) as con:
        open_lines = db.frame(
            con,
            "SELECT member_no, scheme, item, amount + handling_fee AS amount FROM billing"
            " WHERE status = 'open' ORDER BY billing_id",
        )
        seen = db.frame(
            con, "SELECT reference FROM payments ORDER BY payment_id LIMIT ?", [DUPLICATES]
        )
        paid = db.frame(
            con,
            "SELECT member_no, scheme, item, amount FROM billing WHERE status = 'paid'"
            " ORDER BY billing_id LIMIT ?",
            [rows],
        )
    under = open_lines.sample(fraction=0.1, seed=seed)
    exact = open_lines.join(under, on=open_lines.columns, how="anti")
    under = under.with_columns(amount=pl.col("amount") // 2)
    filler = rows - exact.height - under.height - seen.height
    frame = pl.concat([exact, under, paid.head(max(filler, 0))]).head(rows - seen.height)
    first_day = dt.date(2026, 10, 1)
    frame = frame.with_columns(
        method=pl.Series(np.array(METHODS)[rng.integers(0, len(METHODS), frame.height)]),
        paid_on=pl.Series(
            [first_day + dt.timedelta(days=int(d)) for d in rng.integers(0, 50, frame.height)]
        ),
        reference=pl.format("BENCH-{}", pl.int_range(pl.len()).cast(pl.String).str.zfill(9)),
    )
    duplicates = frame.head(seen.height).with_columns(reference=seen["reference"])
    frame = pl.concat([frame, duplicates]).select(
        "member_no", "scheme", "item", "amount", "method", "paid_on", "reference"
    )
    frame.write_csv(out)
    return {
        "rows": frame.height,
        "reopened": REOPENED,
        "exact": exact.height,
        "under": under.height,
        "already_paid": frame.height - exact.height - under.height - seen.height,
        "duplicates": seen.height,
    }


def verify(target: Path, mix: dict[str, int]) -> dict[str, int]:
    """What the import wrote: every new reference once, none of the duplicates again; lines
    paid by them and the rest on the reconciliation list."""
    with db.connect(target, read_only=True) as con:
        found = db.one(
            con,
            """
            WITH bench AS (SELECT payment_id FROM payments WHERE starts_with(reference, 'BENCH-'))
            SELECT (SELECT count(*) FROM bench),
                   (SELECT count(*) FROM billing WHERE payment_id IN (SELECT * FROM bench)),
                   (SELECT count(*) FROM reconciliation WHERE payment_id IN (SELECT * FROM bench))
            """,
        )
    assert found is not None
    written, paid, listed = found
    expected = mix["rows"] - mix["duplicates"]
    assert written == expected, f"{written:,} payments written, expected {expected:,}"
    assert paid > 0 and paid + listed == written, (
        f"{paid:,} paid + {listed:,} listed != {written:,}"
    )
    return {"payments_written": written, "lines_paid": paid, "to_reconcile": listed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT, prefix="payments-") as tmp:
        target = Path(tmp) / "payments.duckdb"
        shutil.copyfile(args.db, target)
        csv = Path(tmp) / "payments.csv"
        reopen(target, REOPENED)
        mix = make_file(target, csv, args.rows)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds, peak, output = run_timed(
            [PYTHON, "-m", "core", "import", "payments", str(csv), "--db", str(target)]
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        file_mb = csv.stat().st_size / 2**20
        written = verify(target, mix)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    record(
        "import_payments",
        {
            **mix,
            "file_mb": round(file_mb, 1),
            **written,
            "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1),  # user + system: less sensitive to a busy machine
            "load_average_1min": round(os.getloadavg()[0], 1),
            "peak_rss_mib": round(peak),
            "output": [ln for ln in output.strip().splitlines() if ".csv:" not in ln],
        },
    )


if __name__ == "__main__":
    main()
