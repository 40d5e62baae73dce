"""Rules as checks over whole columns: each yields the rows that break it, named by column.

A file's import (core.imports), a form's one row and the rules of members and applications
(core.members.rules, core.applications.rules) are written with these: `Check(column, bad,
message)` where `bad` is a Polars expression true for the rows that break the rule. No row is
looked at one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from core.store import db


@dataclass(frozen=True)
class Check:
    """Rows where `bad` is true break the rule; `message` may quote the cell."""

    column: str
    bad: pl.Expr
    message: str | pl.Expr


def required(*columns: str) -> list[Check]:
    return [Check(c, pl.col(c).is_null(), "値がありません") for c in columns]


def quoted(message: str, column: str) -> pl.Expr:
    """A message that ends with the offending cell, e.g. 日付ではありません: '2024/02/30'."""
    return pl.format(message + ": '{}'", pl.col(column))


def in_set(column: str, allowed: tuple[str, ...] | list[str], what: str) -> Check:
    return Check(
        column,
        pl.col(column).is_not_null() & ~pl.col(column).is_in(list(allowed)),
        quoted(f"{what}は {', '.join(allowed)} のいずれかです", column),
    )


def date_check(column: str, parsed: str) -> Check:
    return Check(
        column,
        pl.col(column).is_not_null() & pl.col(parsed).is_null(),
        quoted("日付（YYYY-MM-DD または YYYY/MM/DD）ではありません", column),
    )


def existing(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, column: str, sql: str
) -> pl.Series:
    """Values of `column` that the database already has, by `sql` over relation `staged_keys`."""
    keys = frame.select(pl.col(column).drop_nulls().unique())
    with db.registered(con, staged_keys=keys):
        found = db.frame(con, sql)
    return found.to_series() if found.width else pl.Series(column, [], dtype=pl.String)


def of_members(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    sql: str,
    params: dict[str, object] | None = None,
) -> pl.DataFrame:
    """`sql` over relation `staged_keys`: the member numbers the file names."""
    keys = frame.select(pl.col("member_no").drop_nulls().unique())
    with db.registered(con, staged_keys=keys):
        return db.frame(con, sql, params)


def prefectures(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0] for r in con.execute("SELECT DISTINCT prefecture FROM ref_postal_codes").fetchall()
    ]


def duplicate_in_file(column: str | list[str], label: str) -> Check:
    columns = [column] if isinstance(column, str) else column
    return Check(
        columns[0],
        pl.struct(columns).is_duplicated()
        & pl.all_horizontal(pl.col(c).is_not_null() for c in columns),
        quoted(f"ファイル内で{label}が重複しています", columns[0]),
    )


def known(column: str, values: pl.Series, message: str) -> Check:
    return Check(
        column,
        pl.col(column).is_not_null() & ~pl.col(column).is_in(values.implode()),
        quoted(message, column),
    )
