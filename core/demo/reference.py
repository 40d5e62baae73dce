"""Reference data the demo draws from: prefectures, the name pool, the postal-code pool.

Prefectures are in JIS order (01 北海道 … 47 沖縄県) with their 2020 census population
(thousands), a snow factor that weights ski-federation membership toward snowy
prefectures, and the area code of the prefectural capital for landline numbers.
Names come from gimei's ``names.yml`` (kanji, hiragana, katakana triples), so a kanji
name and its reading always match; addresses come from ``ref_postal_codes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import gimei
import jaconv
import numpy as np
import numpy.typing as npt
import polars as pl
import yaml

# (name, population in thousands, snow factor, area code of the capital)
PREFECTURES: tuple[tuple[str, int, float, str], ...] = (
    ("北海道", 5225, 4.0, "011"),
    ("青森県", 1238, 2.5, "017"),
    ("岩手県", 1211, 2.5, "019"),
    ("宮城県", 2302, 1.3, "022"),
    ("秋田県", 960, 2.5, "018"),
    ("山形県", 1068, 2.5, "023"),
    ("福島県", 1833, 1.8, "024"),
    ("茨城県", 2867, 0.7, "029"),
    ("栃木県", 1933, 1.0, "028"),
    ("群馬県", 1939, 1.6, "027"),
    ("埼玉県", 7345, 0.8, "048"),
    ("千葉県", 6284, 0.6, "043"),
    ("東京都", 14048, 0.8, "03"),
    ("神奈川県", 9237, 0.8, "045"),
    ("新潟県", 2201, 3.0, "025"),
    ("富山県", 1035, 2.5, "076"),
    ("石川県", 1133, 1.8, "076"),
    ("福井県", 767, 1.8, "0776"),
    ("山梨県", 810, 1.2, "055"),
    ("長野県", 2048, 4.0, "026"),
    ("岐阜県", 1979, 1.6, "058"),
    ("静岡県", 3633, 0.9, "054"),
    ("愛知県", 7542, 0.8, "052"),
    ("三重県", 1770, 0.6, "059"),
    ("滋賀県", 1414, 1.0, "077"),
    ("京都府", 2578, 0.7, "075"),
    ("大阪府", 8838, 0.6, "06"),
    ("兵庫県", 5465, 0.8, "078"),
    ("奈良県", 1324, 0.5, "0742"),
    ("和歌山県", 923, 0.4, "073"),
    ("鳥取県", 553, 1.3, "0857"),
    ("島根県", 671, 0.9, "0852"),
    ("岡山県", 1888, 0.6, "086"),
    ("広島県", 2800, 0.8, "082"),
    ("山口県", 1342, 0.4, "083"),
    ("徳島県", 720, 0.4, "088"),
    ("香川県", 950, 0.4, "087"),
    ("愛媛県", 1335, 0.4, "089"),
    ("高知県", 692, 0.3, "088"),
    ("福岡県", 5135, 0.4, "092"),
    ("佐賀県", 811, 0.3, "0952"),
    ("長崎県", 1312, 0.3, "095"),
    ("熊本県", 1738, 0.3, "096"),
    ("大分県", 1124, 0.4, "097"),
    ("宮崎県", 1070, 0.3, "0985"),
    ("鹿児島県", 1588, 0.3, "099"),
    ("沖縄県", 1467, 0.1, "098"),
)
PREF_NAMES: tuple[str, ...] = tuple(p[0] for p in PREFECTURES)
POPULATION = np.array([p[1] for p in PREFECTURES], dtype=np.float64)
SNOW = np.array([p[2] for p in PREFECTURES], dtype=np.float64)
AREA_CODES: tuple[str, ...] = tuple(p[3] for p in PREFECTURES)

_KATAKANA = re.compile(r"^[ァ-ヶー]+$")
_NOT_LETTER = re.compile(r"[^a-z]")
# Towns that are notes rather than places (「以下に掲載がない場合」, 「○○の次に番地がくる場合」 ...)
# and the floors of high-rise buildings (「…タワー（３０階）」).
_NOT_A_TOWN = "以下に掲載|場合|次に|、|「|〜|～|番地|地割|一円|その他|階"


@dataclass(frozen=True)
class NamePool:
    """Kanji names with matching katakana readings and a romanisation for e-mail."""

    family: pl.DataFrame  # kanji, kana, roman
    family_weight: npt.NDArray[np.float64]
    male: pl.DataFrame
    female: pl.DataFrame


def _pool_frame(rows: list[list[str]]) -> pl.DataFrame:
    kept = [row for row in rows if len(row) == 3 and _KATAKANA.match(row[2])]
    roman = [_NOT_LETTER.sub("", jaconv.kata2alphabet(row[2])) or "user" for row in kept]
    return pl.DataFrame(
        {"kanji": [r[0] for r in kept], "kana": [r[2] for r in kept], "roman": roman}
    )


@lru_cache(maxsize=1)
def name_pool() -> NamePool:
    """gimei's name lists; the family list is ordered roughly by frequency."""
    path = Path(gimei.__file__).resolve().parent / "data" / "names.yml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    family = _pool_frame(data["last_name"])
    rank = np.arange(family.height, dtype=np.float64)
    weight = 1.0 / (rank + 8.0) ** 0.9
    return NamePool(
        family=family,
        family_weight=weight / weight.sum(),
        male=_pool_frame(data["first_name"]["male"]),
        female=_pool_frame(data["first_name"]["female"]),
    )


