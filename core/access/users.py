"""Staff users: roles, organisation scope, passwords they own, every change audited.

A user is created by an admin (the ユーザー管理 page) or by `python -m core users add` — the
first administrator of a new installation. Passwords meet the policy of
core.access.passwords and are stored only as bcrypt hashes. After an admin resets a password
(the admin then knows it), the user must choose a new one at the next log-in; a user changes
their own with the current one. A reset or a disabling ends the user's open sessions.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb
import polars as pl

from core import vocabulary
from core.access import login, passwords
from core.errors import ValidationError
from core.members.organizations import ALL_SCOPE
from core.store import audit, db

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{1,31}$")

# Demo log-ins, created with the demo data (README lists them) with the published demo
# password, outside the policy: while one keeps it, admins are warned. Never used otherwise.
DEMO_PASSWORD = passwords.DEMO_PASSWORD
DEMO_USERS = (
    ("admin", "管理 太郎", "admin", ALL_SCOPE),
    ("hq", "本部 花子", "hq_staff", ALL_SCOPE),
    ("hq_saj_tokyo", "東京 一郎", "hq_staff", "SAJ-13"),
    ("approver_shizuoka", "静岡 承認", "approver", "SAJ-22"),
    ("approver_jptec", "JPTEC 承認", "approver", "JPTEC"),
    ("analyst", "分析 次郎", "analyst", ALL_SCOPE),
)


def _validate(
    con: duckdb.DuckDBPyConnection,
    *,
    role: str,
    org_code: str,
    display_name: str | None = None,
) -> None:
    errors = {}
    if role not in vocabulary.ROLES:
        errors["role"] = f"役割 {role} はありません（{', '.join(vocabulary.ROLES)}）。"
    if org_code != ALL_SCOPE:
        row = db.one(con, "SELECT 1 FROM organizations WHERE org_code = ?", [org_code])
        if row is None:
            errors["org_code"] = f"組織コード {org_code} はありません。"
    if display_name is not None and not display_name.strip():
        errors["display_name"] = "氏名を入力してください。"
    if errors:
        raise ValidationError(errors)


def check_new_password(password: str, *, username: str, display_name: str = "") -> None:
    """ValidationError (field `password`) when a new password breaks the policy."""
    found = passwords.problems(password, username=username, display_name=display_name)
    if found:
        raise ValidationError({"password": " ".join(found)})


def create(
    con: duckdb.DuckDBPyConnection,
    *,
    username: str,
    display_name: str,
    role: str,
    org_code: str,
    password: str,
    email: str | None,
    actor: str,
    demo: bool = False,
) -> None:
    """A new user; the password is stored only as a bcrypt hash. `demo`: the demo log-ins,
    whose published password is outside the policy (and marked, for the admins' warning)."""
    if not _USERNAME.match(username):
        raise ValidationError(
            {"username": "ユーザーIDは英小文字・数字・._- の2〜32文字で入力してください。"}
        )
    _validate(con, role=role, org_code=org_code, display_name=display_name)
    if db.one(con, "SELECT 1 FROM users WHERE username = ?", [username]):
        raise ValidationError({"username": f"ユーザーID {username} は既に使われています。"})
    if not demo:
        check_new_password(password, username=username, display_name=display_name)
    con.execute(
        "INSERT INTO users (username, display_name, email, role, org_code, password_hash,"
        " password_changed_at, demo_password) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [username, display_name.strip(), email or None, role, org_code,
         passwords.hash_password(password), login.now_utc(), demo],
    )  # fmt: skip
    audit.record_changes(
        con,
        actor=actor,
        action="insert",
        table="users",
        row_key=username,
        changes={
            "role": (None, role),
            "org_code": (None, org_code),
            "display_name": (None, display_name),
        },
        reason="ユーザー作成",
    )


def get(con: duckdb.DuckDBPyConnection, username: str) -> dict[str, Any] | None:
    found = db.frame(con, "SELECT * FROM users WHERE username = ?", [username]).to_dicts()
    return found[0] if found else None


