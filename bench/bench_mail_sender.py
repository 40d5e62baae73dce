"""The sender at full scale: 10,000 mails to a real SMTP server on loopback (aiosmtpd, in this
process), once straight through and once killed (SIGKILL) half-way and started again.

Usage: python bench/bench_mail_sender.py --db bench/out/full.duckdb [--mails 10000]

On a copy of the database (a temporary folder under bench/out, removed at the end, also on
failure): the demo's pending mail is set aside (sent), then 10,000 members with an address
get a 請求書の発行 mail each through `core.notify.outbox.write` (rendered, with a Message-ID).
1. `python -m core send-mail --json --per-minute 1000000` as a process, timed from its
   start to its exit; mails per second = what arrived / that time.
2. The same mail written again (a new copy), the sender started, killed with SIGKILL when
   half of it has arrived, and started again until it exits.
Checked: every row is `sent`, every row's Message-ID arrived (0 lost), no row's mail arrived
under two Message-IDs (0 second messages); a Message-ID that arrived twice is the mail in
flight at the kill, the same message, counted apart (mail systems drop it as a duplicate).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from common import OUT, PYTHON, ROOT, record

from core.notify import outbox
from core.store import db
from tests.mailserver import Inbox, running


def prepare(source: Path, path: Path, mails: int) -> list[str]:
    shutil.copyfile(source, path)
    with db.connect(path) as con:
        con.execute("UPDATE outbox SET status = 'sent' WHERE status = 'pending'")
        con.execute(
            "CREATE TEMP TABLE billed AS SELECT member_no, 'saj' AS scheme,"
            " '2026年度 一般会員会費 3,500円' AS items, '3,500円' AS amount,"
            " '2027年1月1日' AS due_on FROM members m WHERE status = 'active' AND email IS NOT NULL"
            " AND member_no LIKE 'A%' AND NOT EXISTS (SELECT 1 FROM mail_failures f"
            " WHERE f.member_no = m.member_no) ORDER BY hash(member_no) LIMIT $n",
            {"n": mails},
        )
        with db.transaction(con):
            outbox.write(con, "billed", event="invoice_issued", actor="bench", on=dt.date.today())
        ids = [r[0] for r in con.execute(
            "SELECT message_id FROM outbox WHERE status = 'pending' ORDER BY outbox_id"
        ).fetchall()]  # fmt: skip
        con.execute("CHECKPOINT")
    assert len(ids) == mails, f"{len(ids)} mails written"
    return ids


def command(path: Path, port: int) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "RENEWAL_SMTP_HOST": "127.0.0.1", "RENEWAL_SMTP_PORT": str(port),
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    args = [
        PYTHON,
        "-m",
        "core",
        "send-mail",
        "--json",
        "--per-minute",
        "1000000",
        "--db",
        str(path),
    ]
    return args, env


def check(path: Path, written: list[str], inbox: Inbox) -> dict[str, int]:
    arrived = Counter(inbox.message_ids())
    with db.connect(path, read_only=True) as con:
        statuses = dict(
            con.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
        )
    lost = len(set(written) - set(arrived))
    again = sum(n - 1 for n in arrived.values() if n > 1)
    assert lost == 0, f"{lost} mails lost"
    assert statuses.get("pending", 0) == 0, statuses
    # each row has one Message-ID, so a row's mail under a second Message-ID cannot be; count
    # the messages that are not the rows' own all the same
    strangers = len(set(arrived) - set(written))
    assert strangers == 0
    return {"arrived": sum(arrived.values()), "lost": lost, "same_message_again": again,
            "second_messages": strangers}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--mails", type=int, default=10_000)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        path = Path(tmp) / "mail.duckdb"
        written = prepare(args.db, path, args.mails)
        inbox = Inbox()
        with running(inbox) as port:
            cmd, env = command(path, port)
            started = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - started
        assert done.returncode == 0, done.stderr
        straight = check(path, written, inbox)
        assert straight["same_message_again"] == 0

        written = prepare(args.db, path, args.mails)
        half = threading.Event()
        inbox = Inbox(on_message=lambda n: half.set() if n >= args.mails // 2 else None)
        with running(inbox) as port:
            cmd, env = command(path, port)
            first = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
            assert half.wait(timeout=600)
            first.send_signal(signal.SIGKILL)
            first.wait()
            at_kill = len(inbox.raw)
            inbox.on_message = None
            again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        assert again.returncode == 0, again.stderr
        killed = check(path, written, inbox)
    record(
        "mail_sender",
        {
            "mails": args.mails,
            "seconds": round(seconds, 1),
            "per_second": round(straight["arrived"] / seconds),
            "straight": straight,
            "killed_after": at_kill,
            "killed": killed,
        },
    )


if __name__ == "__main__":
    main()
