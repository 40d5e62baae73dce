"""Years of renewal history for the demo: members act month by month and the batch runs.

``build_history(con, start=…, end=…)`` takes a demo built as of `start` and moves it forward a
month at a time to `end`. Each month, members do what the schemes ask of them — instructors
teach, providers take their renewal course, coordinators collect points, apply in the window and
answer the report, coaches attend their mandatory training, SAJ members register for the next
season (and the season is billed), and most people pay what they were billed — and then the
renewal batch runs as of the first day of the next month, as a cron job would. The batch writes
its own audit rows, run history and outcomes, so statistics and the forecast's back-test read
what the product itself recorded.

Who acts is drawn deterministically from the member number and the seed: most members are
diligent (they meet their requirements in time), some are not, and a few never pay, so every
outcome (renewed, lapsed, invalidated, erased) occurs in proportions like a real body's.
Everything is set-based SQL over whole tables; a million members take a few seconds a month.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import duckdb
import polars as pl

from core import schemes
from core.billing import season as season_billing
from core.config import Config
from core.renewals import batch
from core.store import db

ACTOR = "demo:history"
DILIGENT = 85  # % of members who keep up with their requirements
PAYERS = 94  # % of members who pay what they are billed (most of them within two months)


def _draw(percent: int | str, salt: str, key: str = "member_no") -> str:
    """SQL: true for about `percent` % of rows, the same for a member every time (`salt`
    separates draws)."""
    return f"(hash({key} || '{salt}' || $seed::VARCHAR) % 100) < {percent}"


def _day_in(salt: str, key: str = "member_no") -> str:
    """SQL: a day in the month (after $prev, up to $day), drawn per row and month."""
    return (
        f"($prev::DATE + 1 + (hash({key} || '{salt}' || $day::VARCHAR || $seed::VARCHAR)"
        f" % date_diff('day', $prev::DATE, $day::DATE))::INTEGER)"
    )


def _monthly(percent: str, salt: str, key: str = "member_no") -> str:
    """SQL: true for about `percent` % of rows this month (a new draw every month)."""
    return f"(hash({key} || '{salt}' || $day::VARCHAR || $seed::VARCHAR) % 100) < {percent}"


def _keen(diligent: int, other: int, key: str = "member_no") -> str:
    """SQL: a monthly chance that depends on whether the member is diligent."""
    return f"CASE WHEN {_draw(DILIGENT, 'keen', key)} THEN {diligent} ELSE {other} END"


HELD = "('active', 'renewed', 'renewal_open')"


def _jptec(con: duckdb.DuckDBPyConnection, cfg: Config, params: dict[str, object]) -> None:
    """Instructors teach courses (the diligent about two a year); providers within a year of
    their end take the renewal course."""
    con.execute(
        f"""
        INSERT INTO activities (member_no, scheme, kind, date)
        SELECT member_no, 'jptec', 'taught', {_day_in("taught")}
        FROM qualifications
        WHERE scheme = 'jptec' AND qualification = 'instructor' AND status IN {HELD}
          AND {_monthly(_keen(17, 3), "teach")}
        """,
        params,
    )
    con.execute(
        f"""
        INSERT INTO activities (member_no, scheme, kind, date)
        SELECT q.member_no, 'jptec', 'renewal_course', {_day_in("course", "q.member_no")}
        FROM qualifications q
        WHERE q.scheme = 'jptec' AND q.qualification = 'provider' AND q.status IN {HELD}
          AND q.valid_until BETWEEN $day::DATE AND $day::DATE + INTERVAL 12 MONTH
          AND {_monthly(_keen(25, 3, "q.member_no"), "attend", "q.member_no")}
          AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.member_no = q.member_no
                          AND a.scheme = 'jptec' AND a.kind = 'renewal_course'
                          AND a.date > q.valid_from)
        """,
        params,
    )


def _itc(con: duckdb.DuckDBPyConnection, cfg: Config, params: dict[str, object]) -> None:
    """Coordinators enter practical points through the year; in the month before the window
    closes they apply (pending, as HQ has not approved yet) and answer the activity report."""
    day = params["day"]
    assert isinstance(day, dt.date)
    categories = list(cfg.value("itc.points.categories", on=day))
    con.execute(
        f"""
        INSERT INTO activities (member_no, scheme, kind, date, category, points)
        SELECT member_no, 'itc', 'points', {_day_in("points")},
               $categories[1 + (hash(member_no || 'cat' || $day::VARCHAR) % $n)::INTEGER],
               (2 + hash(member_no || 'pts' || $day::VARCHAR) % 5)::DECIMAL(7, 1)
        FROM qualifications
        WHERE scheme = 'itc' AND status IN {HELD}
          AND {_monthly(_keen(55, 8), "enter")}
        """,
        {**params, "categories": categories, "n": len(categories)},
    )
    opens_md = str(cfg.value("itc.window.opens", on=day))
    opens_at = str(cfg.value("itc.window.opens_at", on=day))
    closes_md = str(cfg.value("itc.window.closes", on=day))
    year = day.year
    opens = dt.datetime.fromisoformat(f"{year}-{opens_md}T{opens_at}")
    closes = dt.date.fromisoformat(f"{year}-{closes_md}")
    prev = params["prev"]
    assert isinstance(prev, dt.date)
    if not prev < opens.date() <= day:
        return  # applications go in during the month the window opens in
    until = min(dt.datetime.combine(day, dt.time()), dt.datetime.combine(closes, dt.time(23)))
    span = max(int((until - opens).total_seconds() // 60), 1)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE history_itc AS
        SELECT q.member_no, m.org_code,
               $opens::TIMESTAMP + to_minutes((hash(q.member_no || 'apply' || $seed::VARCHAR)
                                               % $span)::BIGINT) AS submitted_at
        FROM qualifications q JOIN members m USING (member_no)
        WHERE q.scheme = 'itc' AND q.status IN {HELD} AND year(q.valid_until) = $year
          AND (hash(q.member_no || 'renews' || $year::VARCHAR || $seed::VARCHAR) % 100)
              < CASE WHEN {_draw(DILIGENT, "keen", "q.member_no")} THEN 97 ELSE 60 END
        """,
        {"seed": params["seed"], "opens": opens, "span": span, "year": year},
    )
    con.execute(
        """
        INSERT INTO applications (application_ref, member_no, scheme, kind, season, submitted_at,
                                  status, entered_by, org_code, note)
        SELECT 'DEMO-ITC-' || $year::VARCHAR || '-' || member_no, member_no, 'itc',
               'season_registration', $year, submitted_at, 'pending', 'member', org_code, 'demo'
        FROM history_itc
        """,
        {"year": year},
    )
    con.execute(
        f"""
        INSERT INTO activities (member_no, scheme, kind, date)
        SELECT member_no, 'itc', 'report', submitted_at::DATE
        FROM history_itc WHERE {_draw(96, "report" + str(year))}
        """,
        {"seed": params["seed"]},
    )


