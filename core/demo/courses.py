"""Courses for the demo, built after the members: JPTEC provider renewal courses and JSPO
mandatory trainings around today, one course per ``MEMBERS_PER_COURSE`` members.

Courses held from ``PAST_DAYS`` ago to ``AHEAD_DAYS`` ahead, each recruiting from 60 days to 10
days before it (a few JSPO trainings with an extra period); reservations from the scheme's
holders of the qualification (JSPO: of the training's licence), a rush in the first minutes
of recruitment and a trickle after, demand between 0.55 and 1.7 times the
seats — so some courses are full with people waiting and some have seats free. They go
through the product's own rules and seat allocation (core.courses.enrolment.admit, refused
requests left out), a few are cancelled (promoting the first waiting), and courses held at
least ``RESULTS_AFTER_DAYS`` ago have their attendance and scores, whose completions become
activities as in the app. The last week's courses (at least ``RECENT_COURSES`` of them, held
on one of the days before today) wait for their results: work for staff.
Deterministic for a seed (enrolment and activity ids included).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import numpy as np
import polars as pl

from core import config
from core.courses import changes, enrolment, results
from core.store import db
from core.store.db import transaction

MEMBERS_PER_COURSE = 100
PAST_DAYS, AHEAD_DAYS = 150, 100
RESULTS_AFTER_DAYS = 7
RECENT_COURSES = 2
ACTOR = "cli:demo"
LECTURERS = ("佐藤 誠", "鈴木 恵子", "高橋 修", "田中 由美", "伊藤 健一", "渡辺 直子", "山本 剛",
             "中村 真理", "小林 隆", "加藤 陽子", "吉田 浩二", "山田 美穂")  # fmt: skip
KINDS: dict[str, dict[str, Any]] = {
    "jptec": {
        "prefix": "JP",
        "title": "JPTECプロバイダー更新コース",
        "venues": ("救命救急センター 研修室", "消防学校 講堂", "総合病院 講義室"),
        "capacity": (24, 32, 40),
        "hours": 7,
        "times": (dt.time(9), dt.time(17)),
        "notes": "筆記用具、動きやすい服装、JPTECガイドブック",
    },
    "jspo": {
        "prefix": "JSPO",
        "title": "義務研修",
        "venues": ("総合体育館 会議室", "スポーツ会館 研修室", "県民会館 大会議室"),
        "capacity": (40, 60, 80, 100),
        "hours": 3,
        "times": (dt.time(13), dt.time(16)),
        "notes": "筆記用具、公認スポーツ指導者登録証",
    },
}


def _courses(rng: np.random.Generator, cfg: config.Config, n: int, today: dt.date,
             prefectures: list[str]) -> pl.DataFrame:  # fmt: skip
    licences: dict[str, str] = dict(cfg.value("jspo.qualifications", on=today))
    rows = []
    recent = max(RECENT_COURSES, n // 50)  # a fiftieth is what the spread gives at scale
    offsets = np.sort(np.concatenate([rng.integers(1 - RESULTS_AFTER_DAYS, 0, recent),
                                      rng.integers(-PAST_DAYS, AHEAD_DAYS, n - recent)]))  # fmt: skip
    schemes = np.where(rng.random(n) < 0.4, "jptec", "jspo")
    for k, (offset, scheme) in enumerate(zip(offsets, schemes, strict=True), start=1):
        kind = KINDS[str(scheme)]
        held = today + dt.timedelta(days=int(offset))
        prefecture = prefectures[int(rng.integers(0, len(prefectures)))]
        licence = str(rng.choice(list(licences))) if scheme == "jspo" else None
        extra = scheme == "jspo" and rng.random() < 0.2
        rows.append({
            "course_code": f"{kind['prefix']}{held:%y%m}-{k:05d}",
            "scheme": str(scheme),
            "title": f"{licences[licence]}{kind['title']}（{prefecture}）" if licence
            else f"{kind['title']}（{prefecture}）",
            "held_on": held, "hours": kind["hours"],
            "qualification": licence,
            "capacity": int(rng.choice(kind["capacity"])),
            "starts_at": kind["times"][0], "ends_at": kind["times"][1],
            "venue": f"{prefecture} {rng.choice(kind['venues'])}",
            "lecturer": str(rng.choice(LECTURERS)), "notes": kind["notes"],
            "recruit_from": dt.datetime.combine(held - dt.timedelta(days=60), dt.time(9)),
            "recruit_until": dt.datetime.combine(held - dt.timedelta(days=10), dt.time(17)),
            "extra_from": dt.datetime.combine(held - dt.timedelta(days=9), dt.time(9)) if extra else None,
            "extra_until": dt.datetime.combine(held - dt.timedelta(days=3), dt.time(17)) if extra else None,
        })  # fmt: skip
    # typed even when no course has an extra period (a column of None alone has no type)
    moments = ("recruit_from", "recruit_until", "extra_from", "extra_until")
    return pl.DataFrame(rows, schema_overrides={c: pl.Datetime("us") for c in moments})


def _requests(rng: np.random.Generator, con: duckdb.DuckDBPyConnection, courses: pl.DataFrame,
              now: dt.datetime) -> pl.DataFrame:  # fmt: skip
    """Reservations asked for: who, which course, when (a rush at the opening, then a trickle)."""
    holders = db.frame(
        con,
        "SELECT member_no, scheme, qualification FROM qualifications"
        " WHERE scheme IN ('jptec', 'jspo') AND status IN ('active', 'renewed', 'renewal_open')"
        " AND (scheme = 'jspo' OR qualification = 'provider') ORDER BY member_no, qualification",
    )
    pools = {key: frame["member_no"].to_numpy() for key, frame in
             holders.partition_by("scheme", "qualification", as_dict=True).items()}  # fmt: skip
    parts = []
    for course in courses.filter(pl.col("recruit_from") < now).iter_rows(named=True):
        key = (course["scheme"], course["qualification"] or "provider")
        pool = pools.get(key)
        if pool is None or pool.size == 0:
            continue
        wanted = min(int(course["capacity"] * rng.uniform(0.55, 1.7)), pool.size)
        who = rng.choice(pool, wanted, replace=False)
        rush = rng.random(wanted) < 0.45
        seconds = np.where(rush, rng.uniform(0, 1800, wanted), rng.exponential(5 * 86400, wanted))
        last = min(course["recruit_until"], now - dt.timedelta(minutes=1))
        span = (last - course["recruit_from"]).total_seconds()
        at = [course["recruit_from"] + dt.timedelta(seconds=float(min(s, span))) for s in seconds]
        parts.append(pl.DataFrame({"member_no": who, "course_code": course["course_code"],
                                   "reserved_at": at}))  # fmt: skip
    if not parts:
        return enrolment.requests_frame([])
    frame = pl.concat(parts).sort("reserved_at", "course_code", "member_no")
    return frame.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("line"), "member_no", "course_code",
        pl.col("reserved_at").dt.truncate("1s"), pl.lit(True).alias("check_period"),
        pl.lit(None, dtype=pl.Date).alias("form_received_on"),
        pl.lit(None, dtype=pl.Int64).alias("transferred_from"),
        pl.lit(None, dtype=pl.String).alias("actor"),
    ).cast(enrolment.REQUESTS)  # fmt: skip


def _results(rng: np.random.Generator, con: duckdb.DuckDBPyConnection, today: dt.date) -> list[str]:
    """Attendance and scores of the courses held at least RESULTS_AFTER_DAYS ago."""
    seated = db.frame(
        con,
        "SELECT e.enrolment_id, e.course_code, c.scheme, c.held_on FROM enrolments e"
        " JOIN courses c USING (course_code) WHERE e.status = 'reserved' AND c.held_on <= ?"
        " ORDER BY e.enrolment_id",
        [today - dt.timedelta(days=RESULTS_AFTER_DAYS)],
    )
    n = seated.height
    absent = rng.random(n) < 0.04
    late = np.where(~absent & (rng.random(n) < 0.08), rng.integers(3, 46, n), 0)
    scores = np.clip(rng.normal(78, 11, n).round(), 20, 100).astype(np.int64)
    sat = ~absent & (late <= 30) & (seated["scheme"] == "jptec").to_numpy()
    attendance = seated.select(
        "enrolment_id",
        pl.Series(np.where(absent, "absent", "present")).alias("attended"),
        pl.Series(late).cast(pl.Int16).replace(0, None).alias("minutes_late"),
        pl.Series(late > 0).alias("delay_certificate"),
    )
    exams = seated.filter(pl.Series(sat)).select(
        "enrolment_id", pl.col("held_on").alias("exam_on"), pl.Series(scores[sat]).alias("score")
    )
    with db.registered(con, demo_attendance=attendance, demo_scores=exams):
        con.execute(
            "INSERT INTO course_attendance (enrolment_id, attended, minutes_late,"
            " delay_certificate, recorded_by) SELECT enrolment_id, attended, minutes_late,"
            " delay_certificate, ? FROM demo_attendance ORDER BY enrolment_id",
            [ACTOR],
        )
        con.execute(
            "INSERT INTO course_scores (score_id, enrolment_id, exam_on, score, method,"
            " recorded_by) SELECT nextval('course_score_id_seq'), enrolment_id, exam_on, score,"
            " 'written', ? FROM demo_scores ORDER BY enrolment_id",
            [ACTOR],
        )
    return seated["course_code"].unique().sort().to_list()


def build_courses(
    con: duckdb.DuckDBPyConnection, *, members: int, seed: int = 42, today: dt.date | None = None
) -> dict[str, int]:
    """Add the demo's courses to a database holding the demo's members (see the module's
    docstring), in one transaction; returns the rows per table. ValueError when there are
    courses already."""
    if db.table_count(con, "courses"):
        raise ValueError("table courses already has rows; demo courses need it empty")
    on = today or dt.date.today()
    now = dt.datetime.combine(on, dt.time(6))
    cfg = config.current()
    rng = np.random.default_rng([seed, 9])
    prefectures = [r[0] for r in con.execute(
        "SELECT DISTINCT prefecture FROM organizations WHERE kind = 'prefecture'"
        " AND prefecture IS NOT NULL ORDER BY 1").fetchall()] or ["東京都"]  # fmt: skip
    courses = _courses(rng, cfg, max(6, members // MEMBERS_PER_COURSE), on, prefectures)
    with transaction(con):
        with db.registered(con, demo_courses=courses):
            names = ", ".join(courses.columns)
            con.execute(f"INSERT INTO courses ({names}, updated_at)"
                        f" SELECT {names}, current_timestamp FROM demo_courses")  # fmt: skip
        requests = _requests(rng, con, courses, now)
        refused = enrolment.check(con, requests, cfg).filter(pl.col("refusal").is_not_null())
        accepted = requests.filter(~pl.col("line").is_in(refused["line"].implode()))
        enrolment.admit(con, accepted, actor=ACTOR, cfg=cfg)
        active = db.frame(  # a few cancel a course still to come
            con,
            "SELECT e.enrolment_id FROM enrolments e JOIN courses c USING (course_code)"
            " WHERE c.held_on > ? ORDER BY e.enrolment_id",
            [on],
        )
        cancelled = active.filter(pl.Series(rng.random(active.height) < 0.04))
        changes.end(con, cancelled["enrolment_id"].to_list(), status="cancelled", reason="member",
                    on=on - dt.timedelta(days=1), actor=ACTOR)  # fmt: skip
        codes = _results(rng, con, on)
        results.sync(con, codes, actor=ACTOR, batch_id="demo-courses", cfg=cfg)
        con.execute(  # most certificates past their due day were issued
            "UPDATE course_completions SET certificate_issued_at = completed_on + INTERVAL 20 DAY"
            " WHERE certificate_due < ? AND hash(enrolment_id) % 10 <> 0",
            [on],
        )
    return {t: db.table_count(con, t) for t in ("courses", "enrolments", "course_completions")}
