"""JPTEC (seed 000): instructors renewed by teaching, pre-instructors, providers renewed by course.

Instructor periods run ``jptec.instructor.extension_years`` from the acquisition date.
Each earlier period has at least ``min_courses_taught`` courses taught (it was extended);
the current one has 0-6 so far, so the batch finds both sides of the boundary, and some
periods ended in the last week without the batch having run. Every period opened a fee
(new or renewal); an unpaid renewal fee leaves the qualification ``renewal_open`` and,
after ``unpaid_invalidation_months``, ``invalidated`` with the line still open.
Providers renew by a renewal course (3 years from the course, plus the remaining whole
months when less than a year remained); a few attended one lately that the batch has
not applied yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from core.config import Config
from core.demo import dates
from core.demo.dates import Days
from core.demo.people import WITHDRAWN, Roster
from core.demo.rows import (
    RECENT_RENEWAL_DAYS,
    SchemeRows,
    day_column,
    expand,
    fiscal_label_year,
    frame,
    labels,
    weighted_pick,
    where_text,
)

Index = npt.NDArray[np.int64]

PRE_INSTRUCTOR_YEARS = 2  # no configuration key: the guide gives pre-instructors 2 years
_CURRENT_TAUGHT = (0.10, 0.14, 0.16, 0.17, 0.16, 0.14, 0.13)  # 0..6 courses so far
_PERIODS = (0.2, 0.2, 0.17, 0.14, 0.11, 0.08, 0.06, 0.04)  # 1..8 periods held
_VALID, _PENDING, _LAPSED, _RETURNED = 0, 1, 2, 3
_STATUS = ("active", "renewed", "renewal_open", "invalidated", "lapsed", "returned")


@dataclass
class _Held:
    """One qualification per listed member, and the activities behind it."""

    m: Index
    acquired: Days
    start: Days
    end: Days
    status: npt.NDArray[np.str_]
    activity_m: Index
    activity_on: Days


def _ends(rng: np.random.Generator, scenario: Index, today: int, years: int) -> Days:
    """The end of the current (or last) period: soon, just passed, long past, anywhere."""
    n = scenario.size
    now = np.full(n, today)
    full = dates.add_years(now, years) - 1
    this_month, soon = dates.month_end(now), dates.month_end(dates.add_months(now, 2))
    band = rng.random(n)
    end = dates.uniform_days(rng, now, full)
    end = np.where(band < 0.16, dates.uniform_days(rng, this_month + 1, soon), end)
    end = np.where(band < 0.06, dates.uniform_days(rng, now, this_month), end)
    snap = (rng.random(n) < 0.25) & (dates.month_end(end) <= full)
    end = np.where(snap, dates.month_end(end), end)
    pending = np.where(rng.random(n) < 0.4, today - 1, dates.uniform_days(rng, now - 7, now - 1))
    past = dates.uniform_days(rng, dates.add_years(now, -6), now - 8)
    past = np.where(
        (band < 0.25) & (dates.month_end(past) <= today - 8), dates.month_end(past), past
    )
    anywhere = dates.uniform_days(rng, dates.add_years(now, -3), full)
    return np.select(
        [scenario == _PENDING, scenario == _LAPSED, scenario == _RETURNED],
        [pending, past, anywhere],
        end,
    )


def _instructors(
    rng: np.random.Generator, cfg: Config, roster: Roster, today: int
) -> tuple[_Held, pl.DataFrame]:
    """Instructor rows, the courses they taught and one fee line per period."""
    on = dates.to_date(today)
    years = int(cfg.value("jptec.instructor.extension_years", on=on))
    min_taught = int(cfg.value("jptec.instructor.min_courses_taught", on=on))
    unpaid_months = int(cfg.value("jptec.instructor.unpaid_invalidation_months", on=on))
    chosen = np.flatnonzero((rng.random(roster.size) < 0.45) & (roster.age_on(today) >= 26))
    scenario = weighted_pick(rng, (0.81, 0.03, 0.13, 0.03), chosen.size)
    withdrawn = roster.status[chosen] == WITHDRAWN
    scenario[withdrawn] = np.where(rng.random(int(withdrawn.sum())) < 0.7, _LAPSED, _RETURNED)
    end = _ends(rng, scenario, today, years)
    # an instructor first took the provider course, at least a year before
    k_max = np.floor((end + 1 - roster.joined[chosen] - 365) / (years * 365.25)).astype(np.int64)
    keep = k_max >= 1
    chosen, scenario, end, k_max = chosen[keep], scenario[keep], end[keep], k_max[keep]
    n = chosen.size
    periods = np.minimum(weighted_pick(rng, _PERIODS, n) + 1, k_max)
    acquired = dates.add_years(end + 1, -years * periods)
    end = dates.add_years(acquired, years * periods) - 1
    start = dates.add_years(acquired, years * (periods - 1))
    valid = scenario == _VALID
    unpaid = valid & (periods >= 2) & (start >= today - 540) & (rng.random(n) < 0.25)
    invalid = unpaid & (dates.add_months(start, unpaid_months) <= today)
    recent = valid & (periods >= 2) & (start >= today - RECENT_RENEWAL_DAYS)
    status = np.select(
        [scenario == _LAPSED, scenario == _RETURNED, invalid, unpaid, recent], [4, 5, 3, 2, 1], 0
    )

    # one row per (instructor, period): how many courses taught in it
    who, ordinal = expand(periods)
    p_from = dates.add_years(acquired[who], years * ordinal)
    p_until = dates.add_years(acquired[who], years * (ordinal + 1)) - 1
    current = ordinal == periods[who] - 1
    taught = min_taught + rng.poisson(rng.gamma(2.0, 5.0, n)[who])
    elapsed = np.clip((np.minimum(p_until, today) - p_from + 1) / (p_until - p_from + 1), 0.25, 1)
    so_far = rng.binomial(weighted_pick(rng, _CURRENT_TAUGHT, who.size), elapsed)
    too_few = rng.binomial(1, 0.55, who.size)  # the period that lapsed: 0 or 1 course
    taught = np.where(current, np.where(scenario[who] == _LAPSED, too_few, so_far), taught)
    slot, _ = expand(taught)
    low, high = p_from[slot], np.minimum(p_until[slot], today)
    edge = rng.random(slot.size)  # some on the first or last day of the period
    when = np.where(
        edge < 0.03, low, np.where(edge > 0.97, high, dates.uniform_days(rng, low, high))
    )
    held = _Held(chosen, acquired, start, end, np.array(_STATUS)[status], chosen[who[slot]], when)

    # fee lines: one per period, the current renewal one open while unpaid
    state = np.where(current & unpaid[who], "open", "paid")
    dropped = current & (scenario[who] == _RETURNED) & (rng.random(who.size) < 0.1)
    state = np.where(dropped, "cancelled", state)
    first = ordinal == 0
    fee = np.where(
        first,
        dates.dated(cfg, "jptec.instructor.new_fee", p_from),
        dates.dated(cfg, "jptec.instructor.renewal_fee", p_from),
    ).astype(np.int64)
    paid = state == "paid"
    lag = np.minimum(rng.exponential(10.0, who.size), 100).astype(np.int64)
    paid_on = np.minimum(p_from + lag, today)
    card = rng.random(who.size) < 0.88
    handling = dates.dated(cfg, "jptec.non_card_handling_fee", paid_on).astype(np.int64)
    title = cfg.qualification_label("jptec", "instructor")
    bills = frame(
        {
            "m": chosen[who],
            "item": labels(
                ("jptec_instructor_new", "jptec_instructor_renewal"), (~first).astype(int)
            ),
            "label": labels((f"新規{title}会費", f"{title}更新会費"), (~first).astype(int)),
            "fy": fiscal_label_year(p_from),
            "amount": fee,
            "handling_fee": np.where(paid & ~card, handling, 0),
            "issued_on": day_column("issued_on", p_from),
            "due_on": day_column("due_on", dates.add_months(p_from, 1)),
            "paid_on": day_column("paid_on", np.where(paid, paid_on, dates.NULL_DAY)),
            "status": state,
            "qual_key": who,  # instructors are the first rows, keyed 0..n-1
            "method": where_text(paid, np.where(card, "card", "bank_transfer")),
        }
    )
    return held, bills


def _providers(
    rng: np.random.Generator, cfg: Config, roster: Roster, today: int, keen: npt.NDArray[np.bool_]
) -> _Held:
    """Every member became a provider on joining; renewal courses extend it."""
    on = dates.to_date(today)
    years = int(cfg.value("jptec.provider.extension_years", on=on))
    bonus_under = int(cfg.value("jptec.provider.remaining_bonus_under_months", on=on))
    n = roster.size
    acquired = roster.joined.copy()
    start = acquired.copy()
    end = dates.add_years(acquired, years) - 1
    propensity = np.where(keen, 0.9, 0.8)
    course_m: list[Index] = []
    course_on: list[Days] = []
    alive = end < today
    while alive.any():
        idx = np.flatnonzero(alive & (rng.random(n) < propensity))
        course = dates.uniform_days(rng, np.maximum(end[idx] - 540, start[idx] + 1), end[idx])
        remaining = dates.whole_months_between(course, end[idx] + 1)
        bonus = np.where(remaining < bonus_under, remaining, 0)
        end[idx] = dates.add_months(dates.add_years(course, years), bonus) - 1
        start[idx] = course
        course_m.append(idx)
        course_on.append(course)
        alive = np.zeros(n, dtype=bool)
        alive[idx] = end[idx] < today
    valid = end >= today
    recent = start >= today - RECENT_RENEWAL_DAYS
    status = np.where(valid, np.where(recent & (start > acquired), "renewed", "active"), "lapsed")
    status = np.where(valid & (rng.random(n) < 0.02), "returned", status)
    status = np.where(roster.status == WITHDRAWN, np.where(valid, "returned", "lapsed"), status)
    # a renewal course attended in the last weeks that the batch has not applied yet
    due = np.flatnonzero(
        valid & (end <= today + 180) & (status == "active") & (rng.random(n) < 0.25)
    )
    course_m.append(due)
    course_on.append(
        dates.uniform_days(
            rng, np.maximum(today - 45, end[due] - 540), np.full(due.size, today - 1)
        )
    )
    return _Held(
        np.arange(n),
        acquired,
        start,
        end,
        status,
        np.concatenate(course_m),
        np.concatenate(course_on),
    )


def _pre_instructors(
    rng: np.random.Generator, roster: Roster, today: int, taken: npt.NDArray[np.bool_]
) -> _Held:
    """Pre-instructors of the last four years, valid PRE_INSTRUCTOR_YEARS."""
    pick = np.flatnonzero(~taken & (roster.age_on(today) >= 23) & (rng.random(roster.size) < 0.15))
    low = np.minimum(np.maximum(roster.joined[pick] + 180, today - 4 * 365), today - 30)
    acquired = dates.uniform_days(rng, low, np.full(pick.size, today - 30))
    end = dates.add_years(acquired, PRE_INSTRUCTOR_YEARS) - 1
    status = np.where(end >= today, "active", "lapsed")
    status = np.where(rng.random(pick.size) < 0.03, "returned", status)
    status = np.where(roster.status[pick] == WITHDRAWN, "lapsed", status)
    none = np.zeros(0, dtype=np.int64)
    return _Held(pick, acquired, acquired, end, status, none, none)


def build(rng: np.random.Generator, cfg: Config, roster: Roster, today: int) -> SchemeRows:
    """JPTEC qualifications, courses taught and renewal courses, instructor fee lines."""
    instructors, bills = _instructors(rng, cfg, roster, today)
    keen = np.zeros(roster.size, dtype=bool)
    keen[instructors.m] = True
    providers = _providers(rng, cfg, roster, today, keen)
    pre = _pre_instructors(rng, roster, today, keen)
    parts = []
    offset = 0
    for code, held in (
        ("instructor", instructors),
        ("pre_instructor", pre),
        ("provider", providers),
    ):
        parts.append(
            frame(
                {
                    "m": held.m,
                    "qualification": code,
                    "acquired_on": day_column("acquired_on", held.acquired),
                    "valid_from": day_column("valid_from", held.start),
                    "valid_until": day_column("valid_until", held.end),
                    "status": held.status,
                    "key": np.arange(offset, offset + held.m.size),
                }
            )
        )
        offset += held.m.size
    activities = pl.concat(
        [
            frame({"m": h.activity_m, "kind": kind, "date": day_column("date", h.activity_on)})
            for kind, h in (("taught", instructors), ("renewal_course", providers))
        ]
    )
    return SchemeRows(quals=pl.concat(parts), activities=activities, billing=bills)
