"""A season's SAJ billing run for the whole membership (`python -m core bill --season S`).

On a copy of the full database (the source is never modified) the current season's SAJ lines
are deleted, then the run writes them again for every approved registration (yearly fee,
qualification fees, certified instructors, insurance, competitors, qualified members'
prefecture difference, with an audit row each) in one transaction; a second run must add
nothing. Both are separate processes; wall time and peak memory.

    .venv/bin/python bench/bench_season_billing.py [--db bench/out/full.duckdb] [--season 2026]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from common import OUT, PYTHON, record, run_timed

from core.store import db, migrations


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--season", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        path = Path(tmp) / "season.duckdb"
        shutil.copy(args.db, path)
        with db.connect(path) as con:
            migrations.migrate(con)
            con.execute("DELETE FROM billing WHERE scheme = 'saj' AND season = ?", [args.season])
            registrations = db.one(
                con,
                "SELECT count(*) FROM applications WHERE scheme = 'saj' AND status = 'approved'"
                " AND season = ?",
                [args.season],
            )
        command = [PYTHON, "-m", "core", "bill", "--season", str(args.season), "--db", str(path)]
        first, first_rss, first_out = run_timed(command)
        second, _, second_out = run_timed(command)
    record(
        "season_billing",
        {
            "season": args.season,
            "approved_registrations": registrations[0] if registrations else None,
            "run_s": round(first, 2),
            "peak_mib": round(first_rss),
            "lines": first_out.strip().splitlines(),
            "second_run_s": round(second, 2),
            "second_run": second_out.strip(),
        },
    )


if __name__ == "__main__":
    main()
