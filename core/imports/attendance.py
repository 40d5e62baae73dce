"""Rules for attendance.csv (FORMATS.md, extended in docs/formats.md) and the roster's grid of
results, which is checked as a file of the same columns: who attended, how late, the exam's
score and day (a later day is a re-exam), all or nothing. Writing is core.courses.results's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import polars as pl

from core import text, vocabulary
from core.checks import Check, date_check, in_set, quoted, required
from core.config import Config
from core.courses import policy
from core.imports.base import LINE, TableSpec
from core.store import db

OPTIONAL = ("minutes_late", "score", "exam_on", "method", "delay_certificate")
YES = ("yes", "true", "1", "有", "あり", "○")
NO = ("no", "false", "0", "無", "なし")


def _clean(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("member_no").str.normalize("NFKC").str.strip_chars(),
        pl.col("course_code").str.normalize("NFKC").str.strip_chars(),
        pl.col("attended").str.normalize("NFKC").str.strip_chars().str.to_lowercase(),
        pl.col("method").str.normalize("NFKC").str.strip_chars().str.to_lowercase(),
        pl.col("delay_certificate").str.normalize("NFKC").str.strip_chars().str.to_lowercase(),
        *(pl.col(c).str.normalize("NFKC").str.strip_chars() for c in ("minutes_late", "score")),
        *(
            pl.col(c).str.normalize("NFKC").str.strip_chars().cast(pl.Int64, strict=False)
            .alias(f"{c}_num") for c in ("minutes_late", "score")
        ),
        text.date_expr("exam_on").alias("exam_parsed"),
    )  # fmt: skip


def _seats(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """The reservations the file names, with their course's days and the scheme's policy."""
    keys = frame.select("member_no", "course_code").drop_nulls().unique()
    with db.registered(con, staged_keys=keys, course_policies=policy.frame(cfg, dt.date.today())):
        return db.frame(
            con,
            """
            WITH latest AS (
                SELECT enrolment_id, arg_max(score, (exam_on, score_id)) AS stored_score,
                       max(exam_on) AS stored_exam_on
                FROM course_scores GROUP BY enrolment_id
            )
            SELECT k.member_no, k.course_code, e.enrolment_id, e.status AS seat_status,
                   c.held_on, coalesce(c.held_until, c.held_on) AS last_day,
                   p.max_late, p.pass_score, l.stored_score, l.stored_exam_on
            FROM staged_keys k
            JOIN courses c USING (course_code)
            JOIN enrolments e ON e.member_no = k.member_no AND e.course_code = k.course_code
             AND e.status IN ('reserved', 'waitlisted', 'cancelled', 'deleted', 'not_opened')
            JOIN course_policies p ON p.scheme = c.scheme
            LEFT JOIN latest l USING (enrolment_id)
            QUALIFY row_number() OVER (PARTITION BY k.member_no, k.course_code
                                       ORDER BY e.status = 'reserved' DESC, e.enrolment_id DESC) = 1
            """,
        )


def _checks(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config
) -> tuple[pl.DataFrame, list[Check]]:
    today = dt.date.today()
    frame = frame.join(_seats(con, frame, cfg), on=["member_no", "course_code"], how="left")
    frame = frame.with_columns(
        exam_day=pl.coalesce("exam_parsed", pl.when(pl.col("score").is_not_null())
                                             .then(pl.col("last_day"))),
    )  # fmt: skip
    late = pl.col("minutes_late_num") > pl.col("max_late")
    sat = pl.col("score").is_not_null()
    group = ["member_no", "course_code"]
    earlier_pass = (  # a pass stored, or on an earlier line of the file, before this exam
        (pl.col("stored_score") >= pl.col("pass_score"))
        & (pl.col("stored_exam_on") < pl.col("exam_day"))
    ) | (
        (pl.col("score_num") >= pl.col("pass_score"))
        .cum_sum()
        .shift(1, fill_value=0)
        .over(group, order_by="exam_day")
        > 0
    )
    return frame, [
        *required("member_no", "course_code", "attended"),
        in_set("attended", tuple(vocabulary.ATTENDANCE), "attended"),
        in_set("method", tuple(vocabulary.EXAM_METHODS), "method"),
        in_set("delay_certificate", (*YES, *NO), "delay_certificate"),
        Check("course_code", pl.col("member_no").is_not_null() & pl.col("course_code").is_not_null()
              & (pl.col("seat_status") != "reserved").fill_null(True),
              quoted("この会員はこの講習の受講者（座席のある予約）ではありません", "course_code")),
        Check("course_code", pl.col("held_on") > today,
              quoted("講習の実施日より前です", "course_code")),
        Check("minutes_late", pl.col("minutes_late").is_not_null()
              & (pl.col("minutes_late_num").is_null() | (pl.col("minutes_late_num") < 0)),
              quoted("遅刻は0以上の分数です", "minutes_late")),
        Check("minutes_late", (pl.col("attended") == "absent") & pl.col("minutes_late").is_not_null(),
              "欠席の受講者に遅刻の分数は入力できません"),
        Check("score", sat & (pl.col("score_num").is_null()
                              | ~pl.col("score_num").is_between(0, 100)),
              quoted("得点は0〜100の整数です", "score")),
        Check("score", sat & (pl.col("pass_score") == 0),
              "この講習に修了認定試験はありません（出席で修了）"),
        Check("score", sat & ((pl.col("attended") == "absent") | late.fill_null(False)),
              pl.format("欠席・{}分を超える遅刻の受講者は修了認定試験の対象外です",
                        pl.col("max_late"))),
        Check("score", sat & earlier_pass.fill_null(False),
              "合格済みの受講者に追試験は記録できません"),
        date_check("exam_on", "exam_parsed"),
        Check("exam_on", pl.col("exam_on").is_not_null() & ~sat, "得点がありません"),
        Check("exam_on", pl.col("exam_day") < pl.col("held_on"),
              quoted("試験日が講習の開始日より前です", "exam_on")),
        Check("exam_on", pl.col("exam_day") > today, quoted("未来の日付です", "exam_on")),
        Check("exam_on", sat & pl.struct(*group, "exam_day").is_duplicated(),
              "同じ会員・講習・試験日の行が重複しています"),
        Check("attended", pl.struct(*group, "attended", "minutes_late").n_unique().over(group) > 1,
              "同じ会員・講習の行で出欠・遅刻が異なります"),
    ]  # fmt: skip


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        minutes_late=pl.col("minutes_late_num"),
        score=pl.col("score_num"),
        exam_on=pl.col("exam_day"),
        method=pl.col("method").fill_null("written"),
        delay_certificate=pl.col("delay_certificate").is_in(YES).fill_null(False),
    )


def _write(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, **kwargs: Any) -> list[str]:
    from core.courses import results  # imported late: results imports the imports

    return results.write_rows(con, frame, **kwargs)


SPEC = TableSpec(
    required=("member_no", "course_code", "attended"),
    optional=OPTIONAL,
    columns=["member_no", "course_code", "attended", *OPTIONAL],
    key="course_code",
    member_column="member_no",
    clean=_clean,
    checks=_checks,
    finish=_finish,
    writer=_write,
)
__all__ = ["LINE", "SPEC"]
