"""JSPO (seed 002): coach licences in periods of ``jspo.licences[code].validity_years``.

A period starts on the first of a month and ends on a month end (so Feb 28/29 and the
31st occur). Earlier periods were renewed, each with at least ``required_trainings``
mandatory trainings and a paid registration fee. Periods ending within
``jspo.window.months_before_expiry`` are in their renewal window: some open (fee
unpaid), some already renewed into the next period, some not yet started.
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

_POPULARITY = {
    "sport_leader": 0.30,
    "soccer_coach": 0.25,
    "softball_baseball_instructor": 0.20,
    "swimming_instructor": 0.15,
    "handball_coach": 0.10,
}
_HELD = (0.72, 0.23, 0.05)  # 1, 2 or 3 licences
_PERIODS = (0.3, 0.25, 0.2, 0.12, 0.08, 0.05)  # 1..6 periods held


_VALID, _PENDING, _LAPSED, _RETURNED = 0, 1, 2, 3

Index = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


@dataclass
class _Licences:
    """One entry per (member, licence) held, with its periods and renewal state."""

    codes: list[str]
    m: Index
    code: Index
    years: Index
    required: Index
    scenario: Index
    periods: Index
    first: Days  # the first period's first day
    acquired: Days
    start: Days  # the current (or last) period
    end: Days
    in_window: Mask
    open_now: Mask  # applied in the window, fee unpaid
    done_now: Mask  # renewed in the window into the next period
    renewal_day: Days  # when the current period's renewal was (or this window's is) applied for


def _fee(cfg: Config, code: str, days: Days) -> Index:
    """A licence's registration fee in force on each day (0 before the licence existed)."""

    def fee(licences: dict[str, dict[str, object]]) -> int:
        return int(str(licences[code]["fee"])) if code in licences else 0

    return dates.dated(cfg, "jspo.licences", days, fee).astype(np.int64)


def _licences(rng: np.random.Generator, cfg: Config, roster: Roster, today: int) -> _Licences:
    """Which licences each member holds, since when, and where each stands today."""
    on = dates.to_date(today)
    licences: dict[str, dict[str, object]] = cfg.value("jspo.licences", on=on)
    window = int(cfg.value("jspo.window.months_before_expiry", on=on))
    codes = list(licences)
    years_of = np.array([int(str(licences[c]["validity_years"])) for c in codes])
    required_of = np.array([int(str(licences[c]["required_trainings"])) for c in codes])
    weight = np.array([_POPULARITY.get(c, 0.15) for c in codes])
    held = np.minimum(weighted_pick(rng, _HELD, roster.size) + 1, len(codes))
    # distinct licences per member, drawn by weight (exponential keys, smallest first)
    order = np.argsort(rng.exponential(size=(roster.size, len(codes))) / weight, axis=1)
    m, slot = expand(held)
    code = order[m, slot]
    pairs = m.size
    years = years_of[code]

    scenario = weighted_pick(rng, (0.85, 0.02, 0.10, 0.03), pairs)
    withdrawn = roster.status[m] == WITHDRAWN
    scenario[withdrawn] = np.where(rng.random(int(withdrawn.sum())) < 0.7, _LAPSED, _RETURNED)
    now = np.full(pairs, today)
    end = np.select(
        [scenario == _PENDING, scenario == _LAPSED, scenario == _RETURNED],
        [
            dates.month_end(dates.add_months(now, -1)),
            dates.month_end(dates.add_months(now, -rng.integers(2, 61, pairs))),
            dates.month_end(dates.add_months(now, rng.integers(-36, 37, pairs))),
        ],
        dates.month_end(dates.add_months(now, rng.integers(0, 12 * years))),
    )
    adult = dates.add_years(roster.birth[m], 20) + 60
    k_max = np.floor((end + 1 - adult) / (years * 365.25)).astype(np.int64)
    periods = np.clip(weighted_pick(rng, _PERIODS, pairs) + 1, 1, np.maximum(k_max, 1))
    first = dates.add_years(end + 1, -years * periods)
    acquired = first - rng.integers(1, 61, pairs)
    np.minimum.at(roster.joined, m, acquired)
    start = dates.add_years(end + 1, -years)

    window_opens = dates.add_months(end + 1, -window)
    in_window = (scenario == _VALID) & (today >= window_opens)
    phase = rng.random(pairs)
    open_now = in_window & (phase < 0.4)
    done_now = in_window & (phase >= 0.4) & (phase < 0.65)
    renewal_day = np.where(
        open_now | done_now,
        dates.uniform_days(rng, window_opens, now),
        start - rng.integers(5, 56, pairs),
    )
    return _Licences(
        codes,
        m,
        code,
        years,
        required_of[code],
        scenario,
        periods,
        first,
        acquired,
        start,
        end,
        in_window,
        open_now,
        done_now,
        renewal_day,
    )