def _jspo(con: duckdb.DuckDBPyConnection, cfg: Config, params: dict[str, object]) -> None:
    """Coaches whose licence ends within three years attend the mandatory training."""
    con.execute(
        f"""
        INSERT INTO activities (member_no, scheme, kind, date, qualification)
        SELECT q.member_no, 'jspo', 'training', {_day_in("training", "q.member_no")},
               q.qualification
        FROM qualifications q
        WHERE q.scheme = 'jspo' AND q.status IN {HELD}
          AND q.valid_until BETWEEN $day::DATE AND $day::DATE + INTERVAL 36 MONTH
          AND {_monthly(_keen(7, 1, "q.member_no"), "train", "q.member_no || q.qualification")}
          AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.member_no = q.member_no
                          AND a.scheme = 'jspo' AND a.kind = 'training'
                          AND a.qualification = q.qualification AND a.date >= q.valid_from)
        """,
        params,
    )


def _saj(con: duckdb.DuckDBPyConnection, cfg: Config, params: dict[str, object]) -> None:
    """In the month before a season starts, last season's members register again (approved
    along the chain by its first day), and on that day the season is billed as `bill --season`
    does."""
    day = params["day"]
    prev = params["prev"]
    assert isinstance(day, dt.date) and isinstance(prev, dt.date)
    month, first = (int(p) for p in str(cfg.value("saj.season.starts", on=day)).split("-"))
    starts = dt.date(day.year, month, first)
    if not prev < starts <= day:
        return
    season = starts.year
    con.execute(
        f"""
        INSERT INTO applications (application_ref, member_no, scheme, kind, season, submitted_at,
                                  status, entered_by, org_code, decided_at, note)
        SELECT 'DEMO-SAJ-H' || $season::VARCHAR || '-' || m.member_no, m.member_no, 'saj',
               'season_registration', $season, {_day_in("register", "m.member_no")}::TIMESTAMP
               - INTERVAL 14 HOUR, 'approved', 'member', m.org_code, $starts::TIMESTAMP, 'demo'
        FROM members m
        WHERE m.status = 'active'
          AND EXISTS (SELECT 1 FROM applications a WHERE a.member_no = m.member_no
                      AND a.scheme = 'saj' AND a.kind = 'season_registration'
                      AND a.status = 'approved' AND a.season = $season - 1)
          AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.member_no = m.member_no
                          AND a.scheme = 'saj' AND a.season = $season)
          AND (hash(m.member_no || 'stays' || $season::VARCHAR || $seed::VARCHAR) % 100)
              < CASE WHEN {_draw(DILIGENT, "keen", "m.member_no")} THEN 96 ELSE 55 END
        """,
        {**params, "season": season, "starts": starts},
    )
    season_billing.bill_season(con, season, on=starts, actor=ACTOR, cfg=cfg)