@dataclass(frozen=True)
class PostalPool:
    """Usable postal rows sorted by prefecture, with sampling weights."""

    frame: pl.DataFrame  # postal_code, pref (0-46), city, town, city_norm, town_stem
    pref: npt.NDArray[np.int64]
    weight: npt.NDArray[np.float64]


def postal_pool(con: duckdb.DuckDBPyConnection) -> PostalPool:
    """Read ref_postal_codes: drop note rows, strip （…）, make digits half-width.

    Rows in cities (市, Tokyo's wards) weigh three times a town or village row, so members
    cluster where people live.
    """
    rows = con.execute(
        """
        WITH cleaned AS (
            SELECT postal_code, prefecture, city,
                   trim(translate(regexp_replace(town, '（[^）]*）|\\([^)]*\\)', '', 'g'),
                                  '０１２３４５６７８９－', '0123456789-')) AS town
            FROM ref_postal_codes
            WHERE town IS NOT NULL AND town <> '' AND NOT regexp_matches(town, ?)
        )
        SELECT * FROM cleaned WHERE town <> '' ORDER BY postal_code
        """,
        [_NOT_A_TOWN],
    ).fetchall()
    frame = pl.DataFrame(rows, schema=["postal_code", "prefecture", "city", "town"], orient="row")
    order = {name: i for i, name in enumerate(PREF_NAMES)}
    frame = (
        frame.with_columns(pref=pl.col("prefecture").replace_strict(order, return_dtype=pl.Int64))
        .sort("pref", "postal_code")
        .with_columns(
            # 札幌市中央区 → 札幌市, 余市郡余市町 → 余市町, 千代田区 stays
            city_norm=pl.col("city")
            .str.replace(r"^.+?郡", "")
            .str.replace(r"^(.+?市).+区$", "${1}"),
            town_stem=pl.col("town").str.extract(r"^([一-龥々]{2,3}?)(?:町|村)?$", 1),
        )
    )
    missing = set(range(len(PREF_NAMES))) - set(frame["pref"].unique().to_list())
    if missing:
        names = ", ".join(PREF_NAMES[i] for i in sorted(missing))
        raise ValueError(f"ref_postal_codes has no usable rows for {names}; run `init` first")
    city = frame["city"].to_numpy()
    in_city = np.char.find(city.astype(str), "市") >= 0
    ward = np.char.endswith(city.astype(str), "区")
    weight = np.where(in_city | ward, 3.0, 1.0)
    return PostalPool(frame=frame, pref=frame["pref"].to_numpy().astype(np.int64), weight=weight)


class GroupSampler:
    """Draw an item within a group (e.g. a postal row within a prefecture) by weight.

    Items are sorted by group; the cumulative weight of group g is rescaled into
    [g, g + 1), so one searchsorted over ``group + u`` samples every row at once.
    """

    def __init__(self, group: npt.NDArray[np.int64], weight: npt.NDArray[np.float64]) -> None:
        if np.any(np.diff(group) < 0):
            raise ValueError("items must be sorted by group")
        totals = np.bincount(group, weights=weight)
        cum = np.cumsum(weight)
        before = np.concatenate([[0.0], np.cumsum(totals)])[group]
        share = totals[group]
        scaled = np.divide(cum - before, share, out=np.ones_like(cum), where=share > 0)
        self.edges = group + np.clip(scaled, 0.0, 1.0)
        self.has = np.zeros(totals.size, dtype=bool)
        self.has[group[weight > 0]] = True
        self.size = group.size

    def sample(
        self, rng: np.random.Generator, group: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """One item index per entry of `group`."""
        if not np.all(self.has[group]):
            raise ValueError("a group without items was asked for")
        target = group + rng.random(group.size) * (1.0 - 1e-12)
        index = np.searchsorted(self.edges, target, side="right")
        return np.minimum(index, self.size - 1).astype(np.int64)
