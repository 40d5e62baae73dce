"""Open applications for the demo: the current season's intake, spread over the approval chain.

Last season's SAJ members who have not registered for the current one apply over the last two
weeks (a share of them through their club as a proxy application), some with insurance or a
competitor registration; a few return a qualification or transfer to another club of their
prefecture; a few JPTEC instructors ask for a special extension. Older applications have
already climbed some levels, a few were sent back. All of it goes through core.applications, so
the demo's history is what the app itself would have written.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core.applications import approvals, routing
from core.config import Config
from core.store import db

ACTOR = "demo"


def _pick(percent: int, salt: str) -> str:
    """A deterministic draw: true for about `percent` % of members."""
    return f"(hash(m.member_no || '{salt}' || $seed::VARCHAR) % 100) < {percent}"


def build(con: duckdb.DuckDBPyConnection, cfg: Config, on: dt.date, seed: int) -> int:
    """Write and route the open applications; returns how many were written."""
    month, day = (int(p) for p in str(cfg.value("saj.season.starts", on=on)).split("-"))
    season = on.year if (on.month, on.day) >= (month, day) else on.year - 1
    plans = list(cfg.value("saj.insurance.plans", on=on))
    params = {"seed": seed, "season": season, "on": on}
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE demo_intake AS
        SELECT m.member_no, m.org_code,
               $on::TIMESTAMP - INTERVAL 14 DAY
                 + to_minutes((hash(m.member_no || 'when' || $seed::VARCHAR) % (14 * 24 * 60))::BIGINT)
                   AS submitted_at,
               CASE WHEN {_pick(30, "proxy")} THEN m.org_code END AS proxy_org_code,
               CASE WHEN {_pick(30, "insured")}
                    THEN ($plans::VARCHAR[])[1 + (hash(m.member_no || 'plan') % {len(plans)})::INTEGER]
               END AS insurance_plan,
               CASE WHEN {_pick(3, "race")} THEN 'saj_alpine' END AS competitor
        FROM members m
        JOIN applications last ON last.member_no = m.member_no AND last.scheme = 'saj'
         AND last.kind = 'season_registration' AND last.status = 'approved'
         AND last.season = $season - 1
        WHERE m.status IN ('active', 'withdrawn') AND {_pick(60, "renews")}
          AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.member_no = m.member_no
                          AND a.scheme = 'saj' AND a.season = $season)
        """,
        {**params, "plans": plans},
    )
    con.execute(
        """
        INSERT INTO applications (application_ref, member_no, scheme, kind, season, submitted_at,
                                  proxy_org_code, entered_by, insurance_plan, competitor, note)
        SELECT 'DEMO-REG-' || member_no, member_no, 'saj', 'season_registration', $season,
               submitted_at, proxy_org_code,
               CASE WHEN proxy_org_code IS NULL THEN 'member' ELSE 'proxy' END,
               insurance_plan, competitor, 'demo'
        FROM demo_intake ORDER BY member_no
        """,
        {"season": season},
    )
    # a handful of members moved house and typed a postal code of the wrong city
    con.execute(
        f"""
        UPDATE members AS m SET postal_code = '100-0001'
        FROM demo_intake i
        WHERE m.member_no = i.member_no AND m.prefecture <> '東京都' AND {_pick(1, "moved")}
        """,
        {"seed": seed},
    )
    # about 1 % apply twice: once themselves, once more through the club a day later
    con.execute(
        f"""
        INSERT INTO applications (application_ref, member_no, scheme, kind, season, submitted_at,
                                  proxy_org_code, entered_by, note)
        SELECT 'DEMO-DUP-' || m.member_no, m.member_no, 'saj', 'season_registration', $season,
               i.submitted_at + INTERVAL 1 DAY, m.org_code, 'proxy', 'demo'
        FROM demo_intake i JOIN members m USING (member_no)
        WHERE {_pick(1, "twice")} AND i.submitted_at < $on::TIMESTAMP - INTERVAL 1 DAY
        """,
        params,
    )
    # new members: a family name of one member with the given name of another; every 4th
    # is someone already on the books under another number (a lapsed member re-joining)
    con.execute(
        f"""
        INSERT INTO applications (application_ref, scheme, kind, season, submitted_at, entered_by,
                                  org_code, family_name, given_name, family_name_kana,
                                  given_name_kana, birth_date, postal_code, prefecture, address,
                                  phone, category, note)
        SELECT 'DEMO-NEW-' || m.member_no, 'saj', 'new_registration', $season, i.submitted_at,
               'admin', m.org_code, m.family_name,
               CASE WHEN same THEN m.given_name ELSE o.given_name END, m.family_name_kana,
               CASE WHEN same THEN m.given_name_kana ELSE o.given_name_kana END,
               CASE WHEN same THEN m.birth_date ELSE m.birth_date + INTERVAL 400 DAY END,
               m.postal_code, m.prefecture, m.address, m.phone, 'general', 'demo'
        FROM (SELECT i.*, hash(i.member_no || 'same') % 4 = 0 AS same,
                     lead(i.member_no) OVER (ORDER BY i.member_no) AS other_no
              FROM demo_intake i) i
        JOIN members m USING (member_no)
        JOIN members o ON o.member_no = i.other_no
        WHERE {_pick(8, "newcomer")} AND m.given_name IS NOT NULL AND o.given_name IS NOT NULL
          AND i.submitted_at > $on::TIMESTAMP - INTERVAL 5 DAY  -- still in the chain: no number yet
        """,
        {"season": season, "seed": seed, "on": on},
    )
    # a few return a qualification with the registration, or move to another club
    con.execute(
        f"""
        INSERT INTO applications (application_ref, member_no, scheme, kind, season, submitted_at,
                                  proxy_org_code, entered_by, qualification, note)
        SELECT 'DEMO-RET-' || q.member_no || '-' || q.qualification, q.member_no, 'saj',
               'qualification_return', $season, i.submitted_at, i.proxy_org_code,
               CASE WHEN i.proxy_org_code IS NULL THEN 'member' ELSE 'proxy' END,
               q.qualification, 'demo'
        FROM demo_intake i JOIN qualifications q USING (member_no)
        JOIN members m USING (member_no)
        WHERE q.scheme = 'saj' AND q.status IN ('active', 'renewed') AND {_pick(4, "return")}
        """,
        {"season": season, "seed": seed},
    )
    con.execute(
        f"""
        INSERT INTO applications (application_ref, member_no, scheme, kind, season, submitted_at,
                                  entered_by, target_org_code, note)
        SELECT 'DEMO-TRF-' || m.member_no, m.member_no, 'saj', 'transfer', $season,
               i.submitted_at, 'member',
               (SELECT min(o2.org_code) FROM organizations o2
                WHERE o2.kind = 'club' AND o2.prefecture = o.prefecture
                  AND o2.root_code = o.root_code AND o2.org_code <> o.org_code),
               'demo'
        FROM demo_intake i JOIN members m USING (member_no)
        JOIN organizations o ON o.org_code = m.org_code
        WHERE {_pick(1, "transfer")}
          AND EXISTS (SELECT 1 FROM organizations o2 WHERE o2.kind = 'club'
                      AND o2.prefecture = o.prefecture AND o2.root_code = o.root_code
                      AND o2.org_code <> o.org_code)
        """,
        {"season": season, "seed": seed},
    )
    con.execute(
        f"""
        INSERT INTO applications (application_ref, member_no, scheme, kind, submitted_at,
                                  entered_by, qualification, reason, note)
        SELECT 'DEMO-EXT-' || q.member_no, q.member_no, 'jptec', 'extension',
               $on::TIMESTAMP - to_hours((hash(q.member_no || 'ext') % (10 * 24))::BIGINT),
               'member', 'instructor',
               ['disaster', 'pregnancy_childbirth', 'childcare', 'illness',
                'study_abroad'][1 + (hash(q.member_no) % 5)::INTEGER], 'demo'
        FROM qualifications q JOIN members m USING (member_no)
        WHERE q.scheme = 'jptec' AND q.qualification = 'instructor'
          AND q.status IN ('active', 'renewed') AND {_pick(2, "extension")}
        """,
        {"on": on, "seed": seed},
    )
    ids = db.frame(
        con,
        "SELECT application_id, application_ref, submitted_at FROM applications"
        " WHERE status = 'pending' AND note = 'demo' AND level IS NULL",
    )
    noon = dt.datetime.combine(on, dt.time(12))
    routing.start(con, ids.select("application_id"), actor=ACTOR, now=noon)
    _climb(con, ids, noon)
    return ids.height


