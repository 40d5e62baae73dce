import datetime as dt

import polars as pl
import pytest

from core import text


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("やまだ たろう", "ヤマダタロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ"),
        ("ヤマダ　タロウ", "ヤマダタロウ"),
        ("ｶﾞｯｺｳ", "ガッコウ"),
        ("ﾊﾟﾝ", "パン"),
        ("ゔぁ", "ヴァ"),
    ],
)
def test_kana_in_any_width_or_script_becomes_full_width_katakana(typed, expected):
    assert text.katakana(typed) == expected
    column = pl.DataFrame({"k": [typed]}).select(text.katakana_expr("k")).item()
    assert column == expected


def test_kanji_names_keep_compatibility_kanji_but_widen_half_width_kana():
    assert text.name_key("髙橋 﨑") == "髙橋﨑"
    assert text.widen_kana("ｻｸﾗ荘101") == "サクラ荘101"
    frame = pl.DataFrame({"a": ["ｻｸﾗ荘101", "神田ﾋﾞﾙ"]}).select(text.widen_kana_expr("a"))
    assert frame["a"].to_list() == ["サクラ荘101", "神田ビル"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1000001", "100-0001"),
        ("100-0001", "100-0001"),
        ("〒１００－０００１", "100-0001"),
        ("100-001", None),
        ("10000011", None),
        ("", None),
    ],
)
def test_postal_codes_are_normalised_to_nnn_nnnn(typed, expected):
    assert text.postal_code(typed) == expected
    column = pl.DataFrame({"p": [typed]}).select(text.postal_code_expr("p")).item()
    assert column == expected


@pytest.mark.parametrize(
    ("typed", "ok"),
    [
        ("03-1234-5678", True),
        ("090-1234-5678", True),
        ("０９０－１２３４－５６７８", True),
        ("0312345678", True),
        ("123-4567", False),
        ("090-1234-56789", False),
        ("abc", False),
    ],
)
def test_phone_numbers_start_with_zero_and_have_10_or_11_digits(typed, ok):
    assert (text.phone(typed) is not None) is ok


@pytest.mark.parametrize(
    ("typed", "ok"),
    [
        ("taro@example.jp", True),
        ("ｔａｒｏ@example.jp", True),
        ("taro@", False),
        ("taro example.jp", False),
    ],
)
def test_email_format(typed, ok):
    assert (text.email(typed) is not None) is ok


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2024-04-01", dt.date(2024, 4, 1)),
        ("2024/4/1", dt.date(2024, 4, 1)),
        ("２０２４／０４／０１", dt.date(2024, 4, 1)),
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("2023-02-29", None),
        ("2024-13-01", None),
        ("2024.04.01", None),
        ("R6/4/1", None),
    ],
)
def test_dates_are_iso_or_slashed_and_real(typed, expected):
    assert text.parse_date(typed) == expected
    column = pl.DataFrame({"d": [typed]}).select(text.date_expr("d")).item()
    assert column == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 11, 24), "令和8年11月24日"),
        (dt.date(2019, 5, 1), "令和元年5月1日"),
        (dt.date(2019, 4, 30), "平成31年4月30日"),
        (dt.date(1989, 1, 8), "平成元年1月8日"),
        (dt.date(1989, 1, 7), "昭和64年1月7日"),
    ],
)
def test_wareki_comes_from_the_era_table_with_gannen(day, expected):
    assert text.wareki(day) == expected


def test_japanese_dates_for_staff():
    assert text.jp_date(dt.date(2026, 11, 24)) == "2026年11月24日"
    assert (
        text.jp_date(dt.date(2026, 11, 24), with_wareki=True) == "2026年11月24日（令和8年11月24日）"
    )
    assert text.jp_date(None) == "—"
