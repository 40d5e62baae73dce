"""Write the generated frames: ids, member numbers, certificate numbers, descriptions.

Every id is given explicitly (so billing lines can point at qualifications and
payments before anything is inserted); :class:`Ids` then moves each table's sequence
past the ids used, so rows added later by the app never collide with demo rows.
Frames go in through ``con.register`` and one ``INSERT … SELECT`` per table and scheme;
member numbers are spelled out in SQL from the scheme's prefix and the number.
"""

from __future__ import annotations

from typing import ClassVar

import duckdb
import numpy as np
import numpy.typing as npt
import polars as pl

from core.billing import methods
from core.config import Config
from core.demo.rows import ACTIVITY_SCHEMA, BILLING_SCHEMA, QUAL_SCHEMA, SchemeRows, conform

_VIEW = "demo_frame"
_MEMBER_NO = "? || lpad(number::VARCHAR, ?, '0')"

_SQL = {
    "qualifications": (
        "qualification_id, member_no, scheme, qualification, acquired_on, valid_from, valid_until,"
        " certificate_no, status",
        f"qualification_id, {_MEMBER_NO}, ?, qualification, acquired_on, valid_from, valid_until,"
        " certificate_no, status",
    ),
    "activities": (
        "activity_id, member_no, scheme, kind, date, qualification, category, points, hours,"
        " domain, course_name, score, minutes_late",
        f"activity_id, {_MEMBER_NO}, ?, kind, date, qualification, category,"
        " points::DECIMAL(7, 1), hours::DECIMAL(5, 1), domain, course_name, score, minutes_late",
    ),
    "payments": (
        "payment_id, member_no, scheme, item, amount, handling_fee, method, paid_on, reference,"
        " recorded_by",
        f"payment_id, {_MEMBER_NO}, ?, item, amount, handling_fee, method, paid_on, reference,"
        " 'cli:demo'",
    ),
    "billing": (
        "billing_id, member_no, scheme, item, description, amount, handling_fee, issued_on,"
        " due_on, paid_on, status, qualification_id, payment_id, season",
        f"billing_id, {_MEMBER_NO}, ?, item, description, amount, handling_fee, issued_on,"
        " due_on, paid_on, status, qualification_id, payment_id, fy",
    ),
}


class Ids:
    """Explicit ids taken from each table's sequence, which is advanced at the end."""

    SEQUENCES: ClassVar[dict[str, str]] = {
        "qualifications": "qualification_id_seq",
        "activities": "activity_id_seq",
        "billing": "billing_id_seq",
        "payments": "payment_id_seq",
    }

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.first: dict[str, int] = {}
        self.used: dict[str, int] = {}
        for table, seq in self.SEQUENCES.items():
            rows = con.execute(f"SELECT nextval('{seq}')").fetchall()
            self.first[table] = int(rows[0][0])
            self.used[table] = 0

    def take(self, table: str, count: int) -> pl.Series:
        """The next `count` ids of a table."""
        start = self.first[table] + self.used[table]
        self.used[table] += count
        return pl.Series(np.arange(start, start + count, dtype=np.int64))

    def finish(self) -> None:
        """Advance each sequence so that nextval returns the first unused id."""
        for table, seq in self.SEQUENCES.items():
            extra = self.used[table] - 1  # the first id was drawn in __init__
            if extra > 0:
                self.con.execute(f"SELECT max(nextval('{seq}')) FROM range(?)", [extra]).fetchall()


def insert(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, params: list[object]
) -> int:
    """Insert a registered frame into one of the tables of ``_SQL``; returns the row count."""
    if frame.height == 0:
        return 0
    columns, select = _SQL[table]
    con.register(_VIEW, frame)
    try:
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {select} FROM {_VIEW}", params)
    finally:
        con.unregister(_VIEW)
    return frame.height


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Insert a frame whose columns are named as the table's."""
    if frame.height == 0:
        return 0
    con.register(_VIEW, frame)
    try:
        names = ", ".join(frame.columns)
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {_VIEW}")
    finally:
        con.unregister(_VIEW)
    return frame.height


