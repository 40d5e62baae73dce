"""Every benchmark at full scale, one after another: `make bench` (not run by CI).

1. `python -m core demo --members 1000000` into bench/out/full.duckdb (time, peak memory);
2. bench_import.py: a 1M-row CP932 members.csv; 3. bench_search.py; 4. bench_renew.py;
5. bench_fees.py; 6. bench_payments.py: a 1M-row payments.csv; 7. bench_approvals.py:
200,000 pending applications; 8. bench_season_billing.py; 9. bench_documents.py;
10. bench_notify_batch.py: 100,000 renewals with their mail and documents;
11. bench_mail_sender.py: 10,000 mails to a loopback SMTP server, once killed and restarted;
12. bench_certificates.py: 1,000 certificates as one PDF; 13. bench_startup.py;
14. bench_stats.py: statistics, forecast, audits and exports over a database with three years
of batch history (bench/out/history.duckdb, built once); 15. bench_courses.py;
16. bench_postgres.py: the same database restored into a PostgreSQL server of its own, the
batch, dashboards, `explain` and backup there against the file.
Numbers land in bench/out/results.json (started afresh by each run); at the end one table —
figure, product, floor, ratio, target — is printed with the machine and the date, and written
as Markdown to bench/out/table.md for bench/README.md. A script that fails does not stop the
others; the run then ends with status 1 and names it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from statistics import median
from typing import Any

from common import OUT, PYTHON, record, run_timed

SCRIPTS = (
    "bench_import.py",
    "bench_search.py",
    "bench_renew.py",
    "bench_fees.py",
    "bench_payments.py",
    "bench_approvals.py",
    "bench_season_billing.py",
    "bench_documents.py",
    "bench_notify_batch.py",
    "bench_mail_sender.py",
    "bench_certificates.py",
    "bench_startup.py",
    "bench_stats.py",  # builds bench/out/history.duckdb (three years of batch history) once
    "bench_courses.py",
    "bench_postgres.py",
)
Results = dict[str, Any]


@dataclass(frozen=True)
class Figure:
    """One row of the table: how to read it from results.json, and its target."""

    name: str
    product: Callable[[Results], str]
    target: str = "—"
    limit: float | None = None  # the target in the unit `measured` returns
    measured: Callable[[Results], float] | None = None
    floor: Callable[[Results], str] | None = None
    ratio: Callable[[Results], str] | None = None


def _each(values: list[float], unit: str) -> str:
    return f"{min(values):g}–{max(values):g} {unit}" if len(values) > 1 else f"{values[0]:g} {unit}"


SEARCH_KINDS = {
    "member_no": "member number",
    "name": "kanji name",
    "kana": "kana (hiragana typed)",
    "phone": "phone",
}


def _search(kind: str) -> Figure:
    def product(r: Results) -> str:
        app, cold = r["member_search"][f"{kind} (app)"], r["member_search"][f"{kind} (cold)"]
        return f"**{app['p95_ms']:g} ms** (p50 {app['p50_ms']:g}; cold p95 {cold['p95_ms']:g})"

    return Figure(
        f"member search p95, {SEARCH_KINDS[kind]}",
        product,
        "≤ 150 ms",
        150,
        lambda r: r["member_search"][f"{kind} (app)"]["p95_ms"],
    )


def _renew(r: Results) -> Results:
    return r["renewal_batch"]


def _approvals(r: Results) -> Results:
    return r["approvals"]


def _courses(r: Results) -> Results:
    return r["courses"]


def _pg(r: Results) -> Results:
    return r["postgres"]


FIGURES = (
    Figure(
        "`demo --members 1000000`",
        lambda r: (
            f"**{r['demo_build']['seconds']:g} s**, peak "
            f"{r['demo_build']['peak_rss_mib'] / 1024:.1f} GiB"
        ),
        "≤ 120 s",
        120,
        lambda r: r["demo_build"]["seconds"],
    ),
    Figure(
        "`import members`, 1M-row CP932 file",
        lambda r: (
            f"**{r['import_members_cp932']['seconds']:g} s** "
            f"({_each(r['import_members_cp932']['seconds_each'], 's')}; "
            f"{r['import_members_cp932']['rows']:,} rows, "
            f"{r['import_members_cp932']['file_mb']:g} MiB), peak "
            f"{r['import_members_cp932']['peak_rss_mib'] / 1024:.1f} GiB"
        ),
        "≤ 30 s",
        30,
        lambda r: r["import_members_cp932"]["seconds"],
    ),
    *(_search(kind) for kind in SEARCH_KINDS),
    Figure(
        "app cold start → rendered log-in page",
        lambda r: (
            f"**{r['app_cold_start']['to_login_page_s']:g} s** "
            f"({_each(r['app_cold_start']['to_login_page_s_each'], 's')})"
        ),
        "≤ 5 s",
        5,
        lambda r: r["app_cold_start"]["to_login_page_s"],
    ),
    Figure(
        "log-in → home page figures over 1M members",
        lambda r: (
            f"{r['app_cold_start']['login_to_home_s']:g} s "
            f"({_each(r['app_cold_start']['login_to_home_s_each'], 's')})"
        ),
    ),
    Figure(
        "renewal batch, all five schemes (`batch.run`, in-process)",
        lambda r: f"**{_renew(r)['run_s']:g} s** ({_renew(r)['changed']:,} changed)",
        "≤ 20 s",
        20,
        lambda r: _renew(r)["run_s"],
        lambda r: f"{_renew(r)['floor_s']:g} s ({_each(_renew(r)['floor_s_each'], 's')})",
        lambda r: f"{_renew(r)['ratio_run_to_floor']:g}×",
    ),
    Figure(
        "renewal batch, dry run",
        lambda r: f"{_renew(r)['dry_run_s']:g} s ({_each(_renew(r)['dry_run_s_each'], 's')})",
        "≤ 20 s",
        20,
        lambda r: _renew(r)["dry_run_s"],
        lambda r: f"{_renew(r)['floor_s']:g} s",
        lambda r: f"{_renew(r)['ratio_dry_run_to_floor']:g}×",
    ),
    Figure(
        "renewal batch, second run for the same date (changes nothing)",
        lambda r: _each(_renew(r)["second_run_s_each"], "s"),
    ),
    Figure(
        "what-if for one changed value",
        lambda r: f"**{_renew(r)['whatif_one_value_s']:g} s** ({_renew(r)['whatif_moved']:,} move)",
        "≤ 10 s",
        10,
        lambda r: _renew(r)["whatif_one_value_s"],
    ),
    Figure(
        "`explain` for one member, in-process",
        lambda r: (
            f"**p50 {_renew(r)['explain_p50_ms']:g} ms, p95 "
            f"{_renew(r)['explain_p95_ms']:g} ms** ({_renew(r)['explain_members']} members, "
            "five schemes)"
        ),
        "≤ 100 ms",
        100,
        lambda r: _renew(r)["explain_p95_ms"],
    ),
    Figure(
        "`python -m core explain` as a process",
        lambda r: (
            f"{_renew(r)['explain_cli_s']:g} s ({_each(_renew(r)['explain_cli_s_each'], 's')})"
        ),
    ),
    Figure(
        "fee dashboard, slowest query over a year",
        lambda r: (
            f"**{max(r['fee_dashboard_ms'].values()):g} ms** "
            f"(fastest {min(r['fee_dashboard_ms'].values()):g})"
        ),
        "≤ 1 s",
        1000,
        lambda r: max(r["fee_dashboard_ms"].values()),
    ),
    Figure(
        "`import payments`, 1M-row payments.csv",
        lambda r: (
            f"**{r['import_payments']['seconds']:g} s** "
            f"({r['import_payments']['cpu_seconds']:g} CPU-s), peak "
            f"{r['import_payments']['peak_rss_mib'] / 1024:.1f} GiB"
        ),
        "≤ 30 s",
        30,
        lambda r: r["import_payments"]["seconds"],
    ),
    Figure(
        "season billing run, SAJ (`bill --season`)",
        lambda r: (
            f"**{r['season_billing']['run_s']:g} s**; second run "
            f"{r['season_billing']['second_run_s']:g} s"
        ),
        "≤ 20 s",
        20,
        lambda r: r["season_billing"]["run_s"],
    ),
    Figure(
        "approver's queue, national (SAJ)",
        lambda r: (
            f"**{_approvals(r)['queue_national']['median_s']:g} s** median "
            f"(max {_approvals(r)['queue_national']['max_s']:g})"
        ),
        "≤ 1 s",
        1,
        lambda r: _approvals(r)["queue_national"]["median_s"],
    ),
    Figure(
        "approver's queue, one prefecture (SAJ-13)",
        lambda r: f"**{_approvals(r)['queue_prefecture_SAJ-13']['median_s']:g} s** median",
        "≤ 1 s",
        1,
        lambda r: _approvals(r)["queue_prefecture_SAJ-13"]["median_s"],
    ),
    Figure(
        "承認待ち page (AppTest: first run / rerun)",
        lambda r: "national **{:g} / {:g} s**, prefecture **{:g} / {:g} s**".format(
            *_approvals(r)["page_national_first_and_rerun_s"],
            *_approvals(r)["page_prefecture_first_and_rerun_s"],
        ),
        "≤ 1 s",
        1,
        lambda r: max(
            _approvals(r)["page_national_first_and_rerun_s"]
            + _approvals(r)["page_prefecture_first_and_rerun_s"]
        ),
    ),
    Figure(
        "approving 10,000 selected applications",
        lambda r: f"**{_approvals(r)['approve_10000_s']:g} s**",
        "≤ 5 s",
        5,
        lambda r: _approvals(r)["approve_10000_s"],
    ),
    Figure(
        "duplicate detection over the whole open intake",
        lambda r: f"**{_approvals(r)['duplicate_detection_all_open_s']:g} s**",
        "≤ 10 s",
        10,
        lambda r: _approvals(r)["duplicate_detection_all_open_s"],
    ),
    Figure(
        "intake of 200,000 applications",
        lambda r: f"{_approvals(r)['intake_route_and_check_s']:g} s",
    ),
    Figure(
        "受講者名簿 reads per course (10,000 courses, 500,000-odd reservations)",
        lambda r: (
            f"**p95 {_courses(r)['roster_page']['product_ms']['p95']:g} ms** "
            f"(p50 {_courses(r)['roster_page']['product_ms']['p50']:g}; "
            f"{_courses(r)['roster_page']['courses']} courses)"
        ),
        "≤ 0.5 s",
        500,
        lambda r: _courses(r)["roster_page"]["product_ms"]["p95"],
        lambda r: f"p95 {_courses(r)['roster_page']['floor_ms']['p95']:g} ms",
    ),
    Figure(
        "opening rush: 5,000 reservations within a minute for 200 seats",
        lambda r: (
            f"**{_courses(r)['rush']['reservations_per_s']:g}/s, p95 "
            f"{_courses(r)['rush']['latency_ms']['p95']:g} ms** "
            f"({_courses(r)['rush']['reserved']} reserved, "
            f"{_courses(r)['rush']['waitlisted']:,} waitlisted, 0 lost, 0 over; "
            f"{_courses(r)['rush']['transactions']} transactions)"
        ),
        "all served within the minute",
        60.5,
        lambda r: _courses(r)["rush"]["seconds"],
        lambda r: f"p95 {_courses(r)['rush']['floor_latency_ms']['p95']:g} ms (bare inserts)",
    ),
    Figure(
        "50 cancellations at once → promotions",
        lambda r: (
            f"**{_courses(r)['rush']['promoted']}** in {_courses(r)['rush']['cancel_seconds']:g} s"
        ),
    ),
    Figure(
        "daily course job over every reservation",
        lambda r: (
            f"**{_courses(r)['daily_job']['seconds']:g} s** "
            f"({_courses(r)['daily_job']['late_forms']:,} late forms, "
            f"{_courses(r)['daily_job']['unpaid']:,} unpaid, "
            f"{_courses(r)['daily_job']['promoted']:,} promoted)"
        ),
        "≤ 10 s",
        10,
        lambda r: _courses(r)["daily_job"]["seconds"],
        lambda r: f"{_courses(r)['daily_job']['floor_seconds']:g} s (finding the work)",
    ),
    Figure(
        "1,000 receipt PDFs",
        lambda r: (
            f"**{r['receipts']['seconds']:g} s**; one by one "
            f"{r['receipts']['one_by_one_ms_each']} ms each"
        ),
        "≤ 30 s",
        30,
        lambda r: r["receipts"]["seconds"],
    ),
    # -- statistics, forecast, audits and exports (bench_stats.py, issue 16) -------------------
    Figure(
        "更新・失効統計, slowest view (3 years of batch history)",
        lambda r: f"**{r['renewal_stats']['slowest_view_ms']:g} ms**",
        "≤ 1 s",
        1000,
        lambda r: r["renewal_stats"]["slowest_view_ms"],
        floor=lambda r: f"{r['renewal_stats']['floor_ms']:g} ms",
    ),
    Figure(
        "forecast computed and kept (once a day)",
        lambda r: f"{r['forecast']['compute_s']:g} s ({r['forecast']['items']:,} due)",
    ),
    Figure(
        "forecast back-test error / its query",
        lambda r: (
            f"{r['forecast']['backtest_error_percent']:g} % / {r['forecast']['backtest_ms']:g} ms"
        ),
    ),
    Figure(
        "data-quality audits, all counts",
        lambda r: f"{r['data_quality']['counts_ms']:g} ms",
    ),
    Figure(
        "`export members` to .xlsx, 1,000,000 rows",
        lambda r: (
            f"**{r['streamed_exports']['members.xlsx']['seconds']:g} s**, peak"
            f" {r['streamed_exports']['members.xlsx']['peak_rss_mib']:,} MiB"
        ),
        "≤ 60 s",
        60,
        lambda r: r["streamed_exports"]["members.xlsx"]["seconds"],
    ),
    Figure(
        "`export activities` to .xlsx refused (over 1,048,575 rows)",
        lambda r: f"{r['streamed_exports']['activities.xlsx refused']['seconds']:g} s",
    ),
    # -- mail and certificates (bench_notify_batch, bench_mail_sender, bench_certificates)
    Figure(
        "renewal batch of 100,000 renewals with their mail and documents",
        lambda r: (
            f"**{median(r['renewal_notify']['product_seconds']):g} s** "
            f"({_each(r['renewal_notify']['product_seconds'], 's')}; "
            f"{r['renewal_notify']['renewals']:,} extended, outbox "
            f"{sum(r['renewal_notify']['outbox'].values()):,}, documents "
            f"{sum(r['renewal_notify']['documents'].values()):,})"
        ),
        "≤ 1.5× floor",
        1.5,
        lambda r: r["renewal_notify"]["ratio"],
        lambda r: (
            f"{median(r['renewal_notify']['floor_seconds']):g} s "
            f"({_each(r['renewal_notify']['floor_seconds'], 's')}; without mail and documents)"
        ),
        lambda r: f"{r['renewal_notify']['ratio']:g}×",
    ),
    Figure(
        "send-mail, 10,000 mails to a loopback SMTP server",
        lambda r: (
            f"**{r['mail_sender']['per_second']:,} per second** "
            f"({r['mail_sender']['seconds']:g} s); killed at "
            f"{r['mail_sender']['killed_after']:,} and started again: lost "
            f"{r['mail_sender']['killed']['lost']}, second messages "
            f"{r['mail_sender']['killed']['second_messages']}, the one in flight again "
            f"{r['mail_sender']['killed']['same_message_again']}"
        ),
        "≥ 100 per second, 0 lost, 0 second messages",
        -100,  # a floor, not a ceiling: the measure is negated, and a lost mail puts it far over
        lambda r: (
            -r["mail_sender"]["per_second"]
            + 10**6
            * (r["mail_sender"]["killed"]["lost"] + r["mail_sender"]["killed"]["second_messages"])
        ),
    ),
    Figure(
        "1,000 certificates as one PDF (a club's batch)",
        lambda r: (
            f"**{r['certificates']['seconds']:g} s** ({r['certificates']['pages']:,} pages, "
            f"{r['certificates']['mb']:g} MB; printed again {r['certificates']['again_seconds']:g} s)"
        ),
        "≤ 20 s",
        20,
        lambda r: r["certificates"]["seconds"],
    ),
    Figure(
        "PostgreSQL: `backup` of the file + `restore` into PostgreSQL + ANALYZE",
        lambda r: (
            f"{_pg(r)['restore']['duckdb_backup_s']:g} + "
            f"**{_pg(r)['restore']['restore_into_postgres_s']:g}** + "
            f"{_pg(r)['restore']['analyze_s']:g} s ({_pg(r)['restore']['rows']:,} rows)"
        ),
    ),
    Figure(
        "PostgreSQL: renewal batch (`batch.run`, in-process)",
        lambda r: (
            f"**{_pg(r)['batch']['postgres_run_s']:g} s** (dry run "
            f"{_pg(r)['batch']['postgres_dry_run_s']:g} s; {_pg(r)['batch']['changed']:,} changed)"
        ),
        "≤ 20 s",
        20,
        lambda r: _pg(r)["batch"]["postgres_run_s"],
        lambda r: (
            f"DuckDB file {_pg(r)['batch']['duckdb_run_s']:g} s "
            f"(dry run {_pg(r)['batch']['duckdb_dry_run_s']:g} s)"
        ),
        lambda r: (
            f"{_pg(r)['batch']['ratio_run']:g}× (dry run {_pg(r)['batch']['ratio_dry_run']:g}×)"
        ),
    ),
    Figure(
        "PostgreSQL: fee dashboard + home page figures, slowest query, read directly",
        lambda r: (
            f"**{_pg(r)['reads']['slowest_ms']['postgres_ms']:g} ms** "
            f"(all {len(_pg(r)['reads']['postgres_ms'])} queries "
            f"{_pg(r)['reads']['sum_ms']['postgres_ms']:g} ms)"
        ),
        "≤ 2 s",
        2000,
        lambda r: _pg(r)["reads"]["slowest_ms"]["postgres_ms"],
        lambda r: f"DuckDB file {_pg(r)['reads']['slowest_ms']['duckdb_ms']:g} ms",
    ),
    Figure(
        "PostgreSQL: the same from a DuckDB snapshot (copy + slowest query)",
        lambda r: (
            f"copy {_each(_pg(r)['reads']['snapshot_s_each'], 's')}; slowest query "
            f"{_pg(r)['reads']['slowest_ms']['copy_ms']:g} ms"
        ),
    ),
    Figure(
        "PostgreSQL: `explain` for one member, in-process",
        lambda r: (
            f"**p50 {_pg(r)['explain']['postgres']['p50_ms']:g} ms, p95 "
            f"{_pg(r)['explain']['postgres']['p95_ms']:g} ms** ({_pg(r)['explain']['members']} "
            "members)"
        ),
        "≤ 100 ms",
        100,
        lambda r: _pg(r)["explain"]["postgres"]["p95_ms"],
        lambda r: (
            f"DuckDB file p50 {_pg(r)['explain']['duckdb']['p50_ms']:g}, "
            f"p95 {_pg(r)['explain']['duckdb']['p95_ms']:g} ms"
        ),
    ),
    Figure(
        "PostgreSQL: `backup` of the 1M database",
        lambda r: (
            f"**{_pg(r)['backup']['seconds']:g} s** ({_pg(r)['backup']['rows']:,} rows, "
            f"{_pg(r)['backup']['folder_mib']:,} MiB), peak "
            f"{_pg(r)['backup']['peak_rss_mib'] / 1024:.1f} GiB"
        ),
    ),
)


def _cell(fn: Callable[[Results], str] | None, results: Results) -> str:
    if fn is None:
        return "—"
    try:
        return fn(results)
    except (KeyError, TypeError, ValueError):
        return "not measured"


def over_target(results: Results) -> list[str]:
    over = []
    for f in FIGURES:
        if f.limit is None or f.measured is None:
            continue
        try:
            if f.measured(results) > f.limit:
                over.append(f.name)
        except (KeyError, TypeError, ValueError):
            continue
    return over


def machine() -> dict[str, str]:
    """Cores, CPU model, RAM and the versions the figures depend on."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")),
        platform.processor() or "unknown",
    )
    meminfo = Path("/proc/meminfo").read_text()
    kib = next(int(ln.split()[1]) for ln in meminfo.splitlines() if ln.startswith("MemTotal:"))
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("duckdb", "polars", "streamlit")
    )
    return {
        "cores": str(os.cpu_count()),
        "cpu": model,
        "ram": f"{kib / 2**20:.1f} GiB",
        "software": f"Python {platform.python_version()}, {versions}",
    }


