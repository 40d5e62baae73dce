"""The renewal batch, the what-if and `explain` at full scale, product and floor in one process.

Usage: python bench/bench_renew.py --db bench/out/full.duckdb [--as-of 2026-12-01]

On a copy of the database (in a temporary folder under bench/out, removed at the end, also on
failure), on one connection in this process:
- the floor: every held qualification of the four schemes that count activities, joined with
  its member's activities of that scheme in its validity period, counted and summed per
  qualification inside DuckDB; only the per-scheme totals (4 rows) come back to Python;
- the product: `batch.run(..., dry_run=True)`, then `batch.run(...)` and a second run for the
  same date, as `python -m core renew` calls them (minus process start).
Checked, not only timed: the first run's counts per scheme and outcome equal the qualifications
and members its audit rows (its batch id) name, the states those rows record are the states
now stored, and a second run for the same date reports nothing but `unchanged`.
Then, on the original file opened read-only: the what-if for one changed value (JPTEC's course
threshold 2 → 3) and `explain` for members of every scheme (member numbers starting J, I, S,
A, T; 50 each), p50/p95 in-process; and `python -m core explain` as a process, once per scheme,
for what start-up adds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
from common import OUT, PYTHON, peak_rss_mib, percentiles, record, run_timed

from core import vocabulary
from core.renewals import batch, whatif
from core.renewals import explain as explanation
from core.store import db, migrations

PREFIXES = {"J": "jptec", "I": "itc", "S": "jspo", "A": "saj", "T": "teacher"}
FLOOR = """
WITH held AS (
    SELECT qualification_id, member_no, scheme,
           coalesce(valid_from, DATE '1900-01-01') AS period_from,
           coalesce(valid_until, $as_of::DATE) AS period_to
    FROM qualifications
    WHERE status IN ('active', 'renewed', 'renewal_open')
      AND scheme IN ('jptec', 'jspo', 'itc', 'teacher')
),
per_qualification AS (
    SELECT h.qualification_id, h.scheme, count(a.date) AS activities,
           coalesce(sum(a.hours), 0) AS hours, coalesce(sum(a.points), 0) AS points
    FROM held h
    LEFT JOIN activities a
        ON a.member_no = h.member_no AND a.scheme = h.scheme
       AND a.date BETWEEN h.period_from AND h.period_to
    GROUP BY h.qualification_id, h.scheme
)
SELECT scheme, count(*) AS qualifications, sum(activities) AS activities,
       sum(hours) AS hours, sum(points) AS points
FROM per_qualification GROUP BY scheme ORDER BY scheme
"""


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def floor(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[tuple[Any, ...]]:
    """The join the batch cannot do without, in DuckDB; checks it covered every qualification."""
    rows = con.execute(FLOOR, {"as_of": as_of}).fetchall()
    held = dict(
        con.execute(
            "SELECT scheme, count(*) FROM qualifications"
            " WHERE status IN ('active', 'renewed', 'renewal_open')"
            " AND scheme IN ('jptec', 'jspo', 'itc', 'teacher') GROUP BY scheme"
        ).fetchall()
    )
    assert {r[0]: r[1] for r in rows} == held, (rows, held)
    assert all(r[2] > 0 for r in rows), rows
    return rows


def changed_by_audit(con: duckdb.DuckDBPyConnection, batch_id: str) -> Counter[tuple[str, str]]:
    """(scheme, outcome) → qualifications and members the batch's audit rows name."""
    outcome_of_label = {d.label: d.outcome for d in vocabulary.DECISIONS.values()}
    rows = con.execute(
        """
        WITH touched AS (
            SELECT a.row_key, any_value(q.scheme) AS scheme,
                   any_value(regexp_extract(a.reason, ': (.*)$', 1)) AS label
            FROM audit_log a
            JOIN qualifications q ON q.qualification_id = TRY_CAST(a.row_key AS BIGINT)
            WHERE a.batch_id = $batch AND a.table_name = 'qualifications'
            GROUP BY a.row_key
        )
        SELECT scheme, label, count(*) FROM touched GROUP BY ALL
        UNION ALL
        SELECT 'saj', $erased, count(DISTINCT member_no) FROM audit_log
        WHERE batch_id = $batch AND table_name = 'members' AND action = 'erase'
        """,
        {"batch": batch_id, "erased": vocabulary.DECISIONS["erase"].label},
    ).fetchall()
    found: Counter[tuple[str, str]] = Counter()
    for scheme, label, n in rows:
        if n:
            found[(scheme, outcome_of_label[label])] += n
    return found


