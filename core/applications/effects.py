"""What an approval changes, applied set-based in the approver's transaction.

At intake (`at_intake`, over temp table approval_ids): an information change of contact data
needs no approval and is applied and approved at once; then what each scheme refuses without an
approver is refused (core.schemes: a JPTEC non-card request unless it is valid; no mail).

At each approval (`at_level`, over temp table approval_moves: acted_level, next_level), for
the applications whose chain finished: a new registration becomes a member with a new number
(the scheme's prefix, never reused); a withdrawn member whose season registration is approved
is active again; a transfer moves the member (the qualifications follow); a returned
qualification gets the scheme's returned status (SAJ erases it), irreversibly; a suspension
suspends. A scheme that bills by season (SAJ) bills the season's lines at the prefecture's and
at the national approval (core.billing.season); then each scheme applies its own effects
(JPTEC puts the non-card handling fee on the open fee).

Every change writes audit rows with the approver as actor.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import schemes
from core.billing import season
from core.config import Config
from core.schemes.base import CONTACT
from core.store import db
from core.vocabulary import HELD_STATUSES


def at_intake(con: duckdb.DuckDBPyConnection, *, cfg: Config, actor: str, now: dt.datetime) -> None:
    """Decide at once what needs no approver (see the module docstring)."""
    _information_changes(con, actor=actor, now=now)
    for scheme in schemes.every():
        for refusal in scheme.intake_refusals(cfg):
            close(con, f"a.status = 'pending' AND ({refusal.where})", "rejected", refusal.note,
                  actor, now, reject_reason=refusal.reason, params=refusal.params)  # fmt: skip


def close(con: duckdb.DuckDBPyConnection, where: str, status: str, note: str,
          actor: str, now: dt.datetime, reject_reason: str | None = None,
          params: dict[str, object] | None = None) -> None:  # fmt: skip
    """Finish the applications of approval_ids matching `where` (an SQL condition over `a`,
    from code, with `params` bound) without an approver: approved or rejected."""
    con.execute(
        f"""
        INSERT INTO application_steps (application_id, action, level, org_code, note, actor, acted_at)
        SELECT application_id, $action, NULL, NULL, $note, $actor, $now::TIMESTAMP
        FROM applications a
        WHERE a.application_id IN (SELECT application_id FROM approval_ids) AND {where}
        """,
        {"action": "approved" if status == "approved" else "rejected", "note": note,
         "actor": actor, "now": now, **(params or {})},
    )  # fmt: skip
    con.execute(
        f"""
        UPDATE applications AS a SET status = $status, level = NULL, level_org_code = NULL,
               decided_at = $now::TIMESTAMP, reject_reason = $reject_reason,
               version = a.version + 1
        WHERE a.application_id IN (SELECT application_id FROM approval_ids) AND {where}
        """,
        {"status": status, "now": now, "reject_reason": reject_reason, **(params or {})},
    )


def _information_changes(con: duckdb.DuckDBPyConnection, *, actor: str, now: dt.datetime) -> None:
    where = "a.kind = 'information_change' AND a.status = 'pending'"
    # one row per member: each field as the latest change that gives it (two changes of one
    # member in one file both count, the later one winning where they overlap)
    latest = ", ".join(
        f'arg_max(a."{f}", a.submitted_at) FILTER (WHERE a."{f}" IS NOT NULL) AS "{f}"'
        for f in CONTACT
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE contact_changes AS
        SELECT a.member_no, {latest}, string_agg(a.application_ref, ', ') AS refs
        FROM applications a
        WHERE a.application_id IN (SELECT application_id FROM approval_ids) AND {where}
        GROUP BY a.member_no
        """
    )
    for field in CONTACT:
        con.execute(
            f"""
            INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                                   old_value, new_value, reason)
            SELECT $actor, 'update', 'members', m.member_no, m.member_no, '{field}',
                   m."{field}", c."{field}", '登録情報変更 ' || c.refs
            FROM contact_changes c JOIN members m USING (member_no)
            WHERE c."{field}" IS NOT NULL AND c."{field}" IS DISTINCT FROM m."{field}"
            """,
            {"actor": actor},
        )
    assignments = ", ".join(f'"{f}" = coalesce(c."{f}", m."{f}")' for f in CONTACT)
    con.execute(
        f"""
        UPDATE members AS m SET {assignments},
               phone_key = regexp_replace(coalesce(c.phone, m.phone, ''), '\\D', '', 'g'),
               updated_at = current_timestamp
        FROM contact_changes c
        WHERE c.member_no = m.member_no
        """
    )
    close(con, where, "approved", "連絡先の変更は承認不要のため即時反映", actor, now)


