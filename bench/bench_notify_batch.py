"""The renewal batch with and without its mail and documents, 100,000 renewals, in one process.

Usage: python bench/bench_notify_batch.py --db bench/out/full.duckdb [--as-of 2026-12-01]

On a copy of the database (a temporary folder under bench/out, removed at the end, also on
failure) the scenario is prepared once: 100,000 JPTEC provider qualifications (active ones
first, then lapsed ones made active) end 30 days after the date, each with a renewal course
10 days before it, so the batch extends every one of them (no fee: each gets its 更新完了 mail
and its 認定証 at once) beside what it does anyway (instructors' 「会費納入」 with their fee,
lapses, erasures …). Then, alternating and each on a fresh copy of the prepared file:
- the floor: `batch.run(con, day, notify=False)` — the same decisions, states, fees and audit
  rows, without outbox rows and documents;
- the product: `batch.run(con, day)` — the same, and the mail and documents in the same
  transaction.
Checked: both runs report the same counts; the product's outbox holds one 更新完了 per provider
extended and one 「会費納入」 per member billed by the run (its batch id), the documents one
認定証 per provider extended; the floor wrote none. Target: product ≤ 1.5 × floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from common import OUT, record

from core.renewals import batch
from core.store import db

RENEWALS = 100_000


def prepare(path: Path, as_of: dt.date) -> int:
    with db.connect(path) as con:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE chosen AS
            SELECT qualification_id, member_no FROM qualifications
            WHERE scheme = 'jptec' AND qualification = 'provider' AND status IN ('active', 'lapsed')
            ORDER BY status = 'active' DESC, hash(qualification_id) LIMIT $n
            """,
            {"n": RENEWALS},
        )
        con.execute(
            "UPDATE qualifications SET status = 'active', valid_from = $on - INTERVAL 3 YEAR,"
            " valid_until = $on + 30 WHERE qualification_id IN (SELECT qualification_id FROM chosen)",
            {"on": as_of},
        )
        con.execute(
            "UPDATE members SET status = 'active' WHERE member_no IN (SELECT member_no FROM chosen)"
        )
        con.execute(
            "INSERT INTO activities (member_no, scheme, kind, date)"
            " SELECT member_no, 'jptec', 'renewal_course', $on - 10 FROM chosen",
            {"on": as_of},
        )
        con.execute("CHECKPOINT")
        row = db.one(con, "SELECT count(*) FROM chosen")
    return int(row[0]) if row else 0


def once(prepared: Path, folder: Path, as_of: dt.date, notify: bool) -> dict[str, object]:
    path = folder / f"run-{notify}.duckdb"
    shutil.copyfile(prepared, path)
    try:
        with db.connect(path) as con:
            started = time.perf_counter()
            result = batch.run(con, as_of, notify=notify, actor="bench")
            seconds = time.perf_counter() - started
            found = dict(
                con.execute(
                    "SELECT event, count(*) FROM outbox WHERE batch_id = ? GROUP BY event",
                    [result.batch_id],
                ).fetchall()
            )
            documents = dict(
                con.execute(
                    "SELECT kind, count(*) FROM documents WHERE batch_id = ? GROUP BY kind",
                    [result.batch_id],
                ).fetchall()
            )
            providers = db.one(
                con,
                "SELECT count(*) FROM audit_log WHERE batch_id = ? AND field = 'status'"
                " AND new_value = 'renewed' AND row_key IN (SELECT qualification_id::VARCHAR"
                " FROM qualifications WHERE qualification = 'provider')",
                [result.batch_id],
            )
            billed = db.one(  # members billed by the run in schemes that mail 「会費納入」
                con,
                "SELECT count(DISTINCT (b.member_no, b.scheme)) FROM audit_log a"
                " JOIN billing b ON b.billing_id::VARCHAR = a.row_key"
                " WHERE a.batch_id = ? AND a.table_name = 'billing' AND b.scheme IN ('jptec', 'itc')",
                [result.batch_id],
            )
    finally:
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
    return {
        "seconds": seconds,
        "counts": result.counts,
        "outbox": found,
        "documents": documents,
        "providers_extended": int(providers[0]) if providers else 0,
        "members_billed": int(billed[0]) if billed else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 12, 1))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        folder = Path(tmp)
        prepared = folder / "prepared.duckdb"
        shutil.copyfile(args.db, prepared)
        chosen = prepare(prepared, args.as_of)
        assert chosen == RENEWALS, f"only {chosen} providers to renew"
        floors, products = [], []
        for _ in range(args.rounds):
            floors.append(once(prepared, folder, args.as_of, notify=False))
            products.append(once(prepared, folder, args.as_of, notify=True))
    for run in floors:
        assert run["outbox"] == {} and run["documents"] == {}, "the floor wrote mail"
        assert run["counts"] == products[0]["counts"]
    for run in products:
        assert run["counts"] == floors[0]["counts"]
        assert run["providers_extended"] >= RENEWALS
        assert run["outbox"].get("renewal_complete") == run["providers_extended"], run
        assert run["outbox"].get("fee_opened") == run["members_billed"], run
        # every provider's certificate, and the documents the same members had earned before
        assert run["documents"].get("certificate", 0) >= run["providers_extended"], run
    product = statistics.median(r["seconds"] for r in products)
    floor = statistics.median(r["seconds"] for r in floors)
    extended = sum(c["n"] for c in products[0]["counts"] if c["outcome"] == "extended")
    changed = sum(c["n"] for c in products[0]["counts"] if c["outcome"] != "unchanged")
    record(
        "renewal_notify",
        {
            "renewals": extended,
            "changed": changed,
            "product_seconds": [round(r["seconds"], 2) for r in products],
            "floor_seconds": [round(r["seconds"], 2) for r in floors],
            "ratio": round(product / floor, 2),
            "outbox": products[0]["outbox"],
            "documents": products[0]["documents"],
        },
    )


if __name__ == "__main__":
    main()