def _returns(con: duckdb.DuckDBPyConnection, cfg: Config, params: dict[str, object]) -> None:
    """A few holders a month give a qualification back or suspend it, as an approved
    application does (core.applications.effects: the same audit rows)."""
    returned = pl.DataFrame(
        [(s.code, s.returned_status) for s in schemes.every()],
        schema={"scheme": pl.String, "returned_status": pl.String},
        orient="row",
    )
    with db.registered(con, scheme_returns=returned):
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE history_returns AS
            SELECT q.qualification_id, q.member_no, q.status AS old_status,
                   CASE WHEN {_monthly("40", "why", "q.member_no")} THEN 'suspended'
                        ELSE r.returned_status END AS new_status
            FROM qualifications q JOIN scheme_returns r USING (scheme)
            WHERE q.status IN ('active', 'renewed')
              AND (hash(q.qualification_id::VARCHAR || 'gives' || $day::VARCHAR
                        || $seed::VARCHAR) % 2000) < 3
            """,
            {"day": params["day"], "seed": params["seed"]},
        )
    con.execute(
        """
        INSERT INTO audit_log (changed_at, actor, action, table_name, row_key, member_no, field,
                               old_value, new_value, reason)
        SELECT $day::TIMESTAMP - INTERVAL 3 DAY + INTERVAL 10 HOUR, $actor, 'update',
               'qualifications', qualification_id::VARCHAR, member_no, 'status', old_status,
               new_status,
               CASE WHEN new_status = 'suspended' THEN '休止 ' ELSE '資格返上 ' END || 'DEMO'
        FROM history_returns
        """,
        {"day": params["day"], "actor": ACTOR},
    )
    con.execute(
        "UPDATE qualifications AS q SET status = r.new_status, updated_at = current_timestamp"
        " FROM history_returns r WHERE q.qualification_id = r.qualification_id"
    )


def _payments(con: duckdb.DuckDBPyConnection, params: dict[str, object]) -> None:
    """Payers pay each open line within a month or two of its billing (card, the norm)."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE history_paid AS
        SELECT b.billing_id, b.member_no, b.scheme, b.item, b.amount + b.handling_fee AS amount,
               least($day::DATE - 1, greatest(b.issued_on, $prev::DATE)
                     + (hash(b.billing_id::VARCHAR || 'paid') % 20)::INTEGER) AS paid_on,
               nextval('payment_id_seq') AS payment_id
        FROM billing b
        WHERE b.status = 'open' AND b.issued_on < $day::DATE
          AND {_draw(PAYERS, "payer", "b.member_no")}
          AND {_monthly("90", "when", "b.billing_id::VARCHAR")}
        """,
        params,
    )
    con.execute(
        """
        INSERT INTO payments (payment_id, member_no, scheme, item, amount, handling_fee, method,
                              paid_on, reference, recorded_by)
        SELECT payment_id, member_no, scheme, item, amount, 0, 'card', paid_on,
               'DEMO-H-' || billing_id::VARCHAR, $actor
        FROM history_paid
        """,
        {"actor": ACTOR},
    )
    con.execute(
        """
        UPDATE billing AS b SET status = 'paid', paid_on = p.paid_on, payment_id = p.payment_id,
               updated_at = current_timestamp
        FROM history_paid p WHERE b.billing_id = p.billing_id
        """
    )


SCHEME_STEPS: tuple[Callable[[duckdb.DuckDBPyConnection, Config, dict[str, object]], None], ...] = (
    _jptec,
    _itc,
    _jspo,
    _returns,
    _saj,
)


def month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first day of every month after `start`, up to `end` (the batch's run dates)."""
    days: list[dt.date] = []
    year, month = start.year, start.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        day = dt.date(year, month, 1)
        if day > end:
            return days
        days.append(day)