def at_level(con: duckdb.DuckDBPyConnection, *, cfg: Config, actor: str, now: dt.datetime) -> None:
    """The effects of the approvals in approval_moves (see the module docstring)."""
    _new_members(con, cfg, actor, now.date())
    for scheme in schemes.every():
        if scheme.season_relation:
            _season_lines(con, cfg, scheme.code, actor, now.date())
        scheme.at_approval(con, cfg=cfg, actor=actor, now=now)
    _reactivate(con, actor)
    _transfers(con, actor)
    _qualification_changes(con, actor)


def _season_lines(
    con: duckdb.DuckDBPyConnection, cfg: Config, scheme: str, actor: str, day: dt.date
) -> None:
    """A season's registration owes lines at the level that approves it (core.billing.season):
    the prefecture's at its approval, the national ones at the last; a competitor registration
    added later in the season owes its fee at the last."""
    approved = """
        SELECT a.member_no, a.season, a.insurance_plan, a.competitor,
               coalesce(m.category, 'general') AS category
        FROM approval_moves v
        JOIN applications a USING (application_id)
        JOIN members m ON m.member_no = a.member_no
        WHERE a.scheme = $scheme AND {where} AND list_contains($kinds, a.kind)
    """
    registrations = ["season_registration", "new_registration"]
    for level, where, kinds in (
        ("prefecture", "v.acted_level = 'prefecture'", registrations),
        ("national", "v.next_level IS NULL", registrations),
        ("competitor", "v.next_level IS NULL", ["competitor_registration"]),
    ):
        season.lines(con, cfg, approved.format(where=where), scheme=scheme, level=level,
                     issued_on=day, actor=actor, params={"kinds": kinds, "scheme": scheme})  # fmt: skip


def at_withdrawal(con: duckdb.DuckDBPyConnection, record: dict[str, object], *, actor: str) -> None:
    """What a withdrawn application takes back (the scheme decides: SAJ cancels the unpaid
    lines of the season its registration was billed for)."""
    schemes.get(str(record["scheme"])).at_withdrawal(con, record, actor=actor)


