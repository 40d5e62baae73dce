"""ITC (seed 001): yearly renewal to the next ``itc.valid_until`` with practical points.

Points cover the previous and the current fiscal year. Members renewed in the last
window had at least ``itc.points.threshold`` points in the fiscal year it checked;
members who lapsed then had fewer. Some members sit exactly half a point below, on or
above the threshold, made of 0.5-point entries, so the boundary is exercised. When
``today`` falls inside the application window, some members have renewed already, some
have applied with the fee open, and the rest have yet to apply.
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

Mask = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]

_POINTS = np.array([0.5, 1.0, 2.0, 3.0, 5.0])
_POINT_WEIGHTS = (0.75, 0.15, 0.05, 0.03, 0.02)
_CERTIFICATION_POINTS = 5.0
_METHODS = ("card", "bank_transfer", "convenience_store", "net_banking", "atm")
_METHOD_WEIGHTS = (0.5, 0.2, 0.15, 0.1, 0.05)
_VALID, _LAPSED, _SUSPENDED, _RETURNED = 0, 1, 2, 3


@dataclass(frozen=True)
class _Calendar:
    """The renewal cycle around `today`."""

    today: int
    end: int  # the next valid_until on or after today
    opens: int  # this cycle's application window
    closes: int
    last_opens: int  # last year's window
    last_closes: int
    fy_starts: str
    until_md: str

    @property
    def in_window(self) -> bool:
        return self.opens <= self.today <= self.closes


@dataclass
class _Members:
    """Per member: scenario, certification, renewal and validity."""

    scenario: npt.NDArray[np.int64]
    acquired: Days
    lapse_years: npt.NDArray[np.int64]
    ends_past: Mask  # lapsed: validity ended on an earlier valid_until
    newcomer: Mask  # certified within the current period
    renewed: Mask  # renewed (in the last window or, when open, this one)
    applied: Mask  # applied in the open window, fee not yet paid
    renew_day: Days


def _calendar(cfg: Config, today: int) -> _Calendar:
    on = dates.to_date(today)
    until_md = str(cfg.value("itc.valid_until", on=on))
    end = int(dates.first_on_or_after(np.array([today]), until_md)[0])
    year = dates.to_date(end).year
    opens = int(dates.on_month_day(year, str(cfg.value("itc.window.opens", on=on))))
    closes = int(dates.on_month_day(year, str(cfg.value("itc.window.closes", on=on))))
    last = dates.add_years(np.array([opens, closes]), -1)
    fy_starts = str(cfg.value("itc.fiscal_year_starts", on=on))
    return _Calendar(today, end, opens, closes, int(last[0]), int(last[1]), fy_starts, until_md)


def _points(
    rng: np.random.Generator,
    categories: list[str],
    low: Days,
    high: Days,
    rate: Floats,
    exact: Floats,
    floor: Floats,
) -> tuple[npt.NDArray[np.int64], Days, npt.NDArray[np.int64], Floats]:
    """Point entries (owner, day, category code, points) between low and high per member.

    `exact` > 0 makes the total exactly that, of 0.5-point entries; `floor` > 0 tops a
    smaller total up to the floor plus up to 4 points.
    """
    count = np.where(exact > 0, np.round(exact * 2).astype(np.int64), rng.poisson(rate))
    owner, _ = expand(count)
    points = np.where(
        exact[owner] > 0, 0.5, _POINTS[weighted_pick(rng, _POINT_WEIGHTS, owner.size)]
    )
    total = np.bincount(owner, weights=points, minlength=low.size)
    short = (floor > 0) & (exact == 0) & (total < floor)
    deficit = np.where(short, floor - total + rng.integers(0, 9, low.size) / 2, 0.0)
    top_count = np.ceil(deficit / 5.0).astype(np.int64)
    top_owner, top_ordinal = expand(top_count)
    rest = np.ceil((deficit[top_owner] - 5.0 * top_ordinal) * 2) / 2
    top = np.where(top_ordinal == top_count[top_owner] - 1, np.clip(rest, 0.5, 5.0), 5.0)
    owners = np.concatenate([owner, top_owner])
    return (
        owners,
        dates.uniform_days(rng, low[owners], high[owners]),
        weighted_pick(rng, [1.0] * len(categories), owners.size),
        np.concatenate([points, top]),
    )


def _members(rng: np.random.Generator, roster: Roster, cal: _Calendar) -> _Members:
    n = roster.size
    scenario = weighted_pick(rng, (0.83, 0.09, 0.05, 0.03), n)
    withdrawn = roster.status == WITHDRAWN
    scenario[withdrawn] = np.where(rng.random(int(withdrawn.sum())) < 0.7, _LAPSED, _RETURNED)
    acquired = dates.uniform_days(rng, roster.joined, np.full(n, cal.today - 14))
    lapse_years = np.where(rng.random(n) < 0.6, 1, rng.integers(2, 6, n))
    ends_past = (scenario == _LAPSED) | ((scenario == _SUSPENDED) & (rng.random(n) < 0.5))
    old_end = dates.add_years(np.full(n, cal.end), -np.where(scenario == _LAPSED, lapse_years, 1))
    acquired = np.where(ends_past, np.minimum(acquired, old_end - 365), acquired)
    roster.joined = np.minimum(roster.joined, acquired)
    newcomer = dates.first_on_or_after(acquired + 60, cal.until_md) >= cal.end
    renew_day = dates.uniform_days(rng, np.full(n, cal.last_opens), np.full(n, cal.last_closes))
    phase = rng.random(n)  # inside the window: done / applied / not yet
    done_now = cal.in_window & ~newcomer & (phase < 0.35)
    applied = cal.in_window & ~newcomer & (phase >= 0.35) & (phase < 0.65) & (scenario == _VALID)
    this_window = dates.uniform_days(rng, np.full(n, cal.opens), np.full(n, cal.today))
    renew_day = np.where(done_now | applied, this_window, renew_day)
    return _Members(
        scenario=scenario,
        acquired=acquired,
        lapse_years=lapse_years,
        ends_past=ends_past,
        newcomer=newcomer,
        renewed=~newcomer & (scenario == _VALID) & ~applied,
        applied=applied,
        renew_day=renew_day,
    )


def build(rng: np.random.Generator, cfg: Config, roster: Roster, today: int) -> SchemeRows:
    """ITC coordinator rows, point entries for two fiscal years, renewal fee lines."""
    cal = _calendar(cfg, today)
    m = _members(rng, roster, cal)
    n = roster.size
    first_end = dates.first_on_or_after(m.acquired + 60, cal.until_md)
    done_now = cal.in_window & m.renewed & (m.renew_day >= cal.opens)
    end = np.where(m.newcomer, first_end, cal.end)
    end = np.where(done_now, dates.add_years(np.full(n, cal.end), 1), end)
    old_years = np.where(m.scenario == _LAPSED, m.lapse_years, 1)
    end = np.where(m.ends_past, dates.add_years(np.full(n, cal.end), -old_years), end)
    start = np.maximum(dates.add_years(end, -1) + 1, m.acquired)
    recent = m.renew_day >= today - RECENT_RENEWAL_DAYS
    status = np.where(m.renewed & recent, "renewed", "active")
    status = np.where(m.applied, "renewal_open", status)
    status = np.select(
        [m.scenario == _LAPSED, m.scenario == _SUSPENDED, m.scenario == _RETURNED],
        ["lapsed", "suspended", "returned"],
        status,
    )
    quals = frame(
        {
            "m": np.arange(n),
            "qualification": "coordinator",
            "acquired_on": day_column("acquired_on", m.acquired),
            "valid_from": day_column("valid_from", start),
            "valid_until": day_column("valid_until", end),
            "status": status,
            "key": np.arange(n),
        }
    )
    return SchemeRows(quals, _activities(rng, cfg, m, cal), _billing(rng, cfg, m, cal))


def _activities(rng: np.random.Generator, cfg: Config, m: _Members, cal: _Calendar) -> pl.DataFrame:
    """Point entries of the previous fiscal year (the one checked) and the current one."""
    threshold = float(cfg.value("itc.points.threshold", on=dates.to_date(cal.today)))
    categories = [c for c in cfg.value("itc.points.categories") if c != "certification"]
    n = m.acquired.size
    fy = int(dates.fiscal_year(np.array([cal.today]), cal.fy_starts)[0])
    this_fy = int(dates.on_month_day(fy, cal.fy_starts))
    last_fy = int(dates.on_month_day(fy - 1, cal.fy_starts))
    lapsed_last = (m.scenario == _LAPSED) & (m.lapse_years == 1)
    valid = m.scenario == _VALID
    frames = []
    for checked, fy_low, fy_high in ((True, last_fy, this_fy - 1), (False, this_fy, cal.today)):
        low = np.maximum(m.acquired, fy_low)
        share = np.clip((fy_high - low + 1) / 365.0, 0.0, 1.0)
        counted = valid | (m.scenario == _SUSPENDED) | (lapsed_last & checked)
        active = counted & (low <= fy_high)
        rate = rng.gamma(3.0, 8.0, n) * share * np.where(lapsed_last, 0.35, 1.0)
        rate = np.where(m.scenario == _SUSPENDED, rate * 0.3, rate)
        pick = rng.random(n)
        if checked:  # renewed members met the threshold, lapsed ones did not
            exact = np.select(
                [m.renewed & (pick < 0.06), m.renewed & (pick < 0.1), lapsed_last & (pick < 0.2)],
                [threshold, threshold + 0.5, threshold - 0.5],
                0.0,
            )
            floor = np.where(m.renewed & ~m.newcomer, threshold, 0.0)
        else:  # this year's total so far, some right at the boundary
            exact = np.select(
                [valid & (pick < 0.04), valid & (pick > 0.96)], [threshold - 0.5, threshold], 0.0
            )
            floor = np.zeros(n)
        idx = np.flatnonzero(active)
        owner, day, category, points = _points(
            rng, categories, low[idx], np.full(idx.size, fy_high), rate[idx], exact[idx], floor[idx]
        )
        frames.append(
            frame(
                {
                    "m": idx[owner],
                    "kind": "points",
                    "date": day_column("date", day),
                    "category": labels(categories, category),
                    "points": points,
                }
            )
        )
        new = np.flatnonzero((m.acquired >= fy_low) & (m.acquired <= fy_high))
        frames.append(
            frame(
                {
                    "m": new,
                    "kind": "points",
                    "date": day_column("date", m.acquired[new]),
                    "category": "certification",
                    "points": np.full(new.size, _CERTIFICATION_POINTS),
                }
            )
        )
    return pl.concat(frames)


def _billing(rng: np.random.Generator, cfg: Config, m: _Members, cal: _Calendar) -> pl.DataFrame:
    """Renewal fee lines: last year's and the year before, this window's, lapsed applicants'.

    Members certified in the fiscal year before a renewal pay nothing when
    ``itc.exempt_if_certified_previous_fiscal_year`` is on.
    """
    n = m.acquired.size
    exempt = dates.dated(cfg, "itc.exempt_if_certified_previous_fiscal_year", m.renew_day)
    exempt = exempt.astype(bool) & (
        dates.fiscal_year(m.acquired, cal.fy_starts)
        == dates.fiscal_year(m.renew_day, cal.fy_starts) - 1
    )
    paying = (m.renewed | m.applied) & ~exempt
    lapsed_applied = (m.scenario == _LAPSED) & (m.lapse_years == 1) & (rng.random(n) < 0.3)
    lapsed_day = dates.uniform_days(rng, np.full(n, cal.last_opens), np.full(n, cal.last_closes))
    prior_day = dates.add_years(m.renew_day, -1)
    prior = paying & (m.acquired < prior_day - 60) & (rng.random(n) < 0.9)
    who = np.concatenate(
        [np.flatnonzero(paying), np.flatnonzero(lapsed_applied), np.flatnonzero(prior)]
    )
    issued = np.concatenate([m.renew_day[paying], lapsed_day[lapsed_applied], prior_day[prior]])
    state = np.concatenate(
        [
            np.where(m.applied[paying], 1, 0),
            np.full(int(lapsed_applied.sum()), 2),
            np.zeros(int(prior.sum()), dtype=np.int64),
        ]
    )
    status = np.array(["paid", "open", "cancelled"])[state]
    is_paid = status == "paid"
    paid_on = np.minimum(issued + rng.integers(0, 11, who.size), cal.today)
    method = labels(_METHODS, weighted_pick(rng, _METHOD_WEIGHTS, who.size)).to_numpy()
    label = str(cfg.qualification_label("itc", "coordinator")) + "資格更新料"
    closes = str(cfg.value("itc.window.closes", on=dates.to_date(cal.today)))
    return frame(
        {
            "m": who,
            "item": "itc_renewal",
            "label": label,
            "fy": fiscal_label_year(issued),
            "amount": dates.dated(cfg, "itc.fee", issued).astype(np.int64),
            "handling_fee": 0,
            "issued_on": day_column("issued_on", issued),
            "due_on": day_column("due_on", dates.first_on_or_after(issued, closes)),
            "paid_on": day_column("paid_on", np.where(is_paid, paid_on, dates.NULL_DAY)),
            "status": status,
            "qual_key": who,
            "method": where_text(is_paid, method),
        }
    )
