"""Log-in, throttling and sessions, kept in the database so they hold across browsers and servers.

- **Throttling**: failures are counted per user name tried (known or not) in `login_throttle`.
  `common.access.max_failures` failures within `failure_window_minutes` of the first lock the
  name for `lock_minutes`; while locked even the right password is refused. `unlock` ends a
  lock. An unknown name gets the same answers, the same bcrypt work and the same lock as a
  known name with a wrong password, so the form does not tell which names exist.
- **Sessions**: a successful log-in opens a row in `login_sessions`; the browser keeps only its
  signed id (a cookie). Each interaction asks `current`, which ends a session idle for
  `idle_minutes`, older than `session_hours`, of a disabled user, or ended elsewhere (log-out,
  an admin's password reset), so role, scope and disabling take effect at the next interaction.
- **Audit**: every attempt leaves an audit row (table `users`, key the user name tried):
  `login`, `login_failed`, `locked`, `unlocked`, `logout` — never the password typed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import duckdb

from core import config
from core.access import passwords
from core.errors import ConflictError
from core.store import audit, db

WRONG = "ユーザーIDまたはパスワードが違います。"
LOCKED = "ログインが一時的に制限されています（失敗が続いたため）。しばらくしてからお試しください。"
DISABLED = "このユーザーは無効です。管理者にお問い合わせください。"
TOUCH_EVERY = dt.timedelta(seconds=60)  # last_seen_at is written at most this often


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Attempt:
    """What a log-in attempt came to: a session for the user, or the words to show."""

    username: str
    session_id: str | None
    user: dict[str, Any] | None
    message: str | None
    locked_until: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.session_id is not None


@dataclass(frozen=True)
class Session:
    session_id: str
    user: dict[str, Any]  # the users row as it is now (role, scope, must_change_password …)
    started_at: dt.datetime


def _minutes(cfg: config.Config, key: str) -> dt.timedelta:
    return dt.timedelta(minutes=int(cfg.value(f"common.access.{key}")))


def _record(con: duckdb.DuckDBPyConnection, action: str, username: str, why: str,
            where: str) -> None:  # fmt: skip
    audit.record_changes(
        con,
        actor=username or "（空欄）",
        action=action,
        table="users",
        row_key=username,
        changes={"session": (None, action)},
        reason=why + (f"（接続元 {where}）" if where else ""),
    )


def authenticate(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    *,
    where: str = "",
    now: dt.datetime | None = None,
    cfg: config.Config | None = None,
) -> Attempt:
    """Check a user name and password under the throttle; on success open a session."""
    settings = cfg or config.current()
    name = username.strip()
    for attempt in range(3):  # another server counting the same name at the same moment
        moment = now or now_utc()
        try:
            with db.transaction(con):
                return _attempt(con, name, password, moment, where, settings)
        except duckdb.TransactionException:
            if attempt == 2:
                raise ConflictError(
                    "ログインが混み合っています。もう一度お試しください。"
                ) from None
    raise AssertionError("unreachable")


def _attempt(con: duckdb.DuckDBPyConnection, name: str, password: str, now: dt.datetime,
             where: str, cfg: config.Config) -> Attempt:  # fmt: skip
    throttle = db.one(
        con,
        "SELECT failures, window_started_at, locked_until FROM login_throttle WHERE username = ?",
        [name],
    )
    failures, window, locked_until = throttle or (0, None, None)
    if locked_until is not None and now < locked_until:
        passwords.check_password(password, None)  # the same work as any other answer
        _record(con, "login_failed", name, "ロック中のため拒否", where)
        return Attempt(name, None, None, LOCKED, locked_until)
    user = _user(con, name)
    if not passwords.check_password(password, user["password_hash"] if user else None):
        if window is None or now - window >= _minutes(cfg, "failure_window_minutes"):
            failures, window = 0, now
        failures += 1
        locked = failures >= int(cfg.value("common.access.max_failures"))
        until = now + _minutes(cfg, "lock_minutes") if locked else None
        con.execute(
            "INSERT INTO login_throttle (username, failures, window_started_at, locked_until)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (username) DO UPDATE SET failures ="
            " excluded.failures, window_started_at = excluded.window_started_at,"
            " locked_until = excluded.locked_until",
            [name, 0 if locked else failures, None if locked else window, until],
        )
        _record(con, "login_failed", name, f"パスワード違い（{failures}回目）", where)
        if locked:
            _record(
                con,
                "locked",
                name,
                f"{failures}回失敗したため{_minutes(cfg, 'lock_minutes')}ロック",
                where,
            )
            return Attempt(name, None, None, LOCKED, until)
        return Attempt(name, None, None, WRONG)
    assert user is not None
    con.execute("DELETE FROM login_throttle WHERE username = ?", [name])
    if user["disabled"]:
        _record(con, "login_failed", name, "無効のユーザー", where)
        return Attempt(name, None, None, DISABLED)
    session_id = secrets.token_urlsafe(24)
    con.execute(
        "INSERT INTO login_sessions (session_id, username, started_at, last_seen_at)"
        " VALUES (?, ?, ?, ?)",
        [session_id, name, now, now],
    )
    con.execute("UPDATE users SET last_login_at = ? WHERE username = ?", [now, name])
    _record(con, "login", name, "ログイン", where)
    return Attempt(name, session_id, user, None)


def _user(con: duckdb.DuckDBPyConnection, username: str) -> dict[str, Any] | None:
    found = db.frame(con, "SELECT * FROM users WHERE username = ?", [username]).to_dicts()
    return found[0] if found else None


def current(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    *,
    now: dt.datetime | None = None,
    cfg: config.Config | None = None,
) -> tuple[Session | None, str | None]:
    """The session if it still stands, and else why not (idle, expired, disabled, ended).

    Ends a session found idle or expired (audited as a log-out) and notes the interaction."""
    settings = cfg or config.current()
    moment = now or now_utc()
    row = db.one(
        con,
        "SELECT username, started_at, last_seen_at, ended_at FROM login_sessions"
        " WHERE session_id = ?",
        [session_id],
    )
    if row is None:
        return None, "ended"
    username, started, seen, ended = row
    if ended is not None:
        return None, "ended"
    user = _user(con, username)
    why = None
    if user is None or user["disabled"]:
        why = "disabled"
    elif moment - seen > _minutes(settings, "idle_minutes"):
        why = "idle"
    elif moment - started > dt.timedelta(hours=int(settings.value("common.access.session_hours"))):
        why = "expired"
    if why is not None:
        end(con, session_id, why=why, now=moment)
        return None, why
    if moment - seen >= TOUCH_EVERY:
        con.execute(
            "UPDATE login_sessions SET last_seen_at = ? WHERE session_id = ?", [moment, session_id]
        )
    assert user is not None
    return Session(session_id, user, started), None


END_WORDS = {
    "logout": "ログアウト",
    "idle": "操作がなかったためログアウト",
    "expired": "ログインの期限切れ",
    "disabled": "ユーザーが無効になったためログアウト",
    "password": "パスワードが再設定されたためログアウト",
}


def end(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    *,
    why: str = "logout",
    now: dt.datetime | None = None,
    where: str = "",
) -> None:
    """End one session (log-out, idle, …), audited as a log-out of its user."""
    moment = now or now_utc()
    row = db.one(
        con,
        "UPDATE login_sessions SET ended_at = ?, ended_why = ?"
        " WHERE session_id = ? AND ended_at IS NULL RETURNING username",
        [moment, why, session_id],
    )
    if row is not None:
        _record(con, "logout", str(row[0]), END_WORDS.get(why, why), where)


def end_all(
    con: duckdb.DuckDBPyConnection, username: str, *, why: str, keep: str | None = None
) -> None:
    """End every open session of a user but `keep` (a password changed, a user disabled)."""
    for (session_id,) in con.execute(
        "SELECT session_id FROM login_sessions WHERE username = ? AND ended_at IS NULL"
        " AND session_id IS DISTINCT FROM ?",
        [username, keep],
    ).fetchall():
        end(con, session_id, why=why)


def unlock(con: duckdb.DuckDBPyConnection, username: str, *, actor: str) -> bool:
    """End a user name's lock (and its count of failures); False when it was not locked."""
    row = db.one(
        con,
        "DELETE FROM login_throttle WHERE username = ? RETURNING locked_until",
        [username],
    )
    locked = row is not None and row[0] is not None and row[0] > now_utc()
    if locked:
        audit.record_changes(
            con,
            actor=actor,
            action="unlocked",
            table="users",
            row_key=username,
            changes={"session": ("locked", None)},
            reason="ロックを解除",
        )
    return locked


def locks(con: duckdb.DuckDBPyConnection) -> dict[str, dt.datetime]:
    """User names locked now, with the time their lock ends."""
    return dict(
        con.execute(
            "SELECT username, locked_until FROM login_throttle WHERE locked_until > ?",
            [now_utc()],
        ).fetchall()
    )
