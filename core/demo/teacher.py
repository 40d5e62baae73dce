"""Teacher licences (seed 004): deadlines at ages 35/45/55, renewal courses, the 2022 scheme end.

Old licences (granted before the 2009 reform) fall due on ``deadline_month_day`` ending the
school year in which the holder reaches one of ``teacher.deadline_ages``; new and
nutrition licences ``new_licence_validity_years`` after the grant's school year. Every
deadline before ``teacher.scheme_ends`` was met with 30 hours of courses (or missed:
lapsed); a licence still valid on that day lost its expiry, stored as NULL, except a
few the batch has yet to convert.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from core.config import Config
from core.demo import dates
from core.demo.dates import Days
from core.demo.people import WITHDRAWN, Roster
from core.demo.rows import (
    BILLING_SCHEMA,
    SchemeRows,
    day_column,
    empty,
    expand,
    frame,
    labels,
    weighted_pick,
)

COURSE_HOURS = 6  # a course is one 6-hour day (seed 004)
GRADUATION = "03-31"  # licences are granted at graduation
NEW_SYSTEM_FROM = dt.date(2009, 4, 1)  # licences granted from here carry 10-year validity
FIRST_DEADLINE = dt.date(2011, 3, 31)  # the first completion deadlines of the scheme
ACADEMIC_YEAR_STARTS = "04-01"  # a new licence runs to the end of the 10th academic year
LICENCES = ("regular", "special", "nutrition")
DOMAINS = ("mandatory", "elective_mandatory", "elective")

TITLES: dict[str, tuple[str, ...]] = {
    "mandatory": tuple(
        f"教育の最新事情{s}"
        for s in (
            "（小学校）",
            "（中学校）",
            "（高等学校）",
            "（特別支援学校）",
            "（全校種）",
            "―子どもの変化と教育政策の動向",
            "―学校を巡る近年の状況の変化",
            "―教員としての子ども観・教育観の省察",
        )
    ),
    "elective_mandatory": (
        "学校における危機管理上の課題",
        "教育相談（いじめ・不登校への対応を含む）",
        "進路指導及びキャリア教育",
        "法令改正及び国の審議会の状況等",
        "学習指導要領の改訂の動向等",
        "道徳教育",
        "英語教育",
        "国際理解及び異文化理解教育",
        "様々な問題に対する組織的対応の必要性",
        "教育の情報化（情報通信技術を利用した指導及び情報教育）",
        "学校、家庭及び地域の連携及び協働",
        "特別支援教育の推進",
    ),
    "elective": (
        "小学校国語科の授業づくり",
        "中学校数学の指導と評価",
        "理科実験の安全指導",
        "高等学校物理の探究活動",
        "社会科における地域教材の開発",
        "英語で行う英語授業の実践",
        "小学校外国語活動の指導法",
        "ICTを活用した授業デザイン",
        "プログラミング教育入門",
        "特別支援教育の基礎と実践",
        "発達障害のある子どもの理解と支援",
        "学級経営と集団づくり",
        "体育科におけるボール運動の指導",
        "水泳指導と安全管理",
        "音楽科の鑑賞指導",
        "図画工作・美術の表現活動",
        "家庭科における食育",
        "技術科のものづくり教育",
        "書写・書道の指導",
        "古典に親しむ授業",
        "統計教育の実践",
        "環境教育と持続可能な社会",
        "防災教育の実践",
        "食物アレルギーへの対応",
        "学校保健と感染症対策",
        "子どもの心の健康とカウンセリング",
        "アクティブ・ラーニングの理論と実践",
        "学習評価の工夫",
        "総合的な学習の時間の指導計画",
        "キャリア教育の実践",
        "人権教育の推進",
        "情報モラル教育",
        "読書指導と学校図書館の活用",
        "幼児教育と小学校教育の接続",
        "栄養教諭の職務と食に関する指導",
        "学校給食の衛生管理",
        "部活動指導の在り方",
        "教師のためのコーチング",
        "地域の歴史と郷土学習",
        "数学的活動を取り入れた授業",
    ),
}
_COMPLETE, _SHORT, _PARTIAL = 0, 1, 2


def _deadline_for_age(birth: Days, age: int | Days, school_year_starts: str, md: str) -> Days:
    """The deadline day ending the school year in which each holder reaches `age`."""
    year, month, mday = dates.ymd(birth)
    sm, sd = dates.month_day(school_year_starts)
    late = (month > sm) | ((month == sm) & (mday >= sd))
    return dates.on_month_day(year + age + late.astype(np.int64), md)


def build(rng: np.random.Generator, cfg: Config, roster: Roster, today: int) -> SchemeRows:
    """One licence per teacher, its deadline history, and the courses that met it."""
    on = dates.to_date(today)
    ends = dates.day(cfg.value("teacher.scheme_ends", on=on))
    years = int(cfg.value("teacher.new_licence_validity_years", on=on))
    md = str(cfg.value("teacher.deadline_month_day", on=on))
    school_year = str(cfg.value("teacher.school_year_starts", on=on))
    opens = int(cfg.value("teacher.window.opens_months_before", on=on))
    closes = int(cfg.value("teacher.window.closes_months_before", on=on))
    per_domain = [int(cfg.value(f"teacher.hours.{d}", on=on)) // COURSE_HOURS for d in DOMAINS]
    late_max = int(cfg.value("teacher.attendance.max_minutes_late", on=on))
    pass_score = int(cfg.value("teacher.exam.pass_score", on=on))
    ages = sorted(int(a) for a in cfg.value("teacher.deadline_ages", on=on))

    n = roster.size
    kind = weighted_pick(rng, (0.88, 0.04, 0.08), n)
    grant_age = np.where(
        rng.random(n) < 0.7, 22, np.where(rng.random(n) < 0.5, 23, rng.integers(24, 31, n))
    )
    grant_age = np.minimum(grant_age, np.floor(roster.age_on(today)).astype(np.int64) - 1)
    acquired = _deadline_for_age(roster.birth, grant_age, school_year, GRADUATION)
    acquired = np.where(rng.random(n) < 0.15, acquired - rng.integers(0, 300, n), acquired)
    acquired = np.minimum(acquired, today - 30)
    roster.joined = acquired.copy()

    old = (acquired < dates.day(NEW_SYSTEM_FROM)) & (kind != LICENCES.index("nutrition"))
    first = dates.day(FIRST_DEADLINE)
    milestones = np.stack([_deadline_for_age(roster.birth, a, school_year, md) for a in ages])
    upcoming = np.where(milestones >= first, milestones, np.iinfo(np.int64).max).min(axis=0)
    milestone = np.where(upcoming < np.iinfo(np.int64).max, upcoming, milestones[-1])
    granted_fy = dates.fiscal_year(acquired, ACADEMIC_YEAR_STARTS)
    deadline = np.where(old, milestone, dates.on_month_day(granted_fy + 1 + years, md))
    while np.any(low := (deadline < first)):
        deadline = np.where(low, dates.add_years(deadline, years), deadline)

    subject = acquired < ends
    horizon = min(ends, today)  # deadlines before it were met or missed
    previous = np.full(n, dates.NULL_DAY)
    lapsed = np.zeros(n, dtype=bool)
    cyc_owner, cyc_deadline, cyc_kind = [], [], []
    alive = subject.copy()
    while np.any(due := alive & (deadline < horizon)):
        fail = due & (rng.random(n) < 0.07)
        idx = np.flatnonzero(due)
        cyc_owner.append(idx)
        cyc_deadline.append(deadline[idx])
        cyc_kind.append(np.where(fail[idx], _SHORT, _COMPLETE))
        lapsed |= fail
        alive &= ~fail
        previous = np.where(due & ~fail, deadline, previous)
        deadline = np.where(due & ~fail, dates.add_years(deadline, years), deadline)
    window_open = dates.add_months(deadline + 1, -opens)
    partial = alive & (window_open < horizon) & (rng.random(n) < 0.5)
    idx = np.flatnonzero(partial)
    cyc_owner.append(idx)
    cyc_deadline.append(deadline[idx])
    cyc_kind.append(np.full(idx.size, _PARTIAL))

    converted = alive & (today >= ends) & (rng.random(n) < 0.82)
    valid_until = np.where(subject & ~converted, deadline, dates.NULL_DAY)
    valid_from = np.where(previous != dates.NULL_DAY, previous + 1, acquired)
    status = np.where(lapsed, "lapsed", "active")
    status = np.where(
        (rng.random(n) < 0.015) | ((roster.status == WITHDRAWN) & (rng.random(n) < 0.5)),
        "returned",
        status,
    )
    quals = frame(
        {
            "m": np.arange(n),
            "qualification": labels(LICENCES, kind),
            "acquired_on": day_column("acquired_on", acquired),
            "valid_from": day_column("valid_from", valid_from),
            "valid_until": day_column("valid_until", valid_until),
            "status": status,
            "key": np.arange(n),
        }
    )
    activities = _courses(
        rng,
        np.concatenate(cyc_owner),
        np.concatenate(cyc_deadline),
        np.concatenate(cyc_kind),
        per_domain,
        opens,
        closes,
        min(ends - 1, today),
        late_max,
        pass_score,
    )
    return SchemeRows(quals=quals, activities=activities, billing=empty(BILLING_SCHEMA))


def _courses(
    rng: np.random.Generator,
    owner: np.ndarray,
    deadline: np.ndarray,
    kind: np.ndarray,
    per_domain: list[int],
    opens: int,
    closes: int,
    last_day: int,
    late_max: int,
    pass_score: int,
) -> pl.DataFrame:
    """Course rows: full cycles (with retakes), short ones (missed) and partial ones (cut off)."""
    template = np.repeat(np.arange(len(DOMAINS)), per_domain)
    retake = (kind == _COMPLETE) & (rng.random(owner.size) < 0.15)
    count = np.where(
        kind == _COMPLETE, template.size + retake, rng.integers(0, template.size, owner.size)
    )
    count = np.where(kind == _PARTIAL, rng.integers(0, 5, owner.size), count)
    cycle, ordinal = expand(count)
    domain = np.where(
        (kind[cycle] == _COMPLETE) & (ordinal < template.size),
        template[np.minimum(ordinal, template.size - 1)],
        rng.integers(0, len(DOMAINS), cycle.size),
    )
    extra = ordinal >= template.size
    domain = np.where(extra, DOMAINS.index("elective"), domain)
    low = dates.add_months(deadline[cycle] + 1, -opens)
    high = np.minimum(dates.add_months(deadline[cycle] + 1, -closes) - 1, last_day)
    when = dates.uniform_days(rng, low, np.maximum(high, low))
    when = np.minimum(when, last_day)

    outcome = np.where(
        extra, np.where(rng.random(cycle.size) < 0.65, 1, 2), 0
    )  # 1 failed, 2 absent
    outcome = np.where((kind[cycle] != _COMPLETE) & (rng.random(cycle.size) < 0.12), 1, outcome)
    score = np.round(pass_score + (100 - pass_score) * rng.beta(4.0, 2.0, cycle.size)).astype(
        np.int64
    )
    score = np.where(rng.random(cycle.size) < 0.04, pass_score, score)
    failed = rng.integers(max(pass_score - 30, 0), pass_score, cycle.size)
    score = np.where(
        outcome == 1, np.where(rng.random(cycle.size) < 0.3, pass_score - 1, failed), score
    )
    at_limit = rng.random(cycle.size) < 0.3
    minutes = np.where(at_limit, late_max, rng.integers(1, late_max + 1, cycle.size))
    minutes_late = np.where((outcome == 0) & (rng.random(cycle.size) < 0.05), minutes, -1)
    absent = np.where(
        rng.random(cycle.size) < 0.4, late_max + 1, rng.integers(late_max + 1, 91, cycle.size)
    )
    minutes_late = np.where(outcome == 2, absent, minutes_late)

    # titles: distinct per teacher and domain, except a few deliberate repeats
    teacher = owner[cycle]
    order = np.lexsort((when, domain, teacher))
    group = teacher[order] * len(DOMAINS) + domain[order]
    starts = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    nth = np.empty(cycle.size, dtype=np.int64)
    nth[order] = np.arange(cycle.size) - np.repeat(starts, np.diff(np.r_[starts, cycle.size]))
    repeat = (nth == 1) & (rng.random(cycle.size) < 0.05)
    nth = np.where(repeat, 0, nth)
    offset = rng.integers(0, 1 << 30, (int(teacher.max(initial=0)) + 1, len(DOMAINS)))
    sizes = np.array([len(TITLES[d]) for d in DOMAINS])
    title = (offset[teacher, domain] + nth) % sizes[domain]
    flat = [t for d in DOMAINS for t in TITLES[d]]
    base = np.r_[0, np.cumsum(sizes)[:-1]]
    return frame(
        {
            "m": teacher,
            "kind": "course",
            "date": day_column("date", when),
            "hours": np.full(cycle.size, float(COURSE_HOURS)),
            "domain": labels(DOMAINS, domain),
            "course_name": labels(flat, base[domain] + title),
            "score": pl.Series(np.where(outcome == 2, -1, score)).cast(pl.Int16).replace(-1, None),
            "minutes_late": pl.Series(minutes_late).cast(pl.Int16).replace(-1, None),
        }
    )
