"""The rules of a member row — names and kana, birth date, status and category, contact data that
agrees with Japan Post — for members.csv and for the new member an application carries."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import text
from core.checks import (
    Check,
    date_check,
    duplicate_in_file,
    existing,
    in_set,
    of_members,
    prefectures,
    quoted,
    required,
)
from core.config import Config
from core.members.records import ERASED_FIELDS
from core.store import db
from core.vocabulary import MEMBER_CATEGORIES as CATEGORIES
from core.vocabulary import MEMBER_STATUSES as STATUSES

ERASED = (pl.col("status").str.strip_chars().str.to_lowercase() == "erased").fill_null(False)
# what erasure cleared of the person (the number, club and dates stay)
PERSON_FIELDS = tuple(f for f in ERASED_FIELDS if not f.endswith("_key"))


def clean(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        text.widen_kana_expr("family_name").str.replace_all(r"[\s\u3000]+", ""),
        text.widen_kana_expr("given_name").str.replace_all(r"[\s\u3000]+", ""),
        text.katakana_expr("family_name_kana"),
        text.katakana_expr("given_name_kana"),
        text.widen_kana_expr("address"),
        pl.col("email").str.normalize("NFKC"),
        pl.col("phone").str.normalize("NFKC").str.replace_all("[ー−―]", "-"),
        text.postal_code_expr("postal_code").alias("postal_clean"),
        text.date_expr("birth_date").alias("birth_parsed"),
        text.date_expr("joined_on").alias("joined_parsed"),
        pl.col("member_no").str.normalize("NFKC"),
    )


def checks(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config
) -> tuple[pl.DataFrame, list[Check]]:
    taken = existing(
        con, frame, "member_no", "SELECT member_no FROM members JOIN staged_keys USING (member_no)"
    )
    orgs = existing(
        con,
        frame,
        "org_code",
        "SELECT org_code FROM organizations JOIN staged_keys USING (org_code)",
    )
    # The contact data a row leaves: its own values, else (an information change of a member)
    # the stored ones; a row that gives a postal code or a prefecture must leave the two in
    # agreement, whichever of them it gives.
    stored = of_members(
        con,
        frame,
        "SELECT member_no, postal_code AS stored_postal, prefecture AS stored_prefecture"
        " FROM members JOIN staged_keys USING (member_no)",
    )
    postal = db.frame(
        con,
        "SELECT DISTINCT postal_code AS resulting_postal, prefecture AS postal_prefecture"
        " FROM ref_postal_codes",
    )
    frame = (
        frame.join(stored, on="member_no", how="left", maintain_order="left")
        .with_columns(
            resulting_postal=pl.coalesce("postal_clean", "stored_postal"),
            resulting_prefecture=pl.coalesce("prefecture", "stored_prefecture"),
        )
        .join(postal, on="resulting_postal", how="left", maintain_order="left")
    )
    frame_prefecture = pl.col("postal_prefecture")
    touched = pl.col("postal_clean").is_not_null() | pl.col("prefecture").is_not_null()
    kana = text.KATAKANA_RE
    return frame, [
        *required("member_no", "org_code"),
        # an erased member (SAJ) keeps the number and the club, nothing of the person: a file
        # moving a body's members between systems carries them so (never re-using a number)
        *(
            Check(c, ~ERASED & pl.col(c).is_null(), "値がありません")
            for c in (
                "family_name",
                "given_name",
                "family_name_kana",
                "given_name_kana",
                "birth_date",
            )
        ),
        *(
            Check(
                c,
                ERASED & pl.col(c).is_not_null(),
                quoted("抹消済みの会員に個人情報は入れません", c),
            )
            for c in PERSON_FIELDS
            if c in frame.columns
        ),
        Check(
            "member_no",
            ~pl.col("member_no").str.contains(r"^[A-Za-z0-9\-]{1,20}$"),
            quoted("会員番号は英数字とハイフン20文字までです", "member_no"),
        ),
        duplicate_in_file("member_no", "会員番号"),
        Check(
            "member_no",
            pl.col("member_no").is_in(taken.implode()),
            quoted("既に使われた会員番号です（会員番号は再利用しません）", "member_no"),
        ),
        Check(
            "org_code",
            pl.col("org_code").is_not_null() & ~pl.col("org_code").is_in(orgs.implode()),
            quoted("組織コードが見つかりません", "org_code"),
        ),
        *(
            Check(
                c,
                pl.col(c).is_not_null() & ~pl.col(c).str.contains(kana),
                quoted("カタカナ（フリガナ）ではありません", c),
            )
            for c in ("family_name_kana", "given_name_kana")
        ),
        date_check("birth_date", "birth_parsed"),
        Check(
            "birth_date",
            pl.col("birth_parsed") > pl.lit(dt.date.today()),
            quoted("未来の日付です", "birth_date"),
        ),
        Check(
            "birth_date",
            pl.col("birth_parsed") < pl.date(1900, 1, 1),
            quoted("1900年より前の日付です", "birth_date"),
        ),
        date_check("joined_on", "joined_parsed"),
        Check(
            "email",
            pl.col("email").is_not_null() & ~pl.col("email").str.contains(text.EMAIL_RE),
            quoted("メールアドレスの形式ではありません", "email"),
        ),
        Check(
            "phone",
            pl.col("phone").is_not_null()
            & ~(
                pl.col("phone").str.contains(text.PHONE_RE)
                & pl.col("phone").str.replace_all(r"\D", "").str.contains(r"^0\d{9,10}$")
            ),
            quoted("電話番号の形式ではありません（0から始まる10〜11桁）", "phone"),
        ),
        Check(
            "postal_code",
            pl.col("postal_code").is_not_null() & pl.col("postal_clean").is_null(),
            quoted("郵便番号は7桁の数字（NNN-NNNN）です", "postal_code"),
        ),
        Check(
            "postal_code",
            pl.col("postal_clean").is_not_null() & frame_prefecture.is_null(),
            quoted("日本郵便のデータにない郵便番号です", "postal_code"),
        ),
        Check(  # only the postal code given: it must belong to the prefecture on record
            "postal_code",
            pl.col("postal_clean").is_not_null()
            & pl.col("prefecture").is_null()
            & pl.col("stored_prefecture").is_not_null()
            & frame_prefecture.is_not_null()
            & (pl.col("stored_prefecture") != frame_prefecture),
            pl.format(
                "郵便番号 {} は{}の番号です（登録の都道府県: {}）",
                pl.col("postal_clean"),
                frame_prefecture,
                pl.col("stored_prefecture"),
            ),
        ),
        Check(
            "prefecture",
            pl.col("prefecture").is_not_null() & ~pl.col("prefecture").is_in(prefectures(con)),
            quoted("都道府県名ではありません", "prefecture"),
        ),
        Check(
            "prefecture",
            touched
            & pl.col("prefecture").is_in(prefectures(con))
            & frame_prefecture.is_not_null()
            & (pl.col("prefecture") != frame_prefecture),
            pl.format(
                "郵便番号 {} は{}の番号です: '{}'",
                pl.col("resulting_postal"),
                frame_prefecture,
                pl.col("prefecture"),
            ),
        ),
        in_set("category", tuple(CATEGORIES), "category"),
        in_set("status", tuple(STATUSES), "status"),
        in_set("gender", ("male", "female", "other"), "gender"),
    ]