def yen(column: str) -> pl.Expr:
    """3500 → "3,500" (amounts below a billion)."""
    a = pl.col(column)
    units = (a % 1000).cast(pl.String).str.zfill(3)
    thousands = (a // 1000 % 1000).cast(pl.String).str.zfill(3)
    return (
        pl.when(a >= 1_000_000)
        .then(
            pl.concat_str(
                (a // 1_000_000).cast(pl.String), pl.lit(","), thousands, pl.lit(","), units
            )
        )
        .when(a >= 1000)
        .then(pl.concat_str((a // 1000).cast(pl.String), pl.lit(","), units))
        .otherwise(a.cast(pl.String))
    )


def _abbreviation(code: str) -> str:
    return "".join(part[0] for part in code.split("_")).upper()


def _certificates(quals: pl.DataFrame, root: str) -> pl.DataFrame:
    """certificate_no per key: ROOT-ABBR-YEAR-NNNNNN, numbered by acquisition within a year."""
    codes = quals["qualification"].unique().to_list()
    abbreviation = {c: _abbreviation(c) for c in codes}
    return (
        quals.select("key", "qualification", "acquired_on", "number")
        .sort("qualification", "acquired_on", "number", "key")
        .with_columns(year=pl.col("acquired_on").dt.year())
        .with_columns(seq=pl.int_range(1, pl.len() + 1).over("qualification", "year"))
        .select(
            "key",
            certificate_no=pl.concat_str(
                pl.lit(root + "-"),
                pl.col("qualification").replace_strict(abbreviation, return_dtype=pl.String),
                pl.lit("-"),
                pl.col("year").cast(pl.String),
                pl.lit("-"),
                pl.col("seq").cast(pl.String).str.zfill(6),
            ),
        )
    )


def _payments(cfg: Config, scheme: str, bills: pl.DataFrame, ids: Ids) -> pl.DataFrame:
    """One payment per member, day and method covering that day's paid lines.

    SAJ members bear the payment provider's fee (seed 003, common.payment_methods); a
    JPTEC non-card payment carries the lines' handling fee.
    """
    groups = (
        bills.filter(pl.col("status") == "paid")
        .group_by("number", "paid_on", "method", maintain_order=True)
        .agg(
            amount=pl.col("amount").sum(),
            line_fees=pl.col("handling_fee").sum(),
            item=pl.when(pl.col("item").n_unique() == 1).then(pl.col("item").first()),
        )
        .sort("number", "paid_on", "method")
    )
    groups = groups.with_columns(payment_id=ids.take("payments", groups.height))
    if scheme == "saj":  # the payer bears the provider's fee, banded as core.billing does
        groups = groups.with_columns(handling_fee=methods.fee_expression(cfg))
    else:
        groups = groups.with_columns(handling_fee=pl.col("line_fees").cast(pl.Int64))
    return groups.with_columns(
        reference=pl.concat_str(
            pl.lit("DEMO-"), pl.col("payment_id").cast(pl.String).str.zfill(10)
        ),
    )


def write_scheme(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    scheme: str,
    rows: SchemeRows,
    numbers: npt.NDArray[np.int64],
    ids: Ids,
    width: int,
) -> dict[str, int]:
    """Insert one scheme's qualifications, activities, payments and billing lines."""
    root = str(cfg.value(f"{scheme}.root_org_code"))
    params: list[object] = [str(cfg.value(f"{scheme}.member_no_prefix")), width, scheme]
    counts: dict[str, int] = {}

    def numbered(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(number=pl.Series(numbers[frame["m"].to_numpy()]))

    quals = numbered(conform(rows.quals, QUAL_SCHEMA))
    quals = quals.sort("number", "qualification", "valid_from", "key")
    quals = quals.with_columns(qualification_id=ids.take("qualifications", quals.height))
    quals = quals.join(_certificates(quals, root), on="key", how="left")
    counts["qualifications"] = insert(con, "qualifications", quals, params)
    key_to_id = np.full(max(quals.height, 1), -1, dtype=np.int64)  # keys are 0..n-1
    key_to_id[quals["key"].to_numpy()] = quals["qualification_id"].to_numpy()
    del quals

    acts = numbered(conform(rows.activities, ACTIVITY_SCHEMA))
    acts = acts.sort("number", "date", "kind", maintain_order=True)
    acts = acts.with_columns(activity_id=ids.take("activities", acts.height))
    counts["activities"] = insert(con, "activities", acts, params)
    del acts

    bills = numbered(conform(rows.billing, BILLING_SCHEMA))
    bills = bills.sort("number", "issued_on", "item", "qual_key", maintain_order=True)
    keys = bills["qual_key"].fill_null(-1).to_numpy()
    qid = np.where(keys >= 0, key_to_id[np.clip(keys, 0, key_to_id.size - 1)], -1)
    bills = bills.with_columns(
        billing_id=ids.take("billing", bills.height),
        qualification_id=pl.Series(qid).cast(pl.Int64, strict=False),
        description=pl.concat_str(
            pl.col("fy").cast(pl.String),
            pl.lit("年度 "),
            "label",
            pl.lit(" "),
            yen("amount"),
            pl.lit("円"),
        ),
    ).with_columns(
        qualification_id=pl.when(pl.col("qualification_id") >= 0).then("qualification_id")
    )
    payments = _payments(cfg, scheme, bills, ids)
    counts["payments"] = insert(con, "payments", payments, params)
    bills = bills.join(
        payments.select("number", "paid_on", "method", "payment_id"),
        on=["number", "paid_on", "method"],
        how="left",
    )
    counts["billing"] = insert(con, "billing", bills, params)
    return counts
