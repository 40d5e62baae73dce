"""Intake checks shown to the approver (受付時チェック), recomputed set-based:

- duplicate_of: the same member (or, for new registrations, the same person) applying twice
  for the same thing in a season; names the other application;
- same_person_as: another member number of the same body with the same name, kana and birth
  date (normalised as the member tables store them);
- address_problem: the postal code is unknown to Japan Post, or disagrees with the prefecture
  or the city at the start of the address.

`refresh` updates the open applications in temp table approval_ids (after an intake), or
every open application with `everything=True` (a season's whole intake at once).
"""

from __future__ import annotations

import duckdb

from core.store import db

# Applications of these statuses count as "applied"; a withdrawn or refused one does not.
LIVE = ("pending", "sent_back", "approved")

_TARGETS = """
    CREATE OR REPLACE TEMP TABLE check_targets AS
    SELECT a.application_id FROM applications a
    WHERE a.status IN ('pending', 'sent_back')
      AND ($everything OR a.application_id IN (SELECT application_id FROM approval_ids))
"""

# One row per live application with the person it is about: the member's stored keys, or the
# applicant columns of a new registration / information change.
_PEOPLE = """
    CREATE OR REPLACE TEMP TABLE check_people AS
    SELECT a.application_id, a.application_ref, a.member_no, a.scheme, a.kind,
           coalesce(a.season, -1) AS season, coalesce(a.qualification, '') AS qualification,
           a.submitted_at, a.status,
           coalesce(m.name_key, a.family_name || a.given_name) AS name_key,
           coalesce(m.kana_key, a.family_name_kana || a.given_name_kana) AS kana_key,
           coalesce(m.birth_date, a.birth_date) AS birth_date,
           CASE WHEN a.postal_code IS NOT NULL OR a.address IS NOT NULL THEN a.postal_code
                ELSE m.postal_code END AS postal_code,
           CASE WHEN a.postal_code IS NOT NULL OR a.address IS NOT NULL THEN a.prefecture
                ELSE m.prefecture END AS prefecture,
           CASE WHEN a.postal_code IS NOT NULL OR a.address IS NOT NULL THEN a.address
                ELSE m.address END AS address,
           o.root_code,
           a.application_id IN (SELECT application_id FROM check_targets) AS target
    FROM applications a
    LEFT JOIN members m ON m.member_no = a.member_no
    LEFT JOIN organizations o ON o.org_code = coalesce(a.org_code, m.org_code)
    WHERE a.status IN ('pending', 'sent_back', 'approved')
      AND ($everything OR (a.scheme, coalesce(a.season, -1)) IN (
            SELECT DISTINCT scheme, coalesce(season, -1) FROM applications
            WHERE application_id IN (SELECT application_id FROM check_targets)))
"""

_DUPLICATES = """
    UPDATE applications AS a SET duplicate_of = d.other
    FROM (
        -- the targets, and the open applications they duplicate (the first one learns of
        -- the second when the second arrives)
        -- (the earliest other: the first of the group, or the second when this is the first)
        SELECT p.application_id,
               CASE WHEN p.first_ref <> p.application_ref THEN p.first_ref ELSE p.second_ref END
                   AS other
        FROM (
            SELECT application_id, application_ref, status,
                   first_value(application_ref) OVER w AS first_ref,
                   nth_value(application_ref, 2) OVER w AS second_ref,
                   bool_or(target) OVER w AS touched
            FROM check_people
            -- a kind without a season (an extension) is a duplicate only of an open one
            WHERE season <> -1 OR status IN ('pending', 'sent_back')
            WINDOW w AS (PARTITION BY scheme, kind, season, qualification,
                         coalesce(member_no,
                                  'new:' || name_key || '/' || kana_key || '/' || birth_date)
                         ORDER BY submitted_at, application_ref
                         ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        ) p
        WHERE p.touched AND p.status IN ('pending', 'sent_back')
    ) AS d
    WHERE a.application_id = d.application_id
"""