def _rows(h: _Licences, today: int) -> pl.DataFrame:
    """Licence rows; one renewed in its window already shows the next period."""
    recent = (h.periods >= 2) & (h.renewal_day >= today - RECENT_RENEWAL_DAYS)
    status = np.where((h.scenario == _VALID) & recent, "renewed", "active")
    status = np.where(h.done_now, "renewed", np.where(h.open_now, "renewal_open", status))
    status = np.select(
        [h.scenario == _LAPSED, h.scenario == _RETURNED], ["lapsed", "returned"], status
    )
    return frame(
        {
            "m": h.m,
            "qualification": labels(h.codes, h.code),
            "acquired_on": day_column("acquired_on", h.acquired),
            "valid_from": day_column("valid_from", np.where(h.done_now, h.end + 1, h.start)),
            "valid_until": day_column(
                "valid_until", np.where(h.done_now, dates.add_years(h.end + 1, h.years) - 1, h.end)
            ),
            "status": status,
            "key": np.arange(h.m.size),
        }
    )


def _trainings(rng: np.random.Generator, h: _Licences, today: int) -> pl.DataFrame:
    """Mandatory trainings period by period: enough in every renewed period; in the current
    one, what the year so far brought (some short of the requirement near the window)."""
    owner, ordinal = expand(h.periods)
    p_from = dates.add_years(h.first[owner], h.years[owner] * ordinal)
    p_until = dates.add_years(h.first[owner], h.years[owner] * (ordinal + 1)) - 1
    keen = rng.gamma(2.0, 4.0, h.m.size)[owner]
    req = h.required[owner]
    kind = h.scenario[owner]
    elapsed = np.clip((np.minimum(p_until, today) - p_from + 1) / (p_until - p_from + 1), 0.0, 1.0)
    done = req + rng.poisson(keen)
    short = np.where(rng.random(owner.size) < 0.3, np.maximum(req - 1, 0), -1)
    due = h.in_window[owner] | (kind == _PENDING)
    so_far = np.where(due, np.where(short >= 0, short, done), rng.poisson((req + keen) * elapsed))
    so_far = np.where(kind == _LAPSED, np.maximum(short, 0), so_far)
    count = np.where(ordinal == h.periods[owner] - 1, so_far, done)
    row, _ = expand(count)
    pair = owner[row]
    return frame(
        {
            "m": h.m[pair],
            "kind": "training",
            "date": day_column(
                "date", dates.uniform_days(rng, p_from[row], np.minimum(p_until[row], today))
            ),
            "qualification": labels(h.codes, h.code[pair]),
        }
    )


def _billing(rng: np.random.Generator, cfg: Config, h: _Licences, today: int) -> pl.DataFrame:
    """A registration fee per period, this window's open or paid one, lapsed ones cancelled."""
    owner, ordinal = expand(h.periods)
    p_from = dates.add_years(h.first[owner], h.years[owner] * ordinal)
    window = h.open_now | h.done_now
    lapsed = (h.scenario == _LAPSED) & (rng.random(h.m.size) < 0.3)
    line = np.concatenate([owner, np.flatnonzero(window), np.flatnonzero(lapsed)])
    issued = np.concatenate(
        [
            np.where(ordinal == 0, h.acquired[owner], p_from - rng.integers(5, 56, owner.size)),
            h.renewal_day[window],
            np.minimum(h.end[lapsed] - rng.integers(10, 50, int(lapsed.sum())), today),
        ]
    )
    status = np.concatenate(
        [
            np.full(owner.size, "paid"),
            np.where(h.open_now, "open", "paid")[window],
            np.full(int(lapsed.sum()), "cancelled"),
        ]
    )
    code = h.code[line]
    amount = np.zeros(line.size, dtype=np.int64)
    for c, name in enumerate(h.codes):
        amount = np.where(code == c, _fee(cfg, name, issued), amount)
    licences = cfg.value("jspo.licences", on=dates.to_date(today))
    names = [f"{licences[c]['label']} 登録料" for c in h.codes]
    paid = status == "paid"
    paid_on = np.minimum(issued + rng.integers(0, 15, issued.size), today)
    method = np.where(rng.random(issued.size) < 0.55, "card", "convenience_store")
    return frame(
        {
            "m": h.m[line],
            "item": "jspo_registration",
            "label": labels(names, code),
            "fy": fiscal_label_year(issued),
            "amount": amount,
            "handling_fee": 0,
            "issued_on": day_column("issued_on", issued),
            "due_on": day_column("due_on", np.where(status == "open", h.end[line], issued + 30)),
            "paid_on": day_column("paid_on", np.where(paid, paid_on, dates.NULL_DAY)),
            "status": status,
            "qual_key": line,
            "method": where_text(paid, method),
        }
    )


def build(rng: np.random.Generator, cfg: Config, roster: Roster, today: int) -> SchemeRows:
    """Licence rows, mandatory trainings per period, registration fee lines."""
    held = _licences(rng, cfg, roster, today)
    return SchemeRows(
        quals=_rows(held, today),
        activities=_trainings(rng, held, today),
        billing=_billing(rng, cfg, held, today),
    )
