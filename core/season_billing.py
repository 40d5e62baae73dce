"""SAJ's season lines (seed 003), priced from the configuration, written set-based and never twice.

- at the prefecture's approval: the qualified members' prefecture difference
  (「2026年度 県連会費有資格者差額 2,000円」: 2,500 for qualified members, less the 500 already in the
  yearly fee);
- at SAJ's approval: the yearly fee by category (SAJ + prefecture), 1,000 per qualification
  category held (education instructor / examiner, competition setter), the certified
  instructor's fee, the insurance plan and the competitor registration.

The approval effects (core.approval_effects) call `saj_lines` for the applications they
approve; `bill_season` writes the lines of every approved registration of a season that lacks
them (registrations imported as approved from another system, or a season billed again after
a correction). A line is identified by member, item, season and qualification: re-running
creates nothing. Prices are those configured on the season's first day (「2026年度」's fees);
a qualification is billed for the seasons from the one in which it was acquired.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import audit, billing, db
from core.config import Config

# SAJ qualification → fee category of 資格登録料; certified instructors pay their own fee
FEE_CATEGORY = {
    "instructor": "education_instructor",
    "examiner": "education_examiner",
    "setter": "competition_setter",
}
COMPETITOR_LABELS = {
    "saj_alpine": "SAJ競技者登録料 アルペン",
    "fis_alpine": "FIS競技者登録料 アルペン",
}
HELD = "('active', 'renewed', 'renewal_open')"
LEVELS = ("prefecture", "national")

# Qualifications a member keeps this season: held, and no return applied for.
_KEPT = f"""
    SELECT q.qualification_id, q.member_no, q.qualification, q.acquired_on FROM qualifications q
    WHERE q.scheme = 'saj' AND q.status IN {HELD}
      AND NOT EXISTS (
          SELECT 1 FROM applications r
          WHERE r.member_no = q.member_no AND r.scheme = 'saj'
            AND r.kind = 'qualification_return' AND r.qualification = q.qualification
            AND r.status IN ('pending', 'sent_back', 'approved'))
"""


def season_start(cfg: Config, season: int) -> dt.date:
    month, day = (
        int(p) for p in str(cfg.value("saj.season.starts", on=dt.date(season, 12, 31))).split("-")
    )
    return dt.date(season, month, day)


def _prices(cfg: Config, seasons: list[int]) -> dict[str, pl.DataFrame]:
    """Per season, every price as configured on the season's first day."""
    bands, items, bounds = [], [], []
    for season in seasons:
        on = season_start(cfg, season)
        bounds.append((season, season_start(cfg, season + 1)))
        for code, label in cfg.value("saj.categories", on=on).items():
            saj = int(cfg.value(f"saj.fee.{code}.saj", on=on))
            pref = int(cfg.value(f"saj.fee.{code}.prefecture", on=on))
            total = int(cfg.value("saj.fee.qualified_prefecture_total", on=on))
            bands.append((season, code, saj + pref, max(total - pref, 0), f"{label}会員会費"))
        fee_labels = cfg.value("saj.fee.qualification_categories", on=on)
        per_category = int(cfg.value("saj.fee.qualification_registration", on=on))
        items += [
            (
                season,
                f"qualification:{q}",
                "saj_qualification_registration",
                f"資格登録料（{fee_labels[c]}）",
                per_category,
            )
            for q, c in FEE_CATEGORY.items()
        ]
        items.append(
            (
                season,
                "qualification:certified_instructor",
                "saj_certified_instructor",
                "認定指導員登録料",
                int(cfg.value("saj.fee.certified_instructor", on=on)),
            )
        )
        items += [
            (season, f"insurance:{code}", "saj_insurance", str(p["label"]), int(p["fee"]))
            for code, p in cfg.value("saj.insurance.plans", on=on).items()
        ]
        items += [(season, f"competitor:{code}", "saj_competitor", label,
                   int(cfg.value(f"saj.fee.competitor.{code}", on=on)))
                  for code, label in COMPETITOR_LABELS.items()]  # fmt: skip
    return {
        "season_bounds": pl.DataFrame(
            bounds, schema={"season": pl.Int32, "next_start": pl.Date}, orient="row"
        ),
        "season_fee_bands": pl.DataFrame(
            bands,
            schema={"season": pl.Int32, "category": pl.String, "yearly": pl.Int32,
                    "difference": pl.Int32, "label": pl.String},
            orient="row",
        ),
        "season_items": pl.DataFrame(
            items,
            schema={"season": pl.Int32, "code": pl.String, "item": pl.String,
                    "label": pl.String, "amount": pl.Int32},
            orient="row",
        ),
    }  # fmt: skip


