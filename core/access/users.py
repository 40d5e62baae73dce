"""Staff users: roles, organisation scope, bcrypt password hashes, every change audited."""

from __future__ import annotations

import re
from typing import Any

import bcrypt
import duckdb
import polars as pl

from core import vocabulary
from core.errors import ValidationError
from core.members.organizations import ALL_SCOPE
from core.store import audit, db

MIN_PASSWORD_LENGTH = 8
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{1,31}$")

# Demo log-ins, created with the demo data (README lists them). Never used outside demo.
DEMO_PASSWORD = "demo-pass-2026"
DEMO_USERS = (
    ("admin", "管理 太郎", "admin", ALL_SCOPE),
    ("hq", "本部 花子", "hq_staff", ALL_SCOPE),
    ("hq_saj_tokyo", "東京 一郎", "hq_staff", "SAJ-13"),
    ("approver_shizuoka", "静岡 承認", "approver", "SAJ-22"),
    ("approver_jptec", "JPTEC 承認", "approver", "JPTEC"),
    ("analyst", "分析 次郎", "analyst", ALL_SCOPE),
)


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()


def check_password(password: str, hashed: str) -> bool:
    return bcrypt.checkpw(password.encode(), hashed.encode())


def _validate(
    con: duckdb.DuckDBPyConnection,
    *,
    role: str,
    org_code: str,
    password: str | None,
    display_name: str | None = None,
) -> None:
    errors = {}
    if role not in vocabulary.ROLES:
        errors["role"] = f"役割 {role} はありません。"
    if org_code != ALL_SCOPE:
        row = con.execute("SELECT 1 FROM organizations WHERE org_code = ?", [org_code]).fetchone()
        if row is None:
            errors["org_code"] = f"組織コード {org_code} はありません。"
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください。"
    if display_name is not None and not display_name.strip():
        errors["display_name"] = "氏名を入力してください。"
    if errors:
        raise ValidationError(errors)


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
) -> None:
    """A new user; the password is stored only as a bcrypt hash."""
    if not _USERNAME.match(username):
        raise ValidationError(
            {"username": "ユーザーIDは英小文字・数字・._- の3〜32文字で入力してください。"}
        )
    _validate(con, role=role, org_code=org_code, password=password, display_name=display_name)
    if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
        raise ValidationError({"username": f"ユーザーID {username} は既に使われています。"})
    con.execute(
        "INSERT INTO users (username, display_name, email, role, org_code, password_hash)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [username, display_name.strip(), email or None, role, org_code, hash_password(password)],
    )
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
    cursor = con.execute("SELECT * FROM users WHERE username = ?", [username])
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


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
    """Change role, scope, name or the disabled flag; returns what changed."""
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
        password=None,
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
    return changes


def reset_password(
    con: duckdb.DuckDBPyConnection, *, username: str, password: str, actor: str, reason: str
) -> None:
    """Set a new password (the audit row records that it changed, never the value)."""
    if get(con, username) is None:
        raise ValidationError({"username": f"ユーザー {username} はありません。"})
    _validate(con, role="admin", org_code=ALL_SCOPE, password=password)
    con.execute(
        "UPDATE users SET password_hash = ?, updated_at = current_timestamp WHERE username = ?",
        [hash_password(password), username],
    )
    audit.record_changes(
        con,
        actor=actor,
        action="reset_password",
        table="users",
        row_key=username,
        changes={"password_hash": ("＊＊＊", "＊＊＊")},
        reason=reason.strip() or "パスワード再設定",
    )


def listing(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return db.frame(
        con,
        """
        SELECT u.username, u.display_name, u.role, u.org_code,
               coalesce(o.name, CASE WHEN u.org_code = '*' THEN '全組織' END) AS organization,
               u.email, u.disabled, u.last_login_at, u.updated_at
        FROM users u LEFT JOIN organizations o USING (org_code)
        ORDER BY u.role, u.username
        """,
    )


def credentials(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The enabled users in the shape streamlit-authenticator reads."""
    rows = con.execute(
        "SELECT username, display_name, email, role, password_hash FROM users WHERE NOT disabled"
    ).fetchall()
    return {
        "usernames": {
            username: {
                "first_name": name,
                "last_name": "",
                "email": email or f"{username}@example.invalid",
                "password": password_hash,
                "roles": [role],
            }
            for username, name, email, role, password_hash in rows
        }
    }


def touch_login(con: duckdb.DuckDBPyConnection, username: str) -> None:
    con.execute("UPDATE users SET last_login_at = current_timestamp WHERE username = ?", [username])


def ensure_demo_users(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create the demo log-ins that are missing (and whose organisation exists)."""
    created = []
    for username, name, role, org in DEMO_USERS:
        if get(con, username) is not None:
            continue
        if (
            org != ALL_SCOPE
            and not con.execute("SELECT 1 FROM organizations WHERE org_code = ?", [org]).fetchone()
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
        )
        created.append(username)
    return created
