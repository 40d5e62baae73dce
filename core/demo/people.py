"""Members: who they are (age, sex, category, status, organisation) and their contact data.

A :class:`Roster` holds one scheme's members as numpy arrays; scheme modules read it
and may move ``joined`` earlier so that nobody holds a qualification from before they
joined. Member numbers are given last, in order of joining, so an older member has a
smaller number; :func:`member_frame` then writes names, addresses and search keys.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from core.demo import dates
from core.demo.dates import Days
from core.demo.orgs import SCHEMES, Forest
from core.demo.reference import (
    AREA_CODES,
    POPULATION,
    PREF_NAMES,
    SNOW,
    GroupSampler,
    NamePool,
    PostalPool,
)
from core.demo.rows import prefixed

SHARES = {"saj": 0.40, "jspo": 0.25, "jptec": 0.15, "itc": 0.10, "teacher": 0.10}
ACTIVE, WITHDRAWN, ERASED = 0, 1, 2
STATUSES = ("active", "withdrawn", "erased")
GENERAL, UNIVERSITY, HIGH_SCHOOL = 0, 1, 2
CATEGORIES = ("general", "university", "high_school")

# age at `today`: mean, spread, lowest, highest (years)
_AGES = {
    "jptec": (41, 9, 24, 66),
    "itc": (53, 9, 30, 76),
    "jspo": (46, 13, 24, 79),
    "saj": (54, 14, 23, 85),
    "teacher": (45, 11, 25, 66),
}
_MALE_SHARE = {"jptec": 0.85, "itc": 0.88, "jspo": 0.65, "saj": 0.6, "teacher": 0.5}
_JOIN_AGE = {"jptec": 22, "itc": 28, "jspo": 20, "saj": 15, "teacher": 22}
_FOUNDED = {
    "jptec": "2003-04-01",
    "itc": "2001-04-01",
    "jspo": "1977-04-01",
    "saj": "1975-04-01",
    "teacher": "1990-04-01",
}
_WITHDRAWN = {"jptec": 0.04, "itc": 0.04, "jspo": 0.04, "saj": 0.05, "teacher": 0.03}
_SAJ_ERASED = 0.04
_LIVES_ELSEWHERE = 0.07


@dataclass
class Roster:
    """One scheme's members, indexed 0..size-1 (not yet numbered)."""

    scheme: str
    size: int
    birth: Days
    male: npt.NDArray[np.bool_]
    category: npt.NDArray[np.int64]  # -1 outside SAJ
    status: npt.NDArray[np.int64]
    org: npt.NDArray[np.int64]
    org_pref: npt.NDArray[np.int64]
    joined: Days

    def age_on(self, day: int) -> npt.NDArray[np.float64]:
        """Age in (fractional) years on a day."""
        return (day - self.birth) / 365.2425

    def numbers(self) -> npt.NDArray[np.int64]:
        """Member numbers 1..size in order of joining."""
        order = np.lexsort((np.arange(self.size), self.joined))
        number = np.empty(self.size, dtype=np.int64)
        number[order] = np.arange(1, self.size + 1)
        return number


def scheme_sizes(members: int) -> dict[str, int]:
    """Members per scheme by the SAJ 40 / JSPO 25 / JPTEC 15 / ITC 10 / teacher 10 split."""
    sizes = {s: int(members * SHARES[s]) for s in SCHEMES}
    sizes["saj"] += members - sum(sizes.values())
    return sizes


def prefecture_weights(scheme: str) -> npt.NDArray[np.float64]:
    """Where a scheme's members are: by population, skiers toward snow, ITC toward cities."""
    weight = POPULATION * SNOW if scheme == "saj" else POPULATION
    if scheme == "itc":
        weight = POPULATION**1.3
    return np.asarray(weight / weight.sum())