_LINES = {
    "prefecture": f"""
        SELECT r.member_no, 'saj_prefecture_qualified' AS item, '県連会費有資格者差額' AS label,
               f.difference AS amount, NULL::BIGINT AS qualification_id, r.season
        FROM registrations r JOIN season_fee_bands f USING (season, category)
        WHERE r.member_no IN (SELECT member_no FROM ({_KEPT}))
    """,
    "national": f"""
        SELECT r.member_no, 'saj_annual_fee' AS item, f.label, f.yearly AS amount,
               NULL::BIGINT AS qualification_id, r.season
        FROM registrations r JOIN season_fee_bands f USING (season, category)
        UNION ALL
        SELECT r.member_no, i.item, i.label, i.amount, k.qualification_id, r.season
        FROM registrations r JOIN ({_KEPT}) k USING (member_no)
        JOIN season_bounds s ON s.season = r.season
         AND (k.acquired_on IS NULL OR k.acquired_on < s.next_start)
        JOIN season_items i ON i.season = r.season AND i.code = 'qualification:' || k.qualification
        UNION ALL
        SELECT r.member_no, i.item, i.label, i.amount, NULL, r.season
        FROM registrations r
        JOIN season_items i
          ON i.season = r.season
         AND (i.code = 'insurance:' || r.insurance_plan OR i.code = 'competitor:' || r.competitor)
    """,
    # competitor registration added later in the season (the only change SAJ allows then)
    "competitor": """
        SELECT r.member_no, i.item, i.label, i.amount, NULL::BIGINT AS qualification_id, r.season
        FROM registrations r
        JOIN season_items i ON i.season = r.season AND i.code = 'competitor:' || r.competitor
    """,
}


def saj_lines(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    registrations: str,
    *,
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

    with db.registered(con, **_prices(cfg, seasons)):
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE new_lines AS
            SELECT DISTINCT l.* FROM ({_LINES[level]}) l
            WHERE l.amount > 0 AND NOT EXISTS (
                SELECT 1 FROM billing b
                WHERE b.member_no = l.member_no AND b.item = l.item AND b.season = l.season
                  AND b.qualification_id IS NOT DISTINCT FROM l.qualification_id
                  AND b.status <> 'cancelled'
                  -- a member may race in both classes: SAJ and FIS alpine are two lines
                  AND (l.item <> 'saj_competitor'
                       OR starts_with(b.description, l.season || '年度 ' || l.label)))
            """
        )
    written = db.one(con, "SELECT count(*) FROM new_lines")
    if not written or not written[0]:
        return 0
    # Touch the members billed: two transactions billing one member at the same moment (two
    # of their registrations approved by two approvers) then conflict, and the second rolls
    # back instead of billing the season twice.
    con.execute(
        "UPDATE members SET updated_at = current_timestamp"
        " WHERE member_no IN (SELECT DISTINCT member_no FROM new_lines)"
    )
    before = db.one(con, "SELECT coalesce(max(billing_id), 0) FROM billing")
    with db.registered(con, item_tax=billing.tax_classes(issued_on, cfg)):
        con.execute(
            """
            INSERT INTO billing (member_no, scheme, item, description, amount, handling_fee,
                                 tax_class, issued_on, due_on, status, qualification_id, season)
            SELECT l.member_no, 'saj', l.item,
                   l.season || '年度 ' || l.label || ' ' || format('{:,}', l.amount) || '円',
                   l.amount, 0, coalesce(t.tax_class, 'out_of_scope'), $day::DATE,
                   ($day::DATE + INTERVAL 1 MONTH)::DATE, 'open', l.qualification_id, l.season
            FROM new_lines l LEFT JOIN item_tax t ON t.scheme = 'saj' AND t.item = l.item
            ORDER BY l.member_no, l.item, l.qualification_id  -- ids in a repeatable order
            """,
            {"day": issued_on},
        )
    # ids come from a sequence: this transaction's new lines are the ones above the old maximum
    con.execute(
        "CREATE OR REPLACE TEMP TABLE billed AS SELECT billing_id, member_no, item FROM billing"
        " WHERE billing_id > ?",
        [before[0] if before else 0],
    )
    audit.record_rows(
        con,
        actor=actor,
        action="insert",
        table="billing",
        relation="billed",
        key_column="billing_id",
        member_column="member_no",
        reason=f"SAJ請求（{'県連承認' if level == 'prefecture' else 'SAJ承認'}時）",
        batch_id=batch_id or audit.new_batch_id(),
    )
    return int(written[0])


def bill_season(
    con: duckdb.DuckDBPyConnection, season: int, *, on: dt.date, actor: str, cfg: Config
) -> dict[str, int]:
    """Every approved SAJ registration of `season` gets the lines it lacks, in one transaction
    with one audit row per line; returns the lines written per item (empty when all exist)."""
    registrations = """
        SELECT a.member_no, a.season, arg_max(a.insurance_plan, a.decided_at) AS insurance_plan,
               arg_max(a.competitor, a.decided_at) AS competitor,
               coalesce(any_value(m.category), 'general') AS category
        FROM applications a JOIN members m USING (member_no)
        WHERE a.scheme = 'saj' AND a.kind IN ('season_registration', 'new_registration')
          AND a.status = 'approved' AND a.season = $season AND m.status <> 'erased'
        GROUP BY a.member_no, a.season
    """
    batch_id = audit.new_batch_id()
    with db.transaction(con):
        for level in LEVELS:
            saj_lines(con, cfg, registrations, level=level, issued_on=on, actor=actor,
                      params={"season": season}, batch_id=batch_id)  # fmt: skip
    counts = con.execute(
        "SELECT b.item, count(*) FROM audit_log l JOIN billing b"
        " ON l.row_key = CAST(b.billing_id AS VARCHAR)"
        " WHERE l.batch_id = ? AND l.table_name = 'billing' GROUP BY b.item ORDER BY b.item",
        [batch_id],
    ).fetchall()
    return {item: int(n) for item, n in counts}
