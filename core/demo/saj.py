"""SAJ (seed 003): yearly registration per season, qualifications held season by season.

Active members registered for the current season (「S年度」, starting ``saj.season.starts``);
withdrawn members registered only for the last one; erased members stopped earlier and
keep only their number and club. A qualification registered this season is valid to the
season's end; one whose holder is still paying shows ``renewal_open`` on last season's
dates. Billing follows the guide's lines: yearly fee by category, qualification
registration per category, 県連会費有資格者差額, 認定指導員登録料, insurance, competitor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from core.config import Config
from core.demo import dates
from core.demo.dates import Days
from core.demo.people import ACTIVE, CATEGORIES, ERASED, GENERAL, WITHDRAWN, Roster
from core.demo.rows import (
    ACTIVITY_SCHEMA,
    RECENT_RENEWAL_DAYS,
    SchemeRows,
    day_column,
    empty,
    frame,
    labels,
    weighted_pick,
    where_text,
)

Index = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

QUALIFICATIONS = ("instructor", "examiner", "setter", "certified_instructor")
# which registration-fee category (saj.fee.qualification_categories) each qualification bills
FEE_CATEGORY = {
    "instructor": "education_instructor",
    "examiner": "education_examiner",
    "setter": "competition_setter",
}
COMPETITOR = {"saj_alpine": "SAJ競技者登録料 アルペン", "fis_alpine": "FIS競技者登録料 アルペン"}
_METHODS = ("convenience_store", "card", "pay_easy")


@dataclass(frozen=True)
class _Season:
    year: int
    starts: int
    ends: int


def _held(
    rng: np.random.Generator, roster: Roster, today: int, member_before: int
) -> tuple[Index, Index, Days]:
    """(member, qualification code, acquired) for every qualification held.

    Only general-category adults who were members before `member_before` hold one.
    """
    n = roster.size
    adult = (roster.category == GENERAL) & (roster.age_on(today) >= 24)
    low = np.maximum(roster.joined, dates.add_years(roster.birth, 22))
    ok = adult & (low <= today - 90) & (roster.joined < member_before)
    first = dates.uniform_days(rng, low, np.full(n, today - 90))
    instructor = ok & (rng.random(n) < 0.14)
    examiner = instructor & (rng.random(n) < 0.45) & (first + 365 <= today - 60)
    setter = ok & (rng.random(n) < 0.03)
    certified = ok & ~instructor & (rng.random(n) < 0.04)
    later = dates.uniform_days(rng, first + 365, np.full(n, today - 60))
    parts = [
        (instructor, 0, first),
        (examiner, 1, later),
        (setter, 2, first),
        (certified, 3, first),
    ]
    member = np.concatenate([np.flatnonzero(mask) for mask, _, _ in parts])
    code = np.concatenate([np.full(int(mask.sum()), c) for mask, c, _ in parts])
    acquired = np.concatenate([day[mask] for mask, _, day in parts])
    order = np.lexsort((code, member))
    return member[order], code[order], acquired[order]


def _seasons(cfg: Config, today: int) -> tuple[_Season, _Season, str, str]:
    """The current and the last season, and the season's MM-DD bounds."""
    on = dates.to_date(today)
    starts_md = str(cfg.value("saj.season.starts", on=on))
    ends_md = str(cfg.value("saj.season.ends", on=on))
    begin = dates.latest_on_or_before(today, starts_md)
    year = dates.to_date(begin).year
    season = _Season(year, begin, int(dates.on_month_day(year + 1, ends_md)))
    last = _Season(year - 1, int(dates.add_years(np.array([begin]), -1)[0]), begin - 1)
    return season, last, starts_md, ends_md


