"""An Excel workbook written as a stream: one sheet, its rows built a batch at a time.

A general writer (xlsxwriter, openpyxl) makes a Python call per cell: sixteen million calls for
a million members, minutes of CPU. Here each batch of rows becomes the sheet's XML in a few
whole-column Polars expressions and is written straight into the zip entry, so time grows with
the rows and memory stays flat. The workbook is the minimum Excel needs: inline strings (no
shared-string table to hold in memory), numbers, dates and timestamps as serial numbers with a
date style, and the sheet's dimension given up front from the row count.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable
from pathlib import Path

import polars as pl

EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 (its 1900 leap-year quirk included)
# characters XML 1.0 does not allow, which a cell must not carry
_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""
# style 0: general; 1: a date (yyyy-mm-dd); 2: a timestamp (yyyy-mm-dd hh:mm:ss)
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/><numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/></numFmts>
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""


def _column_letters(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escaped(text: pl.Expr) -> pl.Expr:
    return (
        text.str.replace_all(_ILLEGAL, "")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def _text(value: pl.Expr) -> pl.Expr:
    return (
        pl.lit('<c t="inlineStr"><is><t xml:space="preserve">') + _escaped(value) + "</t></is></c>"
    )


def _cell(name: str, dtype: pl.DataType) -> pl.Expr:
    """One column's cells as XML ("<c/>" for an empty cell keeps the columns in place)."""
    column = pl.col(name)
    if dtype == pl.Boolean:
        xml = pl.lit('<c t="b"><v>') + column.cast(pl.Int8).cast(pl.String) + "</v></c>"
    elif dtype == pl.Date:
        days = (column - pl.lit(EPOCH)).dt.total_days()
        xml = pl.lit('<c s="1"><v>') + days.cast(pl.String) + "</v></c>"
    elif isinstance(dtype, pl.Datetime):
        seconds = (column - pl.lit(dt.datetime.combine(EPOCH, dt.time()))).dt.total_seconds(
            fractional=True
        )
        xml = pl.lit('<c s="2"><v>') + (seconds / 86400).cast(pl.String) + "</v></c>"
    elif dtype.is_integer():
        xml = pl.lit("<c><v>") + column.cast(pl.String) + "</v></c>"
    elif dtype.is_numeric():
        xml = pl.lit("<c><v>") + column.cast(pl.Float64).cast(pl.String) + "</v></c>"
    else:
        xml = _text(column.cast(pl.String))
    return xml.fill_null("<c/>")


def _rows(frame: pl.DataFrame) -> str:
    cells = [_cell(name, dtype) for name, dtype in frame.schema.items()]
    lines = frame.select((pl.lit("<row>") + pl.concat_str(cells) + pl.lit("</row>")).alias("row"))
    return "".join(lines["row"].to_list())


def write(path: Path, header: list[str], batches: Iterable[pl.DataFrame], rows: int) -> int:
    """Write `header` and the batches' rows as the workbook's one sheet; `rows` (known before,
    from the row count) sizes the sheet. Timestamps must be naive local times (Excel has no
    time zones). Returns the rows written."""
    width = _column_letters(max(len(header), 1))
    written = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/styles.xml", _STYLES)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                + f'<dimension ref="A1:{width}{rows + 1}"/><sheetData>'.encode()
            )
            names = pl.DataFrame({name: [name] for name in header})
            sheet.write(_rows(names).encode())
            for frame in batches:
                sheet.write(_rows(frame).encode())
                written += frame.height
            sheet.write(b"</sheetData></worksheet>")
    return written
