"""`send-mail`: deliver the outbox's pending rows through SMTP, none lost and none twice.

Each row is sent alone and marked `sent` in its own commit right after the server accepted
it (250 after DATA). A sender killed at any moment leaves every unmarked row pending; the
next run sends them, so the only mail that can arrive twice is the one in flight at the
crash, and then as the same message (the row's Message-ID and Date), which mail systems
drop as a duplicate.

- 4xx (temporary): the row waits `common.mail.retry.first_minutes` × 2^(attempts-1) and is
  tried again, `failed` after `common.mail.retry.max_attempts` attempts.
- 5xx (permanent): the row is `failed` and the member's address recorded as failing
  (mail_failures), so later mail to it is suppressed until the address is corrected.
- At most `common.mail.per_minute` messages a minute, counting those sent in the last
  minute by an earlier run (a cron job started every minute keeps the pace).
- One sender at a time (mail_sender_lease): a second one started meanwhile leaves with
  SenderBusy; a killed sender's lease is taken over at once (its process is gone).
- The database is held in short slices, so the app and other jobs get their turn while a
  large outbox is sent.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import os
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from core import config
from core.notify import smtp
from core.store import db

SLICE_SECONDS = 2.0  # hold the database at most this long at a time
PAUSE_SECONDS = 0.25  # then let go of it for this long
BATCH = 500  # rows read per slice
STALE_LEASE = dt.timedelta(minutes=2)  # another host's sender that stopped beating


class SenderBusy(RuntimeError):
    """Another sender is running."""


class ServerUnavailable(RuntimeError):
    """The mail server cannot be reached or refused us (not a recipient): nothing more is
    sent this run; every unsent row stays pending."""


@dataclass
class Result:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    pending: int = 0

    def as_json(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "pending": self.pending}


_PENDING = """
SELECT outbox_id, member_no, recipient, sender, subject, body, message_id, created_at, attempts
FROM outbox
WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $now)
ORDER BY outbox_id LIMIT $limit
"""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _take_lease(con: duckdb.DuckDBPyConnection) -> None:
    host, pid, now = socket.gethostname(), os.getpid(), _now()
    with db.transaction(con):
        row = db.one(
            con, "SELECT pid, host, heartbeat_at FROM mail_sender_lease WHERE name = 'sender'"
        )
        if row is not None and row[0] != pid:
            other, other_host, beat = int(row[0]), str(row[1]), row[2]
            live = _alive(other) if other_host == host else now - beat < STALE_LEASE
            if live:
                raise SenderBusy(f"another send-mail is running (process {other} on {other_host})")
        con.execute(
            "INSERT OR REPLACE INTO mail_sender_lease (name, pid, host, started_at, heartbeat_at)"
            " VALUES ('sender', ?, ?, ?, ?)",
            [pid, host, now, now],
        )


def _beat(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "UPDATE mail_sender_lease SET heartbeat_at = ? WHERE name = 'sender' AND pid = ?",
        [_now(), os.getpid()],
    )


def _release(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM mail_sender_lease WHERE name = 'sender' AND pid = ?", [os.getpid()])


class _Connection:
    """One SMTP session, opened when the first message needs it and again after a drop."""

    def __init__(self, server: smtp.Server):
        self.server = server
        self.client: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        if self.client is not None:
            return self.client
        s = self.server
        try:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.starttls:
                context = ssl.create_default_context(cafile=s.cafile)
                client.starttls(context=context)
            if s.user:
                client.login(s.user, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise ServerUnavailable(
                f"the mail server refused the log-in for {s.user}: {exc.smtp_code}"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ServerUnavailable(
                f"cannot reach the mail server {s.host}:{s.port}: {exc}"
            ) from None
        self.client = client
        return client

    def drop(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            finally:
                self.client = None

    def quit(self) -> None:
        if self.client is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.client.quit()
            self.client = None


def _outcome(exc: smtplib.SMTPException) -> tuple[str, str]:
    """('temporary' | 'permanent', the server's answer) for a refused message."""
    answer: bytes | str
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, answer = next(iter(exc.recipients.values()))
    elif isinstance(exc, smtplib.SMTPResponseException):
        code, answer = exc.smtp_code, exc.smtp_error
    else:
        return "temporary", str(exc)
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    return ("permanent" if 500 <= code < 600 else "temporary"), f"{code} {text}"


def _deliver(connection: _Connection, row: dict[str, Any]) -> None:
    """Send one row; SMTPException for the server's refusal, ServerUnavailable when the
    connection cannot be had again."""
    message = smtp.message(row)
    for attempt in (1, 2):
        client = connection.open()
        try:
            client.send_message(message, to_addrs=[row["recipient"]])
            return
        except smtplib.SMTPSenderRefused as exc:
            connection.drop()
            raise ServerUnavailable(
                f"the mail server refused the sender: {exc.smtp_code} {exc.smtp_error!r}"
            ) from None
        except smtplib.SMTPResponseException:
            raise  # the server answered: refused for now or for good (the caller decides)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            if isinstance(exc, smtplib.SMTPRecipientsRefused):
                raise
            connection.drop()  # a dropped session: once more on a new one, same message
            if attempt == 2:
                raise ServerUnavailable("the mail server closed the connection twice") from None


def run(
    path: str | os.PathLike[str] | None,
    *,
    server: smtp.Server,
    cfg: config.Config | None = None,
    limit: int | None = None,
    on_sent: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Result:
    """Send what is due, up to `limit` rows (default: all); the counts of this run and what
    is left pending. `sleep` waits between slices and for the pace (a test's own clock)."""
    settings = cfg or config.current()
    today = dt.date.today()
    per_minute = int(settings.value("common.mail.per_minute", on=today))
    first = int(settings.value("common.mail.retry.first_minutes", on=today))
    attempts_max = int(settings.value("common.mail.retry.max_attempts", on=today))
    result = Result()
    connection = _Connection(server)
    with db.connect(path) as con:
        _take_lease(con)
        recent = con.execute(
            "SELECT epoch(sent_at) FROM outbox WHERE sent_at > ? ORDER BY sent_at",
            [_now() - dt.timedelta(minutes=1)],
        ).fetchall()
    window: collections.deque[float] = collections.deque(
        time.time() - (_now().timestamp() - float(r[0])) for r in recent
    )
    try:
        while limit is None or result.sent + result.failed + result.retried < limit:
            done, wait = _slice(
                path, connection, result, window, per_minute, first, attempts_max, limit, on_sent
            )
            if done:
                break
            sleep(max(wait, PAUSE_SECONDS))
    finally:
        connection.quit()
        with db.connect(path) as con:
            _release(con)
            row = db.one(con, "SELECT count(*) FROM outbox WHERE status = 'pending'")
            result.pending = int(row[0]) if row else 0
    return result


def _slice(
    path: str | os.PathLike[str] | None,
    connection: _Connection,
    result: Result,
    window: collections.deque[float],
    per_minute: int,
    first: int,
    attempts_max: int,
    limit: int | None,
    on_sent: Callable[[int], None] | None,
) -> tuple[bool, float]:
    """Send for up to SLICE_SECONDS; (nothing left to send, seconds to wait before more)."""
    started = time.monotonic()
    with db.connect(path) as con:
        _beat(con)
        rows = db.frame(con, _PENDING, {"now": _now(), "limit": BATCH}).to_dicts()
        if not rows:
            return True, 0.0
        for row in rows:
            if limit is not None and result.sent + result.failed + result.retried >= limit:
                return True, 0.0
            while window and window[0] <= time.time() - 60:
                window.popleft()
            if len(window) >= per_minute:
                return False, window[0] + 60 - time.time()
            if time.monotonic() - started > SLICE_SECONDS:
                return False, 0.0
            try:
                _deliver(connection, row)
            except smtplib.SMTPException as exc:
                kind, answer = _outcome(exc)
                if kind == "permanent":
                    _fail(con, row, answer)
                    result.failed += 1
                else:
                    _retry(con, row, answer, first, attempts_max, result)
                continue
            # the server has the message: mark it now, alone, so a crash loses no more
            con.execute(
                "UPDATE outbox SET status = 'sent', sent_at = $now, last_attempt_at = $now,"
                " attempts = attempts + 1, next_attempt_at = NULL WHERE outbox_id = $id",
                {"now": _now(), "id": row["outbox_id"]},
            )
            window.append(time.time())
            result.sent += 1
            if on_sent is not None:
                on_sent(int(row["outbox_id"]))
    return False, 0.0


def _fail(con: duckdb.DuckDBPyConnection, row: dict[str, Any], answer: str) -> None:
    with db.transaction(con):
        con.execute(
            "UPDATE outbox SET status = 'failed', status_reason = ?, attempts = attempts + 1,"
            " next_attempt_at = NULL, last_attempt_at = ? WHERE outbox_id = ?",
            [f"配信不能（{answer}）", _now(), row["outbox_id"]],
        )
        if row["member_no"] and row["recipient"]:
            con.execute(
                "INSERT INTO mail_failures (member_no, email, reason, outbox_id)"
                " VALUES (?, ?, ?, ?)",
                [row["member_no"], row["recipient"], answer, row["outbox_id"]],
            )


def _retry(
    con: duckdb.DuckDBPyConnection,
    row: dict[str, Any],
    answer: str,
    first: int,
    attempts_max: int,
    result: Result,
) -> None:
    attempts = int(row["attempts"]) + 1
    if attempts >= attempts_max:
        con.execute(
            "UPDATE outbox SET status = 'failed', status_reason = ?, attempts = ?,"
            " next_attempt_at = NULL, last_attempt_at = ? WHERE outbox_id = ?",
            [
                f"一時的な失敗が{attempts}回続きました（{answer}）",
                attempts,
                _now(),
                row["outbox_id"],
            ],
        )
        result.failed += 1
        return
    delay = dt.timedelta(minutes=first * 2 ** (attempts - 1))
    con.execute(
        "UPDATE outbox SET attempts = ?, next_attempt_at = ?, status_reason = ?,"
        " last_attempt_at = ? WHERE outbox_id = ?",
        [attempts, _now() + delay, f"再送待ち（{answer}）", _now(), row["outbox_id"]],
    )
    result.retried += 1


def counts(path: str | os.PathLike[str] | Path | None) -> dict[str, int]:
    """Rows per status."""
    with db.connect(path) as con:
        rows = con.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
    return {str(s): int(n) for s, n in rows}
