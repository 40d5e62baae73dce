"""Season billing (seed 003): the lines a season's registration owes, written once each.

A scheme that bills by season (SAJ: `season_relation` and `season_prices` in its scheme
module) names a query, core/sql/billing/<season_relation>.sql, that returns the lines due at
an approval level for staged registrations, priced as configured on the season's first day:
- at the prefecture's approval: the qualified members' prefecture difference
  (「2026年度 県連会費有資格者差額 2,000円」);
- at the national approval: the yearly fee by category, the qualification fees, the insurance
  plan and the competitor registration (and a competitor registration added later).

The approval effects call `lines` for the registrations they approve; `bill_season` writes the
lines of every approved registration of a season that lacks them (registrations imported as
approved from another system, or a season billed again after a correction). A line is
identified by member, item, season and qualification: re-running creates nothing.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from core import schemes
from core.billing import lines as billing_lines
from core.config import Config
from core.store import audit, db, queries

LEVELS = ("prefecture", "national")


def season_schemes() -> list[schemes.base.Scheme]:
    """The schemes that bill a season's registration."""
    return [s for s in schemes.every() if s.season_relation]


def lines(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    registrations: str,
    *,
    scheme: str,
    level: str,
    issued_on: dt.date,
    actor: str,
    params: dict[str, object] | None = None,
    batch_id: str | None = None,
) -> int:
    """Write the lines due at `level` for the registrations that `registrations` (SQL giving
    member_no, season, insurance_plan, competitor, category) returns, with an audit row each;
    lines that exist already are not written again. Runs in the caller's transaction;
    returns the lines written."""
    owner = schemes.get(scheme)
    assert owner.season_relation, f"{scheme} does not bill by season"
    # one row per member and season, however many of their registrations are approved at once
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE registrations AS
        SELECT member_no, season, max(insurance_plan) AS insurance_plan,
               max(competitor) AS competitor, max(category) AS category
        FROM ({registrations}) GROUP BY member_no, season
        """,
        params or {},
    )
    seasons = [r[0] for r in con.execute("SELECT DISTINCT season FROM registrations").fetchall()]
    if not seasons:
        return 0
    with db.registered(con, **owner.season_prices(cfg, seasons)):
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE season_lines AS
            SELECT DISTINCT l.member_no, $scheme AS scheme, l.item, l.label, l.amount,
                   $day::DATE AS issued_on, $due::DATE AS due_on, l.qualification_id, l.season
            FROM ({queries.query("billing", owner.season_relation)}) l
            WHERE l.amount > 0 AND NOT EXISTS (
                SELECT 1 FROM billing b
                WHERE b.member_no = l.member_no AND b.item = l.item AND b.season = l.season
                  AND b.qualification_id IS NOT DISTINCT FROM l.qualification_id
                  AND b.status <> 'cancelled'
                  AND (NOT l.by_label
                       OR starts_with(b.description, l.season || '年度 ' || l.label)))
            """,
            {"level": level, "scheme": scheme, "day": issued_on,
             "due": billing_lines.due_date(cfg, scheme, issued_on)},
        )  # fmt: skip
    written = db.one(con, "SELECT count(*) FROM season_lines")
    if not written or not written[0]:
        return 0
    # Touch the members billed: two transactions billing one member at the same moment (two
    # of their registrations approved by two approvers) then conflict, and the second rolls
    # back instead of billing the season twice.
    con.execute(
        "UPDATE members SET updated_at = current_timestamp"
        " WHERE member_no IN (SELECT DISTINCT member_no FROM season_lines)"
    )
    billing_lines.write(
        con,
        "season_lines",
        cfg=cfg,
        actor=actor,
        reason=f"{owner.short_name}請求（"
        + ("県連承認時" if level == "prefecture" else f"{owner.short_name}承認時")
        + "）",
        batch_id=batch_id or audit.new_batch_id(),
        on=issued_on,
    )
    return int(written[0])


def bill_season(
    con: duckdb.DuckDBPyConnection, season: int, *, on: dt.date, actor: str, cfg: Config
) -> dict[str, int]:
    """Every approved registration of `season` gets the lines it lacks, in one transaction
    with one audit row per line; returns the lines written per item (empty when all exist)."""
    registrations = """
        SELECT a.member_no, a.season, arg_max(a.insurance_plan, a.decided_at) AS insurance_plan,
               arg_max(a.competitor, a.decided_at) AS competitor,
               coalesce(any_value(m.category), 'general') AS category
        FROM applications a JOIN members m USING (member_no)
        WHERE a.scheme = $scheme AND a.kind IN ('season_registration', 'new_registration')
          AND a.status = 'approved' AND a.season = $season AND m.status <> 'erased'
        GROUP BY a.member_no, a.season
    """
    batch_id = audit.new_batch_id()
    with db.transaction(con):
        for owner in season_schemes():
            for level in LEVELS:
                lines(con, cfg, registrations, scheme=owner.code, level=level, issued_on=on,
                      actor=actor, params={"season": season, "scheme": owner.code},
                      batch_id=batch_id)  # fmt: skip
    counts = con.execute(
        "SELECT b.item, count(*) FROM audit_log l JOIN billing b"
        " ON l.row_key = CAST(b.billing_id AS VARCHAR)"
        " WHERE l.batch_id = ? AND l.table_name = 'billing' GROUP BY b.item ORDER BY b.item",
        [batch_id],
    ).fetchall()
    return {item: int(n) for item, n in counts}
