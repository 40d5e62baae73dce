import datetime as dt
import subprocess

import pytest

from core import documents

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
    doc = documents.issue(billed, "A0000001", "receipt", today=DAY)
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
    doc = documents.issue(
        billed, "A0000001", "invoice", addressee="富士山スキークラブ 御中", today=DAY
    )
    text = pdf_text(doc.pdf, tmp_path)
    assert "請求書" in text and "富士山スキークラブ 御中" in text and "御中 様" not in text
    assert "資格登録料" in text and "一般会員会費" not in text
    assert "1,000 円" in text and "2026年12月1日" in text


def test_the_same_lines_give_the_same_document_number(billed):
    first = documents.issue(billed, "A0000001", "receipt", today=DAY)
    again = documents.issue(billed, "A0000001", "receipt", today=DAY)
    assert first.number == again.number and first.number.startswith("RCP-A0000001-20261124-")


def test_nothing_to_issue_is_said_plainly(billed):
    with pytest.raises(documents.NothingToIssue, match="領収書"):
        documents.issue(billed, "A0000004", "receipt", today=DAY)
