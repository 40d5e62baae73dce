"""Where an application waits: its scheme's approval chain and the organisation at each level.

An application waits at one level of its scheme's chain (core.schemes: SAJ club → regional
body → prefectural federation → national; other schemes HQ in one step), at the organisation
of that level above the member's club (a transfer: above the destination club; a proxy
application skips the club that made it). `start` puts fresh or resubmitted applications at
the first level of their chain, records the step, applies what needs no approval and runs the
intake checks. `scope_filter` says which waiting applications a user may act on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import polars as pl

from core import config, schemes
from core.applications import effects, intake
from core.config import Config
from core.errors import ValidationError
from core.members import organizations
from core.store import db, queries

APPROVER_ROLES = ("approver", "admin")


def chain_frame(cfg: Config, on: dt.date) -> pl.DataFrame:
    """Every scheme's chain as rows (scheme, transfer, position, level)."""
    rows = [
        (scheme.code, transfer, position, level)
        for scheme in schemes.every()
        for transfer in (False, True)
        for position, level in enumerate(scheme.chain(cfg, on, transfer=transfer))
    ]
    return pl.DataFrame(
        rows,
        schema={
            "scheme": pl.String,
            "transfer": pl.Boolean,
            "position": pl.Int32,
            "level": pl.String,
        },
        orient="row",
    )


def stage_ids(con: duckdb.DuckDBPyConnection, ids: pl.DataFrame) -> None:
    """The applications a set-based step works on, as temp table approval_ids."""
    with db.registered(con, approval_ids_frame=ids.select(pl.col("application_id").cast(pl.Int64))):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE approval_ids AS"
            " SELECT DISTINCT application_id FROM approval_ids_frame"
        )


def stage_steps(con: duckdb.DuckDBPyConnection, cfg: Config, on: dt.date) -> None:
    """Temp table app_steps: the chain of every application in approval_ids."""
    with db.registered(con, chain_steps=chain_frame(cfg, on)):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE app_steps AS " + queries.query("approvals", "steps")
        )


def start(
    con: duckdb.DuckDBPyConnection,
    ids: pl.DataFrame,
    *,
    actor: str,
    now: dt.datetime,
    action: str = "submitted",
    cfg: Config | None = None,
) -> None:
    """Put freshly written (or resubmitted) applications at the first level of their chain,
    record the step, apply what needs no approval and run the intake checks. Runs inside the
    caller's transaction; `ids` has a column application_id."""
    cfg = cfg or config.current()
    stage_ids(con, ids)
    # the member's organisation, unless the row names one (a new registration's club)
    con.execute(
        """
        UPDATE applications AS a SET org_code = m.org_code
        FROM members m
        WHERE a.member_no = m.member_no AND a.org_code IS NULL
          AND a.application_id IN (SELECT application_id FROM approval_ids)
        """
    )
    stage_steps(con, cfg, now.date())
    con.execute(
        """
        UPDATE applications AS a
        SET status = 'pending', level = f.level, level_org_code = f.level_org_code,
            level_since = CASE WHEN $action = 'submitted' THEN a.submitted_at
                               ELSE $now::TIMESTAMP END,
            version = a.version + 1, updated_at = current_timestamp
        FROM (SELECT application_id, arg_min(level, position) AS level,
                     arg_min(level_org_code, position) AS level_org_code
              FROM app_steps GROUP BY application_id) AS f
        WHERE a.application_id = f.application_id
        """,
        {"now": now, "action": action},
    )
    unrouted = con.execute(
        """
        SELECT a.application_ref FROM applications a
        WHERE a.application_id IN (SELECT application_id FROM approval_ids) AND a.level IS NULL
        ORDER BY a.application_ref LIMIT 5
        """
    ).fetchall()
    if unrouted:
        refs = ", ".join(r[0] for r in unrouted)
        raise ValidationError(
            {"org_code": f"承認する組織が見つかりません（組織ツリーを確認してください）: {refs}"}
        )
    con.execute(
        """
        INSERT INTO application_steps (application_id, action, level, org_code, next_level,
                                       next_org_code, note, actor, acted_at)
        SELECT a.application_id, $action, NULL, NULL, a.level, a.level_org_code, NULL, $actor,
               CASE WHEN $action = 'submitted' THEN a.submitted_at ELSE $now::TIMESTAMP END
        FROM applications a WHERE a.application_id IN (SELECT application_id FROM approval_ids)
        """,
        {"action": action, "actor": actor, "now": now},
    )
    effects.at_intake(con, cfg=cfg, actor=actor, now=now)
    intake.refresh(con)


def may_approve(role: str, scope: str) -> None:
    if role not in APPROVER_ROLES:
        raise PermissionError("承認・差戻しができるのは承認者と管理者です。")
    if role == "approver" and scope == organizations.ALL_SCOPE:
        raise PermissionError(
            "承認者の担当範囲が全組織になっています。承認する組織を担当範囲に設定してください。"
        )


def scope_filter(
    con: duckdb.DuckDBPyConnection, role: str, scope: str, column: str = "a.level_org_code"
) -> tuple[str, dict[str, Any]]:
    """Which waiting applications a user may act on: within the scope, and for an approver
    only at the level of their own organisation (a prefecture approver approves at
    prefecture level). `column` holds the organisation the application waits at."""
    prefix = organizations.scope_path(con, scope)
    level = None
    if role == "approver" and scope != organizations.ALL_SCOPE:
        row = db.one(con, "SELECT kind FROM organizations WHERE org_code = ?", [scope])
        level = row[0] if row else None
    return (
        f"{column} IN (SELECT org_code FROM organizations"
        " WHERE starts_with(path, $prefix) AND ($own_level IS NULL OR kind = $own_level))",
        {"prefix": prefix, "own_level": level},
    )
