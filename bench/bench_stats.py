"""Statistics, forecast, audits and exports at full scale, over three years of batch history.

Usage: python bench/bench_stats.py [--db bench/out/full.duckdb] [--history-db PATH] [--reuse]

1. The history database (bench/out/history.duckdb): `python -m core demo --members 1000000
   --history-months 36` — the demo built three years back and moved forward month by month,
   the renewal batch run on the first of each month (35 runs) and a forecast kept every
   quarter. Kept between runs with --reuse (it takes about ten minutes).
2. On it, read-only, in one process on one connection as the page's lease keeps it: every
   view of 更新・失効統計 over the last twelve months (each dimension, the lapse reasons, the
   retention over the whole history, one prefecture's scope), three runs each, the slowest
   kept; the floor alternates with them: the run history's outcomes counted per scheme and
   decision for the same period. Checked: every breakdown sums to the same number due, and
   that number is the cycles the floor's rows make (an invalidation after an extension is one
   cycle with it).
3. The forecast as the page makes it once a day (compute: the requirements relation as of the
   horizon's end over the whole population), the totals, the members at risk, the back-test;
   the data-quality audits' counts and each audit's rows.
4. Exports through `python -m core export` as processes (wall time, peak memory): the members
   (1,000,000 rows) as .xlsx and .csv, and the activities (over 1,048,575 rows) as .xlsx,
   which must be refused before a row is read. Checked: the sheet's dimension says 1,000,001
   rows; the refusal exits 2 quickly. The files are removed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from common import OUT, PYTHON, ROOT, record, run_timed

from core.stats import audits, forecast, forecast_report, outcomes
from core.store import db


def build(path: Path) -> dict[str, object]:
    path.unlink(missing_ok=True)
    Path(f"{path}.wal").unlink(missing_ok=True)
    seconds, peak, output = run_timed(
        [PYTHON, "-m", "core", "demo", "--members", "1000000", "--history-months", "36",
         "--db", str(path)]
    )  # fmt: skip
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(peak),
            "output": output.strip().splitlines()[:10]}  # fmt: skip


def slowest(call, runs: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - began) * 1000)
    return round(max(times), 1), result


def stats_views(con, today: dt.date) -> dict[str, object]:
    period = outcomes.Period(today - dt.timedelta(days=365), today - dt.timedelta(days=1))
    whole = outcomes.Period(dt.date(1900, 1, 1), period.end)
    floor_sql = (
        "SELECT scheme, decision, count(*) FROM renewal_outcomes WHERE as_of BETWEEN ? AND ?"
        " AND decision <> 'open_fee' AND qualification <> 'membership' GROUP BY ALL"
    )
    views = {f"by_{d}": (lambda d=d: outcomes.by(con, period, d)) for d in outcomes.DIMENSIONS}
    views["lapse_reasons"] = lambda: outcomes.lapse_reasons(con, period)
    views["retention"] = lambda: outcomes.retention(con, whole)
    views["by_org_one_prefecture"] = lambda: outcomes.by(con, period, "org", scope="SAJ-13")
    times, floors, dues = {}, [], set()
    for name, view in views.items():
        ms, frame = slowest(view)
        times[name] = ms
        floor_ms, _ = slowest(
            lambda: con.execute(floor_sql, [period.start, period.end]).fetchall(), 1
        )
        floors.append(floor_ms)
        if name.startswith("by_") and name != "by_org_one_prefecture":
            dues.add(int(frame["due"].sum()))  # type: ignore[union-attr]
    assert len(dues) == 1, f"breakdowns disagree on what was due: {dues}"
    due = dues.pop()
    decided = con.execute(floor_sql.replace("scheme, decision, count(*)", "count(*)")
                          .replace(" GROUP BY ALL", ""), [period.start, period.end]).fetchall()[0][0]  # fmt: skip
    assert 0 < due <= decided, (due, decided)  # invalidations after an extension join its cycle
    return {"views_ms": times, "slowest_view_ms": max(times.values()),
            "floor_ms": max(floors), "due_cycles_12_months": due, "decisions_12_months": decided}  # fmt: skip


def forecast_views(con, today: dt.date) -> dict[str, object]:
    began = time.perf_counter()
    made = forecast.compute(con, today)
    compute_s = round(time.perf_counter() - began, 1)
    assert made.items.height > 100_000, made.items.height
    summary_ms, _ = slowest(lambda: forecast_report.summary(con, made, "org"))
    risk_ms, risky = slowest(lambda: forecast_report.at_risk(con, made), 1)
    backtest_ms, table = slowest(lambda: forecast_report.backtest(con, today), 1)
    kept = forecast.latest(con, today)
    assert kept is not None
    load_ms, loaded = slowest(lambda: forecast.load(con, kept))
    error = forecast_report.backtest_error(table)  # type: ignore[arg-type]
    return {"compute_s": compute_s, "items": made.items.height,
            "expected_renewals": round(float(made.items["p_renew"].sum())),
            "summary_by_org_ms": summary_ms, "at_risk_ms": risk_ms,
            "at_risk_members": risky.height, "backtest_ms": backtest_ms,  # type: ignore[union-attr]
            "backtest_error_percent": error, "load_kept_ms": load_ms,
            "kept_items": loaded.items.height}  # type: ignore[union-attr]  # fmt: skip


def audit_views(con) -> dict[str, object]:
    counts_ms, counts = slowest(lambda: audits.counts(con), 1)
    rows = {}
    for audit in audits.AUDITS:
        ms, frame = slowest(lambda a=audit: audits.rows(con, a.name), 1)
        rows[audit.name] = {"ms": ms, "rows": frame.height}  # type: ignore[union-attr]
    return {"counts_ms": counts_ms, "counts": dict(counts.iter_rows()), "rows": rows}  # type: ignore[union-attr]


def exports(path: Path) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(dir=OUT, prefix="exports-"))
    try:
        found = {}
        for table, suffix in (("members", ".xlsx"), ("members", ".csv")):
            out = folder / f"{table}{suffix}"
            seconds, peak, _ = run_timed(
                [PYTHON, "-m", "core", "export", table, "--out", str(out), "--db", str(path)]
            )
            found[f"{table}{suffix}"] = {"seconds": round(seconds, 1), "peak_rss_mib": round(peak),
                                         "mib": round(out.stat().st_size / 2**20, 1)}  # fmt: skip
            if suffix == ".xlsx":
                with zipfile.ZipFile(out) as book:
                    head = book.open("xl/worksheets/sheet1.xml").read(4096).decode()
                match = re.search(r'<dimension ref="A1:[A-Z]+(\d+)"', head)
                rows = int(match.group(1)) if match else 0
                found[f"{table}{suffix}"]["sheet_rows"] = rows
                assert rows > 1_000_000 - 10_000, rows  # the demo's million members and a header
            out.unlink()
        began = time.perf_counter()
        refused = subprocess.run(
            [PYTHON, "-m", "core", "export", "activities", "--out", str(folder / "a.xlsx"),
             "--db", str(path)],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        assert refused.returncode == 2 and "do not fit one Excel sheet" in refused.stderr
        assert not (folder / "a.xlsx").exists()
        found["activities.xlsx refused"] = {"seconds": round(time.perf_counter() - began, 2),
                                            "message": refused.stderr.strip()}  # fmt: skip
        return found
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--history-db", type=Path, default=OUT / "history.duckdb")
    parser.add_argument("--reuse", action="store_true", help="keep an existing history database")
    args = parser.parse_args()
    if not (args.reuse and args.history_db.exists()):
        record("history_build", build(args.history_db))
    # first, while this process is small: a child's peak memory counts what it shares at birth
    record("streamed_exports", exports(args.db if args.db.exists() else args.history_db))
    today = dt.date.today()
    with db.connect(args.history_db, read_only=True) as con:
        runs = con.execute("SELECT count(*), min(as_of), max(as_of) FROM renewal_runs").fetchall()[
            0
        ]
        assert runs[0] >= 35, runs
        record("renewal_stats", {"runs": runs[0], "first": runs[1], "last": runs[2],
                                 **stats_views(con, today)})  # fmt: skip
        record("forecast", forecast_views(con, today))
        record("data_quality", audit_views(con))


if __name__ == "__main__":
    main()
