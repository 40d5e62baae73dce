"""Receipts at full scale: 1,000 receipt PDFs for members with paid lines.

`invoices.issue_many` reads the lines of all members in one query and makes one PDF per
member; "one by one" calls `invoices.issue` per member, as the member page's button does.

Usage: python bench/bench_documents.py --db bench/out/full.duckdb [--count 1000] [--single 100]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import OUT, record

from core.documents import invoices
from core.store import db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--single", type=int, default=100, help="Members issued one by one.")
    args = parser.parse_args()
    with db.connect(args.db, read_only=True) as con:
        members = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT member_no FROM billing WHERE status = 'paid'"
                " ORDER BY hash(member_no) LIMIT ?",
                [args.count],
            ).fetchall()
        ]
        started = time.perf_counter()
        written = count = 0
        for doc in invoices.issue_many(con, members, "receipt"):
            written += len(doc.pdf)
            count += 1
        elapsed = time.perf_counter() - started
        started = time.perf_counter()
        for member_no in members[: args.single]:
            invoices.issue(con, member_no, "receipt")
        single = (time.perf_counter() - started) / max(1, min(args.single, len(members)))
    record(
        "receipts",
        {
            "count": count,
            "seconds": round(elapsed, 1),
            "mb_written": round(written / 2**20, 1),
            "one_by_one_ms_each": round(single * 1000),
        },
    )


if __name__ == "__main__":
    main()
