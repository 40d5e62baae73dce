import dataclasses
import datetime as dt
import io
import re
import subprocess

import polars as pl
import pytest
from fontTools.ttLib import TTFont

from core import config
from core.documents import font, invoices

DAY = dt.date(2026, 11, 24)


@pytest.fixture
def billed(sample):
    """One paid and one open line for 山田 太郎 (A0000001)."""
    sample.execute(
        """
        INSERT INTO billing (member_no, scheme, item, description, amount, handling_fee, issued_on, due_on, paid_on, status)
        VALUES ('A0000001', 'saj', 'saj_annual_fee', '2026年度 一般会員会費 3,500円', 3500, 160, DATE '2026-08-20', DATE '2026-09-20', DATE '2026-09-05', 'paid'),
               ('A0000001', 'saj', 'saj_qualification_registration', '2026年度 資格登録料（教育資格 指導員等） 1,000円', 1000, 0, DATE '2026-11-01', DATE '2026-12-01', NULL, 'open')
        """
    )
    return sample


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_a_receipt_carries_the_name_amounts_and_wareki_date(billed, tmp_path):
    doc = invoices.issue(billed, "A0000001", "receipt", today=DAY)
    text = pdf_text(doc.pdf, tmp_path)
    assert doc.title == "領収書" and doc.lines == 1 and doc.total == 3660
    for expected in (
        "領収書",
        "山田 太郎 様",
        "3,660 円",
        "2026年度 一般会員会費 3,500円",
        "令和8年11月24日",
        "2026年9月5日",
        "公益財団法人全日本スキー連盟",
        doc.number,
    ):
        assert expected in text, expected


def test_an_invoice_lists_open_lines_for_an_edited_addressee(billed, tmp_path):
    doc = invoices.issue(
        billed, "A0000001", "invoice", addressee="富士山スキークラブ 御中", today=DAY
    )
    text = pdf_text(doc.pdf, tmp_path)
    assert "請求書" in text and "富士山スキークラブ 御中" in text and "御中 様" not in text
    assert "資格登録料" in text and "一般会員会費" not in text
    assert "1,000 円" in text and "2026年12月1日" in text


def test_the_same_lines_give_the_same_document_number(billed):
    first = invoices.issue(billed, "A0000001", "receipt", today=DAY)
    again = invoices.issue(billed, "A0000001", "receipt", today=DAY)
    assert first.number == again.number and first.number.startswith("RCP-A0000001-20261124-")


def test_nothing_to_issue_is_said_plainly(billed):
    with pytest.raises(invoices.NothingToIssue, match="領収書"):
        invoices.issue(billed, "A0000004", "receipt", today=DAY)


REGISTERED = "T1234567890123"


@pytest.fixture
def registered():
    """The shipped configuration with SAJ registered as a qualified invoice issuer."""
    return config.load().with_overrides({"saj.invoice_registration_no": REGISTERED})


@pytest.fixture
def taxed(billed):
    """A0000001 also paid two taxable lines (12,000 and 1,234 yen) and a non-taxable one."""
    billed.execute(
        """
        INSERT INTO billing (member_no, scheme, item, description, amount, handling_fee, tax_class, issued_on, paid_on, status)
        VALUES ('A0000001', 'saj', 'course', '技術研修会 受講料', 12000, 0, 'taxable', DATE '2026-10-01', DATE '2026-10-02', 'paid'),
               ('A0000001', 'saj', 'materials', '教本', 1234, 0, 'taxable', DATE '2026-10-01', DATE '2026-10-02', 'paid'),
               ('A0000001', 'saj', 'stamp', '証明書 印紙代', 1000, 0, 'non_taxable', DATE '2026-10-01', DATE '2026-10-02', 'paid')
        """
    )
    return billed


