"""PostgreSQL as the store at full scale, against the same work on the DuckDB file.

Usage: python bench/bench_postgres.py --db bench/out/full.duckdb [--as-of 2026-12-01]

Starts a PostgreSQL server of its own (tests/postgres_server.Server: Debian's binaries, a
cluster in /tmp, a free loopback port; stopped at the end, also on failure), sized as a
deployment would size it (shared_buffers 4 GB, work_mem 64 MB), then:
1. gets the full DuckDB database into PostgreSQL the way a deployment would: `python -m core
   backup` of the file, `python -m core restore FOLDER --db postgresql://…` into an empty
   database, then `ANALYZE` (each timed);
2. the renewal batch (`batch.run`, dry run then the real run) on a copy of each: the file
   copied, the PostgreSQL database copied with CREATE DATABASE … TEMPLATE. Checked: the
   counts per scheme and outcome equal on both engines, the dry run's equal the run's, and
   on PostgreSQL the run's audit rows and stored states match its counts (bench_renew's
   check, read from a snapshot of the PostgreSQL tables);
3. the fee dashboard queries (as bench_fees.py) and the home page figures
   (core.stats.overview), whole population, slowest of 3 runs each, read from PostgreSQL
   directly, from the DuckDB file, and from an in-memory DuckDB copy of the PostgreSQL
   tables they read, with the time `transfer.snapshot` takes to make that copy. Checked: the
   three give the same answers;
4. `explain` for 50 members of each scheme, in-process, on both engines (same members, same
   number of qualifications explained);
5. `python -m core backup` of the PostgreSQL database: time, and its row counts equal the
   file's.
The backup folders and database copies are removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from bench_renew import check_first_run, sample
from common import OUT, PYTHON, ROOT, percentiles, record, run_timed

sys.path.insert(0, str(ROOT / "tests"))
from postgres_server import Server

from core.billing import fees
from core.config.settings import SCHEME_CODES
from core.renewals import batch
from core.renewals import explain as explanation
from core.stats import overview
from core.store import db, queries, transfer

TUNING = {  # a deployment's sizing for this machine (24 GiB), not the 128 MB default
    "shared_buffers": "4GB",
    "effective_cache_size": "12GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "1GB",
}
# what the fee dashboard and the home page figures read (checked: the copy answers as
# PostgreSQL does)
READ_TABLES = frozenset({"billing", "members", "organizations", "payments", "qualifications"})
Query = Callable[[Any], Any]


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def load() -> float:
    return round(os.getloadavg()[0], 1)


def start_server() -> Server:
    server = Server()
    try:
        with server.admin() as con:
            for name, value in TUNING.items():
                con.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        server._run(
            str(server.bin / "pg_ctl"),
            "-D",
            str(server.data),
            "-l",
            str(server.folder / "server.log"),
            "-w",
            "restart",
        )  # (-l: else the server keeps our pipe open and run() waits for ever)
    except BaseException:
        server.stop()
        raise
    return server


def into_postgres(server: Server, path: Path, folder: Path) -> tuple[str, dict[str, Any]]:
    """The file → a backup folder → a new PostgreSQL database, as a deployment would."""
    backup_s, _, _ = run_timed(
        [PYTHON, "-m", "core", "backup", "--db", str(path), "--out", str(folder)]
    )
    url = server.create("full")
    restore_s, restore_rss, output = run_timed(
        [PYTHON, "-m", "core", "restore", str(folder), "--db", url]
    )
    with psycopg.connect(url, autocommit=True) as con:
        analyze_s, _ = timed(con.execute, "ANALYZE")
        row = con.execute("SELECT pg_database_size(current_database())").fetchone()
    assert row is not None
    size = row[0]
    counts = json.loads((folder / "manifest.json").read_text())["counts"]
    return url, {
        "duckdb_backup_s": round(backup_s, 1),
        "restore_into_postgres_s": round(restore_s, 1),
        "restore_peak_rss_mib": round(restore_rss),
        "analyze_s": round(analyze_s, 1),
        "postgres_database_gib": round(size / 2**30, 2),
        "rows": sum(counts.values()),
        "output": output.strip(),
    }


def counts_of(result: batch.RunResult) -> dict[str, int]:
    return {f"{c['scheme']} {c['outcome']}": c["n"] for c in result.counts if c["n"]}


def batch_on(con: Any, as_of: dt.date) -> dict[str, Any]:
    dry_s, preview = timed(batch.run, con, as_of, dry_run=True)
    run_s, first = timed(batch.run, con, as_of)
    assert preview.counts == first.counts, "the dry run and the run disagree"
    return {"dry_run_s": dry_s, "run_s": run_s, "result": first}


def batch_figures(server: Server, path: Path, as_of: dt.date, tmp: Path) -> dict[str, Any]:
    copy = tmp / "batch.duckdb"
    shutil.copyfile(path, copy)
    with db.connect(copy) as con:
        duck = batch_on(con, as_of)
        check_first_run(con, duck["result"])
    copy.unlink()
    url = server.create("batch", template="full")
    try:
        with db.connect(url) as con:
            statements = [
                queries.query("renewals", batch._scheme(code).renewal_relation)
                for code in SCHEME_CODES
            ]
            read = set().union(*map(transfer.tables_read, statements))
            started = time.perf_counter()
            with transfer.snapshot(con, read):
                snapshot_s = time.perf_counter() - started
            pg = batch_on(con, as_of)
            result = pg["result"]
            audited = {"audit_log", "qualifications", "members", "renewal_runs"}
            with transfer.snapshot(con, audited) as copied:
                checked = check_first_run(copied, result)
            direct = db.one(
                con, "SELECT count(*) FROM audit_log WHERE batch_id = ?", [result.batch_id]
            )
            assert direct is not None and direct[0] > 0
    finally:
        server.drop("batch")
    assert counts_of(pg["result"]) == counts_of(duck["result"]), (
        f"PostgreSQL {counts_of(pg['result'])} but DuckDB {counts_of(duck['result'])}"
    )
    return {
        "as_of": as_of.isoformat(),
        "duckdb_dry_run_s": round(duck["dry_run_s"], 2),
        "duckdb_run_s": round(duck["run_s"], 2),
        "postgres_dry_run_s": round(pg["dry_run_s"], 2),
        "postgres_run_s": round(pg["run_s"], 2),
        "ratio_dry_run": round(pg["dry_run_s"] / duck["dry_run_s"], 1),
        "ratio_run": round(pg["run_s"] / duck["run_s"], 1),
        "postgres_snapshot_of_rule_tables_s": round(snapshot_s, 2),
        "rule_tables": sorted(read),
        "postgres_audit_rows": int(direct[0]),
        **checked,
        "counts": counts_of(result),
    }


def read_queries(as_of: dt.date) -> dict[str, Query]:
    period = fees.Period(as_of - dt.timedelta(days=365), as_of, SCHEME_CODES)
    return {
        "income_by_month": lambda con: fees.income_by_month(con, "*", period),
        "collection_rate": lambda con: fees.collection_rate(con, "*", period),
        "outstanding": lambda con: fees.outstanding(con, "*", period, as_of),
        **{
            f"income_by_{name}": (lambda con, name=name: fees.income_by(con, "*", period, name))
            for name in fees.DIMENSIONS
        },
        "home_workload": lambda con: overview.workload(con, "*", as_of),
        "home_member_counts": lambda con: overview.member_counts(con, "*"),
        "home_qualification_counts": lambda con: overview.qualification_counts(con, "*"),
    }


def comparable(answer: Any) -> Any:
    """An answer with numbers as rounded floats and rows in order, to compare engines."""
    if isinstance(answer, dict):
        return {k: round(float(v), 2) for k, v in answer.items()}
    rows = [
        tuple(
            round(float(v), 2) if isinstance(v, int | float) or hasattr(v, "is_finite") else v
            for v in row
        )
        for row in answer.rows()
    ]
    return sorted(rows, key=repr)


def slowest(con: Any, query: Query) -> tuple[float, Any]:
    times, answer = [], None
    for _ in range(3):
        seconds, answer = timed(query, con)
        times.append(seconds * 1000)
    return round(max(times), 1), answer


def read_figures(url: str, path: Path, as_of: dt.date) -> dict[str, Any]:
    chosen = read_queries(as_of)
    figures: dict[str, dict[str, float]] = {"postgres_ms": {}, "duckdb_ms": {}, "copy_ms": {}}
    answers: dict[str, dict[str, Any]] = {"postgres_ms": {}, "duckdb_ms": {}, "copy_ms": {}}
    with db.connect(path, read_only=True) as con:
        for name, query in chosen.items():
            figures["duckdb_ms"][name], answers["duckdb_ms"][name] = slowest(con, query)
    snapshots = []
    with db.connect(url) as con:
        for name, query in chosen.items():
            figures["postgres_ms"][name], answers["postgres_ms"][name] = slowest(con, query)
        for _ in range(2):
            started = time.perf_counter()
            with transfer.snapshot(con, READ_TABLES) as copy:
                snapshots.append(time.perf_counter() - started)
                for name, query in chosen.items():
                    figures["copy_ms"][name], answers["copy_ms"][name] = slowest(copy, query)
    for engine in ("postgres_ms", "copy_ms"):
        for name in chosen:
            assert comparable(answers[engine][name]) == comparable(answers["duckdb_ms"][name]), (
                f"{name}: {engine} answers differently from the DuckDB file"
            )
    return {
        **figures,
        "slowest_ms": {k: max(v.values()) for k, v in figures.items()},
        "sum_ms": {k: round(sum(v.values()), 1) for k, v in figures.items()},
        "snapshot_s_each": [round(s, 1) for s in snapshots],
        "snapshot_tables": sorted(READ_TABLES),
    }


def explain_figures(url: str, path: Path, as_of: dt.date, per_scheme: int) -> dict[str, Any]:
    with db.connect(path, read_only=True) as con:
        members = sample(con, per_scheme)
    every = [m for numbers in members.values() for m in numbers]
    out: dict[str, Any] = {"members": len(every)}
    explained = {}
    for engine, target in (("duckdb", path), ("postgres", url)):
        with db.connect(target, read_only=True) if engine == "duckdb" else db.connect(url) as con:
            explanation.explain(con, every[0], as_of)  # first call: queries read, translated
            times: dict[str, list[float]] = {}
            found = {}
            for scheme, numbers in members.items():
                for member_no in numbers:
                    seconds, result = timed(explanation.explain, con, member_no, as_of)
                    times.setdefault(scheme, []).append(seconds * 1000)
                    assert result["member_no"] == member_no
                    found[member_no] = [
                        (q["qualification"], len(q["requirements"]))
                        for q in result["qualifications"]
                    ]
        explained[engine] = found
        overall = percentiles([t for ts in times.values() for t in ts])
        out[engine] = {
            "p50_ms": overall["p50"],
            "p95_ms": overall["p95"],
            "max_ms": overall["max"],
            "by_scheme_ms": {s: percentiles(ts) for s, ts in times.items()},
        }
    assert explained["postgres"] == explained["duckdb"], "explain differs between the engines"
    out["qualifications"] = sum(len(v) for v in explained["postgres"].values())
    return out


def backup_figures(url: str, source: Path, folder: Path) -> dict[str, Any]:
    seconds, peak, _ = run_timed(
        [PYTHON, "-m", "core", "backup", "--db", url, "--out", str(folder)]
    )
    made = json.loads((folder / "manifest.json").read_text())["counts"]
    file = json.loads((source / "manifest.json").read_text())["counts"]
    made = {t: n for t, n in made.items() if t not in transfer.KEEP}
    file = {t: n for t, n in file.items() if t not in transfer.KEEP}
    assert made == file, f"the PostgreSQL backup holds {made}, the file {file}"
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return {
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(peak),
        "rows": sum(made.values()),
        "folder_mib": round(size / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--per-scheme", type=int, default=50, help="explain: members per scheme")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {"load_at_start": load()}

    def keep(name: str, values: dict[str, Any]) -> None:
        figures[name] = {**values, "load_after": load()}
        record("postgres", figures)  # after each part, so a later failure keeps the earlier

    server = start_server()
    try:
        with tempfile.TemporaryDirectory(dir=OUT, prefix="postgres-") as tmp:
            source = Path(tmp) / "from-duckdb"
            url, restored = into_postgres(server, args.db, source)
            keep("restore", restored)
            keep("batch", batch_figures(server, args.db, args.as_of, Path(tmp)))
            keep("reads", read_figures(url, args.db, args.as_of))
            keep("explain", explain_figures(url, args.db, args.as_of, args.per_scheme))
            keep("backup", backup_figures(url, source, Path(tmp) / "from-postgres"))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
