"""Rules for qualifications.csv: holder, scheme and type from the configuration, validity; a\nnewly acquired qualification that costs a fee opens it (core.billing.acquisition)."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import config, schemes, text
from core.billing import acquisition
from core.checks import Check, date_check, duplicate_in_file, existing, in_set, quoted, required
from core.config import Config
from core.imports.base import TableSpec
from core.vocabulary import QUALIFICATION_STATUSES


def _qualification_clean(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("member_no").str.normalize("NFKC"),
        pl.col("scheme").str.to_lowercase(),
        pl.col("qualification").str.to_lowercase(),
        *(
            text.date_expr(c).alias(f"{c}_parsed")
            for c in ("acquired_on", "valid_from", "valid_until")
        ),
    )


def _allowed_qualifications(cfg: Config) -> pl.Series:
    return pl.Series([f"{s}/{q}" for s in schemes.CODES for q in cfg.value(f"{s}.qualifications")])


def _qualification_checks(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config
) -> tuple[pl.DataFrame, list[Check]]:
    members = existing(
        con, frame, "member_no", "SELECT member_no FROM members JOIN staged_keys USING (member_no)"
    )
    held = existing(
        con,
        frame,
        "member_no",
        "SELECT q.member_no || '/' || q.scheme || '/' || q.qualification"
        " FROM qualifications q JOIN staged_keys USING (member_no)",
    )
    pair = pl.col("scheme") + "/" + pl.col("qualification")
    return frame, [
        *required("member_no", "scheme", "qualification"),
        Check(
            "member_no",
            pl.col("member_no").is_not_null() & ~pl.col("member_no").is_in(members.implode()),
            quoted("会員番号が見つかりません", "member_no"),
        ),
        in_set("scheme", schemes.CODES, "scheme"),
        Check(
            "qualification",
            pl.col("scheme").is_in(list(schemes.CODES))
            & pl.col("qualification").is_not_null()
            & ~pair.is_in(_allowed_qualifications(cfg).implode()),
            pl.format(
                "制度 {} にない資格コードです: '{}'", pl.col("scheme"), pl.col("qualification")
            ),
        ),
        *(date_check(c, f"{c}_parsed") for c in ("acquired_on", "valid_from", "valid_until")),
        Check(
            "valid_until",
            pl.col("valid_until_parsed") < pl.col("valid_from_parsed"),
            quoted("有効期限が有効開始日より前です", "valid_until"),
        ),
        in_set(
            "status",
            tuple(s for s in QUALIFICATION_STATUSES if s not in ("renewal_open", "renewed")),
            "status",
        ),
        duplicate_in_file(["member_no", "scheme", "qualification"], "会員・資格の組み合わせ"),
        Check(
            "qualification",
            (pl.col("member_no") + "/" + pair).is_in(held.implode()),
            quoted("この会員は既にこの資格を持っています", "qualification"),
        ),
    ]


def _qualification_finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        acquired_on=pl.col("acquired_on_parsed"),
        valid_from=pl.col("valid_from_parsed"),
        valid_until=pl.col("valid_until_parsed"),
        status=pl.col("status").fill_null("active"),
    )


def _open_fees(con: duckdb.DuckDBPyConnection, batch_id: str, actor: str) -> list[str]:
    """New qualifications that cost a fee to acquire open it (core.billing.acquisition)."""
    n = acquisition.open_fees(
        con, "staged_rows", cfg=config.current(), actor=actor, batch_id=batch_id, on=dt.date.today()
    )
    return [f"opened {n:,} fee lines for newly acquired qualifications"] if n else []


SPEC = TableSpec(
    required=("member_no", "scheme", "qualification", "acquired_on", "valid_from", "valid_until"),
    optional=("status", "certificate_no"),
    columns=[
        "member_no",
        "scheme",
        "qualification",
        "acquired_on",
        "valid_from",
        "valid_until",
        "certificate_no",
        "status",
    ],
    key="member_no",
    member_column="member_no",
    clean=_qualification_clean,
    checks=_qualification_checks,
    finish=_qualification_finish,
    settle=_open_fees,
)