_SAME_PERSON = """
    UPDATE applications AS a SET same_person_as = s.other
    FROM (
        SELECT p.application_id, min(m.member_no) AS other
        FROM check_people p
        LEFT JOIN (
            SELECT m.member_no, m.name_key, m.kana_key, m.birth_date, o.root_code
            FROM members m JOIN organizations o ON o.org_code = m.org_code
            WHERE m.status <> 'erased'
        ) m
          ON m.name_key = p.name_key AND m.kana_key = p.kana_key
         AND m.birth_date = p.birth_date AND m.root_code = p.root_code
         AND m.member_no IS DISTINCT FROM p.member_no
        WHERE p.application_id IN (SELECT application_id FROM check_targets)
        GROUP BY p.application_id
    ) AS s
    WHERE a.application_id = s.application_id
"""

_ADDRESS = """
    UPDATE applications AS a SET address_problem = c.problem
    FROM (
        SELECT p.application_id,
               CASE
                   WHEN p.postal_code IS NULL THEN '郵便番号がありません'
                   WHEN NOT bool_or(r.postal_code IS NOT NULL)
                       THEN '郵便番号 ' || p.postal_code || ' は日本郵便のデータにありません'
                   WHEN NOT bool_or(r.prefecture = p.prefecture)
                       THEN '郵便番号 ' || p.postal_code || ' は' || min(r.prefecture)
                            || 'の番号です（登録: ' || coalesce(p.prefecture, '都道府県なし') || '）'
                   WHEN NOT bool_or(starts_with(
                            CASE WHEN starts_with(coalesce(p.address, ''), r.prefecture)
                                 THEN substr(p.address, length(r.prefecture) + 1)
                                 ELSE coalesce(p.address, '') END, r.city))
                       THEN '住所が郵便番号の市区町村（' || min(r.city) || '）で始まっていません'
               END AS problem
        FROM check_people p
        LEFT JOIN ref_postal_codes r ON r.postal_code = p.postal_code
        WHERE p.application_id IN (SELECT application_id FROM check_targets)
        GROUP BY p.application_id, p.postal_code, p.prefecture, p.address
    ) AS c
    WHERE a.application_id = c.application_id
"""


def refresh(con: duckdb.DuckDBPyConnection, *, everything: bool = False) -> int:
    """Recompute the three flags of the target applications; returns how many were checked.

    Runs inside the caller's transaction when there is one.
    """
    con.execute("CREATE TEMP TABLE IF NOT EXISTS approval_ids (application_id BIGINT)")
    params = {"everything": everything}
    con.execute(_TARGETS, params)
    con.execute(_PEOPLE, params)
    for statement in (_DUPLICATES, _SAME_PERSON, _ADDRESS):
        con.execute(statement)
    row = db.one(con, "SELECT count(*) FROM check_targets")
    return int(row[0]) if row else 0


def flagged(con: duckdb.DuckDBPyConnection, application_id: int) -> dict[str, str | None]:
    """The flags of one application with the other record they point at, for the approver."""
    row = db.one(
        con,
        "SELECT duplicate_of, same_person_as, address_problem FROM applications"
        " WHERE application_id = ?",
        [application_id],
    )
    if row is None:
        return {}
    return {"duplicate_of": row[0], "same_person_as": row[1], "address_problem": row[2]}


def open_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many open applications carry each flag."""
    row = db.one(
        con,
        "SELECT count(*) FILTER (WHERE duplicate_of IS NOT NULL),"
        " count(*) FILTER (WHERE same_person_as IS NOT NULL),"
        " count(*) FILTER (WHERE address_problem IS NOT NULL)"
        " FROM applications WHERE status IN ('pending', 'sent_back')",
    )
    assert row is not None
    return {"duplicate": int(row[0]), "same_person": int(row[1]), "address": int(row[2])}
