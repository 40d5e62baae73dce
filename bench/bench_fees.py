"""Fee dashboard queries at full scale: each query's time over a year, the whole population.

Usage: python bench/bench_fees.py --db bench/out/full.duckdb
Runs every query the 会費ダッシュボード page makes, three times on one connection (as the
page's lease keeps it), and records the slowest run of each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from common import OUT, record

from core.billing import fees
from core.config.settings import SCHEME_CODES
from core.store import db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today())
    args = parser.parse_args()
    period = fees.Period(args.as_of - dt.timedelta(days=365), args.as_of, SCHEME_CODES)
    queries = {
        "income_by_month": lambda con: fees.income_by_month(con, "*", period),
        "collection_rate": lambda con: fees.collection_rate(con, "*", period),
        "outstanding": lambda con: fees.outstanding(con, "*", period, args.as_of),
        **{
            f"income_by_{name}": (lambda con, name=name: fees.income_by(con, "*", period, name))
            for name in fees.DIMENSIONS
        },
    }
    slowest = {}
    with db.connect(args.db) as con:
        for name, query in queries.items():
            times = []
            for _ in range(3):
                started = time.perf_counter()
                query(con)
                times.append((time.perf_counter() - started) * 1000)
            slowest[name] = round(max(times), 1)
    record("fee_dashboard_ms", slowest)


if __name__ == "__main__":
    main()
