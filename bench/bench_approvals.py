"""Approval queues at full scale: 200,000 pending applications over 1,000,000 members.

On a copy of the full database (the source is never modified): 200,000 SAJ members apply for
the next season (a tenth through their club, 1 % twice), routed by `routing.start`; about
half are then approved one or two levels on. Measured:
- intake: routing + history + intake checks of the 200,000 in one transaction;
- duplicate detection over the whole open intake (`intake.refresh(everything=True)`);
- an approver's queue: `queue.queue` for the national body (every SAJ application at
  SAJ's level) and for one prefectural federation, then the page itself with AppTest (second
  run, as an approver sees it after filtering);
- approving 10,000 selected applications at once (`approvals.approve`), one transaction.

    .venv/bin/python bench/bench_approvals.py [--db bench/out/full.duckdb]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl
from common import OUT, record

from core.access import users
from core.applications import approvals, intake, queue, routing
from core.store import db, migrations

PENDING = 200_000
APPROVE = 10_000
NOW = dt.datetime(2026, 11, 24, 12, 0)


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def build_intake(con) -> float:
    con.execute(
        """
        INSERT INTO applications (application_ref, member_no, scheme, kind, season, submitted_at,
                                  proxy_org_code, entered_by, note)
        WITH saj AS (
            SELECT m.member_no, m.org_code FROM members m
            JOIN organizations o USING (org_code)
            WHERE o.root_code = 'SAJ' AND m.status = 'active'
            ORDER BY hash(m.member_no) LIMIT $n
        )
        SELECT 'BENCH-' || member_no, member_no, 'saj', 'season_registration', 2027,
               $now::TIMESTAMP - to_minutes((hash(member_no) % (10 * 24 * 60))::BIGINT),
               CASE WHEN hash(member_no || 'p') % 10 = 0 THEN org_code END,
               CASE WHEN hash(member_no || 'p') % 10 = 0 THEN 'proxy' ELSE 'member' END, 'bench'
        FROM saj
        UNION ALL
        SELECT 'BENCH-DUP-' || member_no, member_no, 'saj', 'season_registration', 2027,
               $now::TIMESTAMP - INTERVAL 1 HOUR, org_code, 'proxy', 'bench'
        FROM saj WHERE hash(member_no || 'd') % 100 = 0
        """,
        {"n": PENDING, "now": NOW},
    )
    ids = db.frame(con, "SELECT application_id FROM applications WHERE note = 'bench'")
    seconds, _ = timed(_route, con, ids)
    return seconds


def _route(con, ids: pl.DataFrame) -> None:
    with db.transaction(con):
        routing.start(con, ids, actor="bench", now=NOW)


def climb(con) -> None:
    """Half move one level, a quarter two, so every level has a queue."""
    for step, share in ((1, 2), (2, 4)):
        moving = db.frame(
            con,
            "SELECT application_id FROM applications WHERE note = 'bench'"
            " AND status = 'pending' AND hash(application_id) % $share = 0",
            {"share": share},
        )
        with db.transaction(con):
            approvals.advance(con, moving, actor="bench", now=NOW - dt.timedelta(hours=48 - step))


def queue_times(con, role: str, scope: str, runs: int = 7) -> dict[str, object]:
    seconds = []
    for _ in range(runs):
        elapsed, (rows, counts) = timed(queue.queue, con, role=role, scope=scope, now=NOW)
        seconds.append(elapsed)
    return {
        "queue_total": counts["total"],
        "rows_shown": rows.height,
        "median_s": round(statistics.median(seconds), 3),
        "max_s": round(max(seconds), 3),
    }


def page_time(path: Path, username: str) -> tuple[float, float]:
    """The 承認待ち page for an approver rendered by AppTest: its first run after log-in (a
    fresh process: business calendar and caches cold) and a second run."""
    import os

    from streamlit.testing.v1 import AppTest

    os.environ[db.DB_ENV] = str(path)
    at = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120
    )
    at.run()
    at.text_input[0].input(username)
    at.text_input[1].input("bench-pass-123")
    at.button[0].click()
    at.run()
    at.switch_page("views/approval_queue.py")
    first, _ = timed(at.run)
    assert not at.exception, at.exception
    again, _ = timed(at.run)
    assert not at.exception, at.exception
    return first, again


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        path = Path(tmp) / "approvals.duckdb"
        shutil.copy(args.db, path)
        with db.connect(path) as con:
            migrations.migrate(con)
            for username, scope in (("bench_saj", "SAJ"), ("bench_pref", "SAJ-13")):
                if users.get(con, username) is None:
                    users.create(con, username=username, display_name=username,
                                 role="approver", org_code=scope, password="bench-pass-123",
                                 email=None, actor="bench")  # fmt: skip
            intake = build_intake(con)
            checks, _ = timed(_refresh_all, con)
            climb(con)
            national = queue_times(con, "approver", "SAJ")
            prefecture = queue_times(con, "approver", "SAJ-13")
            rows, _ = queue.queue(con, role="approver", scope="SAJ", now=NOW, limit=None)
            chosen = list(
                zip(rows["application_id"][:APPROVE], rows["version"][:APPROVE], strict=True)
            )
            approve_s, done = timed(
                approvals.approve, con, chosen, role="approver", scope="SAJ", actor="bench",
                now=NOW,
            )  # fmt: skip
            moved = done.get("advanced", 0) + done.get("approved", 0)
            assert moved == len(chosen) == APPROVE, (done, len(chosen))
            pending = db.one(con, "SELECT count(*) FROM applications WHERE status = 'pending'")
            flagged = db.one(
                con,
                "SELECT count(*) FILTER (WHERE duplicate_of IS NOT NULL),"
                " count(*) FILTER (WHERE address_problem IS NOT NULL) FROM applications"
                " WHERE note = 'bench'",
            )
        page_national = page_time(path, "bench_saj")
        page_prefecture = page_time(path, "bench_pref")
    record(
        "approvals",
        {
            "pending_after": pending[0] if pending else None,
            "intake_route_and_check_s": round(intake, 2),
            "duplicate_detection_all_open_s": round(checks, 2),
            "flagged_duplicate_address": list(flagged) if flagged else None,
            "queue_national": national,
            "queue_prefecture_SAJ-13": prefecture,
            "page_national_first_and_rerun_s": [round(t, 2) for t in page_national],
            "page_prefecture_first_and_rerun_s": [round(t, 2) for t in page_prefecture],
            "approve_10000_s": round(approve_s, 2),
            "approve_result": done,
        },
    )


def _refresh_all(con) -> int:
    with db.transaction(con):
        return intake.refresh(con, everything=True)


if __name__ == "__main__":
    main()
