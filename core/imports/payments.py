"""Rules for payments.csv: a payment provider's or bank's record of money received.

Every row is checked (FILE:LINE: column: message; one bad row and nothing is written). A
reference already in the payments table, or seen on an earlier line of the same file, is a
duplicate: it is listed in the result and skipped, never counted twice — not an error, since
providers resend their files. The other rows become payments rows (with the payer's fee for
the method and amount on the payment date, from the configuration) and are settled against
open billing lines in the same transaction (core.billing.reconciliation.match_imported); what does
not settle exactly goes to the reconciliation list. An unknown member number is not an
error either: the money arrived, so it waits in the list as `unmatched`.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import schemes, text, vocabulary
from core.billing import methods, reconciliation
from core.checks import Check, date_check, existing, in_set, quoted, required
from core.config import Config
from core.imports.base import LINE, TableSpec

COLUMNS = ("member_no", "scheme", "item", "amount", "method", "paid_on", "reference")
MAX_LISTED = 20


def _nfkc(frame: pl.DataFrame, columns: tuple[str, ...]) -> list[pl.Expr]:
    """NFKC (full-width digits and letters, half-width kana) only for columns that need it:
    provider files are mostly ASCII, and normalising a million cells costs seconds."""
    return [
        pl.col(c).str.normalize("NFKC")
        for c in columns
        if frame[c].str.contains(r"[^\x00-\x7f]").any()
    ]


def _clean(frame: pl.DataFrame) -> pl.DataFrame:
    frame = frame.with_columns(
        *_nfkc(frame, ("member_no", "item", "amount", "paid_on", "reference")),
        pl.col("scheme").str.to_lowercase(),
        pl.col("method").str.to_lowercase(),
    )
    amount = pl.col("amount").str.replace_all(",", "", literal=True)
    paid_on = pl.col("paid_on").str.replace_all("/", "-", literal=True)
    return frame.with_columns(
        amount.alias("amount"),
        amount.cast(pl.Int64, strict=False).alias("amount_num"),
        pl.when(paid_on.str.contains(text.DATE_PATTERN))
        .then(paid_on.str.to_date("%Y-%m-%d", strict=False))
        .alias("paid_on_parsed"),
    )


def _checks(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, cfg: Config
) -> tuple[pl.DataFrame, list[Check]]:
    seen = existing(
        con, frame, "reference", "SELECT reference FROM payments JOIN staged_keys USING (reference)"
    )
    known_methods = sorted(
        {code for dated in cfg.history("common.payment_methods") for code in dated.value}
    )
    frame = frame.with_columns(
        duplicate=pl.col("reference").is_in(seen.implode())
        | ~pl.col("reference").is_first_distinct(),
        handling_fee=methods.fee_expression(cfg, "amount_num", "method", "paid_on_parsed"),
    )
    today = dt.date.today()
    return frame, [
        *required(*COLUMNS),
        in_set("scheme", schemes.CODES, "scheme"),
        in_set("method", known_methods, "method"),
        Check(
            "amount",
            pl.col("amount").is_not_null()
            & (~pl.col("amount").str.contains(r"^\d+$") | (pl.col("amount_num") <= 0)),
            quoted("金額は1以上の整数（円）です", "amount"),
        ),
        Check(
            "amount",
            pl.col("amount_num") > 2_000_000_000,
            quoted("金額が大きすぎます", "amount"),
        ),
        date_check("paid_on", "paid_on_parsed"),
        Check(
            "paid_on",
            pl.col("paid_on_parsed") > pl.lit(today),
            quoted("入金日が未来の日付です", "paid_on"),
        ),
    ]


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(~pl.col("duplicate")).with_columns(
        amount=pl.col("amount_num").cast(pl.Int32),
        paid_on=pl.col("paid_on_parsed"),
        handling_fee=pl.col("handling_fee").cast(pl.Int32),
    )


def _settle(con: duckdb.DuckDBPyConnection, batch_id: str, actor: str) -> list[str]:
    counts = reconciliation.match_imported(con, "staged_rows", batch_id=batch_id, actor=actor)
    listed = sum(counts[k] for k in vocabulary.RECONCILIATION_KINDS)
    kinds = "、".join(
        f"{label} {counts[k]:,}"
        for k, label in vocabulary.RECONCILIATION_KINDS.items()
        if counts[k]
    )
    return [
        f"matched: {counts['payments_matched']:,} payments paid {counts['lines_paid']:,} lines",
        f"reconciliation: {listed:,} payments to resolve in 入金消込"
        + (f" ({kinds})" if kinds else ""),
    ]


def _report(frame: pl.DataFrame, file: str) -> list[str]:
    dups = frame.filter(pl.col("duplicate")).select(LINE, "reference")
    if dups.is_empty():
        return ["duplicates: none"]
    lines = [
        f"duplicates: {dups.height:,} rows skipped (reference seen before, never counted twice)"
    ]
    lines += [
        f"{file}:{line}: reference: duplicate, skipped: '{ref}'"
        for line, ref in dups.head(MAX_LISTED).iter_rows()
    ]
    if dups.height > MAX_LISTED:
        lines.append(f"... {dups.height - MAX_LISTED:,} more duplicates not listed")
    return lines


SPEC = TableSpec(
    required=COLUMNS,
    optional=(),
    columns=[
        "member_no",
        "scheme",
        "item",
        "amount",
        "handling_fee",
        "method",
        "paid_on",
        "reference",
    ],
    key="reference",
    member_column="member_no",
    clean=_clean,
    checks=_checks,
    finish=_finish,
    settle=_settle,
    report=_report,
)
