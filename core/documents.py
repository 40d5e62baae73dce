"""Invoices (請求書) and receipts (領収書) as PDF with Japanese text (fpdf2 + IPAexGothic).

A document lists a member's billing lines — open ones on an invoice, paid ones on a
receipt — with an editable addressee (宛名), a document number derived from the lines (the
same lines always give the same number), western and 和暦 dates, and the issuing body from
the scheme configuration.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import matplotlib_fontja
import polars as pl
from fpdf import FPDF, FontFace

from core import config, db, text

FONT = Path(matplotlib_fontja.__file__).resolve().parent / "fonts" / "ipaexg.ttf"
KINDS = {
    "invoice": ("請求書", "open", "下記のとおりご請求申し上げます。"),
    "receipt": ("領収書", "paid", "下記のとおり領収いたしました。"),
}
TAX_NOTES = {"out_of_scope": "不課税", "non_taxable": "非課税", "taxable": "課税（10%）"}


class NothingToIssue(ValueError):
    """The member has no lines of the kind the document needs."""


@dataclass(frozen=True)
class Document:
    number: str
    title: str
    pdf: bytes
    lines: int
    total: int


def _lines(
    con: duckdb.DuckDBPyConnection, member_no: str, status: str, scheme: str | None
) -> pl.DataFrame:
    return db.frame(
        con,
        "SELECT billing_id, scheme, item, description, amount, handling_fee, tax_class, issued_on,"
        " due_on, paid_on FROM billing WHERE member_no = ? AND status = ?"
        " AND (? IS NULL OR scheme = ?) ORDER BY issued_on, billing_id",
        [member_no, status, scheme, scheme],
    )


def issue(
    con: duckdb.DuckDBPyConnection,
    member_no: str,
    kind: str,
    *,
    addressee: str | None = None,
    scheme: str | None = None,
    today: dt.date | None = None,
) -> Document:
    """An invoice (open lines) or receipt (paid lines) for one member, as PDF bytes."""
    if kind not in KINDS:
        raise ValueError(f"unknown document {kind}; choose invoice or receipt")
    title, status, lead = KINDS[kind]
    lines = _lines(con, member_no, status, scheme)
    if lines.is_empty():
        raise NothingToIssue(f"会員 {member_no} には{title}に載せる明細がありません。")
    person = con.execute(
        "SELECT family_name, given_name FROM members WHERE member_no = ?", [member_no]
    ).fetchall()
    default_name = f"{person[0][0] or ''} {person[0][1] or ''}".strip() if person else member_no
    day = today or dt.date.today()
    digest = hashlib.sha1(",".join(map(str, lines["billing_id"])).encode()).hexdigest()[:6].upper()
    number = f"{'INV' if kind == 'invoice' else 'RCP'}-{member_no}-{day:%Y%m%d}-{digest}"
    cfg = config.current()
    issuers = sorted({str(cfg.value(f"{s}.body_name", day)) for s in lines["scheme"].unique()})
    total = int((lines["amount"] + lines["handling_fee"]).sum())
    # an edited addressee is printed as typed (御中, 様 and titles are the staff's choice)
    heading = addressee or f"{default_name} 様"
    pdf = _render(title, lead, number, day, heading, issuers, lines, total, kind)
    return Document(number, title, pdf, lines.height, total)


def _render(
    title: str,
    lead: str,
    number: str,
    day: dt.date,
    addressee: str,
    issuers: list[str],
    lines: pl.DataFrame,
    total: int,
    kind: str,
) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font("IPAexGothic", fname=str(FONT))  # ~90 ms: parsing the font dominates
    pdf.add_page()
    pdf.set_font("IPAexGothic", size=22)
    pdf.cell(0, 14, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("IPAexGothic", size=10)
    pdf.cell(0, 6, f"文書番号 {number}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        6,
        f"発行日 {text.jp_date(day)}（{text.wareki(day)}）",
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)
    pdf.set_font("IPAexGothic", size=15)
    pdf.cell(0, 10, addressee, border="B", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("IPAexGothic", size=11)
    pdf.cell(0, 7, lead, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("IPAexGothic", size=16)
    pdf.cell(0, 12, f"合計金額　{total:,} 円", border=1, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("IPAexGothic", size=9)
    date_label = "支払期限" if kind == "invoice" else "入金日"
    plain = FontFace(emphasis="")  # IPAexGothic has no bold face
    with pdf.table(
        col_widths=(27, 72, 22, 17, 27, 25),
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT", "LEFT"),
        headings_style=plain,
    ) as grid:
        grid.row(["請求日", "内容", "金額", "手数料", date_label, "税区分"])
        for row in lines.iter_rows(named=True):
            when = row["due_on"] if kind == "invoice" else row["paid_on"]
            grid.row(
                [
                    text.jp_date(row["issued_on"]),
                    row["description"],
                    f"{row['amount']:,} 円",
                    f"{row['handling_fee']:,} 円",
                    text.jp_date(when) if when else "—",
                    TAX_NOTES.get(row["tax_class"], row["tax_class"]),
                ]
            )
    pdf.ln(6)
    pdf.set_font("IPAexGothic", size=10)
    for issuer in issuers:
        pdf.cell(0, 6, issuer, align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