def check_first_run(con: duckdb.DuckDBPyConnection, result: batch.RunResult) -> dict[str, int]:
    """The run changed exactly what its counts say, and the stored states are the audited ones."""
    assert result.batch_id is not None and result.run_id is not None
    said = Counter(
        {
            (c["scheme"], c["outcome"]): c["n"]
            for c in result.counts
            if c["outcome"] != "unchanged" and c["n"]
        }
    )
    audited = changed_by_audit(con, result.batch_id)
    assert said == audited, f"counts {dict(said)} but audit rows {dict(audited)}"
    stale = db.one(
        con,
        """
        SELECT
          (SELECT count(*) FROM audit_log a
           JOIN qualifications q ON q.qualification_id = TRY_CAST(a.row_key AS BIGINT)
           WHERE a.batch_id = $batch AND a.table_name = 'qualifications' AND a.field = 'status'
             AND q.status IS DISTINCT FROM a.new_value),
          (SELECT count(*) FROM audit_log a JOIN members m ON m.member_no = a.member_no
           WHERE a.batch_id = $batch AND a.table_name = 'members' AND m.status <> 'erased'),
          (SELECT count(*) FROM audit_log WHERE batch_id = $batch AND table_name = 'billing'),
          (SELECT count(*) FROM renewal_runs WHERE run_id = $run AND batch_id = $batch)
        """,
        {"batch": result.batch_id, "run": result.run_id},
    )
    assert stale is not None
    assert stale[0] == 0, f"{stale[0]:,} qualifications not in the status their audit row says"
    assert stale[1] == 0, f"{stale[1]:,} members audited as erased are not erased"
    assert stale[3] == 1, "no renewal_runs row for the run"
    return {"changed": sum(said.values()), "fee_lines": int(stale[2])}


def check_second_run(result: batch.RunResult) -> None:
    moved = [c for c in result.counts if c["outcome"] != "unchanged" and c["n"]]
    assert not moved, f"a second run for the same date changed something: {moved}"


def batch_figures(path: Path, as_of: dt.date) -> dict[str, Any]:
    with db.connect(path) as con:
        migrations.migrate(con)
        floors, drys = [], []
        for _ in range(3):  # alternate, so both see the same cache and the same neighbours
            seconds, floor_rows = timed(floor, con, as_of)
            floors.append(seconds)
            seconds, preview = timed(batch.run, con, as_of, dry_run=True)
            drys.append(seconds)
        real, first = timed(batch.run, con, as_of)
        checked = check_first_run(con, first)
        agains = []
        for _ in range(2):
            seconds, second = timed(batch.run, con, as_of)
            check_second_run(second)
            agains.append(seconds)
        seconds, _ = timed(floor, con, as_of)
        floors.append(seconds)
    assert preview.counts == first.counts, "the dry run and the run disagree"
    floor_s = statistics.median(floors)
    return {
        "as_of": as_of.isoformat(),
        "run_s": round(real, 2),
        "dry_run_s": round(statistics.median(drys), 2),
        "dry_run_s_each": [round(t, 2) for t in drys],
        "second_run_s_each": [round(t, 2) for t in agains],
        "floor_s": round(floor_s, 2),
        "floor_s_each": [round(t, 2) for t in floors],
        "floor_rows": [[r[0], r[1], r[2]] for r in floor_rows],
        "ratio_run_to_floor": round(real / floor_s, 1),
        "ratio_dry_run_to_floor": round(statistics.median(drys) / floor_s, 1),
        "peak_rss_mib_after_batch": round(peak_rss_mib()),
        **checked,
        "counts": {f"{c['scheme']} {c['outcome']}": c["n"] for c in first.counts if c["n"]},
    }


