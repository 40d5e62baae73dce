"""Drawing certificates and notices with fpdf2 (A4, IPAexGothic): one layout for every kind.

A Sheet holds every string a certificate prints, already worded from its template and its
recorded content; this module only places them. The PDF's creation date is the document's
own issue date, so a copy printed again is the same file, byte for byte.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from fpdf import FPDF, FontFace

from core.documents import font
from core.documents.pdf import Cover, _cover
from core.progress import Progress, quiet

_F = font.FAMILY
_PLAIN = FontFace(emphasis="")
_JST = dt.timezone(dt.timedelta(hours=9))


@dataclasses.dataclass(frozen=True)
class Sheet:
    title: str
    number_line: str  # 証書番号 …
    rows: tuple[tuple[str, str], ...]  # (field label, value)
    lead: str
    date_line: str  # 発行日 …（令和…）
    issuer: str
    issuer_detail: str
    signatory: str
    closing: str
    seal: Path | None
    issued_on: dt.date


def _strings(sheets: Iterable[Sheet | Cover]) -> Iterable[str]:
    for sheet in sheets:
        for field in dataclasses.fields(sheet):
            value = getattr(sheet, field.name)
            if isinstance(value, str):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    yield from (item,) if isinstance(item, str) else item


def render(
    sheets: Sequence[Sheet], cover: Cover | None = None, progress: Progress = quiet
) -> bytes:
    """One PDF: the cover (if any), then each sheet on a page of its own."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    first = min((s.issued_on for s in sheets), default=dt.date(2000, 1, 1))
    pdf.set_creation_date(dt.datetime(first.year, first.month, first.day, tzinfo=_JST))
    font.register(pdf, "".join(_strings([*([cover] if cover else []), *sheets])))
    if cover:
        pdf.set_auto_page_break(auto=True, margin=18)
        _cover(pdf, cover)
        pdf.set_auto_page_break(auto=False)
    for n, sheet in enumerate(sheets):
        if n % 50 == 0:
            progress(n / len(sheets), f"{len(sheets):,}枚のうち{n + 1:,}枚目を作成しています")
        _sheet(pdf, sheet)
    progress(1.0, "PDFにまとめています")
    return bytes(pdf.output())


def _sheet(pdf: FPDF, s: Sheet) -> None:
    pdf.add_page()
    pdf.set_draw_color(90, 90, 90)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 190, 277)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, 184, 271)
    pdf.set_xy(20, 22)
    pdf.set_font(_F, size=9)
    pdf.cell(170, 5, s.number_line, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(45)
    size = 24
    pdf.set_font(_F, size=size)
    while size > 14 and pdf.get_string_width(s.title) > 170:  # a long title on one line
        size -= 1
        pdf.set_font(_F, size=size)
    pdf.multi_cell(0, 12, s.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    pdf.set_font(_F, size=11)
    pdf.set_left_margin(30)
    with pdf.table(
        width=150, col_widths=(45, 105), text_align=("LEFT", "LEFT"), first_row_as_headings=False,
        line_height=8, align="LEFT", headings_style=_PLAIN,
    ) as grid:  # fmt: skip
        for label, value in s.rows:
            grid.row([label, value])
    pdf.set_left_margin(10)
    pdf.ln(14)
    pdf.set_x(30)
    pdf.set_font(_F, size=13)
    pdf.multi_cell(150, 8, s.lead, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_x(30)
    pdf.set_font(_F, size=9)
    pdf.multi_cell(150, 5, s.closing, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(215)
    pdf.set_font(_F, size=11)
    pdf.set_x(30)
    pdf.cell(150, 7, s.date_line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(_F, size=13)
    pdf.set_x(30)
    pdf.cell(140, 8, s.issuer, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(30)
    pdf.cell(140, 8, s.signatory, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_F, size=8)
    pdf.set_x(30)
    pdf.cell(140, 5, s.issuer_detail, align="R", new_x="LMARGIN", new_y="NEXT")
    if s.seal is not None:  # the seal image slot: beside the signatory's line
        pdf.image(str(s.seal), x=172, y=226, w=22, h=22)