def test_a_registered_issuer_gives_a_qualified_receipt_with_tax_per_rate(
    taxed, registered, tmp_path
):
    doc = invoices.issue(taxed, "A0000001", "receipt", today=DAY, cfg=registered)
    text = pdf_text(doc.pdf, tmp_path)
    assert doc.total == 3660 + 12000 + 1234 + 1000 == 17894
    assert re.search(rf"公益財団法人全日本スキー連盟\s+登録番号 {REGISTERED}", text)
    # 13,234 yen at 10 % carries floor(13234 × 10 / 110) = 1,203 yen of tax, computed once
    # for the rate; rounding each line down would give 1,090 + 112 = 1,202
    assert re.search(r"10%対象\s+13,234 円\s+1,203 円", text), text
    assert re.search(r"非課税\s+1,000 円\s+—", text)
    assert re.search(r"不課税\s+3,660 円\s+—", text)
    assert "1,202 円" not in text
    assert re.search(r"技術研修会 受講料\s+12,000 円.*課税10%", text)
    assert re.search(r"一般会員会費 3,500円\s+3,500 円\s+160 円.*不課税", text)
    assert "山田 太郎 様" in text and "令和8年11月24日" in text and "17,894 円" in text


def test_an_invoice_of_a_registered_issuer_is_qualified_too(billed, registered, tmp_path):
    doc = invoices.issue(billed, "A0000001", "invoice", today=DAY, cfg=registered)
    text = pdf_text(doc.pdf, tmp_path)
    assert REGISTERED in text and re.search(r"不課税\s+1,000 円", text)


def test_without_a_registration_number_the_simple_layout_has_one_total(taxed, tmp_path):
    doc = invoices.issue(taxed, "A0000001", "receipt", today=DAY)
    text = pdf_text(doc.pdf, tmp_path)
    assert re.search(r"合計金額\s+17,894 円", text) and "課税10%" in text
    assert "登録番号" not in text and "10%対象" not in text and "消費税" not in text


def test_a_registration_number_from_a_date_applies_to_documents_issued_from_then(taxed, tmp_path):
    dated = dataclasses.replace(
        config.load(),
        values={
            **config.load().values,
            "saj.invoice_registration_no": (
                config.Dated(dt.date(1900, 1, 1), ""),
                config.Dated(dt.date(2026, 12, 1), REGISTERED),
            ),
        },
    )
    before = invoices.issue(taxed, "A0000001", "receipt", today=DAY, cfg=dated)
    after = invoices.issue(taxed, "A0000001", "receipt", today=dt.date(2026, 12, 1), cfg=dated)
    assert REGISTERED not in pdf_text(before.pdf, tmp_path)
    assert REGISTERED in pdf_text(after.pdf, tmp_path)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # (tax class, rate, tax-included amount) per line → (class, rate, total, tax) per rate
        (
            [("taxable", 10, 12000), ("taxable", 10, 1234)],
            [("taxable", 10, 13234, 1203)],
        ),
        (
            [("taxable", 10, 1100), ("taxable", 8, 1080), ("out_of_scope", None, 500)],
            [
                ("taxable", 10, 1100, 100),
                ("taxable", 8, 1080, 80),
                ("out_of_scope", None, 500, None),
            ],
        ),
        (
            [("non_taxable", None, 999), ("taxable", 10, 109), ("taxable", 10, 1)],
            [("taxable", 10, 110, 10), ("non_taxable", None, 999, None)],
        ),
        ([("taxable", 10, 10)], [("taxable", 10, 10, 0)]),
    ],
)
def test_consumption_tax_is_floored_once_per_rate_and_document(lines, expected):
    frame = pl.DataFrame(
        [("A1", "saj", c, r, amount) for c, r, amount in lines],
        schema={
            "member_no": pl.String,
            "scheme": pl.String,
            "tax_class": pl.String,
            "rate": pl.Int64,
            "line_total": pl.Int64,
        },
        orient="row",
    )
    totals = invoices.tax_totals(frame)
    assert totals.select("tax_class", "rate", "total", "tax").rows() == expected


@pytest.fixture
def club(taxed):
    """A0000002 of the same club (富士山スキークラブ) has a paid and an open line; A0000003 of another club has one."""
    taxed.execute(
        """
        INSERT INTO billing (member_no, scheme, item, description, amount, handling_fee, issued_on, due_on, paid_on, status)
        VALUES ('A0000002', 'saj', 'saj_annual_fee', '2026年度 大学生会員会費 3,500円', 3500, 0, DATE '2026-08-20', DATE '2026-09-20', DATE '2026-09-10', 'paid'),
               ('A0000002', 'saj', 'saj_insurance', '2026年度 スキー保険 1,500円', 1500, 0, DATE '2026-11-10', DATE '2026-12-10', NULL, 'open'),
               ('A0000003', 'saj', 'saj_annual_fee', '2026年度 高校生会員会費 1,000円', 1000, 0, DATE '2026-08-20', DATE '2026-09-20', DATE '2026-09-01', 'paid')
        """
    )
    return taxed


