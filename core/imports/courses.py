"""Rules for courses.csv and enrolments.csv (FORMATS.md, extended in docs/formats.md): the
catalogue, and reservations taken elsewhere.

courses.csv creates a course, or edits one whose code exists (a cell left empty keeps the
stored value); the writing (seats, audit, promotions) is core.courses.catalogue's.
enrolments.csv reserves in `reserved_at` order, waitlisting over capacity; a refused row is an
error of the file (core.courses.enrolment).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import polars as pl

from core import schemes, text
from core.checks import Check, date_check, duplicate_in_file, in_set, quoted, required
from core.config import Config
from core.courses import policy
from core.imports.base import TableSpec
from core.store import db

# timestamps: "YYYY-MM-DD HH:MM" (Japan time); a day alone opens at the scheme's opening time
# (starts) or closes at the day's end (ends)
STAMPS = {"recruit_from": True, "recruit_until": False, "extra_from": True, "extra_until": False}
TIMES = ("starts_at", "ends_at")
WHOLE = {"hours": (1, "時間"), "capacity": (1, "定員"), "materials_fee": (0, "教材費"),
         "min_to_open": (0, "開講最少人数")}  # fmt: skip
OPTIONAL = ("domain", "capacity", "materials_fee", "min_to_open", *STAMPS, "venue", "lecturer",
            "held_until", *TIMES, "notes", "qualification")  # fmt: skip
COLUMNS = ["course_code", "scheme", "title", "held_on", "hours", *OPTIONAL]


def _stamp(column: str) -> pl.Expr:
    value = pl.col(column).str.normalize("NFKC").str.strip_chars().str.replace_all("/", "-")
    return pl.coalesce(
        value.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M", strict=False),
        value.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False),
    )


def _time(column: str) -> pl.Expr:
    value = pl.col(column).str.normalize("NFKC").str.strip_chars()
    return value.str.strptime(pl.Time, "%H:%M", strict=False)


def _course_clean(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("course_code").str.normalize("NFKC").str.strip_chars(),
        pl.col("scheme").str.to_lowercase(),
        text.date_expr("held_on").alias("held_parsed"),
        text.date_expr("held_until").alias("held_until_parsed"),
        *(pl.col(c).str.normalize("NFKC") for c in WHOLE),
        *(_stamp(c).alias(f"{c}_stamp") for c in STAMPS),
        *(text.date_expr(c).alias(f"{c}_day") for c in STAMPS),
        *(_time(c).alias(f"{c}_parsed") for c in TIMES),
    )


def _whole(column: str, low: int, what: str) -> Check:
    value = pl.col(column).str.normalize("NFKC")
    return Check(
        column,
        pl.col(column).is_not_null()
        & (~value.str.contains(r"^\d+$") | (value.cast(pl.Int64, strict=False) < low)),
        quoted(f"{what}は{low}以上の整数です", column),
    )


def _resolved(frame: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """Timestamps resolved: a day alone opens at the scheme's opening time, or ends the day."""
    today = dt.date.today()
    opens = {s: policy.policy(cfg, s, today).opens_at for s in policy.course_schemes()}
    opening = pl.col("scheme").replace_strict(opens, default="00:00").str.strptime(pl.Time, "%H:%M")
    return frame.with_columns(
        (
            pl.coalesce(
                pl.col(f"{c}_stamp"),
                pl.col(f"{c}_day").dt.combine(opening)
                if starts
                else pl.col(f"{c}_day").dt.combine(dt.time(23, 59, 59)),
            ).alias(f"{c}_parsed")
        )
        for c, starts in STAMPS.items()
    )


