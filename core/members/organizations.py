"""The organisation forest: national bodies → prefectures → regions → clubs.

Each row stores its materialised path ('/SAJ/SAJ-22/SAJ-22-R01/'), so "everything
beneath X" is one prefix match. A user's scope is an org_code, or ALL_SCOPE for every
tree.
"""

from __future__ import annotations

import duckdb
import polars as pl

from core.store import db

ALL_SCOPE = "*"


def refresh_paths(con: duckdb.DuckDBPyConnection) -> int:
    """Recompute root_code, path and prefecture from parent links; returns orphan rows.

    Orphans (a parent that does not exist, or a cycle) keep no path and are counted,
    so an import can refuse them before it commits.
    """
    con.execute(
        """
        UPDATE organizations AS o SET root_code = t.root_code, path = t.path,
               prefecture = coalesce(o.prefecture, t.prefecture)
        FROM (
            WITH RECURSIVE tree(org_code, root_code, path, prefecture, depth) AS (
                SELECT org_code, org_code, '/' || org_code || '/', NULL::VARCHAR, 0
                FROM organizations WHERE parent_code IS NULL
                UNION ALL
                SELECT c.org_code, t.root_code, t.path || c.org_code || '/',
                       CASE WHEN c.kind = 'prefecture' THEN c.prefecture ELSE t.prefecture END,
                       t.depth + 1
                FROM organizations c JOIN tree t ON c.parent_code = t.org_code
                WHERE t.depth < 32
            )
            SELECT * FROM tree
        ) AS t
        WHERE o.org_code = t.org_code
        """
    )
    row = con.execute(
        "SELECT count(*) FROM organizations WHERE path = '' OR path IS NULL"
    ).fetchone()
    return int(row[0]) if row else 0


def scope_path(con: duckdb.DuckDBPyConnection, scope: str) -> str:
    """The path prefix of a scope; '/' for ALL_SCOPE. KeyError if the org is unknown."""
    if scope == ALL_SCOPE:
        return "/"
    row = con.execute("SELECT path FROM organizations WHERE org_code = ?", [scope]).fetchone()
    if row is None:
        raise KeyError(f"unknown organisation {scope}")
    return str(row[0])


def in_scope(con: duckdb.DuckDBPyConnection, scope: str, org_code: str) -> bool:
    """Whether org_code lies beneath (or is) the scope's organisation."""
    prefix = scope_path(con, scope)
    row = con.execute(
        "SELECT count(*) FROM organizations WHERE org_code = ? AND starts_with(path, ?)",
        [org_code, prefix],
    ).fetchone()
    return bool(row and row[0])


def within(con: duckdb.DuckDBPyConnection, scope: str) -> pl.DataFrame:
    """Every organisation beneath a scope, tree order (for pickers and filters)."""
    return db.frame(
        con,
        "SELECT org_code, name, kind, parent_code, root_code, path, prefecture"
        " FROM organizations WHERE starts_with(path, ?) ORDER BY path",
        [scope_path(con, scope)],
    )


def name_of(con: duckdb.DuckDBPyConnection, org_code: str) -> str:
    if org_code == ALL_SCOPE:
        return "全組織"
    row = con.execute("SELECT name FROM organizations WHERE org_code = ?", [org_code]).fetchone()
    return str(row[0]) if row else org_code


def ancestors(con: duckdb.DuckDBPyConnection, org_code: str) -> pl.DataFrame:
    """The chain from the national body down to org_code."""
    return db.frame(
        con,
        """
        SELECT a.org_code, a.name, a.kind FROM organizations o
        JOIN organizations a ON starts_with(o.path, a.path)
        WHERE o.org_code = ? ORDER BY length(a.path)
        """,
        [org_code],
    )
