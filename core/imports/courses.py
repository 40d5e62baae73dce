"""Rules for courses.csv and enrolments.csv (extensions of FORMATS.md, docs/assumptions.md):
the courses offered and the reservations made for them, as billing needs them."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import schemes, text
from core.checks import (
    Check,
    date_check,
    duplicate_in_file,
    existing,
    in_set,
    known,
    quoted,
    required,
)
from core.config import Config
from core.imports.base import TableSpec
from core.store import db
from core.vocabulary import COURSE_DOMAINS


def _whole(column: str, low: int, what: str) -> Check:
    value = pl.col(column).str.normalize("NFKC")
    return Check(
        column,
        pl.col(column).is_not_null()
        & (~value.str.contains(r"^\d+$") | (value.cast(pl.Int64, strict=False) < low)),
        quoted(f"{what}は{low}以上の整数です", column),
    )


def _course_clean(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("course_code").str.normalize("NFKC").str.strip_chars(),
        pl.col("scheme").str.to_lowercase(),
        text.date_expr("held_on").alias("held_parsed"),
        *(pl.col(c).str.normalize("NFKC") for c in ("hours", "capacity", "materials_fee")),
    )


def _course_checks(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config
) -> tuple[pl.DataFrame, list[Check]]:
    taken = existing(
        con,
        frame,
        "course_code",
        "SELECT course_code FROM courses JOIN staged_keys USING (course_code)",
    )
    return frame, [
        *required("course_code", "scheme", "title", "held_on", "hours"),
        duplicate_in_file("course_code", "講習コード"),
        Check(
            "course_code",
            pl.col("course_code").is_in(taken.implode()),
            quoted("既に登録された講習コードです", "course_code"),
        ),
        in_set("scheme", schemes.CODES, "scheme"),
        date_check("held_on", "held_parsed"),
        _whole("hours", 1, "時間"),
        _whole("capacity", 1, "定員"),
        _whole("materials_fee", 0, "教材費"),
        in_set("domain", tuple(COURSE_DOMAINS), "domain"),
    ]


def _course_finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        held_on=pl.col("held_parsed"),
        hours=pl.col("hours").cast(pl.Int32),
        capacity=pl.col("capacity").cast(pl.Int32),
        materials_fee=pl.col("materials_fee").cast(pl.Int32).fill_null(0),
    )


COURSES = TableSpec(
    required=("course_code", "scheme", "title", "held_on", "hours"),
    optional=("domain", "capacity", "materials_fee"),
    columns=[
        "course_code",
        "scheme",
        "title",
        "held_on",
        "hours",
        "domain",
        "capacity",
        "materials_fee",
    ],
    key="course_code",
    member_column=None,
    clean=_course_clean,
    checks=_course_checks,
    finish=_course_finish,
)


def _enrolment_clean(frame: pl.DataFrame) -> pl.DataFrame:
    stamp = pl.col("reserved_at").str.normalize("NFKC").str.strip_chars().str.replace_all("/", "-")
    return frame.with_columns(
        pl.col("member_no").str.normalize("NFKC"),
        pl.col("course_code").str.normalize("NFKC").str.strip_chars(),
        pl.coalesce(
            stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M", strict=False),
            stamp.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False),
        ).alias("reserved_parsed"),
        text.date_expr("form_received_on").alias("form_parsed"),
    )


def _enrolment_checks(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config
) -> tuple[pl.DataFrame, list[Check]]:
    members = existing(
        con, frame, "member_no", "SELECT member_no FROM members JOIN staged_keys USING (member_no)"
    )
    courses = existing(
        con,
        frame,
        "course_code",
        "SELECT course_code FROM courses JOIN staged_keys USING (course_code)",
    )
    keys = frame.select(pl.col("member_no").drop_nulls().unique())
    with db.registered(con, staged_keys=keys):
        booked = db.frame(
            con,
            "SELECT e.member_no, e.course_code FROM enrolments e JOIN staged_keys USING (member_no)"
            " WHERE e.status <> 'cancelled'",
        )
    return frame, [
        *required("member_no", "course_code", "reserved_at"),
        known("member_no", members, "会員番号が見つかりません"),
        known("course_code", courses, "講習コードが見つかりません（先に courses を取り込みます）"),
        duplicate_in_file(["member_no", "course_code"], "会員と講習の組"),
        Check(
            "course_code",
            pl.struct("member_no", "course_code").is_in(booked.to_struct().implode()),
            quoted("この会員はこの講習をすでに予約しています", "course_code"),
        ),
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


ENROLMENTS = TableSpec(
    required=("member_no", "course_code", "reserved_at"),
    optional=("form_received_on",),
    columns=["member_no", "course_code", "reserved_at", "form_received_on"],
    key="course_code",
    member_column="member_no",
    clean=_enrolment_clean,
    checks=_enrolment_checks,
    finish=_enrolment_finish,
)
