"""Payment methods: which ones take a total, and the handling fee the payer bears.

Everything comes from `common.payment_methods` (data/schemes/common.toml), in force on the
payment date. A method takes a total (the billed lines' amounts and their own handling
fees, the payer's fee apart) when `minimum <= total <= limit`. The payer's fee is:

* with `bands`: the fee of the first band whose `up_to` is at least the total (the last
  band's fee above it);
* without bands: total × `fee_rate_percent` / 100, rounded down to the yen (切り捨て);

then kept within `fee_min`..`fee_max`. The JPTEC non-card handling fee (700 yen from
2023-10-01) is a different thing: the council's own charge, written on the billing line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import polars as pl

from core import config
from core.errors import PaymentRefused


@dataclass(frozen=True)
class Quote:
    """One method for one total: its fee, and whether it takes the total (else why not)."""

    method: str
    label: str
    minimum: int
    limit: int
    fee: int
    allowed: bool
    reason_ja: str | None
    reason_en: str | None


def in_force(on: dt.date, cfg: config.Config | None = None) -> dict[str, dict[str, Any]]:
    """The payment methods in force on a day: code -> label, minimum, limit and fee terms."""
    settings = cfg or config.current()
    found: dict[str, dict[str, Any]] = settings.value("common.payment_methods", on)
    return found


def _fee(terms: dict[str, Any], total: int) -> int:
    bands = terms["bands"]
    if bands:
        fee = next((b["fee"] for b in bands if total <= b["up_to"]), bands[-1]["fee"])
    else:
        rate = Decimal(terms["fee_rate_percent"])
        fee = int((Decimal(total) * rate / 100).to_integral_value(rounding=ROUND_FLOOR))
    return int(min(max(fee, terms["fee_min"]), terms["fee_max"]))


def _terms(method: str, on: dt.date, cfg: config.Config | None) -> dict[str, Any]:
    known = in_force(on, cfg)
    if method not in known:
        raise PaymentRefused(
            f"支払方法 {method} は設定にありません",
            f"unknown payment method {method!r}; choose one of {', '.join(known)}",
        )
    return known[method]


def handling_fee(method: str, total: int, on: dt.date, cfg: config.Config | None = None) -> int:
    """The fee the payer bears for paying `total` yen by `method` on `on`."""
    return _fee(_terms(method, on, cfg), total)


def _refusal(method: str, terms: dict[str, Any], total: int) -> tuple[str, str] | None:
    label = terms["label"]
    if total > terms["limit"]:
        return (
            f"{label}は1回{terms['limit']:,}円までです（合計{total:,}円）",
            f"{method} takes at most {terms['limit']:,} yen per payment (total {total:,} yen)",
        )
    if total < terms["minimum"]:
        return (
            f"{label}は{terms['minimum']:,}円以上の支払に使います（合計{total:,}円）",
            f"{method} is for payments of {terms['minimum']:,} yen or more (total {total:,} yen)",
        )
    return None


def quotes(total: int, on: dt.date, cfg: config.Config | None = None) -> list[Quote]:
    """Every method for a total: its fee, and whether it takes the total (with the reason)."""
    found = []
    for code, terms in in_force(on, cfg).items():
        refusal = _refusal(code, terms, total)
        found.append(
            Quote(
                method=code,
                label=terms["label"],
                minimum=terms["minimum"],
                limit=terms["limit"],
                fee=_fee(terms, total),
                allowed=refusal is None,
                reason_ja=refusal[0] if refusal else None,
                reason_en=refusal[1] if refusal else None,
            )
        )
    return found


def check_total(method: str, total: int, on: dt.date, cfg: config.Config | None = None) -> int:
    """The payer's fee when `method` takes `total` on `on`; PaymentRefused (with why) otherwise."""
    terms = _terms(method, on, cfg)
    refusal = _refusal(method, terms, total)
    if refusal:
        raise PaymentRefused(*refusal)
    return _fee(terms, total)


def _terms_expr(terms: dict[str, Any], amount: pl.Expr) -> pl.Expr:
    bands = terms["bands"]
    if bands:
        chain: Any = pl
        for band in bands:
            chain = chain.when(amount <= band["up_to"]).then(pl.lit(band["fee"], pl.Int64))
        fee = chain.otherwise(pl.lit(bands[-1]["fee"], pl.Int64))
    else:
        # exact integer arithmetic for rates with up to four decimals (4.2 % → 42000 / 1e6)
        millionths = Decimal(terms["fee_rate_percent"]) * 10_000
        if millionths == millionths.to_integral_value():
            fee = (amount.cast(pl.Int64) * int(millionths)) // 1_000_000
        else:
            rate = float(terms["fee_rate_percent"])
            fee = (amount.cast(pl.Float64) * rate / 100).floor().cast(pl.Int64)
    return fee.clip(terms["fee_min"], terms["fee_max"])


def fee_expression(
    cfg: config.Config, amount: str = "amount", method: str = "method", day: str = "paid_on"
) -> pl.Expr:
    """handling_fee() as one Polars expression over whole columns (imports of a million rows).

    Each payment takes the terms in force on its own date; an unknown method gives 0.
    """
    history = cfg.history("common.payment_methods")
    chain: Any = pl
    for index, dated in enumerate(history):
        in_force = pl.col(day) >= pl.lit(dated.start)
        if index + 1 < len(history):
            in_force = in_force & (pl.col(day) < pl.lit(history[index + 1].start))
        for code, terms in dated.value.items():
            chain = chain.when(in_force & (pl.col(method) == code)).then(
                _terms_expr(terms, pl.col(amount))
            )
    return chain.otherwise(pl.lit(0, pl.Int64)).cast(pl.Int64)