def _new_members(con: duckdb.DuckDBPyConnection, cfg: Config, actor: str, day: dt.date) -> None:
    """New registrations approved at the last level become members with fresh numbers."""
    for scheme in schemes.CODES:
        prefix = str(cfg.value(f"{scheme}.member_no_prefix", on=day))
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE new_numbers AS
            WITH last AS (
                SELECT coalesce(max(TRY_CAST(substr(member_no, length($prefix) + 1) AS BIGINT)), 0)
                           AS n,
                       coalesce(max(length(member_no)) - length($prefix), 7) AS width
                FROM members WHERE starts_with(member_no, $prefix)
            )
            SELECT a.application_id,
                   $prefix || lpad((last.n + row_number() OVER (ORDER BY a.submitted_at,
                                    a.application_ref))::VARCHAR, last.width::INTEGER, '0')
                       AS member_no
            FROM approval_moves v JOIN applications a USING (application_id), last
            WHERE v.next_level IS NULL AND a.kind = 'new_registration' AND a.scheme = $scheme
            """,
            {"prefix": prefix, "scheme": scheme},
        )
        con.execute(
            """
            INSERT INTO members (member_no, org_code, family_name, given_name, family_name_kana,
                                 given_name_kana, birth_date, email, phone, postal_code,
                                 prefecture, address, category, status, joined_on, name_key,
                                 kana_key, phone_key)
            SELECT n.member_no, a.org_code, a.family_name, a.given_name, a.family_name_kana,
                   a.given_name_kana, a.birth_date, a.email, a.phone, a.postal_code,
                   a.prefecture, a.address, a.category, 'active', $day::DATE,
                   a.family_name || a.given_name, a.family_name_kana || a.given_name_kana,
                   regexp_replace(coalesce(a.phone, ''), '\\D', '', 'g')
            FROM new_numbers n JOIN applications a USING (application_id)
            """,
            {"day": day},
        )
        con.execute(
            """
            INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                                   new_value, reason)
            SELECT $actor, 'insert', 'members', n.member_no, n.member_no, 'member_no',
                   n.member_no, '新規入会 ' || a.application_ref
            FROM new_numbers n JOIN applications a USING (application_id)
            """,
            {"actor": actor},
        )
        con.execute(
            "UPDATE applications AS a SET member_no = n.member_no FROM new_numbers n"
            " WHERE a.application_id = n.application_id"
        )


def _reactivate(con: duckdb.DuckDBPyConnection, actor: str) -> None:
    """A withdrawn member whose season registration is approved is a member again."""
    back = """
        FROM approval_moves v JOIN applications a USING (application_id)
        JOIN members m ON m.member_no = a.member_no
        WHERE v.next_level IS NULL AND a.kind = 'season_registration' AND m.status = 'withdrawn'
    """
    con.execute(
        f"""
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                               old_value, new_value, reason)
        SELECT $actor, 'update', 'members', m.member_no, m.member_no, 'status', 'withdrawn',
               'active', '会員登録 ' || a.application_ref
        {back}
        """,
        {"actor": actor},
    )
    con.execute(
        f"UPDATE members SET status = 'active', updated_at = current_timestamp"
        f" WHERE member_no IN (SELECT m.member_no {back})"
    )


def _transfers(con: duckdb.DuckDBPyConnection, actor: str) -> None:
    """A transfer approved by the destination moves the member; qualifications follow."""
    moved = """
        FROM approval_moves v JOIN applications a USING (application_id)
        JOIN members m ON m.member_no = a.member_no
        WHERE v.next_level IS NULL AND a.kind = 'transfer'
    """
    con.execute(
        f"""
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                               old_value, new_value, reason)
        SELECT $actor, 'update', 'members', m.member_no, m.member_no, 'org_code',
               m.org_code, a.target_org_code, '移籍 ' || a.application_ref
        {moved}
        """,
        {"actor": actor},
    )
    con.execute(
        f"""
        UPDATE members AS t SET org_code = s.target_org_code, updated_at = current_timestamp
        FROM (SELECT a.member_no, a.target_org_code {moved}) AS s
        WHERE t.member_no = s.member_no
        """
    )


def _qualification_changes(con: duckdb.DuckDBPyConnection, actor: str) -> None:
    """Returns (the scheme's returned status: erased for SAJ; irreversible) and suspensions at
    the final approval."""
    returned = pl.DataFrame(
        [(s.code, s.returned_status) for s in schemes.every()],
        schema={"scheme": pl.String, "returned_status": pl.String},
        orient="row",
    )
    change = """
        SELECT q.qualification_id, q.member_no, q.status AS old_status, a.application_ref,
               CASE WHEN a.kind = 'suspension' THEN 'suspended'
                    ELSE r.returned_status END AS new_status,
               CASE WHEN a.kind = 'suspension' THEN '休止 ' ELSE '資格返上 ' END
                   || a.application_ref AS why
        FROM approval_moves v JOIN applications a USING (application_id)
        JOIN qualifications q
          ON q.member_no = a.member_no AND q.scheme = a.scheme
         AND q.qualification = a.qualification
        JOIN scheme_returns r ON r.scheme = a.scheme
        WHERE v.next_level IS NULL AND a.kind IN ('qualification_return', 'suspension')
          AND list_contains($held, q.status)
    """
    with db.registered(con, scheme_returns=returned):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE qualification_changes AS {change}",
            {"held": list(HELD_STATUSES)},
        )
    con.execute(
        """
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                               old_value, new_value, reason)
        SELECT $actor, 'update', 'qualifications', qualification_id::VARCHAR, member_no,
               'status', old_status, new_status, why
        FROM qualification_changes
        """,
        {"actor": actor},
    )
    con.execute(
        """
        UPDATE qualifications AS q SET status = c.new_status, updated_at = current_timestamp
        FROM qualification_changes c WHERE q.qualification_id = c.qualification_id
        """
    )