def build_history(
    con: duckdb.DuckDBPyConnection,
    *,
    start: dt.date,
    end: dt.date,
    cfg: Config,
    seed: int = 42,
    after_run: Callable[[duckdb.DuckDBPyConnection, dt.date], None] | None = None,
) -> list[batch.RunResult]:
    """Move a demo built as of `start` forward month by month to `end`, running the renewal
    batch on the first day of each month; `after_run` is called after each run (the forecast
    keeps its snapshot there). Returns the runs."""
    runs = []
    prev = start
    for day in month_starts(start, end):
        params: dict[str, object] = {"prev": prev, "day": day, "seed": seed}
        # what members did this month (demo data: not a transaction of its own; SAJ's season
        # billing, last, is one)
        _payments(con, params)
        for step in SCHEME_STEPS:
            step(con, cfg, params)
        con.execute(
            "INSERT INTO audit_log (actor, action, table_name, reason, batch_id)"
            " VALUES (?, 'demo', 'activities', ?, ?)",
            [ACTOR, f"demo history {prev.isoformat()}..{day.isoformat()}",
             f"demo-{uuid.uuid4().hex[:12]}"],
        )  # fmt: skip
        runs.append(batch.run(con, day, actor=ACTOR))
        if after_run is not None:
            after_run(con, day)
        prev = day
    return runs


def build_with_history(
    con: duckdb.DuckDBPyConnection,
    *,
    members: int,
    seed: int,
    today: dt.date,
    months: int,
    after_run: Callable[[duckdb.DuckDBPyConnection, dt.date], None] | None = None,
) -> list[batch.RunResult]:
    """The demo as of `months` months before `today`, moved forward to `today` (the batch run
    on the first of every month before today), then the current season's open applications."""
    from core import config
    from core.demo import applications as open_applications
    from core.demo import build_demo

    start = _months_before(today, months)
    build_demo(con, members=members, seed=seed, today=start, intake=False)
    cfg = config.current()
    runs = build_history(
        con, start=start, end=today - dt.timedelta(days=1), cfg=cfg, seed=seed,
        after_run=after_run,
    )  # fmt: skip
    with db.transaction(con):
        open_applications.build(con, cfg, today, seed)
    return runs


def _months_before(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    return dt.date(year, month + 1, min(day.day, 28))