def sample(con: duckdb.DuckDBPyConnection, per_scheme: int) -> dict[str, list[str]]:
    """Members of every scheme that take part in it (a qualification or an application)."""
    chosen = {}
    for prefix, scheme in PREFIXES.items():
        rows = con.execute(
            """
            SELECT member_no FROM members m
            WHERE starts_with(member_no, ?) AND status <> 'erased'
              AND (EXISTS (SELECT 1 FROM qualifications q WHERE q.member_no = m.member_no)
                   OR EXISTS (SELECT 1 FROM applications p WHERE p.member_no = m.member_no))
            ORDER BY hash(member_no) LIMIT ?
            """,
            [prefix, per_scheme],
        ).fetchall()
        chosen[scheme] = [r[0] for r in rows]
        assert len(chosen[scheme]) == per_scheme, (scheme, len(chosen[scheme]))
    return chosen


def read_figures(path: Path, as_of: dt.date, per_scheme: int) -> tuple[dict[str, Any], list[str]]:
    with db.connect(path, read_only=True) as con:
        what_if_s, compared = timed(
            whatif.compare, con, as_of, {"jptec.instructor.min_courses_taught": 3}
        )
        assert compared.transitions.height > 0
        members = sample(con, per_scheme)
        explanation.explain(con, members["jptec"][0], as_of)  # first call: queries read, parsed
        timings: dict[str, list[float]] = {}
        explained = requirements = 0
        for scheme, numbers in members.items():
            for member_no in numbers:
                seconds, result = timed(explanation.explain, con, member_no, as_of)
                timings.setdefault(scheme, []).append(seconds * 1000)
                assert result["member_no"] == member_no
                explained += len(result["qualifications"])
                requirements += sum(len(q["requirements"]) for q in result["qualifications"])
    every = [t for ts in timings.values() for t in ts]
    assert explained >= len(every), f"{explained} qualifications for {len(every)} members"
    overall = percentiles(every)
    figures = {
        "whatif_one_value_s": round(what_if_s, 2),
        "whatif_moved": compared.moved,
        "explain_members": len(every),
        "explain_qualifications": explained,
        "explain_requirements": requirements,
        "explain_p50_ms": overall["p50"],
        "explain_p95_ms": overall["p95"],
        "explain_max_ms": overall["max"],
        "explain_by_scheme_ms": {s: percentiles(ts) for s, ts in timings.items()},
    }
    return figures, [numbers[0] for numbers in members.values()]


def cli_explain(path: Path, as_of: dt.date, members: list[str]) -> dict[str, Any]:
    """`python -m core explain` as staff run it: a process per member."""
    seconds = []
    for member_no in members:
        elapsed, _, output = run_timed(
            [PYTHON, "-m", "core", "explain", "--member", member_no, "--as-of", as_of.isoformat(),
             "--json", "--db", str(path)]
        )  # fmt: skip
        assert json.loads(output)["member_no"] == member_no, output
        seconds.append(elapsed)
    return {
        "explain_cli_s": round(statistics.median(seconds), 2),
        "explain_cli_s_each": [round(t, 2) for t in seconds],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--per-scheme", type=int, default=50, help="explain: members per scheme")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT, prefix="renew-") as tmp:
        copy = Path(tmp) / "renew.duckdb"
        shutil.copyfile(args.db, copy)
        figures = batch_figures(copy, args.as_of)
        read, one_per_scheme = read_figures(args.db, args.as_of, args.per_scheme)
        cli = cli_explain(copy, args.as_of, one_per_scheme)
    record("renewal_batch", {**figures, **read, **cli})


if __name__ == "__main__":
    main()