def build(rng: np.random.Generator, cfg: Config, roster: Roster, today: int) -> SchemeRows:
    """SAJ qualification rows and two seasons of billing lines; SAJ records no activities."""
    season, last, starts_md, ends_md = _seasons(cfg, today)
    n = roster.size
    status = roster.status
    # withdrawn members registered last season; erased ones stopped before it
    stop = last.year - 1 - rng.integers(0, 4, n)  # the last season an erased member registered
    stop_starts = dates.on_month_day(stop, starts_md)
    joined = np.where(
        status == WITHDRAWN, np.minimum(roster.joined, last.starts + 120), roster.joined
    )
    roster.joined = np.where(status == ERASED, np.minimum(joined, stop_starts + 60), joined)

    low = np.maximum(season.starts, roster.joined)
    high = np.maximum(low, min(today, season.starts + 240))
    approved = np.minimum(low + np.floor((high - low + 1) * rng.beta(1.2, 3.0, n)), today)
    approved = approved.astype(np.int64)
    lag = np.minimum(rng.exponential(7.0, n), 60).astype(np.int64)
    unpaid = (approved + lag > today) | (rng.random(n) < 0.03)
    in_progress = (status == ACTIVE) & unpaid
    last_approved = np.minimum(
        np.maximum(last.starts, roster.joined) + rng.integers(0, 200, n), last.ends
    )
    registered_last = (status != ERASED) & (roster.joined < season.starts)

    member, code, acquired = _held(rng, roster, today, last.starts)
    pairs = member.size
    m_status = status[member]
    settled = (m_status == ACTIVE) & ~in_progress[member]
    draw = rng.random(pairs)
    # a qualification unticked at registration is returned, and erased at SAJ approval
    returned = (m_status == ACTIVE) & (draw < 0.04)
    fee_lapse = settled & (draw >= 0.04) & (draw < 0.055)  # did not pay the qualification fee
    current = settled & ~returned & ~fee_lapse
    erased = m_status == ERASED
    acquired = np.where(~current & ~erased, np.minimum(acquired, last.starts + 30), acquired)
    acquired = np.where(erased, np.minimum(acquired, stop_starts[member]), acquired)
    np.minimum.at(roster.joined, member, acquired)
    fresh = (acquired < season.starts) & (approved[member] >= today - RECENT_RENEWAL_DAYS)
    q_status = np.select(
        [
            erased,
            m_status == WITHDRAWN,
            returned & settled,
            returned,
            fee_lapse,
            in_progress[member],
        ],
        ["erased", "lapsed", "erased", "returned", "lapsed", "renewal_open"],
        np.where(fresh, "renewed", "active"),
    )
    valid_from = np.where(current, season.starts, last.starts)
    valid_until = np.where(current, season.ends, last.ends)
    valid_from = np.where(erased, stop_starts[member], np.maximum(valid_from, acquired))
    valid_until = np.where(erased, dates.on_month_day(stop[member] + 1, ends_md), valid_until)
    quals = frame(
        {
            "m": member,
            "qualification": labels(QUALIFICATIONS, code),
            "acquired_on": day_column("acquired_on", acquired),
            "valid_from": day_column("valid_from", valid_from),
            "valid_until": day_column("valid_until", valid_until),
            "status": q_status,
            "key": np.arange(pairs),
        }
    )
    held = (member, code, acquired)
    this = _Billing(rng, cfg, roster, season, status == ACTIVE, approved, unpaid, today)
    this.add_season(held, current | (in_progress[member] & ~returned))
    before = _Billing(
        rng, cfg, roster, last, registered_last, last_approved, np.zeros(n, bool), today
    )
    before.add_season(held, acquired < season.starts)
    return SchemeRows(
        quals=quals,
        activities=empty(ACTIVITY_SCHEMA),
        billing=pl.concat(before.frames + this.frames),
    )


