"""The longer queries, kept as files: core/sql/<concept>/<relation>.sql, one query per file."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"


@cache
def query(concept: str, relation: str) -> str:
    """The text of core/sql/<concept>/<relation>.sql, read once per process."""
    return (SQL_DIR / concept / f"{relation}.sql").read_text(encoding="utf-8")
