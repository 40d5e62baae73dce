"""members.csv (FORMATS.md): the rules of core.members.rules over a file's rows."""

from __future__ import annotations

import polars as pl

from core.imports.base import TableSpec
from core.members import rules

MEMBER_OPTIONAL = (
    "email",
    "phone",
    "postal_code",
    "prefecture",
    "address",
    "category",
    "status",
    "gender",
    "joined_on",
)


def _member_finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        postal_code=pl.col("postal_clean"),
        birth_date=pl.col("birth_parsed"),
        joined_on=pl.col("joined_parsed"),
        status=pl.col("status").fill_null("active"),
        name_key=pl.col("family_name") + pl.col("given_name"),
        kana_key=pl.col("family_name_kana") + pl.col("given_name_kana"),
        phone_key=pl.col("phone").str.replace_all(r"\D", ""),
    )


SPEC = TableSpec(
    required=(
        "member_no",
        "org_code",
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "birth_date",
    ),
    optional=MEMBER_OPTIONAL,
    columns=[
        "member_no",
        "org_code",
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
        "status",
        "joined_on",
        "name_key",
        "kana_key",
        "phone_key",
    ],
    key="member_no",
    member_column="member_no",
    clean=rules.clean,
    checks=rules.checks,
    finish=_member_finish,
)
