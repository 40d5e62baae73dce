"""Member search latency at full scale: p50/p95 per query kind.

Usage: python bench/bench_search.py --db bench/out/full.duckdb [--queries 60]
Each query takes a connection from a core.store.db.Lease, searches (page 1, 25 rows, with the
total) and gives it back, exactly as the lookup page does; "cold" repeats the queries
with a fresh connection each (the first search after the app was idle). Keywords are
drawn from the stored members. p95 is interpolated between order statistics
(statistics.quantiles, n=100), not the 57th of 60 timings.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from common import percentiles, record

from core.members import records as members
from core.members.records import MemberQuery
from core.store import db


def keywords(path: Path, n: int, seed: int) -> dict[str, list[str]]:
    with db.connect(path) as con:
        rows = con.execute(
            "SELECT member_no, family_name, given_name, family_name_kana, phone FROM members"
            " WHERE status <> 'erased' USING SAMPLE 2000 ROWS"
        ).fetchall()
    rng = random.Random(seed)
    rng.shuffle(rows)
    pick = rows[:n]
    hira = str.maketrans({chr(c + 0x60): chr(c) for c in range(0x3041, 0x3097)})
    return {
        "member_no": [r[0] for r in pick],
        "name": [f"{r[1]} {r[2]}" for r in pick],
        "kana": [r[3].translate(hira) for r in pick],  # typed in hiragana, family name only
        "phone": [r[4][-9:] for r in pick if r[4]],  # the tail of the number, as staff type it
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=Path("bench/out/full.duckdb"))
    parser.add_argument("--queries", type=int, default=60)
    args = parser.parse_args()
    lease = db.Lease(args.db, linger=3.0)
    results = {}
    for kind, words in keywords(args.db, args.queries, seed=7).items():
        for mode in ("app", "cold"):
            if mode == "cold":
                with lease._lock:  # let go, so every cold query really opens the file
                    lease.close_now()
            timings = []
            for word in words:
                started = time.perf_counter()
                opened = lease.connection() if mode == "app" else db.connect(args.db)
                with opened as con:
                    total, page = members.search(
                        con, "*", MemberQuery(keyword=word, search_field=kind)
                    )
                timings.append((time.perf_counter() - started) * 1000)
                assert total >= 1 and page.height >= 1, (kind, word)
            cuts = percentiles(timings)
            results[f"{kind} ({mode})"] = {
                "queries": len(timings),
                "p50_ms": cuts["p50"],
                "p95_ms": cuts["p95"],
                "max_ms": cuts["max"],
            }
    record("member_search", results)


if __name__ == "__main__":
    main()
