"""PostgreSQL only: indexes on the columns one member's rows are found by.

DuckDB finds one member's rows by scanning its compressed columns (`explain` for one member:
p50 36 ms at 1,000,000 members), so the file keeps no such index (an index would slow its bulk
writes). PostgreSQL without them reads all 10 M activities for every member page and
`explain` (p50 2.1 s, p95 5.3 s at 1M, bench_postgres.py); with them 5–7 ms median.
"""

from __future__ import annotations

import duckdb

from core.store import db

INDEXES = {  # name → (table, column)
    "activities_member_no": ("activities", "member_no"),
    "qualifications_member_no": ("qualifications", "member_no"),
    "applications_member_no": ("applications", "member_no"),
    "billing_member_no": ("billing", "member_no"),
    "billing_qualification_id": ("billing", "qualification_id"),
}


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    if db.engine(con) != "postgres":
        return
    for name, (table, column) in INDEXES.items():  # names from code
        con.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')
