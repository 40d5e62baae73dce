"""The renewal batch and `explain` at full scale.

Usage: python bench/bench_renew.py --db bench/out/full.duckdb [--as-of 2026-11-24]
Times (on a copy of the database, in a separate process for its peak memory) the batch's
dry run and real run for every scheme, the floor it is compared with — one plain DuckDB
scan-and-group of the activity table — the what-if for one changed value (JPTEC's course
threshold 2 → 3) and `explain` for 30 members.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import time
from pathlib import Path

from common import OUT, PYTHON, record, run_timed

from core.renewals import explain as explanation
from core.renewals import whatif
from core.store import db, migrations


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today())
    args = parser.parse_args()
    copy = OUT / "renew.duckdb"
    shutil.copyfile(args.db, copy)
    with db.connect(copy) as con:
        migrations.migrate(con)
        started = time.perf_counter()
        con.execute(
            "SELECT member_no, scheme, kind, count(*), sum(hours), sum(points)"
            " FROM activities GROUP BY ALL"
        ).fetchall()
        floor = time.perf_counter() - started
        members = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT member_no FROM qualifications WHERE scheme IN ('jptec', 'jspo', 'teacher')"
                " ORDER BY hash(member_no) LIMIT 30"
            ).fetchall()
        ]
        started = time.perf_counter()
        compared = whatif.compare(con, args.as_of, {"jptec.instructor.min_courses_taught": 3})
        what_if = time.perf_counter() - started
        timings = []
        for member_no in members:
            started = time.perf_counter()
            explanation.explain(con, member_no, args.as_of)
            timings.append((time.perf_counter() - started) * 1000)
    as_of = ["--as-of", args.as_of.isoformat(), "--db", str(copy)]
    dry, dry_peak, _ = run_timed([PYTHON, "-m", "core", "renew", "--dry-run", *as_of])
    real, real_peak, output = run_timed([PYTHON, "-m", "core", "renew", *as_of])
    again, _, _ = run_timed([PYTHON, "-m", "core", "renew", *as_of])
    timings.sort()
    record(
        "renewal_batch",
        {
            "as_of": args.as_of.isoformat(),
            "dry_run_s": round(dry, 1),
            "run_s": round(real, 1),
            "second_run_s": round(again, 1),
            "peak_rss_mib": round(max(dry_peak, real_peak)),
            "floor_scan_group_activities_s": round(floor, 2),
            "ratio_to_floor": round(real / floor, 1),
            "whatif_one_value_s": round(what_if, 2),
            "whatif_moved": compared.moved,
            "explain_p50_ms": round(statistics.median(timings), 1),
            "explain_p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
            "output": output.strip().splitlines(),
        },
    )
    copy.unlink()


if __name__ == "__main__":
    main()
