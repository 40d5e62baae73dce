"""IPAexGothic for PDFs: read once per process, and each PDF embeds a font of just its text.

fpdf2's `add_font` parses the whole 4 MB font (12,000 glyphs) for every document, and its
subsetter parses it again when the PDF is written: about 90 % of a receipt's time. Here
the font's tables are read once per process and, for each PDF, a small TrueType font is
assembled from the raw outlines of the characters that PDF prints (a few hundred glyphs,
about 3 ms). fpdf2 then parses and subsets that small font instead. The outlines, metrics,
names and hinting programs are copied byte for byte, so the glyphs are IPAexGothic's own.
"""

from __future__ import annotations

import io
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import matplotlib_fontja
from fontTools import ttLib
from fontTools.fontBuilder import FontBuilder
from fontTools.ttLib.tables._g_l_y_f import Glyph
from fpdf import FPDF
from fpdf.fonts import TTFFont

FONT = Path(matplotlib_fontja.__file__).resolve().parent / "fonts" / "ipaexg.ttf"
FAMILY = "IPAexGothic"
# Tables that do not depend on which glyphs a font holds: copied as they are.
_FIXED_TABLES = ("head", "hhea", "OS/2", "name", "maxp", "cvt ", "fpgm", "prep", "gasp")
# Always embedded, so a digit or a Latin letter in an unexpected place still prints.
_ALWAYS = string.printable.strip() + " 　"


@dataclass(frozen=True)
class _Master:
    """The parts of the full font a subset is built from; read-only, shared by threads."""

    glyph_ids: dict[str, int]  # glyph name -> its place in glyph_order
    cmap: dict[int, str]  # code point -> glyph name
    glyf: bytes  # the raw 'glyf' table
    offsets: dict[str, tuple[int, int]]  # glyph name -> its slice of `glyf`
    metrics: dict[str, tuple[int, int]]  # glyph name -> (advance width, left side bearing)
    tables: dict[str, bytes]
    post: dict[str, float]


@cache
def _master() -> _Master:
    font = ttLib.TTFont(FONT, lazy=True)
    order = tuple(font.getGlyphOrder())
    loca = font["loca"]
    post = font["post"]
    master = _Master(
        glyph_ids={name: i for i, name in enumerate(order)},
        cmap=dict(font.getBestCmap()),
        glyf=font.reader["glyf"],
        offsets={name: (loca[i], loca[i + 1]) for i, name in enumerate(order)},
        metrics=dict(font["hmtx"].metrics),
        tables={tag: font.reader[tag] for tag in _FIXED_TABLES if tag in font.reader},
        post={
            "italicAngle": post.italicAngle,
            "underlinePosition": post.underlinePosition,
            "underlineThickness": post.underlineThickness,
            "isFixedPitch": post.isFixedPitch,
        },
    )
    font.close()
    return master


def _composite_closure(master: _Master, names: set[str]) -> set[str]:
    """Add the component glyphs of composite glyphs (IPAexGothic has none today)."""
    pending = list(names)
    while pending:
        start, end = master.offsets[pending.pop()]
        glyph = Glyph(master.glyf[start:end])
        if glyph.isComposite():
            glyph.expand(None)  # a composite glyph decodes without the glyf table
            for component in glyph.components:
                if component.glyphName not in names:
                    names.add(component.glyphName)
                    pending.append(component.glyphName)
    return names


def subset(text: str) -> bytes:
    """A TrueType font with IPAexGothic's glyphs for the characters of `text` (and ASCII).

    Characters the font does not have are left out; fpdf2 then reports them as missing
    glyphs, as it would with the full font.
    """
    master = _master()
    points = {ord(c) for c in set(text) | set(_ALWAYS)} & master.cmap.keys()
    names = _composite_closure(master, {".notdef"} | {master.cmap[p] for p in points})
    order = sorted(names, key=master.glyph_ids.__getitem__)  # .notdef stays first

    # recalcBBoxes=False keeps each outline's bytes as they are: the bounding boxes
    # stored in them are IPAexGothic's own, and recomputing means decoding every outline
    font = ttLib.TTFont(recalcBBoxes=False, recalcTimestamp=False)
    font.setGlyphOrder(order)
    for tag, data in master.tables.items():
        table = ttLib.newTable(tag)
        table.decompile(data, font)
        font[tag] = table
    glyf = ttLib.newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {name: Glyph(master.glyf[slice(*master.offsets[name])]) for name in order}
    font["glyf"] = glyf
    font["loca"] = ttLib.newTable("loca")
    builder = FontBuilder(font=font)
    builder.setupHorizontalMetrics({name: master.metrics[name] for name in order})
    builder.setupCharacterMap({point: master.cmap[point] for point in points})
    builder.setupPost(keepGlyphNames=True, **master.post)
    out = io.BytesIO()
    font.save(out, reorderTables=False)  # fpdf2 reads it at once; order is irrelevant
    return out.getvalue()


def register(pdf: FPDF, text: str) -> None:
    """Make FAMILY usable in `pdf` for the characters of `text` (every string it will print)."""
    key = FAMILY.lower()
    # what FPDF.add_font does, from bytes: add_font only takes a file name
    font = TTFFont(pdf, io.BytesIO(subset(text)), key, "")  # type: ignore[arg-type]
    # fpdf2 subsets this small font again when writing the PDF; the outlines are copied
    # unchanged, so their stored bounding boxes need no recomputing (half of that time)
    font.ttfont.recalcBBoxes = False
    pdf.fonts[key] = font
