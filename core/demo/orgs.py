"""The organisation forest: one tree per scheme, national body → 47 prefectures → regions → clubs.

Codes read ``SAJ``, ``SAJ-13`` (prefecture, JIS number), ``SAJ-20-R01`` (regional body)
and ``SAJ-13-0007`` (club); none contains '/', since the path column joins codes with it.
Club counts follow the expected membership of each prefecture, so a million-member
build has larger clubs, not an unmanageable number of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from core.config import Config
from core.demo.reference import PREF_NAMES, GroupSampler, PostalPool

SCHEMES: tuple[str, ...] = ("jptec", "itc", "jspo", "saj", "teacher")

PREFECTURE_ORG_NAME = {
    "jptec": "JPTEC{pref}",
    "itc": "ITC{pref}",
    "jspo": "{pref}スポーツ協会",
    "saj": "{pref}スキー連盟",
    "teacher": "{pref}教育委員会",
}

# Regional bodies between a prefectural ski federation and its clubs (seed 003 names
# 静岡市スキー協会); only a few prefectures have them.
SAJ_REGIONS: dict[str, tuple[str, ...]] = {
    "北海道": ("札幌スキー連盟", "旭川スキー連盟", "函館スキー連盟"),
    "岩手県": ("盛岡市スキー協会",),
    "山形県": ("山形市スキー協会", "米沢市スキー協会"),
    "新潟県": ("新潟市スキー協会", "上越市スキー協会"),
    "群馬県": ("沼田市スキー協会",),
    "長野県": ("長野市スキー協会", "松本市スキー協会", "飯山市スキー協会"),
    "岐阜県": ("高山市スキー協会",),
    "静岡県": ("静岡市スキー協会", "浜松市スキー協会"),
    "兵庫県": ("神戸市スキー協会",),
}

SKI_WORDS = (
    "富士山",
    "白樺",
    "銀嶺",
    "雪稜",
    "蔵王",
    "八方",
    "志賀",
    "妙高",
    "ニセコ",
    "アルペン",
    "シュプール",
    "スノーフレンズ",
    "ホワイトベア",
    "樹氷",
    "若葉",
    "あすなろ",
    "雪華",
    "北斗",
    "青嶺",
    "白馬",
    "立山",
    "大山",
    "伊吹",
    "八甲田",
    "岩木",
    "月山",
    "苗場",
    "野沢",
    "乗鞍",
    "ブルーリッジ",
    "フリーダム",
    "ウインター",
    "雪友",
    "スノーバード",
    "山彦",
    "雷鳥",
)

_CLUB_PATTERNS: dict[str, tuple[str, ...]] = {
    "saj": (
        "{word}スキークラブ",
        "{town}スキークラブ",
        "{city_stem}スキー倶楽部",
        "スキークラブ{word}",
        "{town}スキー同好会",
        "{city}スキー少年団",
    ),
    "jptec": ("JPTEC{pref}{city_stem}地区",),
    "jspo": (
        "{city}スポーツ協会",
        "{town}総合型地域スポーツクラブ",
        "{town}サッカークラブ",
        "{city_stem}スイミングクラブ",
        "{town}少年野球クラブ",
        "{city_stem}ハンドボール協会",
        "{town}スポーツ少年団",
    ),
    "itc": ("{city}ITC研究会",),
    "teacher": ("{city}立{town}小学校", "{city}立{town}中学校", "{pref}立{town}高等学校"),
}
_CLUB_PATTERN_WEIGHTS: dict[str, tuple[float, ...]] = {
    "saj": (0.3, 0.25, 0.15, 0.1, 0.1, 0.1),
    "jspo": (0.1, 0.2, 0.2, 0.15, 0.15, 0.05, 0.15),
    "teacher": (0.5, 0.3, 0.2),
}


@dataclass(frozen=True)
class Forest:
    """The organisation rows and, per scheme, how to place a member in them."""

    frame: pl.DataFrame
    pref: npt.NDArray[np.int64]  # prefecture index of each org row, -1 for a national body
    holders: dict[str, npt.NDArray[np.int64]]  # org rows members may belong to, by prefecture
    samplers: dict[str, GroupSampler]

    def place(
        self, rng: np.random.Generator, scheme: str, pref: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """An organisation row for each member whose organisation's prefecture is `pref`."""
        return self.holders[scheme][self.samplers[scheme].sample(rng, pref)]