class _Billing:
    """One season's lines for the members registered in it (seed 003's list)."""

    def __init__(
        self,
        rng: np.random.Generator,
        cfg: Config,
        roster: Roster,
        season: _Season,
        registered: Mask,
        approved: Days,
        unpaid: Mask,
        today: int,
    ) -> None:
        self.rng, self.cfg, self.roster, self.season = rng, cfg, roster, season
        self.registered, self.approved, self.unpaid = registered, approved, unpaid
        self.today = today
        n = roster.size
        self.method = weighted_pick(rng, (0.45, 0.35, 0.2), n)
        lag = np.minimum(rng.exponential(7.0, n), 60).astype(np.int64)
        self.paid_on = np.minimum(approved + lag, today)
        self.cancelled = rng.random(n) < 0.01
        self.frames: list[pl.DataFrame] = []

    def line(
        self,
        owner: Index,
        item: str,
        names: list[str],
        code: Index,
        amount: Index,
        day: Days,
        key: Index | None = None,
    ) -> None:
        """Lines of one item; all of a member's lines of the season share their fate."""
        state = np.where(
            self.unpaid[owner], "open", np.where(self.cancelled[owner], "cancelled", "paid")
        )
        paid = state == "paid"
        self.frames.append(
            frame(
                {
                    "m": owner,
                    "item": item,
                    "label": labels(names, code),
                    "fy": self.season.year,
                    "amount": amount,
                    "handling_fee": 0,
                    "issued_on": day_column("issued_on", day),
                    "due_on": day_column("due_on", day + 30),
                    "paid_on": day_column(
                        "paid_on", np.where(paid, self.paid_on[owner], dates.NULL_DAY)
                    ),
                    "status": state,
                    "qual_key": np.full(owner.size, -1) if key is None else key,
                    "method": where_text(paid, labels(_METHODS, self.method[owner]).to_numpy()),
                }
            )
        )

    def add_season(self, held: tuple[Index, Index, Days], registered_pair: Mask) -> None:
        """Yearly fee, qualification lines, the qualified members' prefecture difference,
        insurance and competitor registration."""
        cfg, season, rng = self.cfg, self.season, self.rng
        on = dates.to_date(season.starts)
        category = np.maximum(self.roster.category, 0)
        who = np.flatnonzero(self.registered)
        issued = self.approved[who]
        yearly = np.zeros(who.size, dtype=np.int64)
        prefecture_part = np.zeros(who.size, dtype=np.int64)
        for c, name in enumerate(CATEGORIES):
            saj_fee = dates.dated(cfg, f"saj.fee.{name}.saj", issued).astype(np.int64)
            pref_fee = dates.dated(cfg, f"saj.fee.{name}.prefecture", issued).astype(np.int64)
            yearly = np.where(category[who] == c, saj_fee + pref_fee, yearly)
            prefecture_part = np.where(category[who] == c, pref_fee, prefecture_part)
        band = cfg.value("saj.categories", on=on)
        self.line(
            who,
            "saj_annual_fee",
            [f"{band[c]}会員会費" for c in CATEGORIES],
            category[who],
            yearly,
            issued,
        )

        member, code, acquired = held
        keep = registered_pair & self.registered[member] & (acquired <= self.approved[member])
        q_member, q_code, q_key = member[keep], code[keep], np.flatnonzero(keep)
        q_issued = self.approved[q_member]
        fee = dates.dated(cfg, "saj.fee.qualification_registration", q_issued).astype(np.int64)
        billed = q_code < len(FEE_CATEGORY)
        fee_labels = cfg.value("saj.fee.qualification_categories", on=on)
        names = [f"資格登録料（{fee_labels[FEE_CATEGORY[q]]}）" for q in FEE_CATEGORY]
        item = "saj_qualification_registration"
        self.line(
            q_member[billed],
            item,
            names,
            q_code[billed],
            fee[billed],
            q_issued[billed],
            q_key[billed],
        )
        ci = q_code == QUALIFICATIONS.index("certified_instructor")
        ci_fee = dates.dated(cfg, "saj.fee.certified_instructor", q_issued).astype(np.int64)
        zeros = np.zeros(int(ci.sum()), dtype=np.int64)
        self.line(
            q_member[ci],
            "saj_certified_instructor",
            ["認定指導員登録料"],
            zeros,
            ci_fee[ci],
            q_issued[ci],
            q_key[ci],
        )

        # 県連会費有資格者差額: created at prefecture approval, the day before SAJ's
        qualified = np.unique(q_member)
        diff_day = np.maximum(self.approved[qualified] - 1, season.starts)
        total = dates.dated(cfg, "saj.fee.qualified_prefecture_total", diff_day).astype(np.int64)
        difference = np.maximum(total - prefecture_part[np.searchsorted(who, qualified)], 0)
        zeros = np.zeros(qualified.size, dtype=np.int64)
        self.line(
            qualified,
            "saj_prefecture_qualified",
            ["県連会費有資格者差額"],
            zeros,
            difference,
            diff_day,
        )

        plans = cfg.value("saj.insurance.plans", on=on)
        insured = who[rng.random(who.size) < 0.3]
        plan = rng.integers(0, len(plans), insured.size)
        plan_fee = np.array([int(p["fee"]) for p in plans.values()])[plan]
        zeros = np.zeros(insured.size, dtype=np.int64)
        self.line(insured, "saj_insurance", ["保険申込料"], zeros, plan_fee, self.approved[insured])

        young = self.roster.age_on(self.today)[who] < 45
        racer = who[(rng.random(who.size) < 0.05) & young]
        fis = (rng.random(racer.size) < 0.2).astype(np.int64)
        race_fee = np.where(
            fis == 1,
            dates.dated(cfg, "saj.fee.competitor.fis_alpine", self.approved[racer]),
            dates.dated(cfg, "saj.fee.competitor.saj_alpine", self.approved[racer]),
        ).astype(np.int64)
        names = [f"競技者登録料（{v}）" for v in COMPETITOR.values()]
        self.line(racer, "saj_competitor", names, fis, race_fee, self.approved[racer])
