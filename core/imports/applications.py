"""applications.csv (FORMATS.md): read, cleaned and checked by the rules of
core.applications.rules (the form's rules too), then routed to the first level of each
application's chain. A reference seen before is reported and skipped, never entered twice.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from core import text
from core.applications import routing, rules
from core.applications.rules import IS_NEW, MEMBER_COLUMNS
from core.checks import Check, existing
from core.config import Config
from core.imports.base import SKIP, TableSpec
from core.members import rules as member_rules
from core.store import db

OPTIONAL = (
    "member_no", "season", "proxy_org_code", "qualification", "target_org_code", "reason",
    "valid_until_claimed", "note", *MEMBER_COLUMNS, "insurance_plan", "competitor",
    "joined_on", "status", "gender", "entered_by",
)  # fmt: skip
COLUMNS = [
    "application_ref", "member_no", "scheme", "kind", "season", "submitted_at",
    "proxy_org_code", "qualification", "target_org_code", "reason", "valid_until_claimed",
    "note", "entered_by", *MEMBER_COLUMNS, "insurance_plan", "competitor",
]  # fmt: skip


def _clean(frame: pl.DataFrame) -> pl.DataFrame:
    frame = member_rules.clean(frame)
    stamp = pl.col("submitted_at").str.normalize("NFKC").str.strip_chars().str.replace_all("/", "-")
    return frame.with_columns(
        pl.col("application_ref").str.strip_chars(),
        pl.col("scheme").str.strip_chars().str.to_lowercase(),
        pl.col("kind").str.strip_chars().str.to_lowercase(),
        pl.coalesce(
            stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M", strict=False),
            stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False),
        ).alias("submitted_parsed"),
        pl.col("season").str.strip_chars().cast(pl.Int32, strict=False).alias("season_parsed"),
        text.date_expr("valid_until_claimed").alias("claimed_parsed"),
    )


def _checks(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config
) -> tuple[pl.DataFrame, list[Check]]:
    seen = existing(
        con,
        frame,
        "application_ref",
        "SELECT application_ref FROM applications JOIN staged_keys USING (application_ref)",
    )
    frame = frame.with_columns(
        _skip(seen).alias(SKIP),
        entered_by=pl.coalesce(
            pl.col("entered_by"),
            pl.when(pl.col("proxy_org_code").is_not_null()).then(pl.lit("proxy")),
            pl.lit("member"),
        ),
    )
    return rules.checks(con, frame, cfg)


def _skip(seen: pl.Series) -> pl.Expr:
    """References already entered, or repeated in the file: reported, not entered again."""
    ref = pl.col("application_ref")
    return ref.is_in(seen.implode()) | (
        ref.is_not_null() & ref.is_duplicated() & ~ref.is_first_distinct()
    )


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        submitted_at=pl.col("submitted_parsed"),
        season=pl.col("season_parsed"),
        valid_until_claimed=pl.col("claimed_parsed"),
        birth_date=pl.col("birth_parsed"),
        postal_code=pl.col("postal_clean"),
        org_code=pl.when(IS_NEW).then(pl.col("org_code")),
    )


def _after(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, file: str, actor: str) -> None:
    """Route the new applications; their first step names who entered them (a person at the
    form, or the file a command imported)."""
    ids = db.frame(
        con,
        "SELECT application_id FROM applications JOIN staged_rows USING (application_ref)",
    )
    who = f"import:{Path(file).name}" if actor.startswith("cli:") else actor
    routing.start(con, ids, actor=who, now=text.jst_now())


SPEC = TableSpec(
    required=("application_ref", "scheme", "kind", "submitted_at"),
    optional=OPTIONAL,
    columns=COLUMNS,
    key="application_ref",
    member_column="member_no",
    clean=_clean,
    checks=_checks,
    finish=_finish,
    after=_after,
)
