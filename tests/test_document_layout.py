"""The printed page: each document kind rendered (pdftoppm) and its words measured
(pdftotext -bbox): nothing runs off the page, dates stay on one line, the issuer's address and,
on an invoice, the bank details are there."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from core.documents import invoices

from .test_billing import add_line

DAY = dt.date(2026, 11, 24)
NS = {"x": "http://www.w3.org/1999/xhtml"}
MARGIN_PT = 20  # nothing closer than this to a page's edge (fpdf2's margin is 28 pt)


def words(pdf: bytes, tmp_path: Path) -> list[tuple[int, str, float, float, float, float, float]]:
    """(page, text, xMin, yMin, xMax, yMax, page width) of every word, after checking the PDF
    renders to PNG."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(path), str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png")), "the PDF did not render"
    xml = subprocess.run(
        ["pdftotext", "-bbox-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    found = []
    for number, page in enumerate(ET.fromstring(xml).iterfind(".//x:page", NS), start=1):
        width = float(page.get("width", 0))
        for word in page.iterfind(".//x:word", NS):
            box = [float(word.get(k, 0)) for k in ("xMin", "yMin", "xMax", "yMax")]
            found.append((number, word.text or "", *box, width))
    return found


def lines_of(found) -> list[str]:
    """The text of each printed line (words on the same baseline, left to right)."""
    rows: dict[tuple[int, int], list[tuple[float, str]]] = {}
    for page, text, x0, y0, _x1, _y1, _w in found:
        rows.setdefault((page, round(y0)), []).append((x0, text))
    return [" ".join(t for _, t in sorted(ws)) for _, ws in sorted(rows.items())]


def assert_inside(found) -> None:
    for page, text, x0, _y0, x1, _y1, width in found:
        assert x0 >= MARGIN_PT and x1 <= width - MARGIN_PT, (page, text, x0, x1, width)


@pytest.fixture
def long_dates(sample):
    """Lines billed and paid on dates with two-digit months and days (the widest)."""
    paid = add_line(sample, "A0000001", "saj", "saj_annual_fee", 3500, dt.date(2026, 11, 24))
    add_line(sample, "A0000001", "saj", "saj_insurance", 5000, dt.date(2026, 10, 30))
    sample.execute(
        "UPDATE billing SET status = 'paid', paid_on = DATE '2026-12-28' WHERE billing_id = ?",
        [paid],
    )
    return sample


@pytest.mark.parametrize("kind", ["invoice", "receipt"])
def test_a_document_stays_on_its_page_with_each_date_on_one_line(long_dates, tmp_path, kind):
    document = invoices.issue(long_dates, "A0000001", kind, today=dt.date(2026, 12, 28))
    found = words(document.pdf, tmp_path)
    assert_inside(found)
    printed = lines_of(found)
    dates = {"invoice": ["2026年10月30日", "2026年11月29日"], "receipt": ["2026年12月28日"]}[kind]
    for date in dates:  # a date split over two lines would not be one word on one line
        assert any(date in line for line in printed), (date, printed)
    assert any("東京都新宿区霞ヶ丘町4-2" in line for line in printed)
    assert any(re.search(r"TEL \d", line) for line in printed)
    transfer = any("お振込先" in line for line in printed)
    assert transfer is (kind == "invoice")  # SAJ takes bank transfers (saj.transfer_account)
    if transfer:
        assert any("ゆうちょ銀行" in line and "当座" in line for line in printed)


def test_a_scheme_without_a_bank_account_prints_no_bank_details(sample, tmp_path):
    add_line(sample, "S0000001", "jspo", "jspo_registration", 10000, DAY)
    printed = lines_of(
        words(invoices.issue(sample, "S0000001", "invoice", today=DAY).pdf, tmp_path)
    )
    assert not any("お振込先" in line for line in printed)
    assert any("公益財団法人日本スポーツ協会" in line for line in printed)


def test_a_club_batch_with_its_cover_stays_on_its_pages(long_dates, tmp_path):
    batch = invoices.club_batch(long_dates, "SAJ-22-C001", "invoice", today=dt.date(2026, 12, 28))
    found = words(batch.pdf, tmp_path)
    assert_inside(found)
    assert max(page for page, *_ in found) == 1 + batch.documents