def make_roster(
    rng: np.random.Generator, scheme: str, size: int, forest: Forest, today: int
) -> Roster:
    """Ages, sex, SAJ category, status, organisation and a first joining date."""
    mean, spread, low, high = _AGES[scheme]
    age = rng.normal(mean, spread, size)
    outside = (age < low) | (age >= high)
    age[outside] = rng.uniform(low, high, int(outside.sum()))  # redraw rather than pile up
    category = np.full(size, -1, dtype=np.int64)
    if scheme == "saj":
        band = rng.random(size)
        category[:] = GENERAL
        category[band < 0.12] = UNIVERSITY
        category[band < 0.06] = HIGH_SCHOOL
        age = np.where(category == UNIVERSITY, rng.uniform(18.5, 22.9, size), age)
        age = np.where(category == HIGH_SCHOOL, rng.uniform(15.3, 18.9, size), age)
    birth = today - np.floor(age * 365.2425).astype(np.int64)
    status = np.full(size, ACTIVE, dtype=np.int64)
    draw = rng.random(size)
    # withdrawn and erased members have been members for a season or more
    status[(draw < _WITHDRAWN[scheme]) & (age >= 18)] = WITHDRAWN
    if scheme == "saj":
        erased = (draw >= _WITHDRAWN[scheme]) & (draw < _WITHDRAWN[scheme] + _SAJ_ERASED)
        status[erased & (age >= 25)] = ERASED
    pref = rng.choice(len(PREF_NAMES), size, p=prefecture_weights(scheme))
    org = forest.place(rng, scheme, pref)
    founded = dates.day(dt.date.fromisoformat(_FOUNDED[scheme]))
    earliest = np.maximum(dates.add_years(birth, _JOIN_AGE[scheme]), founded)
    earliest = np.minimum(earliest, today - 30)
    joined = dates.uniform_days(rng, earliest, np.full(size, today - 30))
    return Roster(
        scheme=scheme,
        size=size,
        birth=birth,
        male=rng.random(size) < _MALE_SHARE[scheme],
        category=category,
        status=status,
        org=org,
        org_pref=forest.pref[org],
        joined=joined,
    )


def _pick(frame: pl.DataFrame, column: str, index: npt.NDArray[np.int64]) -> pl.Series:
    return frame[column].gather(pl.Series(index, dtype=pl.UInt32))


def _text(values: npt.NDArray[np.int64], width: int = 1) -> pl.Series:
    return pl.Series(values).cast(pl.String).str.zfill(width)


