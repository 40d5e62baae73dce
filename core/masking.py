"""Personal data hidden for the roles that may not see it (analysts): names, birth dates and
contact data, in pages, downloads and exports alike."""

from __future__ import annotations

from typing import Any

import polars as pl

from core.vocabulary import CONTACT_LABELS

PERSONAL_COLUMNS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "email",
    "phone",
    "postal_code",
    "address",
    "name",
    "kana",
)
MASK = "＊＊＊"


def mask_personal(frame: pl.DataFrame) -> pl.DataFrame:
    """Personal data hidden for roles that may not see it (analysts): names, birth, contact."""
    replacements = []
    for column in frame.columns:
        if column not in PERSONAL_COLUMNS:
            continue
        if column == "birth_date":
            replacements.append((pl.col(column).dt.year().cast(pl.String) + "年").alias(column))
        elif column in ("family_name", "name"):
            replacements.append((pl.col(column).str.slice(0, 1) + pl.lit("＊＊")).alias(column))
        else:
            replacements.append(
                pl.when(pl.col(column).is_null()).then(None).otherwise(pl.lit(MASK)).alias(column)
            )
    return frame.with_columns(replacements) if replacements else frame


def mask_history(frame: pl.DataFrame) -> pl.DataFrame:
    """Audit rows with the old and new values of personal fields hidden."""
    personal = pl.col("field").is_in(list(PERSONAL_COLUMNS) + list(CONTACT_LABELS))
    return frame.with_columns(
        pl.when(personal & pl.col(c).is_not_null()).then(pl.lit(MASK)).otherwise(pl.col(c)).alias(c)
        for c in ("old_value", "new_value")
    )


def mask_record(record: dict[str, Any]) -> dict[str, Any]:
    """`mask_personal` for one member record."""
    masked = mask_personal(pl.DataFrame([record], infer_schema_length=None))
    return masked.row(0, named=True)
