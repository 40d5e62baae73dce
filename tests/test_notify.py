"""The outbox: each event writes its mail in its own transaction (or none, when it rolls back
or is a silent case), rendered from the scheme's template, suppressed when nobody can read it;
templates are checked when loaded; reminders are due once per member, reminder and period."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from core import config, templates
from core.billing import payments
from core.config import ConfigError
from core.errors import PaymentRefused
from core.notify import outbox, reminders
from core.notify import templates as mail_templates
from core.renewals import batch
from core.store import db

from .test_approvals import SEASON, apply, approve_once, open_instructor_fee, state, walk
from .test_renewals import World

D = dt.date


def mail(con: duckdb.DuckDBPyConnection, member_no: str | None = None) -> list[tuple]:
    """(event, member_no, status, subject) of the outbox, oldest first."""
    return con.execute(
        "SELECT event, member_no, status, subject FROM outbox"
        " WHERE $m::VARCHAR IS NULL OR member_no = $m ORDER BY outbox_id",
        {"m": member_no},
    ).fetchall()


def body(con: duckdb.DuckDBPyConnection, event: str) -> str:
    row = db.one(con, "SELECT body FROM outbox WHERE event = ? ORDER BY outbox_id DESC", [event])
    assert row is not None
    return str(row[0])


# -- events ------------------------------------------------------------------------------------


def test_jptec_extension_writes_the_fee_mail_with_the_fee_and_new_period(sample):
    batch.run(sample, D(2026, 12, 1))
    assert mail(sample) == [
        (
            "fee_opened",
            "J0000001",
            "pending",
            "【JPTEC】インストラクター資格の更新と会費納入のお願い",
        )
    ]
    text = body(sample, "fee_opened")
    assert text.startswith("田中 健一 様（会員番号 J0000001）")
    assert "新しい有効期間：2026年12月1日〜2028年11月30日" in text
    assert "2026年度 インストラクター更新会費 2,000円" in text
    assert "お支払期限 2027年1月1日" in text
    assert "{" not in text  # every placeholder filled


def test_a_dry_run_and_a_second_run_write_no_mail(sample):
    batch.run(sample, D(2026, 12, 1), dry_run=True)
    assert mail(sample) == []
    batch.run(sample, D(2026, 12, 1))
    batch.run(sample, D(2026, 12, 1))
    assert len(mail(sample)) == 1


def test_a_batch_that_fails_after_writing_mail_leaves_no_mail(sample, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(batch, "_documents_and_mail", broken)
    with pytest.raises(RuntimeError):
        batch.run(sample, D(2026, 12, 1))
    assert mail(sample) == []
    assert db.one(sample, "SELECT count(*) FROM billing")[0] == 0


def test_payment_writes_the_payment_mail_and_makes_the_certificates_available(sample):
    batch.run(sample, D(2026, 12, 1))
    (line,) = sample.execute("SELECT billing_id FROM billing WHERE status = 'open'").fetchall()
    payments.record_payment(
        sample, [line[0]], method="card", paid_on=D(2026, 12, 3), reference="R-1", actor="hq"
    )
    assert [m[0] for m in mail(sample)] == ["fee_opened", "payment_complete"]
    text = body(sample, "payment_complete")
    assert "合計 2,000円（納入日 2026年12月3日）" in text
    assert "次の書類をダウンロードできます：委嘱状・認定証" in text
    kinds = sample.execute("SELECT kind FROM documents ORDER BY kind").fetchall()
    assert kinds == [("certificate",), ("commission_letter",)]


def test_a_refused_payment_writes_no_mail(sample):
    batch.run(sample, D(2026, 12, 1))
    with pytest.raises(PaymentRefused):
        payments.record_payment(
            sample, [999999], method="card", paid_on=D(2026, 12, 3), reference="R-2", actor="hq"
        )
    assert [m[0] for m in mail(sample)] == ["fee_opened"]


def test_final_approval_mails_the_member_and_intermediate_levels_do_not(sample):
    app = apply(sample, member_no="A0000001", **SEASON)
    approve_once(sample, app)  # club
    assert [m[0] for m in mail(sample)] == []
    walk(sample, app)
    events = [m[0] for m in mail(sample, "A0000001")]
    # the prefecture bills the qualified member's difference, SAJ the season's lines
    assert events == ["invoice_issued", "invoice_issued", "application_approved"]
    assert "年度：2026年度" in body(sample, "application_approved")


def test_send_back_mails_the_reason_in_the_schemes_words_and_the_note(sample):
    from core.applications import approvals

    app = apply(sample, member_no="A0000001", **SEASON)
    _, _, version = state(sample, app)
    approvals.send_back(
        sample, app, version, reason="wrong_name", note="戸籍の漢字をご確認ください",
        role="admin", scope="*", actor="approver",
    )  # fmt: skip
    text = body(sample, "application_sent_back")
    assert "差戻しの理由：氏名の誤り" in text and "備考：戸籍の漢字をご確認ください" in text


def test_a_jptec_non_card_request_refused_at_intake_sends_nothing(sample):
    open_instructor_fee(sample)
    app = apply(sample, member_no="J0000001", scheme="jptec", kind="non_card_payment",
                valid_until_claimed="2026-11-29")  # fmt: skip
    assert state(sample, app)[0] == "rejected"
    assert mail(sample) == []


def test_mail_is_suppressed_without_an_address_or_for_a_failing_one(sample):
    sample.execute("UPDATE members SET email = NULL WHERE member_no = 'J0000001'")
    batch.run(sample, D(2026, 12, 1))
    row = db.one(sample, "SELECT status, status_reason, recipient FROM outbox")
    assert row == ("suppressed", "メールアドレスの登録がありません", None)

    sample.execute("UPDATE members SET email = 'gone@example.jp' WHERE member_no = 'J0000001'")
    sample.execute(
        "INSERT INTO mail_failures (member_no, email) VALUES ('J0000001', 'gone@example.jp')"
    )
    (line,) = sample.execute("SELECT billing_id FROM billing WHERE status = 'open'").fetchall()
    payments.record_payment(
        sample, [line[0]], method="card", paid_on=D(2026, 12, 3), reference="R-3", actor="hq"
    )
    row = db.one(
        sample, "SELECT status, status_reason FROM outbox WHERE event = 'payment_complete'"
    )
    assert row == ("suppressed", "このアドレスは配信不能として記録されています")


def test_each_row_has_its_own_message_id_in_the_senders_domain(sample):
    batch.run(sample, D(2026, 12, 1))
    (mid,) = db.one(sample, "SELECT message_id FROM outbox")
    assert mid.startswith("<") and mid.endswith("@jptec.example.jp>")


# -- templates ---------------------------------------------------------------------------------


@pytest.fixture
def template_dir(tmp_path):
    target = tmp_path / "templates"
    shutil.copytree(templates.TEMPLATES_DIR, target)
    return target


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{due_on}）\n", "{due_day}）\n", "mail.fee_opened.body: unknown placeholder {due_day}"),
        ("[mail.fee_opened]", "[mail.fee_open]", "mail.fee_open: unknown event"),
        (
            'sender = "info@jptec.example.jp"',
            'sender = "jptec"',
            "mail.sender: expected a mail address",
        ),
        (
            'subject = "【JPTEC】会費のご請求"\n',
            "",
            "mail.invoice_issued: expected subject and body",
        ),
    ],
)
def test_a_broken_template_is_refused_naming_the_file_and_key(template_dir, old, new, message):
    path = template_dir / "jptec.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"jptec\.toml") as caught:
        mail_templates.load(template_dir)
    assert message in str(caught.value)


def test_every_shipped_template_previews_without_an_unfilled_placeholder():
    found = mail_templates.load()
    cfg = config.current()
    for scheme, event in found.templates:
        sender, subject, text = mail_templates.preview(scheme, event, found, cfg, D(2026, 12, 1))
        assert "{" not in subject + text and sender.endswith(f"<{found.senders[scheme]}>")


def test_an_event_without_a_template_writes_nothing(con):
    # JSPO mails no fee_opened (its reminder says the window opened): data, not code
    con.execute("CREATE TEMP TABLE nobody AS SELECT 'S1' AS member_no, 'jspo' AS scheme")
    assert outbox.write(con, "nobody", event="fee_opened", actor="t", on=D(2026, 12, 1)) == 0


# -- reminders ---------------------------------------------------------------------------------


@pytest.fixture
def world(con):
    con.execute(
        "INSERT INTO organizations (org_code, name, kind, parent_code, root_code, path) VALUES"
        " ('JPTEC', 'JPTEC協議会', 'national', NULL, 'JPTEC', '/JPTEC/'),"
        " ('JSPO', '日本スポーツ協会', 'national', NULL, 'JSPO', '/JSPO/'),"
        " ('ITC', 'ITコーディネータ協会', 'national', NULL, 'ITC', '/ITC/')"
    )
    return World(con)


def holder(
    world: World, scheme: str, qualification: str, start: dt.date, end: dt.date, **kw
) -> str:
    member_no = world.holder(scheme, qualification, start, end, **kw)
    world.con.execute("UPDATE members SET email = 'm@example.jp' WHERE member_no = ?", [member_no])
    return member_no


def reminded(con: duckdb.DuckDBPyConnection, on: dt.date) -> list[tuple]:
    reminders.run(con, on)
    return con.execute("SELECT event, member_no FROM outbox ORDER BY outbox_id").fetchall()


@pytest.mark.parametrize(
    ("day", "sent"),
    [
        (D(2027, 1, 14), False),
        (D(2027, 1, 15), True),
        (D(2027, 1, 28), True),
        (D(2027, 1, 29), False),
    ],
)
def test_jptec_unpaid_fee_is_reminded_a_month_after_billing_within_14_days(world, day, sent):
    member = holder(
        world, "jptec", "instructor", D(2026, 12, 15), D(2028, 12, 14), status="renewed"
    )
    world.bill(member, "jptec", "jptec_instructor_renewal", D(2026, 12, 15), due_on=D(2027, 1, 15))
    assert reminded(world.con, day) == ([("reminder_fee_unpaid", member)] if sent else [])


def test_a_reminder_is_never_sent_twice_for_the_same_period(world):
    member = holder(
        world, "jptec", "instructor", D(2026, 12, 15), D(2028, 12, 14), status="renewed"
    )
    world.bill(member, "jptec", "jptec_instructor_renewal", D(2026, 12, 15))
    reminded(world.con, D(2027, 1, 15))
    reminded(world.con, D(2027, 1, 16))
    # the second reminder of the schedule (3 months) is another period of its own
    assert reminded(world.con, D(2027, 3, 15)) == [("reminder_fee_unpaid", member)] * 2
    body_3m = body(world.con, "reminder_fee_unpaid")
    assert "2026年12月15日にご請求した会費" in body_3m


def test_a_paid_fee_is_not_reminded(world):
    member = holder(
        world, "jptec", "instructor", D(2026, 12, 15), D(2028, 12, 14), status="renewed"
    )
    world.bill(member, "jptec", "jptec_instructor_renewal", D(2026, 12, 15), status="paid")
    assert reminded(world.con, D(2027, 1, 15)) == []


@pytest.mark.parametrize(
    ("day", "sent"),
    [
        (D(2027, 1, 30), False),
        (D(2027, 1, 31), True),
        (D(2027, 2, 13), True),
        (D(2027, 2, 14), False),
    ],
)
def test_jspo_window_opened_reminder_two_months_before_the_end(world, day, sent):
    member = holder(world, "jspo", "handball_coach", D(2023, 4, 1), D(2027, 3, 31))
    assert reminded(world.con, day) == ([("reminder_window_opened", member)] if sent else [])


def test_no_reminder_for_a_period_the_member_has_renewed(world):
    member = holder(
        world, "jspo", "handball_coach", D(2027, 4, 1), D(2031, 3, 31), status="renewed"
    )
    assert reminded(world.con, D(2027, 1, 31)) == []
    del member


def test_itc_deadline_reminder_only_for_those_who_have_not_applied(world):
    waiting = holder(world, "itc", "coordinator", D(2026, 6, 1), D(2027, 5, 31))
    applied = holder(world, "itc", "coordinator", D(2026, 6, 1), D(2027, 5, 31))
    world.apply(applied, "itc", "season_registration", dt.datetime(2027, 4, 10, 9), season=2027)
    assert reminded(world.con, D(2027, 5, 23)) == []
    assert reminded(world.con, D(2027, 5, 24)) == [("reminder_window_closing", waiting)]


def test_a_reminder_configured_with_an_unknown_anchor_is_refused():
    cfg = config.current().with_overrides(
        {"jspo.reminders": {"x": {"event": "reminder_window_opened", "anchor": "birthday",
                                   "months": 1, "days": 0, "unless_met": "", "within_days": 3}}}
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"jspo\.reminders\.x\.anchor"):
        reminders.schedule(cfg, D(2026, 12, 1))
