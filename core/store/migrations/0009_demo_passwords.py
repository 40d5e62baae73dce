"""Mark the users that still have the published demo password (from before 0008 kept a mark)."""

from __future__ import annotations

import duckdb

from core.access import passwords


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute("SELECT username, password_hash FROM users").fetchall()
    demo = [
        name for name, hashed in rows if passwords.check_password(passwords.DEMO_PASSWORD, hashed)
    ]
    if demo:
        con.execute(
            "UPDATE users SET demo_password = true WHERE list_contains(?, username)", [demo]
        )
