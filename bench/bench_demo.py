"""Time `build_demo` for N members into a temporary DuckDB file.

Usage: .venv/bin/python bench/bench_demo.py [--members 1000000] [--seed 42] [--keep PATH]

Prints the wall-clock seconds, the rows per table, the file size and the peak resident
memory of this process (resource.getrusage; kilobytes on Linux).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.demo import build_demo
from core.store import db, migrations


def main() -> None:
    """Build the demo once and report the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="write here and keep the file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.duckdb"
        with db.connect(path) as con:
            migrations.migrate(con)
            start = time.perf_counter()
            counts = build_demo(con, members=args.members, seed=args.seed, today=args.today)
            seconds = time.perf_counter() - start
        size = path.stat().st_size
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"members            {args.members:>12,}")
    print(f"build_demo seconds {seconds:>12.1f}")
    for table, rows in counts.items():
        print(f"{table:<18} {rows:>12,}")
    print(f"activities/member  {counts['activities'] / max(args.members, 1):>12.2f}")
    print(f"database file MiB  {size / 2**20:>12.0f}")
    print(f"peak RSS MiB       {peak_kib / 1024:>12.0f}")


if __name__ == "__main__":
    main()
