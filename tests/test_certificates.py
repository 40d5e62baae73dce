"""Certificates and notices: available when earned (the batch, the payment, the season),
printed from the recorded content so every copy is the same PDF, each print recorded and
audited; a club's batch is one PDF; JSPO's posting choice; the member's invoice addressee."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from core import templates
from core.billing import payments
from core.cli import cli
from core.config import ConfigError
from core.documents import available, certificates, invoices
from core.documents import templates as doc_templates
from core.errors import ValidationError
from core.members import addressee
from core.renewals import batch
from core.store import db

from .test_renewals import World

D = dt.date
ON = D(2026, 12, 1)


def text_of(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def world(con):
    con.execute(
        "INSERT INTO organizations (org_code, name, kind, parent_code, root_code, path) VALUES"
        " ('JPTEC', 'JPTEC協議会', 'national', NULL, 'JPTEC', '/JPTEC/'),"
        " ('JSPO', '日本スポーツ協会', 'national', NULL, 'JSPO', '/JSPO/'),"
        " ('ITC', 'ITコーディネータ協会', 'national', NULL, 'ITC', '/ITC/'),"
        " ('SAJ', '全日本スキー連盟', 'national', NULL, 'SAJ', '/SAJ/')"
    )
    return World(con)


def test_a_provider_renewed_by_the_batch_has_the_certificate_at_once(world, tmp_path):
    member = world.holder("jptec", "provider", D(2023, 12, 1), D(2026, 11, 30))
    world.con.execute("UPDATE members SET email = 'p@example.jp'")
    world.activity(member, "jptec", "renewal_course", D(2026, 10, 20))
    batch.run(world.con, ON)
    (event, text) = db.one(world.con, "SELECT event, body FROM outbox")
    assert event == "renewal_complete" and "次の書類をダウンロードできます：認定証" in text
    printed = certificates.issue(world.con, member, "certificate", actor="hq", on=ON)
    page = text_of(printed.pdf, tmp_path)
    for expected in ("JPTEC プロバイダー認定証", "試験 太郎", "シケン タロウ", printed.documents[0],
                     "2026年10月20日〜2029年11月19日", "令和8年10月20日",
                     "一般社団法人JPTEC協議会", "代表理事", "発行日 2026年12月1日（令和8年12月1日）"):  # fmt: skip
        assert expected in page, expected
    assert re.fullmatch(r"JPC-2026-\d{7}", printed.documents[0])


def test_an_instructor_with_an_open_fee_has_no_certificate_yet(world):
    member = world.holder("jptec", "instructor", D(2026, 12, 1), D(2028, 11, 30), status="renewed")
    world.bill(member, "jptec", "jptec_instructor_renewal", ON)
    with pytest.raises(certificates.NotAvailable, match="会費が納入済み"):
        certificates.issue(world.con, member, "commission_letter", actor="hq", on=ON)
    world.con.execute("UPDATE billing SET status = 'paid', paid_on = ?", [ON])
    printed = certificates.issue(world.con, member, "commission_letter", actor="hq", on=ON)
    assert printed.documents[0].startswith("JPI-2026-")


def test_an_invalidated_instructor_cannot_print_the_certificate_any_more(world):
    member = world.holder("jptec", "instructor", D(2026, 12, 1), D(2028, 11, 30))
    certificates.issue(world.con, member, "certificate", actor="hq", on=ON)
    world.con.execute("UPDATE qualifications SET status = 'invalidated'")
    with pytest.raises(certificates.NotAvailable):
        certificates.issue(world.con, member, "certificate", actor="hq", on=ON)


def test_a_copy_printed_again_is_the_same_pdf_and_every_print_is_recorded(world):
    member = world.holder("itc", "coordinator", D(2026, 6, 1), D(2027, 5, 31))
    world.con.execute("UPDATE qualifications SET certificate_no = '0000002001C'")
    first = certificates.issue(world.con, member, "renewal_notice", actor="hq", on=ON)
    world.con.execute("UPDATE members SET family_name = '改姓'")  # after the document was made
    again = certificates.issue(world.con, member, "renewal_notice", actor="clerk", on=D(2027, 1, 5))
    copy = certificates.reprint(world.con, first.documents[0], actor="admin")
    assert first.pdf == again.pdf == copy.pdf and first.documents == again.documents
    issues = world.con.execute(
        "SELECT copy_no, issued_by FROM document_issues ORDER BY issue_id"
    ).fetchall()
    assert issues == [(1, "hq"), (2, "clerk"), (3, "admin")]
    audits = world.con.execute(
        "SELECT actor, action, row_key, new_value, reason FROM audit_log"
        " WHERE table_name = 'documents' ORDER BY audit_id"
    ).fetchall()
    number = first.documents[0]
    assert audits == [
        ("hq", "issue", number, "1", "更新結果通知 兼 資格証明を発行"),
        ("clerk", "issue", number, "2", "更新結果通知 兼 資格証明を発行（2回目の印刷）"),
        ("admin", "issue", number, "3", "更新結果通知 兼 資格証明を発行（3回目の印刷）"),
    ]


def test_the_itc_notice_carries_holder_validity_to_may_31_and_certificate_number(world, tmp_path):
    member = world.holder("itc", "coordinator", D(2026, 6, 1), D(2027, 5, 31))
    world.con.execute("UPDATE qualifications SET certificate_no = '0000002001C'")
    page = text_of(
        certificates.issue(world.con, member, "renewal_notice", actor="hq", on=ON).pdf, tmp_path
    )
    for expected in ("2026年度 ITコーディネータ資格更新通知 兼 資格証明", "試験 太郎", "0000002001C",
                     "2027年5月31日（令和9年5月31日）", "特定非営利活動法人ITコーディネータ協会"):  # fmt: skip
        assert expected in page, expected


def test_jspo_prints_a_card_per_licence_and_records_the_posting_choice(world, tmp_path):
    member = world.holder("jspo", "handball_coach", D(2023, 4, 1), D(2027, 3, 31))
    world.con.execute(
        "INSERT INTO qualifications (member_no, scheme, qualification, valid_from, valid_until)"
        " VALUES (?, 'jspo', 'soccer_coach', '2024-04-01', '2028-03-31')",
        [member],
    )
    printed = certificates.issue(world.con, member, "registration_card", actor="hq", on=ON)
    pages = text_of(printed.pdf, tmp_path).split("\f")
    assert (
        "ハンドボールコーチ" in pages[0]
        and "サッカーコーチ" in pages[1]
        and len(printed.documents) == 2
    )

    certificates.set_posting(world.con, member, "soccer_coach", "no_post", actor="hq")
    certificates.set_posting(world.con, member, "soccer_coach", "no_post", actor="hq")  # unchanged
    audits = world.con.execute(
        "SELECT field, old_value, new_value FROM audit_log WHERE field = 'card_posting'"
    ).fetchall()
    assert audits == [("card_posting", None, "no_post")]
    posted = certificates.club_batch(
        world.con, "JSPO", "registration_card", actor="hq", on=ON, posting="post"
    )
    kept = certificates.club_batch(
        world.con, "JSPO", "registration_card", actor="hq", on=ON, posting="no_post"
    )
    assert (len(posted.documents), len(kept.documents)) == (1, 1)
    with pytest.raises(ValueError, match="posting"):
        certificates.set_posting(world.con, member, "soccer_coach", "fax", actor="hq")


def test_a_saj_card_needs_the_seasons_approved_registration_and_its_lines_paid(world, tmp_path):
    member = world.holder("saj", "instructor", D(2026, 8, 1), D(2027, 7, 31))
    with pytest.raises(certificates.NotAvailable):
        certificates.issue(world.con, member, "registration_card", actor="hq", on=ON)
    world.apply(
        member,
        "saj",
        "season_registration",
        dt.datetime(2026, 8, 2, 9),
        season=2026,
        status="approved",
    )
    world.con.execute(
        "INSERT INTO billing (member_no, scheme, item, description, amount, issued_on, status, season)"
        " VALUES (?, 'saj', 'saj_annual_fee', '2026年度 一般会員会費 3,500円', 3500, '2026-08-03', 'open', 2026)",
        [member],
    )
    with pytest.raises(certificates.NotAvailable):
        certificates.issue(world.con, member, "registration_card", actor="hq", on=ON)
    (line,) = world.con.execute("SELECT billing_id FROM billing").fetchall()
    payments.record_payment(
        world.con, [line[0]], method="card", paid_on=ON, reference="S-1", actor="hq"
    )
    assert db.one(world.con, "SELECT kind, season FROM documents") == ("registration_card", 2026)
    page = text_of(
        certificates.issue(world.con, member, "registration_card", actor="hq", on=ON).pdf, tmp_path
    )
    for expected in (
        "2026年度 SAJ会員登録証",
        "全日本スキー連盟",
        "2026年8月1日〜2027年7月31日",
        "指導員",
    ):
        assert expected in page, expected


def test_a_clubs_certificates_come_as_one_pdf_with_a_cover(world, tmp_path):
    members = [world.holder("jptec", "provider", D(2025, 1, 1), D(2027, 12, 31)) for _ in range(3)]
    printed = certificates.club_batch(world.con, "JPTEC", "certificate", actor="hq", on=ON)
    cover, *pages = text_of(printed.pdf, tmp_path).split("\f")
    assert "認定証 一括発行 一覧" in cover and re.search(r"3\s*名\s*3\s*通", cover)
    assert all(m in cover for m in members)
    assert sum("JPTEC プロバイダー認定証" in p for p in pages) == 3
    batch_ids = {r[0] for r in world.con.execute("SELECT batch_id FROM document_issues").fetchall()}
    assert len(batch_ids) == 1 and None not in batch_ids


def test_a_completion_certificate_without_a_completed_course_is_said_plainly(world):
    member = world.holder("jptec", "provider", D(2025, 1, 1), D(2027, 12, 31))
    with pytest.raises(certificates.NotAvailable, match="発行できる修了証明書がありません"):
        certificates.issue(world.con, member, "completion_certificate", actor="hq", on=ON)


def test_recording_availability_twice_records_nothing_new(world):
    member = world.holder("jptec", "provider", D(2025, 1, 1), D(2027, 12, 31))
    assert available.for_members(world.con, [member], on=ON) == 1
    assert available.for_members(world.con, [member], on=ON) == 0


@pytest.fixture
def template_dir(tmp_path, monkeypatch):
    target = tmp_path / "templates"
    shutil.copytree(templates.TEMPLATES_DIR, target)
    monkeypatch.setattr(templates, "TEMPLATES_DIR", target)
    return target


def test_a_seal_image_in_the_template_is_printed_in_its_slot(world, template_dir, tmp_path):
    from PIL import Image

    seal = tmp_path / "seal.png"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(seal)
    path = template_dir / "jptec.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('seal = ""', f'seal = "{seal}"', 1),
        encoding="utf-8",
    )
    member = world.holder("jptec", "provider", D(2025, 1, 1), D(2027, 12, 31))
    printed = certificates.issue(world.con, member, "certificate", actor="hq", on=ON)
    assert b"/Subtype /Image" in printed.pdf


def test_documents_of_a_kind_no_scheme_issues_are_said_plainly(world, template_dir):
    path = template_dir / "itc.toml"
    text = path.read_text(encoding="utf-8")
    assert "[documents.renewal_notice]" in text
    path.write_text(text.split("[documents.renewal_notice]")[0], encoding="utf-8")
    member = world.holder("jptec", "provider", D(2025, 1, 1), D(2027, 12, 31))
    with pytest.raises(certificates.NotAvailable, match="更新結果通知 兼 資格証明を発行する制度"):
        certificates.issue(world.con, member, "renewal_notice", actor="hq", on=ON)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('fields = ["holder", "member_no", "qualification", "validity"]', 'fields = ["holder", "shoe_size"]',
         "documents.commission_letter.fields: unknown field 'shoe_size'"),
        ('qualifications = ["instructor"]', 'qualifications = ["astronaut"]',
         "documents.commission_letter.qualifications: unknown qualification"),
        ('seal = ""', 'seal = "data/seals/none.png"', "documents.certificate.seal: no image file"),
        ('lead = "あなたを', 'lead = "{holder}', "documents.commission_letter.lead: unknown placeholder"),
    ],
)  # fmt: skip
def test_a_broken_document_template_is_refused_naming_the_file_and_key(
    template_dir, old, new, message
):
    path = template_dir / "jptec.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"jptec\.toml") as caught:
        doc_templates.load()
    assert message in str(caught.value)


# -- the invoice addressee on the member record ----------------------------------------------


def test_the_members_invoice_addressee_is_on_every_invoice_and_receipt_and_audited(
    sample, tmp_path
):
    sample.execute(
        "INSERT INTO billing (member_no, scheme, item, description, amount, issued_on, status)"
        " VALUES ('A0000001', 'saj', 'saj_annual_fee', '2026年度 一般会員会費 3,500円', 3500, '2026-11-01', 'open')"
    )
    assert addressee.set_invoice_addressee(sample, "A0000001", "株式会社 富士山　経理部 御中",
                                           actor="hq", reason="本人から電話")  # fmt: skip
    assert not addressee.set_invoice_addressee(sample, "A0000001", "株式会社 富士山 経理部 御中",
                                               actor="hq", reason="同じ")  # fmt: skip
    page = text_of(invoices.issue(sample, "A0000001", "invoice", today=ON).pdf, tmp_path)
    assert "株式会社 富士山 経理部 御中" in page and "山田 太郎 様" not in page
    typed = text_of(
        invoices.issue(sample, "A0000001", "invoice", addressee="別名 様", today=ON).pdf, tmp_path
    )
    assert "別名 様" in typed
    audits = sample.execute(
        "SELECT field, old_value, new_value, reason FROM audit_log WHERE field = 'invoice_addressee'"
    ).fetchall()
    assert audits == [("invoice_addressee", None, "株式会社 富士山 経理部 御中", "本人から電話")]
    addressee.set_invoice_addressee(sample, "A0000001", "", actor="hq", reason="元に戻す")
    page = text_of(invoices.issue(sample, "A0000001", "invoice", today=ON).pdf, tmp_path)
    assert "山田 太郎 様" in page
    with pytest.raises(ValidationError):
        addressee.set_invoice_addressee(sample, "A0000001", "x" * 61, actor="hq", reason="長い")


# -- the command line ------------------------------------------------------------------------


def test_documents_for_a_member_from_the_command_line(sample_path, tmp_path):
    out = tmp_path / "receipt.pdf"
    result = CliRunner().invoke(
        cli, ["documents", "--member", "J0000001", "--kind", "certificate", "--out", str(out),
              "--db", str(sample_path), "--date", "2026-11-01"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "JPTEC インストラクター認定証" in text_of(out.read_bytes(), tmp_path)
    both = CliRunner().invoke(
        cli, ["documents", "--member", "J0000001", "--org", "JPTEC", "--kind", "certificate",
              "--out", str(out), "--db", str(sample_path)],
    )  # fmt: skip
    assert both.exit_code == 2 and "either --org or --member" in both.output
    none = CliRunner().invoke(
        cli, ["documents", "--member", "A0000001", "--kind", "commission_letter", "--out", str(out),
              "--db", str(sample_path)],
    )  # fmt: skip
    assert none.exit_code == 2 and "発行できる委嘱状がありません" in none.output


def test_export_outbox_has_the_contract_columns(sample_path, tmp_path):
    with db.connect(sample_path) as con:
        batch.run(con, ON)
    out = tmp_path / "outbox.csv"
    result = CliRunner().invoke(
        cli, ["export", "outbox", "--out", str(out), "--db", str(sample_path)]
    )
    assert result.exit_code == 0, result.output
    header, row, *_ = out.read_text(encoding="utf-8-sig").splitlines()
    assert header.startswith(
        "event,member_no,scheme,recipient,subject,status,created_at,sent_at,message_id"
    )
    assert row.startswith("fee_opened,J0000001,jptec,kenichi@example.jp,")
    masked = CliRunner().invoke(
        cli, ["export", "outbox", "--out", str(out), "--masked", "--db", str(sample_path)]
    )
    assert masked.exit_code == 0 and "kenichi@example.jp" not in out.read_text(encoding="utf-8-sig")


def test_remind_from_the_command_line(sample_path):
    with db.connect(sample_path) as con:
        batch.run(con, ON)
    result = CliRunner().invoke(
        cli, ["remind", "--date", "2027-01-01", "--json", "--db", str(sample_path)]
    )
    assert result.exit_code == 0, result.output
    import json

    counts = {(c["scheme"], c["reminder"]): c["n"] for c in json.loads(result.output)}
    assert counts[("jptec", "fee_unpaid_1m")] == 1 and counts[("jspo", "window_opened")] == 0