def member_frame(
    rng: np.random.Generator,
    roster: Roster,
    prefix: str,
    width: int,
    forest: Forest,
    names: NamePool,
    postal: PostalPool,
    postal_sampler: GroupSampler,
) -> pl.DataFrame:
    """The members table rows of one scheme, erased members without personal data."""
    n = roster.size
    family = rng.choice(names.family.height, n, p=names.family_weight)
    male_given = rng.integers(0, names.male.height, n)
    female_given = rng.integers(0, names.female.height, n)
    pref_live = roster.org_pref.copy()
    moved = rng.random(n) < _LIVES_ELSEWHERE
    everywhere = POPULATION / POPULATION.sum()
    pref_live[moved] = rng.choice(len(PREF_NAMES), int(moved.sum()), p=everywhere)
    row = postal_sampler.sample(rng, pref_live)
    area = np.array(AREA_CODES)[pref_live]
    exchange_width = 6 - np.char.str_len(area)
    exchange = rng.integers(2 * 10 ** (exchange_width - 1), 10**exchange_width)
    town = _pick(postal.frame, "town", row)
    chome = town.str.ends_with("丁目").to_numpy()
    given = {
        column: pl.Series(
            np.where(
                roster.male,
                _pick(names.male, column, male_given).to_numpy(),
                _pick(names.female, column, female_given).to_numpy(),
            )
        )
        for column in ("kanji", "kana", "roman")
    }
    frame = pl.DataFrame(
        {
            "member_no": prefixed(prefix, roster.numbers(), width),
            "org_code": forest.frame["org_code"].gather(pl.Series(roster.org, dtype=pl.UInt32)),
            "family_name": _pick(names.family, "kanji", family),
            "family_name_kana": _pick(names.family, "kana", family),
            "family_roman": _pick(names.family, "roman", family),
            "given_name": given["kanji"],
            "given_name_kana": given["kana"],
            "given_roman": given["roman"],
            "birth_date": dates.date_series("birth_date", roster.birth),
            "gender": np.where(roster.male, "male", "female"),
            "postal_code": _pick(postal.frame, "postal_code", row),
            "prefecture": np.array(PREF_NAMES)[pref_live],
            "city": _pick(postal.frame, "city", row),
            "town": town,
            "block_kind": np.where(chome, 1, rng.choice(3, n, p=[0.6, 0.3, 0.1])),
            "c1": _text(rng.integers(1, 7, n)),
            "c2": _text(rng.integers(1, 31, n)),
            "c3": _text(rng.integers(1, 26, n)),
            "c4": _text(rng.integers(1, 2500, n)),
            "mobile": rng.random(n) < 0.75,
            "mobile_head": rng.choice(np.array(["090", "080", "070"]), n, p=[0.5, 0.4, 0.1]),
            "area": area,
            "exchange": _text(exchange),
            "line": _text(rng.integers(0, 10000, n), 4),
            "mid": _text(rng.integers(1000, 10000, n), 4),
            "has_phone": rng.random(n) < 0.95,
            "email_kind": rng.integers(0, 4, n),
            "email_no": _text(rng.integers(1, 1000, n)),
            "domain": rng.choice(
                np.array(["example.jp", "example.com", "example.ne.jp"]), n, p=[0.4, 0.35, 0.25]
            ),
            "has_email": rng.random(n) < 0.85,
            "category": pl.Series(
                np.array((*CATEGORIES, None), dtype=object)[roster.category], dtype=pl.String
            ),
            "status": np.array(STATUSES)[roster.status],
            "joined_on": dates.date_series("joined_on", roster.joined),
            "keep": roster.status != ERASED,
        }
    )
    block = (
        pl.when(pl.col("block_kind") == 0)
        .then(pl.concat_str("c1", pl.lit("丁目"), "c2", pl.lit("-"), "c3"))
        .when(pl.col("block_kind") == 1)
        .then(pl.concat_str("c2", pl.lit("-"), "c3"))
        .otherwise(pl.concat_str("c4", pl.lit("番地")))
    )
    phone = (
        pl.when(~pl.col("has_phone"))
        .then(None)
        .when(pl.col("mobile"))
        .then(pl.concat_str("mobile_head", pl.lit("-"), "mid", pl.lit("-"), "line"))
        .otherwise(pl.concat_str("area", pl.lit("-"), "exchange", pl.lit("-"), "line"))
    )
    g, f, no = pl.col("given_roman"), pl.col("family_roman"), pl.col("email_no")
    local = (
        pl.when(pl.col("email_kind") == 0)
        .then(pl.concat_str(g, pl.lit("."), f, no))
        .when(pl.col("email_kind") == 1)
        .then(pl.concat_str(f, pl.lit("."), g, no))
        .when(pl.col("email_kind") == 2)
        .then(pl.concat_str(g, pl.lit("_"), f, no))
        .otherwise(pl.concat_str(g.str.slice(0, 1), f, no))
    )
    frame = frame.with_columns(
        address=pl.concat_str("city", "town", block),
        phone=phone,
        email=pl.when(pl.col("has_email")).then(pl.concat_str(local, pl.lit("@"), "domain")),
    )
    personal = (
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "birth_date",
        "gender",
        "email",
        "phone",
        "postal_code",
        "prefecture",
        "address",
        "category",
    )
    frame = frame.with_columns(pl.when("keep").then(pl.col(c)).alias(c) for c in personal)
    return frame.select(
        "member_no",
        "org_code",
        *personal[:4],
        "birth_date",
        "gender",
        "email",
        "phone",
        "postal_code",
        "prefecture",
        "address",
        "category",
        "status",
        "joined_on",
        name_key=pl.concat_str("family_name", "given_name"),
        kana_key=pl.concat_str("family_name_kana", "given_name_kana"),
        phone_key=pl.col("phone").str.replace_all("-", "", literal=True),
    )
