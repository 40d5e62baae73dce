"""Receipts at full scale: 1,000 receipt PDFs for members with paid lines.

Usage: python bench/bench_documents.py --db bench/out/full.duckdb [--count 1000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import OUT, record

from core import db, documents


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    with db.connect(args.db) as con:
        members = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT member_no FROM billing WHERE status = 'paid'"
                " ORDER BY hash(member_no) LIMIT ?",
                [args.count],
            ).fetchall()
        ]
        started = time.perf_counter()
        pages = 0
        for member_no in members:
            pages += len(documents.issue(con, member_no, "receipt").pdf)
        elapsed = time.perf_counter() - started
    record(
        "receipts",
        {
            "count": len(members),
            "seconds": round(elapsed, 1),
            "mb_written": round(pages / 2**20, 1),
        },
    )


if __name__ == "__main__":
    main()
