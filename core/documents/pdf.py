"""Drawing invoices, receipts and a batch's cover page with fpdf2 (A4, IPAexGothic).

A Draft or a Cover holds every string a page prints, already worded and formatted; this
module only places them. Because the strings are known before drawing, each PDF embeds
a font of just their characters (core.documents.font), which is what makes a thousand
receipts quick.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from fpdf import FPDF, FontFace

from core.documents import font
from core.progress import Progress, quiet

_F = font.FAMILY
_PLAIN = FontFace(emphasis="")  # IPAexGothic has no bold face
# date columns wide enough for 「2026年11月24日」 on one line at 9 pt; the description wraps
_LINE_WIDTHS = (31, 62, 23, 17, 31, 26)
TRANSFER_HEADING = "お振込先（振込手数料はご負担ください）"  # drawn by this module itself
_LINE_ALIGN = ("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT", "LEFT")


@dataclasses.dataclass(frozen=True)
class Draft:
    """One invoice or receipt as printed: every string on its page(s)."""

    title: str  # 請求書 / 領収書
    number_line: str  # 文書番号 …
    date_line: str  # 発行日 …（令和…）
    addressee: str
    lead: str  # 下記のとおり…
    total_line: str  # 合計金額 …
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # qualified invoices only: a heading row, then one row per issuer, tax class and rate
    summary: tuple[tuple[str, str, str], ...]
    issuers: tuple[str, ...]  # name, and 登録番号 when registered
    # each issuer's address and telephone, under its name
    issuer_details: tuple[str, ...] = ()
    # invoices: where to pay by bank transfer (お振込先), one line per account
    transfer_lines: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Cover:
    """The first page(s) of a batch: what it holds and the grand total."""

    title: str
    subtitle_lines: tuple[str, ...]
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    total_line: str


def _strings(page: Draft | Cover) -> Iterable[str]:
    for field in dataclasses.fields(page):
        value = getattr(page, field.name)
        if isinstance(value, str):
            yield value
        else:  # tuples of strings, or of tuples of strings
            for item in value:
                yield from (item,) if isinstance(item, str) else item


def render(
    drafts: Sequence[Draft], cover: Cover | None = None, progress: Progress = quiet
) -> bytes:
    """One PDF: the cover (if any), then each draft starting on a new page."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pages: list[Draft | Cover] = [*([cover] if cover else []), *drafts]
    font.register(pdf, TRANSFER_HEADING + "".join(s for page in pages for s in _strings(page)))
    if cover:
        _cover(pdf, cover)
    for n, draft in enumerate(drafts):
        if n % 50 == 0:
            progress(n / len(drafts), f"{len(drafts):,}通のうち{n + 1:,}通目を作成しています")
        _document(pdf, draft)
    progress(1.0, "PDFにまとめています")
    return bytes(pdf.output())


def _document(pdf: FPDF, d: Draft) -> None:
    pdf.add_page()
    pdf.set_font(_F, size=22)
    pdf.cell(0, 14, d.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_F, size=10)
    pdf.cell(0, 6, d.number_line, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, d.date_line, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(_F, size=15)
    pdf.cell(0, 10, d.addressee, border="B", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(_F, size=11)
    pdf.cell(0, 7, d.lead, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_F, size=16)
    pdf.cell(0, 12, d.total_line, border=1, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(_F, size=9)
    with pdf.table(col_widths=_LINE_WIDTHS, text_align=_LINE_ALIGN, headings_style=_PLAIN) as grid:
        for row in (d.headings, *d.rows):
            grid.row(list(row))
    if d.summary:
        pdf.ln(4)
        with pdf.table(
            width=110,
            col_widths=(40, 35, 35),
            text_align=("LEFT", "RIGHT", "RIGHT"),
            headings_style=_PLAIN,
            align="RIGHT",
        ) as grid:
            for row in d.summary:
                grid.row(list(row))
    if d.transfer_lines:
        pdf.ln(4)
        pdf.set_font(_F, size=10)
        pdf.cell(0, 6, TRANSFER_HEADING, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_F, size=9)
        for line in d.transfer_lines:
            pdf.multi_cell(0, 5, line, border="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(_F, size=10)
    for issuer in d.issuers:
        pdf.cell(0, 6, issuer, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_F, size=9)
    for detail in d.issuer_details:
        pdf.cell(0, 5, detail, align="R", new_x="LMARGIN", new_y="NEXT")


def _cover(pdf: FPDF, c: Cover) -> None:
    pdf.add_page()
    pdf.set_font(_F, size=18)
    pdf.cell(0, 12, c.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_F, size=10)
    for line in c.subtitle_lines:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(_F, size=14)
    pdf.cell(0, 11, c.total_line, border=1, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(_F, size=9)
    with pdf.table(
        col_widths=(25, 45, 65, 15, 30),
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"),
        headings_style=_PLAIN,
    ) as grid:
        for row in (c.headings, *c.rows):
            grid.row(list(row))
