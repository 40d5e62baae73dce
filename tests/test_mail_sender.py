"""send-mail against a real SMTP server on loopback (aiosmtpd): what arrives is read back and
parsed as a Japanese mail client would; refusals, the pace, one sender at a time, STARTTLS with
a log-in, and a sender killed mid-run (SIGKILL) that is started again."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from core import config
from core.cli import cli
from core.notify import outbox, sender, smtp
from core.store import db

from .mailserver import Inbox, free_port, running

ROOT = Path(__file__).resolve().parent.parent
ON = dt.date(2026, 12, 1)


def fill(path: Path, n: int, *, first_name: str = "太郎") -> None:
    """n members of a SAJ club with an address each, and one 請求書の発行 mail for each."""
    with db.connect(path) as con:
        con.execute(
            "INSERT INTO members (member_no, org_code, family_name, given_name, email)"
            " SELECT 'M' || lpad(i::VARCHAR, 6, '0'), 'SAJ-22-C001', '髙橋', $given,"
            " 'm' || i::VARCHAR || '@example.jp' FROM range($n) t(i)",
            {"n": n, "given": first_name},
        )
        con.execute(
            "CREATE TEMP TABLE billed AS SELECT member_no, 'saj' AS scheme,"
            " '2026年度 一般会員会費 3,500円' AS items, '3,500円' AS amount,"
            " '2027年1月1日' AS due_on FROM members WHERE member_no LIKE 'M%' ORDER BY member_no"
        )
        with db.transaction(con):
            outbox.write(con, "billed", event="invoice_issued", actor="test", on=ON)


def rows(path: Path) -> list[dict]:
    with db.connect(path) as con:
        return db.frame(con, "SELECT * FROM outbox ORDER BY outbox_id").to_dicts()


def server(port: int) -> smtp.Server:
    return smtp.Server(host="127.0.0.1", port=port, timeout=10)


def paced(per_minute: int) -> config.Config:
    return config.current().with_overrides({"common.mail.per_minute": per_minute})


def test_each_row_arrives_once_as_utf8_that_parses_back_to_the_japanese_written(db_path):
    fill(db_path, 3)
    inbox = Inbox()
    with running(inbox) as port:
        result = sender.run(db_path, server=server(port))
    assert result.as_json() == {"sent": 3, "failed": 0, "pending": 0}
    written = {r["message_id"]: r for r in rows(db_path)}
    assert sorted(inbox.message_ids()) == sorted(written)
    for raw, message in zip(inbox.raw, inbox.messages(), strict=True):
        raw.decode("ascii")  # 7-bit clean: any relay passes it on unchanged
        row = written[str(message["Message-ID"])]
        assert message["Subject"] == row["subject"] == "【SAJ】会員登録のご請求"
        assert message["From"].addresses[0].display_name == "公益財団法人全日本スキー連盟"
        assert message["From"].addresses[0].addr_spec == "touroku@saj.example.jp"
        assert message["To"] == row["recipient"]
        assert message.get_content_charset() == "utf-8"
        assert message["Content-Transfer-Encoding"] == "base64"
        assert message.get_content().replace("\r\n", "\n").rstrip("\n") == row["body"]
        assert message.get_content().startswith("髙橋 太郎 様")  # not in ISO-2022-JP
    assert {r["status"] for r in rows(db_path)} == {"sent"}


def test_a_row_sent_again_is_the_same_message_byte_for_byte(db_path):
    fill(db_path, 1)
    (row,) = rows(db_path)
    assert smtp.message(row).as_bytes() == smtp.message(row).as_bytes()
    assert smtp.message(row)["Date"] is not None


def test_suppressed_rows_are_not_sent(db_path):
    fill(db_path, 2)
    with db.connect(db_path) as con:
        con.execute(
            "UPDATE outbox SET status = 'suppressed' WHERE outbox_id = (SELECT min(outbox_id) FROM outbox)"
        )
    inbox = Inbox()
    with running(inbox) as port:
        assert sender.run(db_path, server=server(port)).sent == 1
    assert len(inbox.raw) == 1


def test_a_temporary_refusal_waits_with_backoff_then_delivers(db_path):
    fill(db_path, 1)
    inbox = Inbox(busy={"m0@example.jp": 1})
    with running(inbox) as port:
        first = sender.run(db_path, server=server(port))
        (row,) = rows(db_path)
        assert (first.sent, first.pending, row["status"], row["attempts"]) == (0, 1, "pending", 1)
        wait = row["next_attempt_at"] - row["last_attempt_at"]
        assert round(wait.total_seconds() / 60) == 5  # common.mail.retry.first_minutes
        assert "451" in row["status_reason"]
        assert sender.run(db_path, server=server(port)).sent == 0  # not due yet
        with db.connect(db_path) as con:
            con.execute("UPDATE outbox SET next_attempt_at = now() - INTERVAL 1 MINUTE")
        assert sender.run(db_path, server=server(port)).sent == 1
    assert len(inbox.raw) == 1 and rows(db_path)[0]["status"] == "sent"


def test_temporary_refusals_until_the_last_attempt_fail_the_row(db_path):
    fill(db_path, 1)
    cfg = config.current().with_overrides({"common.mail.retry.max_attempts": 2})
    inbox = Inbox(busy={"m0@example.jp": 5})
    with running(inbox) as port:
        sender.run(db_path, server=server(port), cfg=cfg)
        with db.connect(db_path) as con:
            con.execute("UPDATE outbox SET next_attempt_at = now() - INTERVAL 1 MINUTE")
        assert sender.run(db_path, server=server(port), cfg=cfg).failed == 1
    (row,) = rows(db_path)
    assert (row["status"], row["attempts"]) == ("failed", 2)
    assert row["status_reason"].startswith("一時的な失敗が2回続きました")


def test_a_permanent_refusal_fails_the_row_marks_the_address_and_suppresses_later_mail(db_path):
    fill(db_path, 2)
    inbox = Inbox(refuse={"m0@example.jp"})
    with running(inbox) as port:
        result = sender.run(db_path, server=server(port))
    assert (result.sent, result.failed) == (1, 1)
    failed = next(r for r in rows(db_path) if r["recipient"] == "m0@example.jp")
    assert failed["status"] == "failed" and "550" in failed["status_reason"]
    with db.connect(db_path) as con:
        assert db.one(con, "SELECT member_no, email FROM mail_failures") == (
            "M000000",
            "m0@example.jp",
        )
        con.execute("CREATE TEMP TABLE again AS SELECT 'M000000' AS member_no, 'saj' AS scheme")
        with db.transaction(con):
            outbox.write(con, "again", event="invoice_issued", actor="test", on=ON)
        assert db.one(con, "SELECT status FROM outbox ORDER BY outbox_id DESC LIMIT 1") == (
            "suppressed",
        )
        # a corrected address is not the failing one
        con.execute("UPDATE members SET email = 'new@example.jp' WHERE member_no = 'M000000'")
        with db.transaction(con):
            outbox.write(con, "again", event="invoice_issued", actor="test", on=ON)
        assert db.one(con, "SELECT status FROM outbox ORDER BY outbox_id DESC LIMIT 1") == (
            "pending",
        )


class Paused(Exception):
    pass


def test_no_more_than_the_configured_mails_a_minute(db_path):
    fill(db_path, 3)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if seconds > 1:
            raise Paused

    inbox = Inbox()
    with running(inbox) as port, pytest.raises(Paused):
        sender.run(db_path, server=server(port), cfg=paced(2), sleep=sleep)
    assert len(inbox.raw) == 2
    assert 50 < waits[-1] <= 60  # until the first of the two is a minute old
    assert [r["status"] for r in rows(db_path)] == ["sent", "sent", "pending"]


def test_a_second_sender_leaves_while_one_runs_and_a_dead_ones_lease_is_taken(db_path):
    fill(db_path, 1)
    import socket

    with db.connect(db_path) as con:
        con.execute(
            "INSERT INTO mail_sender_lease VALUES ('sender', ?, ?, now(), now())",
            [os.getppid(), socket.gethostname()],
        )
    with pytest.raises(sender.SenderBusy):
        sender.run(db_path, server=server(free_port()))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    with db.connect(db_path) as con:
        con.execute("UPDATE mail_sender_lease SET pid = ?", [int(dead.stdout)])
    inbox = Inbox()
    with running(inbox) as port:
        assert sender.run(db_path, server=server(port)).sent == 1
    with db.connect(db_path) as con:
        assert db.one(con, "SELECT count(*) FROM mail_sender_lease") == (0,)


def test_an_unreachable_server_leaves_every_row_pending(db_path):
    fill(db_path, 2)
    with pytest.raises(sender.ServerUnavailable, match="cannot reach"):
        sender.run(db_path, server=server(free_port()))
    assert [r["status"] for r in rows(db_path)] == ["pending", "pending"]


def _environment(port: int, path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RENEWAL_SMTP_HOST": "127.0.0.1",
        "RENEWAL_SMTP_PORT": str(port),
        "RENEWAL_DB": str(path),
        "PYTHONPATH": str(ROOT),
    }


@pytest.mark.parametrize("kill_at", [1, 37, 120])
def test_a_sender_killed_mid_run_and_started_again_delivers_every_row_once_but_the_one_in_flight(
    db_path, kill_at
):
    fill(db_path, 150)
    started: list[subprocess.Popen[bytes]] = []

    def kill(count: int) -> None:
        # the server has the message and has not answered 250: it is in flight
        if count == kill_at:
            os.kill(started[0].pid, signal.SIGKILL)

    inbox = Inbox(on_message=kill)
    with running(inbox) as port:
        env = _environment(port, db_path)
        command = [sys.executable, "-m", "core", "send-mail", "--json"]
        started.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE))
        assert started[0].wait(timeout=120) == -signal.SIGKILL
        assert len(inbox.raw) == kill_at
        inbox.on_message = None
        again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert again.returncode == 0, again.stderr
    written = [r["message_id"] for r in rows(db_path)]
    arrived = inbox.message_ids()
    assert set(arrived) == set(written)  # none lost
    twice = [m for m in set(arrived) if arrived.count(m) > 1]
    assert twice == [written[kill_at - 1]]  # only the one in flight, as the same message
    assert json.loads(again.stdout) == {"sent": 150 - kill_at + 1, "failed": 0, "pending": 0}
    assert {r["status"] for r in rows(db_path)} == {"sent"}


def test_a_sender_killed_at_a_random_moment_loses_nothing(db_path):
    fill(db_path, 300)
    inbox = Inbox()
    with running(inbox) as port:
        env = _environment(port, db_path)
        command = [sys.executable, "-m", "core", "send-mail"]
        first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        arrived = threading.Event()
        inbox.on_message = lambda n: arrived.set() if n >= 100 else None
        assert arrived.wait(timeout=120)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
        inbox.on_message = None
        assert subprocess.run(command, cwd=ROOT, env=env, timeout=120).returncode == 0
    arrived_ids = inbox.message_ids()
    assert set(arrived_ids) == {r["message_id"] for r in rows(db_path)}
    assert len(arrived_ids) - len(set(arrived_ids)) <= 1


def test_the_command_prints_counts_and_exits_1_without_a_server(db_path, monkeypatch):
    fill(db_path, 2)
    monkeypatch.setenv("RENEWAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RENEWAL_SMTP_PORT", str(free_port()))
    result = CliRunner().invoke(cli, ["send-mail", "--db", str(db_path)])
    assert result.exit_code == 1 and "cannot reach the mail server" in result.output
    inbox = Inbox()
    with running(inbox) as port:
        monkeypatch.setenv("RENEWAL_SMTP_PORT", str(port))
        result = CliRunner().invoke(cli, ["send-mail", "--json", "--db", str(db_path)])
    assert result.exit_code == 0
    assert json.loads(result.output) == {"sent": 2, "failed": 0, "pending": 0}


def test_without_a_configured_server_the_command_says_what_to_set(db_path, monkeypatch, tmp_path):
    monkeypatch.delenv("RENEWAL_SMTP_HOST", raising=False)
    monkeypatch.setattr(smtp, "SECRETS", tmp_path / "none.toml")
    result = CliRunner().invoke(cli, ["send-mail", "--db", str(db_path)])
    assert result.exit_code == 2 and "RENEWAL_SMTP_HOST" in result.output


def test_the_server_comes_from_the_environment_before_the_secrets_file(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[smtp]\nhost = "smtp.example.jp"\nport = 587\nuser = "jim"\npassword = "s3cret"\nstarttls = true\n',
        encoding="utf-8",
    )
    found = smtp.server({}, secrets)
    assert (found.host, found.port, found.user, found.password, found.starttls) == (
        "smtp.example.jp", 587, "jim", "s3cret", True,
    )  # fmt: skip
    assert "s3cret" not in repr(found)
    env = {"RENEWAL_SMTP_HOST": "relay.example.jp", "RENEWAL_SMTP_STARTTLS": "0"}
    assert (smtp.server(env, secrets).host, smtp.server(env, secrets).starttls) == (
        "relay.example.jp",
        False,
    )
    with pytest.raises(ValueError, match="RENEWAL_SMTP_PORT"):
        smtp.server({"RENEWAL_SMTP_HOST": "x", "RENEWAL_SMTP_PORT": "smtp"}, secrets)


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the test's own certificate authority)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_starttls_and_a_log_in_before_sending(db_path, tmp_path):
    from aiosmtpd.smtp import AuthResult

    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, data):
        logins.append((data.login, data.password))
        ok = data.login == b"jim" and data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535

    fill(db_path, 1)
    inbox = Inbox()
    options = {"tls_context": context, "require_starttls": True, "authenticator": authenticator,
               "auth_required": True}  # fmt: skip
    with running(inbox, **options) as port:
        plain = smtp.Server("127.0.0.1", port, user="jim", password="s3cret", timeout=10)
        with pytest.raises(sender.ServerUnavailable):
            sender.run(db_path, server=plain)  # no STARTTLS: the server will not take it
        wrong = smtp.Server(
            "127.0.0.1", port, "jim", "nope", starttls=True, cafile=str(cert), timeout=10
        )
        with pytest.raises(sender.ServerUnavailable, match="refused the log-in"):
            sender.run(db_path, server=wrong)
        good = smtp.Server(
            "127.0.0.1", port, "jim", "s3cret", starttls=True, cafile=str(cert), timeout=10
        )
        assert sender.run(db_path, server=good).sent == 1
    assert len(inbox.raw) == 1 and logins[-1] == (b"jim", b"s3cret")