def _stored(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """The stored courses the file names, with their seats taken (a row edits them)."""
    keys = frame.select(pl.col("course_code").drop_nulls().unique())
    with db.registered(con, staged_keys=keys):
        return db.frame(
            con,
            """
            SELECT c.course_code, c.scheme AS stored_scheme, c.capacity AS stored_capacity,
                   c.held_on AS stored_held_on,
                   count(e.enrolment_id) FILTER (WHERE e.status = 'reserved') AS seated
            FROM courses c JOIN staged_keys USING (course_code)
            LEFT JOIN enrolments e USING (course_code)
            GROUP BY ALL
            """,
        )


def _choices(cfg: Config, column: str) -> dict[str, list[str]]:
    """Per scheme that runs courses and needs `column` on its completions: the codes allowed."""
    found = {}
    for code in policy.course_schemes():
        needed = schemes.get(code).course_policy(cfg, dt.date.today())
        if needed and column in needed.activity_columns:
            found[code] = list(schemes.get(code).activity_choices(cfg, column) or {})
    return found


def _course_checks(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config
) -> tuple[pl.DataFrame, list[Check]]:
    frame = _resolved(frame, cfg).join(_stored(con, frame), on="course_code", how="left")
    billed = [s.code for s in schemes.every() if s.course_items is not None]
    checks = [
        *required("course_code", "scheme", "title", "held_on", "hours"),
        duplicate_in_file("course_code", "講習コード"),
        in_set("scheme", policy.course_schemes(), "講習を扱う制度"),
        Check(
            "scheme",
            pl.col("stored_scheme").is_not_null() & (pl.col("stored_scheme") != pl.col("scheme")),
            pl.format("登録済みの講習の制度は変えられません（{}）", pl.col("stored_scheme")),
        ),
        date_check("held_on", "held_parsed"),
        date_check("held_until", "held_until_parsed"),
        Check(
            "held_until",
            pl.col("held_until_parsed") < pl.col("held_parsed"),
            quoted("最終日が開催日より前です", "held_until"),
        ),
        *(_whole(c, low, what) for c, (low, what) in WHOLE.items()),
        Check(
            "capacity",
            pl.col("capacity").cast(pl.Int64, strict=False) < pl.col("seated"),
            pl.format("定員を予約済みの人数（{}人）より少なくできません", pl.col("seated")),
        ),
        Check(
            "materials_fee",
            (pl.col("materials_fee").cast(pl.Int64, strict=False) > 0)
            & ~pl.col("scheme").is_in(billed),
            "この制度の講習は受講料を請求しないため、教材費は入力できません",
        ),
        *(
            Check(c, pl.col(c).is_not_null() & pl.col(f"{c}_parsed").is_null(),
                  quoted("日時（YYYY-MM-DD HH:MM）ではありません", c))
            for c in STAMPS
        ),
        *(
            Check(c, pl.col(c).is_not_null() & pl.col(f"{c}_parsed").is_null(),
                  quoted("時刻（HH:MM）ではありません", c))
            for c in TIMES
        ),
        Check("ends_at", pl.col("ends_at_parsed") <= pl.col("starts_at_parsed"),
              quoted("終了時刻が開始時刻より前です", "ends_at")),
        Check("recruit_until", pl.col("recruit_until_parsed") < pl.col("recruit_from_parsed"),
              quoted("募集終了が募集開始より前です", "recruit_until")),
        Check("extra_until", pl.col("extra_until_parsed") < pl.col("extra_from_parsed"),
              quoted("追加募集の終了が開始より前です", "extra_until")),
        Check("extra_from", pl.col("extra_from_parsed") <= pl.col("recruit_until_parsed"),
              quoted("追加募集は募集期間の後です", "extra_from")),
        Check("extra_from", pl.col("extra_from").is_not_null() & pl.col("recruit_until").is_null(),
              "追加募集には募集期間（recruit_until）が必要です"),
        *(
            Check(c, pl.col(f"{c}_parsed").dt.date() >= pl.col("held_parsed"),
                  quoted("募集は開催日の前日までです", c))
            for c in ("recruit_until", "extra_until")
        ),
    ]  # fmt: skip
    for column in ("domain", "qualification"):
        for scheme, allowed in _choices(cfg, column).items():
            is_scheme = pl.col("scheme") == scheme
            checks += [
                Check(column, is_scheme & pl.col(column).is_null()
                      & pl.col("stored_scheme").is_null(),
                      f"{schemes.get(scheme).short_name}の講習には {column} が必要です"),
                Check(column, is_scheme & pl.col(column).is_not_null()
                      & ~pl.col(column).is_in(allowed),
                      quoted(f"{column} は {', '.join(allowed)} のいずれかです", column)),
            ]  # fmt: skip
    return frame, checks


def _course_finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        held_on=pl.col("held_parsed"),
        held_until=pl.col("held_until_parsed"),
        **{c: pl.col(c).cast(pl.Int32) for c in WHOLE},
        **{c: pl.col(f"{c}_parsed") for c in (*STAMPS, *TIMES)},
    )


def _write_courses(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, **kwargs: Any) -> list[str]:
    from core.courses import catalogue  # imported late: catalogue imports the imports

    return catalogue.write_rows(con, frame, **kwargs)


COURSES = TableSpec(
    required=("course_code", "scheme", "title", "held_on", "hours"),
    optional=OPTIONAL,
    columns=COLUMNS,
    key="course_code",
    member_column=None,
    clean=_course_clean,
    checks=_course_checks,
    finish=_course_finish,
    writer=_write_courses,
)


def _enrolment_clean(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("member_no").str.normalize("NFKC").str.strip_chars(),
        pl.col("course_code").str.normalize("NFKC").str.strip_chars(),
        _stamp("reserved_at").alias("reserved_parsed"),
        text.date_expr("form_received_on").alias("form_parsed"),
    )


def _enrolment_checks(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config
) -> tuple[pl.DataFrame, list[Check]]:
    # who may reserve which course is core.courses.enrolment's (refused rows name their line)
    return frame, [
        *required("member_no", "course_code", "reserved_at"),
        Check(
            "reserved_at",
            pl.col("reserved_at").is_not_null() & pl.col("reserved_parsed").is_null(),
            quoted("日時（YYYY-MM-DD HH:MM）ではありません", "reserved_at"),
        ),
        date_check("form_received_on", "form_parsed"),
        Check(
            "form_received_on",
            pl.col("form_parsed") < pl.col("reserved_parsed").dt.date(),
            quoted("申込書の到着日が予約より前です", "form_received_on"),
        ),
        Check(
            "form_received_on",
            pl.col("form_parsed") > pl.lit(dt.date.today()),
            quoted("未来の日付です", "form_received_on"),
        ),
    ]


def _enrolment_finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        reserved_at=pl.col("reserved_parsed"), form_received_on=pl.col("form_parsed")
    )


def _write_enrolments(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, **kwargs: Any
) -> list[str]:
    from core.courses import enrolment  # imported late: enrolment imports the imports

    return enrolment.import_rows(con, frame, **kwargs)


ENROLMENTS = TableSpec(
    required=("member_no", "course_code", "reserved_at"),
    optional=("form_received_on",),
    columns=["member_no", "course_code", "reserved_at", "form_received_on"],
    key="course_code",
    member_column="member_no",
    clean=_enrolment_clean,
    checks=_enrolment_checks,
    finish=_enrolment_finish,
    writer=_write_enrolments,
)