def data_sizes(path: Path) -> str:
    import duckdb

    tables = ("members", "activities", "qualifications", "billing", "payments", "applications")
    con = duckdb.connect(str(path), read_only=True)
    try:
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}
    finally:
        con.close()
    return ", ".join(f"{n:,} {t}" for t, n in counts.items())


def table(results: Results, started: dt.datetime, load: tuple[float, float], data: str) -> str:
    m = machine()
    lines = [
        f"Date: {started:%Y-%m-%d} (run started {started:%H:%M}, took "
        f"{(dt.datetime.now() - started).total_seconds() / 60:.0f} min)",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['ram']} RAM; {m['software']}",
        f"Load average (1 min) at the start {load[0]:.1f}, at the end {load[1]:.1f}",
        f"Data: {data}",
        "",
        "| figure | product | floor | ratio | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in FIGURES:
        cells = (
            f.name,
            _cell(f.product, results),
            _cell(f.floor, results),
            _cell(f.ratio, results),
            f.target,
        )
        lines.append("| " + " | ".join(cells) + " |")
    over = over_target(results)
    lines += ["", f"Over target in this run: {'; '.join(over) if over else 'none'}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep an existing full.duckdb")
    args = parser.parse_args()
    started = dt.datetime.now()
    load_start = os.getloadavg()[0]
    path = OUT / "full.duckdb"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").unlink(missing_ok=True)  # the table shows this run only
    if not (args.reuse and path.exists()):
        path.unlink(missing_ok=True)
        Path(f"{path}.wal").unlink(missing_ok=True)
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
    failed = []
    for script in SCRIPTS:
        began = time.perf_counter()
        try:
            run_timed([PYTHON, f"bench/{script}", "--db", str(path)])
            print(f"{script}: done in {time.perf_counter() - began:.0f} s", flush=True)
        except RuntimeError as exc:
            failed.append(script)
            print(f"{script}: FAILED after {time.perf_counter() - began:.0f} s\n{exc}", flush=True)
    results = json.loads((OUT / "results.json").read_text())
    text = table(results, started, (load_start, os.getloadavg()[0]), data_sizes(path))
    (OUT / "table.md").write_text(text)
    print(f"\n{text}\n(also in {OUT / 'table.md'}; every number in {OUT / 'results.json'})")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