def test_many_receipts_are_made_from_one_read_one_pdf_per_member(club, tmp_path):
    docs = list(
        invoices.issue_many(club, ["A0000003", "A0000004", "A0000001"], "receipt", today=DAY)
    )
    assert [d.member_no for d in docs] == ["A0000001", "A0000003"]  # A0000004 has no paid line
    assert [d.total for d in docs] == [17894, 1000]
    assert docs[0] == dataclasses.replace(
        invoices.issue(club, "A0000001", "receipt", today=DAY), pdf=docs[0].pdf
    )
    texts = [pdf_text(d.pdf, tmp_path) for d in docs]
    assert "山田 太郎 様" in texts[0] and "鈴木 一郎" not in texts[0]
    assert "鈴木 一郎 様" in texts[1] and "1,000 円" in texts[1]


def pdf_pages(pdf: bytes, tmp_path) -> list[str]:
    return pdf_text(pdf, tmp_path).split("\f")


def test_a_club_batch_is_one_pdf_with_a_cover_and_a_page_per_member(club, tmp_path):
    batch = invoices.club_batch(club, "SAJ-22-C001", "receipt", today=DAY)
    cover, first, second, *rest = pdf_pages(batch.pdf, tmp_path)
    assert batch.documents == 2 and batch.total == 17894 + 3500
    assert "領収書 一括発行 一覧" in cover and "富士山スキークラブ（SAJ-22-C001）" in cover
    assert re.search(r"A0000001\s+山田 太郎\s+RCP-A0000001-20261124-\w+\s+4\s+17,894 円", cover)
    assert re.search(r"A0000002\s+佐藤 花子\s+RCP-A0000002-\S+\s+1\s+3,500 円", cover)
    assert re.search(r"2\s*名\s+総合計 21,394 円", cover) and "鈴木" not in cover
    assert "山田 太郎 様" in first and "17,894 円" in first and "佐藤" not in first
    assert "佐藤 花子 様" in second and "大学生会員会費" in second and "スキー保険" not in second
    assert not "".join(rest).strip()


def test_a_club_batch_keeps_to_the_billing_dates_and_member_statuses_asked_for(club, tmp_path):
    batch = invoices.club_batch(
        club, "SAJ-22-C001", "receipt", issued_from=dt.date(2026, 9, 1), today=DAY
    )
    cover = pdf_pages(batch.pdf, tmp_path)[0]
    assert batch.documents == 1 and batch.total == 12000 + 1234 + 1000
    assert "対象請求日 2026年9月1日〜" in cover and "佐藤" not in cover
    club.execute("UPDATE members SET status = 'withdrawn' WHERE member_no = 'A0000002'")
    active = invoices.club_batch(
        club, "SAJ-22-C001", "invoice", member_statuses=["active"], today=DAY
    )
    assert active.documents == 1 and active.total == 1000  # only 山田's open line


def test_a_club_without_lines_or_an_unknown_club_is_said_plainly(club):
    with pytest.raises(invoices.NothingToIssue, match="SAJ-13-C001"):
        invoices.club_batch(club, "SAJ-13-C001", "receipt", today=DAY)
    with pytest.raises(KeyError, match="NOPE"):
        invoices.club_batch(club, "NOPE", "receipt", today=DAY)


def test_a_document_font_holds_the_glyphs_of_its_text_only():
    subset = TTFont(io.BytesIO(font.subset("領収書 山田太郎")))
    cmap = subset.getBestCmap()
    assert {ord(c) for c in "領収書山田太郎A0"} <= cmap.keys() and ord("鈴") not in cmap
    assert len(subset.getGlyphOrder()) < 150 and subset.getGlyphOrder()[0] == ".notdef"
