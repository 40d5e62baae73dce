"""`python -m core users …`: the first administrator without the demo, passwords from standard
input only, every change audited with the operating-system user."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from core.access import login, passwords
from core.cli import cli
from core.store import db

ROOT = Path(__file__).resolve().parent.parent

STRONG = "Yama-Kawa-Umi-2031"


def users_cli(db_path, *args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, ["users", *args, "--db", str(db_path)], input=stdin)


def test_a_first_administrator_is_added_to_a_new_installation_and_can_log_in(db_path):
    result = users_cli(db_path, "add", "--username", "sato", "--role", "admin", "--org", "*",
                       "--name", "佐藤 一郎", stdin=STRONG + "\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    with db.connect(db_path) as con:
        assert login.authenticate(con, "sato", STRONG).ok
        actor = db.one(
            con, "SELECT actor FROM audit_log WHERE action = 'insert' AND row_key = 'sato'"
        )
    assert actor == (f"cli:{getpass.getuser()}",)


def test_a_weak_password_or_an_unknown_organisation_is_refused_with_exit_2(db_path):
    weak = users_cli(db_path, "add", "--username", "sato", "--role", "admin", "--org", "*",
                     "--name", "佐藤", stdin="password1\n")  # fmt: skip
    assert weak.exit_code == 2 and "12文字以上" in weak.output
    org = users_cli(db_path, "add", "--username", "sato", "--role", "admin", "--org", "NOPE",
                    "--name", "佐藤", stdin=STRONG + "\n")  # fmt: skip
    assert org.exit_code == 2 and "NOPE" in org.output
    empty = users_cli(db_path, "add", "--username", "sato", "--role", "admin", "--org", "*",
                      "--name", "佐藤", stdin="")  # fmt: skip
    assert empty.exit_code == 2 and "standard input" in empty.output
    with db.connect(db_path) as con:
        assert db.one(con, "SELECT count(*) FROM users") == (0,)


def test_the_password_is_never_an_argument():
    help_text = CliRunner().invoke(cli, ["users", "add", "--help"]).output
    assert "--password" not in help_text
    refused = CliRunner().invoke(cli, ["users", "add", "--password", STRONG])
    assert refused.exit_code == 2


def test_list_disable_enable_unlock_and_reset_password(sample_path):
    listed = json.loads(users_cli(sample_path, "list", "--json").output)
    assert {u["username"] for u in listed} == {"admin", "hq", "hq_shizuoka", "approver", "analyst"}
    assert set(listed[0]) == {"username", "display_name", "role", "org_code", "disabled",
                              "locked_until", "last_login_at"}  # fmt: skip
    assert "$2b$" not in users_cli(sample_path, "list", "--json").output

    assert users_cli(sample_path, "disable", "hq").exit_code == 0
    with db.connect(sample_path) as con:
        assert login.authenticate(con, "hq", "test-pass-123").message == login.DISABLED
    assert users_cli(sample_path, "enable", "hq").exit_code == 0

    with db.connect(sample_path) as con:
        for _ in range(5):
            login.authenticate(con, "hq", "wrong-password")
    locked = json.loads(users_cli(sample_path, "list", "--json").output)
    assert next(u for u in locked if u["username"] == "hq")["locked_until"] is not None
    unlocked = users_cli(sample_path, "unlock", "hq")
    assert unlocked.exit_code == 0 and "unlocked" in unlocked.output

    reset = users_cli(sample_path, "reset-password", "hq", stdin=STRONG + "\n")
    assert reset.exit_code == 0, reset.output
    with db.connect(sample_path) as con:
        record = db.frame(con, "SELECT * FROM users WHERE username = 'hq'").row(0, named=True)
        assert passwords.check_password(STRONG, record["password_hash"])
        assert record["must_change_password"] is True
        actions = [r[0] for r in con.execute(
            "SELECT action FROM audit_log WHERE row_key = 'hq' AND actor LIKE 'cli:%'"
            " ORDER BY audit_id"
        ).fetchall()]  # fmt: skip
    assert actions == ["update", "update", "unlocked", "reset_password"]
    assert users_cli(sample_path, "disable", "nobody").exit_code == 2


def test_the_command_reads_the_password_from_a_pipe_in_a_real_process(db_path):
    done = subprocess.run(
        [sys.executable, "-m", "core", "users", "add", "--username", "kato", "--role",
         "hq_staff", "--org", "*", "--name", "加藤", "--db", str(db_path)],
        input=STRONG + "\n", capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert STRONG not in done.stdout + done.stderr
