"""Invoices (請求書) and receipts (領収書) as PDF with Japanese text.

A document lists a member's billing lines — open ones on an invoice, paid ones on a
receipt — with an editable addressee (宛名; the member record's 請求書・領収証宛名 unless
one is typed for the document), a document number derived from the lines (the
same lines always give the same number), western and 和暦 dates, and the issuing body from
the scheme configuration. When the body has an invoice registration number in force
(`<scheme>.invoice_registration_no`), the document is a qualified invoice (適格請求書):
登録番号, each line's tax class, and the total and consumption tax per tax rate.

Lines are read for a whole set of members in one query. `issue` makes one document,
`issue_many` a run of documents (one PDF each), `club_batch` one PDF for a club's members
with a cover page. core.documents.pdf draws the pages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from core import config, text
from core.documents.pdf import Cover, Draft, render
from core.members import organizations
from core.progress import Progress, quiet
from core.store import db

KINDS = {
    "invoice": ("請求書", "open", "下記のとおりご請求申し上げます。"),
    "receipt": ("領収書", "paid", "下記のとおり領収いたしました。"),
}
TAX_CLASSES = ("taxable", "non_taxable", "out_of_scope")  # the order of the per-rate totals
MEMBER_STATUSES = ("active", "withdrawn", "erased")

# Which members a run is for: a fragment from code, never from input; values are bound.
_BY_NUMBERS = "SELECT unnest($members::VARCHAR[]) AS member_no"
_BY_ORG = (
    "SELECT member_no FROM members WHERE org_code = $org"
    " AND ($statuses::VARCHAR[] IS NULL OR list_contains($statuses::VARCHAR[], status))"
)
_LINES = """
WITH chosen AS ({chosen})
SELECT b.member_no, m.family_name, m.given_name, m.invoice_addressee, b.billing_id, b.scheme, b.description,
       b.amount, b.handling_fee, b.amount + b.handling_fee AS line_total, b.tax_class,
       b.issued_on, b.due_on, b.paid_on
FROM billing b
JOIN chosen USING (member_no)
LEFT JOIN members m ON m.member_no = b.member_no
WHERE b.status = $status
  AND ($scheme::VARCHAR IS NULL OR b.scheme = $scheme)
  AND ($issued_from::DATE IS NULL OR b.issued_on >= $issued_from)
  AND ($issued_to::DATE IS NULL OR b.issued_on <= $issued_to)
ORDER BY b.member_no, b.issued_on, b.billing_id
"""


class NothingToIssue(ValueError):
    """The member (or club) has no lines of the kind the document needs."""


@dataclass(frozen=True)
class Document:
    member_no: str
    number: str
    title: str
    pdf: bytes
    lines: int
    total: int


@dataclass(frozen=True)
class Batch:
    """A club's documents in one PDF, after a cover page that lists them."""

    pdf: bytes
    documents: int
    total: int


@dataclass(frozen=True)
class _Issue:
    """Everything decided about one document before it is drawn."""

    member_no: str
    name: str  # the member's name, or the member number when there is none
    number: str
    lines: int
    total: int
    draft: Draft


def _kind(kind: str) -> tuple[str, str, str]:
    if kind not in KINDS:
        raise ValueError(f"unknown document {kind}; choose invoice or receipt")
    return KINDS[kind]


def _read(
    con: duckdb.DuckDBPyConnection,
    chosen: str,
    params: dict[str, Any],
    status: str,
    scheme: str | None,
    issued_from: dt.date | None,
    issued_to: dt.date | None,
) -> pl.DataFrame:
    """Every line of every chosen member, in one query."""
    return db.frame(
        con,
        _LINES.format(chosen=chosen),
        {
            **params,
            "status": status,
            "scheme": scheme,
            "issued_from": issued_from,
            "issued_to": issued_to,
        },
    )


def _tax_label(tax_class: str, rate: int | None) -> str:
    if tax_class == "taxable":
        return f"課税{rate}%"
    return {"non_taxable": "非課税", "out_of_scope": "不課税"}.get(tax_class, tax_class)


def _with_tax(lines: pl.DataFrame, cfg: config.Config) -> pl.DataFrame:
    """Lines with their tax rate: `common.tax_rate_percent` on the line's billing date."""
    days = lines["issued_on"].unique().to_list()
    rates = {day: int(cfg.value("common.tax_rate_percent", day)) for day in days}
    return lines.with_columns(
        rate=pl.when(pl.col("tax_class") == "taxable").then(
            pl.col("issued_on").replace_strict(rates, return_dtype=pl.Int64)
        )
    )


