"""Japanese text as office files and staff type it: kana, postal codes, phones, dates.

Each rule exists twice on purpose-built grounds: a plain function for one value (a
search box, a form field) and a Polars expression for a whole column (an import of a
million rows). Both apply the same steps, and tests check that they agree.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from zoneinfo import ZoneInfo

import polars as pl
from japanera import EraDate

JST = ZoneInfo("Asia/Tokyo")
HIRAGANA = [chr(c) for c in range(0x3041, 0x3097)]
KATAKANA = [chr(c + 0x60) for c in range(0x3041, 0x3097)]
_HIRA_TO_KATA = str.maketrans(dict(zip(HIRAGANA, KATAKANA, strict=True)))
_SPACES = re.compile(r"[\s\u3000]+")
KATAKANA_RE = r"^[ァ-ヶー・]+$"
POSTAL_RE = r"^\d{3}-\d{4}$"
EMAIL_RE = r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$"
# Japanese phone numbers: 10 digits (landline) or 11 (mobile, IP, 0120 free dial
# with 10), always starting with 0, hyphens optional.
PHONE_RE = r"^0\d{1,4}-?\d{1,4}-?\d{3,4}$"
_PHONE_DIGITS_RE = re.compile(r"^0\d{9,10}$")
_DATE_RE = re.compile(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}$")
DATE_PATTERN = _DATE_RE.pattern  # for Polars expressions


def katakana(text: str) -> str:
    """Reading as katakana: half-width → full-width, hiragana → katakana, no spaces."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text).translate(_HIRA_TO_KATA))


def katakana_expr(column: str) -> pl.Expr:
    """`katakana` for a whole column."""
    return (
        pl.col(column)
        .str.normalize("NFKC")
        .str.replace_many(HIRAGANA, KATAKANA)
        .str.replace_all(r"[\s\u3000]+", "")
    )


def name_key(text: str) -> str:
    """A kanji name as searched: spaces removed, half-width kana widened."""
    return _SPACES.sub("", widen_kana(text))


def widen_kana(text: str) -> str:
    """Half-width katakana widened; kanji and everything else left as typed."""
    # NFKC would also rewrite compatibility kanji in names (神 → 神); widen kana only.
    return re.sub(r"[\uff61-\uff9f]+", lambda m: unicodedata.normalize("NFKC", m.group()), text)


def widen_kana_expr(column: str) -> pl.Expr:
    """Half-width katakana in a kanji column (name, address) widened, nothing else touched."""
    half = [chr(c) for c in range(0xFF61, 0xFFA0)]
    voiced = [h + "ﾞ" for h in half] + [h + "ﾟ" for h in half]
    pairs = {s: unicodedata.normalize("NFKC", s) for s in voiced}
    pairs = {s: w for s, w in pairs.items() if len(w) == 1}
    pairs.update({h: unicodedata.normalize("NFKC", h) for h in half})
    return pl.col(column).str.replace_many(pairs, leftmost=True)


def postal_code(text: str) -> str | None:
    """'1000001', '〒100-0001', '１００－０００１' → '100-0001'; None if not 7 digits."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", text))
    return f"{digits[:3]}-{digits[3:]}" if len(digits) == 7 else None


def postal_code_expr(column: str) -> pl.Expr:
    """`postal_code` for a whole column: null where the cell is not 7 digits."""
    digits = pl.col(column).str.normalize("NFKC").str.replace_all(r"\D", "")
    return (
        pl.when(digits.str.len_chars() == 7)
        .then(digits.str.slice(0, 3) + "-" + digits.str.slice(3, 4))
        .otherwise(None)
    )


def phone(text: str) -> str | None:
    """A phone number with full-width digits and dashes normalised; None if not valid."""
    value = unicodedata.normalize("NFKC", text).strip().replace("ー", "-").replace("−", "-")
    digits = re.sub(r"\D", "", value)
    if not re.match(PHONE_RE, value) or not _PHONE_DIGITS_RE.match(digits):
        return None
    return value


def phone_digits(text: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text))


def email(text: str) -> str | None:
    """An e-mail address, NFKC-normalised and trimmed; None if not valid."""
    value = unicodedata.normalize("NFKC", text).strip()
    return value if re.match(EMAIL_RE, value) else None


def parse_date(text: str) -> dt.date | None:
    """YYYY-MM-DD or YYYY/MM/DD (zero padding optional); None if not a real date."""
    value = unicodedata.normalize("NFKC", text).strip()
    if not _DATE_RE.match(value):
        return None
    year, month, day = (int(part) for part in re.split(r"[-/]", value))
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def date_expr(column: str) -> pl.Expr:
    """`parse_date` for a whole column: null where the cell is not a real date."""
    value = pl.col(column).str.normalize("NFKC").str.strip_chars()
    return (
        pl.when(value.str.contains(_DATE_RE.pattern))
        .then(value.str.replace_all("/", "-").str.to_date("%Y-%m-%d", strict=False))
        .otherwise(None)
    )


# --- dates as staff read them ----------------------------------------------------------


def wareki(day: dt.date) -> str:
    """令和8年11月24日 (元年 for an era's first year), from japanera's era table."""
    era = EraDate.from_date(day).era
    year = int(EraDate.from_date(day).strftime("%-Y"))
    year_text = "元" if year == 1 else str(year)
    return f"{era.kanji}{year_text}年{day.month}月{day.day}日"


def jp_date(day: dt.date | None, *, with_wareki: bool = False) -> str:
    """2026年11月24日, or 2026年11月24日（令和8年11月24日）; '—' for no date."""
    if day is None:
        return "—"
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（{wareki(day)}）" if with_wareki else text


def jst_now() -> dt.datetime:
    """Japan time now, without a zone and to the second, as applications store it."""
    return dt.datetime.now(JST).replace(tzinfo=None, microsecond=0)
