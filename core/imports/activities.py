"""Rules for activities.csv: what renewal rules count, per scheme and kind."""

from __future__ import annotations

import duckdb
import polars as pl

from core import schemes, text
from core.checks import Check, date_check, existing, in_set, quoted, required
from core.config import Config
from core.imports.base import TableSpec

# what a row lacks when a kind needs the column (core.schemes: each scheme's activity kinds)
MISSING = {
    "category": "ポイント区分がありません",
    "points": "ポイントがありません",
    "qualification": "研修の対象資格がありません",
    "hours": "講習時間がありません",
    "domain": "領域がありません",
    "course_name": "講習名がありません",
}
NOT_A_CHOICE = {
    "category": "ポイント区分コードではありません",
    "qualification": "資格コードではありません",
}


ACTIVITY_OPTIONAL = (
    "qualification",
    "category",
    "points",
    "hours",
    "domain",
    "course_name",
    "score",
    "minutes_late",
)


def _activity_clean(frame: pl.DataFrame) -> pl.DataFrame:
    numbers = {
        c: pl.col(c).str.normalize("NFKC") for c in ("points", "hours", "score", "minutes_late")
    }
    return frame.with_columns(
        pl.col("member_no").str.normalize("NFKC"),
        pl.col("scheme").str.to_lowercase(),
        pl.col("kind").str.to_lowercase(),
        text.date_expr("date").alias("date_parsed"),
        *(expr.alias(c) for c, expr in numbers.items()),
        *(expr.cast(pl.Float64, strict=False).alias(f"{c}_num") for c, expr in numbers.items()),
    )


def _number(column: str, *, whole: bool, low: float, high: float | None, what: str) -> Check:
    value = pl.col(f"{column}_num")
    pattern = r"^\d+$" if whole else r"^\d+(\.\d)?$"
    bad = ~pl.col(column).str.contains(pattern) | value.is_null() | (value < low)
    if high is not None:
        bad = bad | (value > high)
    return Check(column, pl.col(column).is_not_null() & bad, quoted(what, column))


def _activity_checks(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config
) -> tuple[pl.DataFrame, list[Check]]:
    members = existing(
        con, frame, "member_no", "SELECT member_no FROM members JOIN staged_keys USING (member_no)"
    )
    kinds = [f"{s.code}/{k}" for s in schemes.every() for k in s.activity_kinds]
    kind = pl.col("scheme") + "/" + pl.col("kind")
    by_kind: list[Check] = []
    for scheme in schemes.every():
        for code, rule in scheme.activity_kinds.items():
            this = kind == f"{scheme.code}/{code}"
            by_kind += [Check(c, this & pl.col(c).is_null(), MISSING[c]) for c in rule.needs]
            for column in rule.columns:
                options = scheme.activity_choices(cfg, column)
                if options is not None:
                    by_kind.append(
                        Check(
                            column,
                            this
                            & pl.col(column).is_not_null()
                            & ~pl.col(column).is_in(list(options)),
                            quoted(
                                NOT_A_CHOICE.get(
                                    column, f"{column}は {', '.join(options)} のいずれかです"
                                ),
                                column,
                            ),
                        )
                    )
    return frame, [
        *required("member_no", "scheme", "kind", "date"),
        Check(
            "member_no",
            pl.col("member_no").is_not_null() & ~pl.col("member_no").is_in(members.implode()),
            quoted("会員番号が見つかりません", "member_no"),
        ),
        in_set("scheme", schemes.CODES, "scheme"),
        Check(
            "kind",
            pl.col("scheme").is_in(list(schemes.CODES))
            & pl.col("kind").is_not_null()
            & ~kind.is_in(kinds),
            pl.format("制度 {} にない実績の種類です: '{}'", pl.col("scheme"), pl.col("kind")),
        ),
        date_check("date", "date_parsed"),
        *by_kind,
        _number(
            "points", whole=False, low=0, high=1000, what="ポイントは0以上の数（小数1桁まで）です"
        ),
        _number(
            "hours", whole=False, low=0.5, high=24, what="講習時間は0.5〜24の数（小数1桁まで）です"
        ),
        _number("score", whole=True, low=0, high=100, what="得点は0〜100の整数です"),
        _number("minutes_late", whole=True, low=0, high=1440, what="遅刻（分）は0以上の整数です"),
    ]


def _activity_finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        date=pl.col("date_parsed"),
        points=pl.col("points_num"),
        hours=pl.col("hours_num"),
        score=pl.col("score_num").cast(pl.Int16),
        minutes_late=pl.col("minutes_late_num").cast(pl.Int16),
    )


SPEC = TableSpec(
    required=("member_no", "scheme", "kind", "date"),
    optional=ACTIVITY_OPTIONAL,
    columns=[
        "member_no",
        "scheme",
        "kind",
        "date",
        "qualification",
        "category",
        "points",
        "hours",
        "domain",
        "course_name",
        "score",
        "minutes_late",
    ],
    key="member_no",
    member_column="member_no",
    clean=_activity_clean,
    checks=_activity_checks,
    finish=_activity_finish,
)