def tax_totals(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per member, scheme, tax class and rate: the tax-included total and its tax.

    The consumption tax is computed once per rate and document, from the tax-included
    total: floor(total × rate / (100 + rate)), as the qualified invoice rules ask (not
    per line, which would round each line down).
    """
    order = pl.col("tax_class").replace_strict(
        {c: i for i, c in enumerate(TAX_CLASSES)}, default=len(TAX_CLASSES)
    )
    return (
        lines.group_by("member_no", "scheme", "tax_class", "rate")
        .agg(total=pl.col("line_total").sum())
        .with_columns(
            tax=pl.when(pl.col("tax_class") == "taxable").then(
                pl.col("total") * pl.col("rate") // (100 + pl.col("rate"))
            )
        )
        .sort(
            pl.col("member_no"),
            pl.col("scheme"),
            order,
            pl.col("rate"),
            descending=[False, False, False, True],
        )
    )


def _summary(
    totals: pl.DataFrame, issuer: dict[str, tuple[str, str]], many: bool
) -> tuple[tuple[str, str, str], ...]:
    """The qualified invoice's table: total and tax per rate (per issuer when there are several)."""
    rows = []
    for r in totals.iter_rows(named=True):
        label = f"{r['rate']}%対象" if r["rate"] is not None else _tax_label(r["tax_class"], None)
        rows.append(
            (
                f"{issuer[r['scheme']][0]} {label}" if many else label,
                f"{r['total']:,} 円",
                f"{r['tax']:,} 円" if r["tax"] is not None else "—",
            )
        )
    return (("税率ごとの区分", "合計（税込）", "うち消費税"), *rows)


def _issues(
    lines: pl.DataFrame,
    kind: str,
    day: dt.date,
    cfg: config.Config,
    addressee: str | None = None,
) -> Iterator[_Issue]:
    """The documents for the lines read by `_read`, one per member, in member order."""
    title, _, lead = _kind(kind)
    lines = _with_tax(lines, cfg)
    totals = tax_totals(lines).partition_by("member_no", as_dict=True)
    issuer = {
        s: (
            str(cfg.value(f"{s}.body_name", day)),
            str(cfg.value(f"{s}.invoice_registration_no", day)),
        )
        for s in lines["scheme"].unique().to_list()
    }
    contact = {
        s: (
            str(cfg.value(f"{s}.issuer.address", day)),
            str(cfg.value(f"{s}.issuer.phone", day)),
            str(cfg.value(f"{s}.transfer_account", day)),
        )
        for s in issuer
    }
    when_label = "支払期限" if kind == "invoice" else "入金日"
    when_column = "due_on" if kind == "invoice" else "paid_on"
    for (member_no,), own in lines.partition_by("member_no", as_dict=True).items():
        first = own.row(0, named=True)
        name = f"{first['family_name'] or ''} {first['given_name'] or ''}".strip() or member_no
        digest = hashlib.sha1(",".join(map(str, own["billing_id"])).encode()).hexdigest()[:6]
        number = (
            f"{'INV' if kind == 'invoice' else 'RCP'}-{member_no}-{day:%Y%m%d}-{digest.upper()}"
        )
        total = int(own["line_total"].sum())
        schemes = sorted(set(own["scheme"]), key=lambda s: issuer[s][0])
        qualified = any(issuer[s][1] for s in schemes)
        rows = tuple(
            (
                text.jp_date(r["issued_on"]),
                r["description"],
                f"{r['amount']:,} 円",
                f"{r['handling_fee']:,} 円",
                text.jp_date(r[when_column]) if r[when_column] else "—",
                _tax_label(r["tax_class"], r["rate"]),
            )
            for r in own.iter_rows(named=True)
        )
        summary = _summary(totals[(member_no,)], issuer, len(schemes) > 1) if qualified else ()
        draft = Draft(
            title=title,
            number_line=f"文書番号 {number}",
            date_line=f"発行日 {text.jp_date(day)}（{text.wareki(day)}）",
            # an edited addressee is printed as typed (御中, 様 and titles are the staff's
            # choice): the one typed for this document, else the member record's
            # 請求書・領収証宛名, else the member's name
            addressee=addressee or first["invoice_addressee"] or f"{name} 様",
            lead=lead,
            total_line=f"合計金額　{total:,} 円",
            headings=("請求日", "内容", "金額", "手数料", when_label, "税区分"),
            rows=rows,
            summary=summary,
            issuers=tuple(
                f"{issuer[s][0]}　登録番号 {issuer[s][1]}" if issuer[s][1] else issuer[s][0]
                for s in schemes
            ),
            issuer_details=tuple(f"{contact[s][0]}　TEL {contact[s][1]}" for s in schemes),
            transfer_lines=tuple(
                f"{contact[s][2]}" + (f"（{issuer[s][0]}）" if len(schemes) > 1 else "")
                for s in schemes
                if kind == "invoice" and contact[s][2]
            ),
        )
        yield _Issue(member_no, name, number, own.height, total, draft)


def _document(issue: _Issue) -> Document:
    pdf = render([issue.draft])
    return Document(issue.member_no, issue.number, issue.draft.title, pdf, issue.lines, issue.total)


def issue(
    con: duckdb.DuckDBPyConnection,
    member_no: str,
    kind: str,
    *,
    addressee: str | None = None,
    scheme: str | None = None,
    issued_on: dt.date | None = None,
    today: dt.date | None = None,
    cfg: config.Config | None = None,
) -> Document:
    """An invoice (open lines) or receipt (paid lines) for one member, as PDF bytes; with
    `issued_on`, only the lines billed that day (one invoice per course submission date)."""
    title, status, _ = _kind(kind)
    lines = _read(con, _BY_NUMBERS, {"members": [member_no]}, status, scheme, issued_on, issued_on)
    if lines.is_empty():
        raise NothingToIssue(f"会員 {member_no} には{title}に載せる明細がありません。")
    day = today or dt.date.today()
    return _document(next(_issues(lines, kind, day, cfg or config.current(), addressee)))


def issue_many(
    con: duckdb.DuckDBPyConnection,
    member_nos: Sequence[str],
    kind: str,
    *,
    scheme: str | None = None,
    today: dt.date | None = None,
    cfg: config.Config | None = None,
) -> Iterator[Document]:
    """One document per member that has lines of the kind, in member-number order.

    The lines of all members are read in one query; members without lines are skipped.
    Each document is its own PDF, made as the iterator is consumed.
    """
    _, status, _ = _kind(kind)
    lines = _read(con, _BY_NUMBERS, {"members": list(member_nos)}, status, scheme, None, None)
    if lines.is_empty():
        return
    day = today or dt.date.today()
    for one in _issues(lines, kind, day, cfg or config.current()):
        yield _document(one)


def club_batch(
    con: duckdb.DuckDBPyConnection,
    org_code: str,
    kind: str,
    *,
    issued_from: dt.date | None = None,
    issued_to: dt.date | None = None,
    member_statuses: Sequence[str] | None = None,
    scheme: str | None = None,
    today: dt.date | None = None,
    cfg: config.Config | None = None,
    progress: Progress = quiet,
) -> Batch:
    """One PDF for an organisation's own members: a cover page, then each member's document.

    Only lines billed between `issued_from` and `issued_to` (inclusive, when given), and
    only members in `member_statuses` (when given). The cover lists member, document
    number and amount, with the grand total.
    """
    title, status, _ = _kind(kind)
    organizations.scope_path(con, org_code)  # KeyError for an unknown organisation
    org_name = organizations.name_of(con, org_code)
    unknown = set(member_statuses or ()) - set(MEMBER_STATUSES)
    if unknown:
        raise ValueError(f"unknown member status {sorted(unknown)}; choose from {MEMBER_STATUSES}")
    params = {"org": org_code, "statuses": list(member_statuses) if member_statuses else None}
    lines = _read(con, _BY_ORG, params, status, scheme, issued_from, issued_to)
    if lines.is_empty():
        raise NothingToIssue(f"{org_name}（{org_code}）には{title}に載せる明細がありません。")
    day = today or dt.date.today()
    issues = list(_issues(lines, kind, day, cfg or config.current()))
    grand = sum(i.total for i in issues)
    period = ""
    if issued_from or issued_to:
        period = f"対象請求日 {text.jp_date(issued_from) if issued_from else ''}〜{text.jp_date(issued_to) if issued_to else ''}"
    cover = Cover(
        title=f"{title} 一括発行 一覧",
        subtitle_lines=tuple(
            line
            for line in (
                f"{org_name}（{org_code}）",
                f"発行日 {text.jp_date(day)}（{text.wareki(day)}）",
                period,
            )
            if line
        ),
        headings=("会員番号", "氏名", "文書番号", "明細", "金額"),
        rows=tuple(
            (i.member_no, i.name, i.number, f"{i.lines}", f"{i.total:,} 円") for i in issues
        ),
        total_line=f"{len(issues):,} 名　総合計 {grand:,} 円",
    )
    return Batch(render([i.draft for i in issues], cover, progress), len(issues), grand)