def _club_count(rng: np.random.Generator, scheme: str, expected: float) -> int:
    root = np.sqrt(max(expected, 0.0))
    if scheme == "saj":  # each club holds about 2-4 % of its prefecture's members
        wanted = round(1.0 / rng.uniform(0.02, 0.04))
        return int(np.clip(wanted, 1, max(1, int(expected // 4))))
    limits = {
        "jptec": (1, 5, 8.0),
        "jspo": (2, 40, 2.0),
        "teacher": (3, 60, 1.0),
        "itc": (0, 3, 6.0),
    }
    low, high, divisor = limits[scheme]
    return int(np.clip(round(root / divisor), low, high))


def _stem(city: str) -> str:
    return city[:-1] if len(city) > 2 and city[-1] in "市町村区" else city


def _club_names(
    rng: np.random.Generator, scheme: str, pref: str, count: int, places: pl.DataFrame
) -> list[str]:
    """`count` distinct club names for one prefecture, from local place names."""
    patterns = _CLUB_PATTERNS[scheme]
    weights = np.array(_CLUB_PATTERN_WEIGHTS.get(scheme, (1.0,) * len(patterns)))
    names: list[str] = []
    seen: set[str] = set()
    for _attempt in range(8):
        wanted = 3 * count + 4
        rows = places[rng.integers(0, places.height, wanted)]
        pattern = rng.choice(len(patterns), wanted, p=weights / weights.sum())
        words = rng.choice(len(SKI_WORDS), wanted)
        for city, town, k, w in zip(
            rows["city_norm"].to_list(), rows["town_stem"].to_list(), pattern, words, strict=True
        ):
            template = patterns[int(k)]
            if "{town}" in template and not town:
                continue
            name = template.format(
                pref=pref, city=city, city_stem=_stem(city), town=town, word=SKI_WORDS[int(w)]
            )
            if name not in seen:
                seen.add(name)
                names.append(name)
            if len(names) == count:
                return names
    while len(names) < count:  # a tiny prefecture pool: number the rest
        names.append(f"{names[len(names) % max(len(seen), 1)]}第{len(names) + 1}")
    return names


def build_forest(
    rng: np.random.Generator,
    cfg: Config,
    expected: dict[str, npt.NDArray[np.float64]],
    postal: PostalPool,
) -> Forest:
    """Every scheme's tree; `expected` is each scheme's expected members per prefecture."""
    cols: dict[str, list[object]] = {
        k: []
        for k in ("org_code", "name", "kind", "parent_code", "root_code", "path", "prefecture")
    }
    org_pref: list[int] = []
    weight: list[float] = []
    scheme_of: list[str] = []
    places_by_pref = postal.frame.partition_by("pref", as_dict=True, maintain_order=True)

    def add(
        code: str, name: str, kind: str, parent: str | None, path: str, p: int, w: float
    ) -> None:
        root = path.strip("/").split("/")[0]
        values = (code, name, kind, parent, root, path, PREF_NAMES[p] if p >= 0 else None)
        for key, value in zip(cols, values, strict=True):
            cols[key].append(value)
        org_pref.append(p)
        weight.append(w)
        scheme_of.append(scheme)

    for scheme in SCHEMES:
        root = str(cfg.value(f"{scheme}.root_org_code"))
        add(root, str(cfg.value(f"{scheme}.body_name")), "national", None, f"/{root}/", -1, 0.0)
        for p, pref in enumerate(PREF_NAMES):
            pref_code = f"{root}-{p + 1:02d}"
            pref_path = f"/{root}/{pref_code}/"
            clubs = _club_count(rng, scheme, float(expected[scheme][p]))
            sizes = rng.lognormal(0.0, 0.6, clubs)
            pref_weight = 1.5 * sizes.sum() if scheme == "itc" and clubs else 0.0
            if scheme == "itc" and clubs == 0:
                pref_weight = 1.0
            add(
                pref_code,
                PREFECTURE_ORG_NAME[scheme].format(pref=pref),
                "prefecture",
                root,
                pref_path,
                p,
                pref_weight,
            )
            regions: list[tuple[str, str]] = []
            if scheme == "saj":
                for r, region_name in enumerate(SAJ_REGIONS.get(pref, ()), start=1):
                    code = f"{pref_code}-R{r:02d}"
                    regions.append((code, f"{pref_path}{code}/"))
                    add(code, region_name, "region", pref_code, f"{pref_path}{code}/", p, 0.0)
            names = _club_names(rng, scheme, pref, clubs, places_by_pref[(p,)])
            under_region = rng.random(clubs) < (0.5 if regions else 0.0)
            region_pick = rng.integers(0, max(len(regions), 1), clubs)
            for c in range(clubs):
                code = f"{pref_code}-{c + 1:04d}"
                parent, base = pref_code, pref_path
                if under_region[c]:
                    parent, base = regions[int(region_pick[c])]
                add(code, names[c], "club", parent, f"{base}{code}/", p, float(sizes[c]))

    frame = pl.DataFrame(cols, schema={k: pl.String for k in cols})
    pref_arr = np.array(org_pref, dtype=np.int64)
    weight_arr = np.array(weight, dtype=np.float64)
    scheme_arr = np.array(scheme_of)
    holders: dict[str, npt.NDArray[np.int64]] = {}
    samplers: dict[str, GroupSampler] = {}
    for scheme in SCHEMES:
        rows = np.flatnonzero((scheme_arr == scheme) & (weight_arr > 0))
        rows = rows[np.argsort(pref_arr[rows], kind="stable")]
        holders[scheme] = rows
        samplers[scheme] = GroupSampler(pref_arr[rows], weight_arr[rows])
    return Forest(frame=frame, pref=pref_arr, holders=holders, samplers=samplers)
