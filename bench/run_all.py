"""Every benchmark at full scale, one after another: `make bench` (not run by CI).

1. `python -m core demo --members 1000000` into bench/out/full.duckdb (time, peak memory);
2. bench_import.py: a 1M-row CP932 members.csv; 3. bench_search.py; 4. bench_renew.py;
5. bench_fees.py; 6. bench_payments.py: a 1M-row payments.csv; 7. bench_approvals.py:
200,000 pending applications; 8. bench_season_billing.py; 9. bench_documents.py;
10. bench_startup.py.
Numbers land in bench/out/results.json; copy them into bench/README.md with the machine.
"""

from __future__ import annotations

import argparse

from common import OUT, PYTHON, record, run_timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep an existing full.duckdb")
    args = parser.parse_args()
    path = OUT / "full.duckdb"
    OUT.mkdir(parents=True, exist_ok=True)
    if not (args.reuse and path.exists()):
        path.unlink(missing_ok=True)
        seconds, peak, output = run_timed(
            [PYTHON, "-m", "core", "demo", "--members", str(args.members), "--db", str(path)]
        )
        record(
            "demo_build",
            {
                "members": args.members,
                "seconds": round(seconds, 1),
                "peak_rss_mib": round(peak),
                "output": output.strip().splitlines(),
            },
        )
    scripts = (
        "bench_import.py",
        "bench_search.py",
        "bench_renew.py",
        "bench_fees.py",
        "bench_payments.py",
        "bench_approvals.py",
        "bench_season_billing.py",
        "bench_documents.py",
        "bench_startup.py",
    )
    for script in scripts:
        run_timed([PYTHON, f"bench/{script}", "--db", str(path)])
    print((OUT / "results.json").read_text())


if __name__ == "__main__":
    main()