def _climb(con: duckdb.DuckDBPyConnection, ids: pl.DataFrame, noon: dt.datetime) -> None:
    """Older applications have been approved further: approval rounds 11, 8, 4 and 1 days ago,
    oldest first, each moving three in four of the applications then at least a day old one
    level on; then 2 % of those at a prefecture are sent back."""
    for step, days in enumerate((11, 8, 4, 1)):
        when = noon - dt.timedelta(days=days)
        moving = ids.filter(
            (pl.col("submitted_at") < when - dt.timedelta(days=1))
            & ((pl.col("application_ref").hash(seed=step) % 4) != 0)
        )
        if not moving.is_empty():
            approvals.advance(con, moving.select("application_id"), actor=ACTOR, now=when)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE demo_sent_back AS
        SELECT application_id FROM applications
        WHERE note = 'demo' AND status = 'pending' AND level = 'prefecture'
          AND hash(application_ref) % 50 = 0
        """
    )
    con.execute(
        """
        INSERT INTO application_steps (application_id, action, level, org_code, reason, note,
                                       actor, acted_at)
        SELECT a.application_id, 'sent_back', a.level, a.level_org_code,
               ['duplicate', 'wrong_name', 'returned_qualification', 'address_not_found',
                'fictitious'][1 + (hash(a.application_ref) % 5)::INTEGER],
               'クラブに確認してください', 'demo', a.level_since + INTERVAL 20 HOUR
        FROM applications a JOIN demo_sent_back USING (application_id)
        """
    )
    con.execute(
        """
        UPDATE applications SET status = 'sent_back', version = version + 1,
               level_since = level_since + INTERVAL 20 HOUR
        WHERE application_id IN (SELECT application_id FROM demo_sent_back)
        """
    )