def update(
    con: duckdb.DuckDBPyConnection,
    *,
    username: str,
    actor: str,
    reason: str,
    role: str | None = None,
    org_code: str | None = None,
    disabled: bool | None = None,
    display_name: str | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Change role, scope, name or the disabled flag; returns what changed. Disabling ends the
    user's open sessions."""
    current = get(con, username)
    if current is None:
        raise ValidationError({"username": f"ユーザー {username} はありません。"})
    if not reason.strip():
        raise ValidationError({"reason": "変更理由を入力してください。"})
    wanted = {
        "role": role,
        "org_code": org_code,
        "disabled": disabled,
        "display_name": display_name,
    }
    changes = {f: (current[f], v) for f, v in wanted.items() if v is not None and current[f] != v}
    _validate(
        con,
        role=role or current["role"],
        org_code=org_code or current["org_code"],
        display_name=display_name,
    )
    if username == actor and changes.get("disabled", (None, False))[1]:
        raise ValidationError({"disabled": "自分自身を無効にすることはできません。"})
    if changes:
        assignments = ", ".join(f"{f} = ?" for f in changes)
        con.execute(
            f"UPDATE users SET {assignments}, updated_at = current_timestamp WHERE username = ?",
            [*(new for _, new in changes.values()), username],
        )
        audit.record_changes(
            con,
            actor=actor,
            action="update",
            table="users",
            row_key=username,
            changes=changes,
            reason=reason.strip(),
        )
        if changes.get("disabled", (None, False))[1]:
            login.end_all(con, username, why="disabled")
    return changes


def _set_password(
    con: duckdb.DuckDBPyConnection, username: str, password: str, *, must_change: bool
) -> None:
    con.execute(
        "UPDATE users SET password_hash = ?, must_change_password = ?, password_changed_at = ?,"
        " demo_password = false, updated_at = current_timestamp WHERE username = ?",
        [passwords.hash_password(password), must_change, login.now_utc(), username],
    )


def reset_password(
    con: duckdb.DuckDBPyConnection, *, username: str, password: str, actor: str, reason: str
) -> None:
    """An admin sets a new password (the audit row says it changed, never the value); the user
    must choose their own at the next log-in, and their open sessions end."""
    user = get(con, username)
    if user is None:
        raise ValidationError({"username": f"ユーザー {username} はありません。"})
    check_new_password(password, username=username, display_name=user["display_name"])
    _set_password(con, username, password, must_change=True)
    audit.record_changes(
        con,
        actor=actor,
        action="reset_password",
        table="users",
        row_key=username,
        changes={"password_hash": ("＊＊＊", "＊＊＊")},
        reason=reason.strip() or "パスワード再設定",
    )
    login.end_all(con, username, why="password")


def change_own_password(
    con: duckdb.DuckDBPyConnection,
    *,
    username: str,
    current: str,
    new: str,
    again: str,
    session_id: str | None = None,
) -> None:
    """A user changes their own password: the current one once, the new one twice. Their other
    sessions end; this one stays."""
    user = get(con, username)
    if user is None or not passwords.check_password(current, user["password_hash"]):
        raise ValidationError({"current": "現在のパスワードが違います。"})
    if new != again:
        raise ValidationError({"again": "新しいパスワードが2回とも同じではありません。"})
    if new == current:
        raise ValidationError({"password": "現在と違うパスワードにしてください。"})
    check_new_password(new, username=username, display_name=user["display_name"])
    _set_password(con, username, new, must_change=False)
    audit.record_changes(
        con,
        actor=username,
        action="change_password",
        table="users",
        row_key=username,
        changes={"password_hash": ("＊＊＊", "＊＊＊")},
        reason="本人がパスワードを変更",
    )
    login.end_all(con, username, why="password", keep=session_id)


def listing(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every user with scope, state and lock (never a hash)."""
    return db.frame(
        con,
        """
        SELECT u.username, u.display_name, u.role, u.org_code,
               coalesce(o.name, CASE WHEN u.org_code = '*' THEN '全組織' END) AS organization,
               u.email, u.disabled, t.locked_until, u.must_change_password, u.demo_password,
               u.last_login_at, u.updated_at
        FROM users u LEFT JOIN organizations o USING (org_code)
        LEFT JOIN login_throttle t ON t.username = u.username AND t.locked_until > ?
        ORDER BY u.role, u.username
        """,
        [login.now_utc()],
    )


def with_demo_password(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The users that still have the published demo password."""
    return [r[0] for r in con.execute(
        "SELECT username FROM users WHERE demo_password AND NOT disabled ORDER BY username"
    ).fetchall()]  # fmt: skip


def ensure_demo_users(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create the demo log-ins that are missing (and whose organisation exists)."""
    created = []
    for username, name, role, org in DEMO_USERS:
        if get(con, username) is not None:
            continue
        if org != ALL_SCOPE and not db.one(
            con, "SELECT 1 FROM organizations WHERE org_code = ?", [org]
        ):
            continue
        create(
            con,
            username=username,
            display_name=name,
            role=role,
            org_code=org,
            password=DEMO_PASSWORD,
            email=f"{username}@example.jp",
            actor="cli:demo",
            demo=True,
        )
        created.append(username)
    return created
