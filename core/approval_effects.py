"""What an approval changes, applied set-based in the approver's transaction.

At intake (`at_intake`, over temp table approval_ids):
- an information change of contact data needs no approval: applied and approved at once;
- a JPTEC non-card payment request is refused (silently: no mail is sent) unless an instructor
  fee is open and the request carries the exact validity end date.

At each approval (`at_level`, over temp table approval_moves: acted_level, next_level):
- SAJ prefecture approval of a season registration bills the qualified members' prefecture
  difference (県連会費有資格者差額; core.season_billing prices the season's lines);
- the final approval: a new registration becomes a member with a new number; SAJ season
  registrations bill the yearly fee, one qualification fee per category held, insurance and
  competitor registration, and a withdrawn member is active again; a competitor
  registration added later in the season bills its fee; a transfer moves the
  member (and with it the qualifications); a returned qualification is erased (SAJ) or
  returned, irreversibly; a suspension suspends; an accepted non-card request puts the
  handling fee in force on the approval day on the open instructor fee.

Every change writes audit rows with the approver as actor.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from core import billing, season_billing
from core.config import Config

CONTACT = ("email", "phone", "postal_code", "prefecture", "address")
JPTEC_INSTRUCTOR_ITEMS = str(billing.JPTEC_INSTRUCTOR_ITEMS)  # an SQL list of the codes
RETURNABLE = "('active', 'renewed', 'renewal_open', 'suspended')"


def at_intake(con: duckdb.DuckDBPyConnection, *, cfg: Config, actor: str, now: dt.datetime) -> None:
    """Decide at once what needs no approver (see the module docstring)."""
    _information_changes(con, actor=actor, now=now)
    _non_card_requests(con, actor=actor, now=now)


def _close(con: duckdb.DuckDBPyConnection, where: str, status: str, note: str,
           actor: str, now: dt.datetime, reject_reason: str | None = None) -> None:  # fmt: skip
    """Finish the applications of approval_ids matching `where` without an approver."""
    con.execute(
        f"""
        INSERT INTO application_steps (application_id, action, level, org_code, note, actor, acted_at)
        SELECT application_id, $action, NULL, NULL, $note, $actor, $now::TIMESTAMP
        FROM applications a
        WHERE a.application_id IN (SELECT application_id FROM approval_ids) AND {where}
        """,
        {"action": "approved" if status == "approved" else "rejected", "note": note,
         "actor": actor, "now": now},
    )  # fmt: skip
    con.execute(
        f"""
        UPDATE applications AS a SET status = $status, level = NULL, level_org_code = NULL,
               decided_at = $now::TIMESTAMP, reject_reason = $reject_reason,
               version = a.version + 1
        WHERE a.application_id IN (SELECT application_id FROM approval_ids) AND {where}
        """,
        {"status": status, "now": now, "reject_reason": reject_reason},
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
    _close(con, where, "approved", "連絡先の変更は承認不要のため即時反映", actor, now)


def _non_card_requests(con: duckdb.DuckDBPyConnection, *, actor: str, now: dt.datetime) -> None:
    # valid only while an instructor fee is open and with the exact validity end date
    valid = f"""
        EXISTS (SELECT 1 FROM billing b
                WHERE b.member_no = a.member_no AND b.scheme = 'jptec' AND b.status = 'open'
                  AND b.item IN {JPTEC_INSTRUCTOR_ITEMS})
        AND EXISTS (SELECT 1 FROM qualifications q
                    WHERE q.member_no = a.member_no AND q.scheme = 'jptec'
                      AND q.qualification = 'instructor'
                      AND q.valid_until = a.valid_until_claimed)
    """
    where = f"a.kind = 'non_card_payment' AND a.status = 'pending' AND NOT ({valid})"
    _close(
        con,
        where,
        "rejected",
        "受付不可（会費が未納でないか、有効期限の日付が一致しません）。メールは送りません。",
        actor,
        now,
        reject_reason="会費が未納でないか、有効期限の日付が一致しません",
    )


def at_level(con: duckdb.DuckDBPyConnection, *, cfg: Config, actor: str, now: dt.datetime) -> None:
    """The effects of the approvals in approval_moves (see the module docstring)."""
    day = now.date()
    _saj_lines(con, cfg, "v.acted_level = 'prefecture'", "prefecture", day, actor)
    _new_members(con, cfg, actor, day)
    _saj_lines(con, cfg, "v.next_level IS NULL", "national", day, actor)
    _saj_lines(con, cfg, "v.next_level IS NULL", "competitor", day, actor)
    _reactivate(con, actor)
    _transfers(con, actor)
    _qualification_changes(con, actor)
    _non_card_fees(con, cfg, actor, day)


def _saj_lines(con: duckdb.DuckDBPyConnection, cfg: Config, where: str, level: str,
               day: dt.date, actor: str) -> None:  # fmt: skip
    """The SAJ season lines due at `level` for the registrations just approved there."""
    season_billing.saj_lines(
        con,
        cfg,
        f"""
        SELECT a.member_no, a.season, a.insurance_plan, a.competitor,
               coalesce(m.category, 'general') AS category
        FROM approval_moves v
        JOIN applications a USING (application_id)
        JOIN members m ON m.member_no = a.member_no
        WHERE a.scheme = 'saj' AND {where}
          AND a.kind IN {
            "('competitor_registration')"
            if level == "competitor"
            else "('season_registration', 'new_registration')"
        }
        """,
        level=level,
        issued_on=day,
        actor=actor,
    )


def _new_members(con: duckdb.DuckDBPyConnection, cfg: Config, actor: str, day: dt.date) -> None:
    """New registrations approved at the last level become members with fresh numbers."""
    for scheme in ("jptec", "itc", "jspo", "saj", "teacher"):
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
    """Returns (erased for SAJ, irreversible) and suspensions at the final approval."""
    change = f"""
        SELECT q.qualification_id, q.member_no, q.status AS old_status, a.application_ref,
               CASE WHEN a.kind = 'suspension' THEN 'suspended'
                    WHEN a.scheme = 'saj' THEN 'erased' ELSE 'returned' END AS new_status,
               CASE WHEN a.kind = 'suspension' THEN '休止 ' ELSE '資格返上 ' END
                   || a.application_ref AS why
        FROM approval_moves v JOIN applications a USING (application_id)
        JOIN qualifications q
          ON q.member_no = a.member_no AND q.scheme = a.scheme
         AND q.qualification = a.qualification
        WHERE v.next_level IS NULL AND a.kind IN ('qualification_return', 'suspension')
          AND q.status IN {RETURNABLE}
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE qualification_changes AS {change}")
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


def _non_card_fees(con: duckdb.DuckDBPyConnection, cfg: Config, actor: str, day: dt.date) -> None:
    """An accepted non-card request: the handling fee in force that day (0 before 2023-10-01,
    700 from then) on the member's latest open instructor fee line. Set, not added."""
    fee = int(cfg.value("jptec.non_card_handling_fee", on=day))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE non_card_lines AS
        SELECT b.member_no, arg_max(b.billing_id, (b.issued_on, b.billing_id)) AS billing_id,
               arg_max(b.handling_fee, (b.issued_on, b.billing_id)) AS old_fee,
               any_value(a.application_ref) AS application_ref
        FROM approval_moves v JOIN applications a USING (application_id)
        JOIN billing b ON b.member_no = a.member_no AND b.scheme = 'jptec'
         AND b.status = 'open' AND b.item IN {JPTEC_INSTRUCTOR_ITEMS}
        WHERE v.next_level IS NULL AND a.kind = 'non_card_payment'
        GROUP BY b.member_no
        """
    )
    con.execute(
        """
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                               old_value, new_value, reason)
        SELECT $actor, 'update', 'billing', billing_id::VARCHAR, member_no, 'handling_fee',
               old_fee::VARCHAR, $fee::VARCHAR, 'カード以外の納入 ' || application_ref
        FROM non_card_lines WHERE old_fee IS DISTINCT FROM $fee
        """,
        {"actor": actor, "fee": fee},
    )
    con.execute(
        """
        UPDATE billing SET handling_fee = $fee, updated_at = current_timestamp
        WHERE billing_id IN (SELECT billing_id FROM non_card_lines)
        """,
        {"fee": fee},
    )


def withdrawn(con: duckdb.DuckDBPyConnection, record: dict[str, object], *, actor: str) -> None:
    """A withdrawn SAJ registration: its season's unpaid lines are cancelled (audited) unless
    another registration of the member for that season is still live."""
    if record["scheme"] != "saj" or record["kind"] not in ("season_registration",
                                                            "new_registration"):  # fmt: skip
        return
    params = {"member": record["member_no"], "season": record["season"], "actor": actor,
              "why": f"申請取下げ {record['application_ref']}"}  # fmt: skip
    lines = """
        FROM billing b
        WHERE b.member_no = $member AND b.scheme = 'saj' AND b.season = $season
          AND b.status = 'open'
          AND NOT EXISTS (SELECT 1 FROM applications a
                          WHERE a.member_no = $member AND a.scheme = 'saj' AND a.season = $season
                            AND a.kind IN ('season_registration', 'new_registration')
                            AND a.status IN ('pending', 'sent_back', 'approved'))
    """
    con.execute(
        f"""
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                               old_value, new_value, reason)
        SELECT $actor, 'update', 'billing', b.billing_id::VARCHAR, b.member_no, 'status',
               'open', 'cancelled', $why
        {lines}
        """,
        params,
    )
    con.execute(
        f"""
        UPDATE billing SET status = 'cancelled', updated_at = current_timestamp
        WHERE billing_id IN (SELECT b.billing_id {lines})
        """,
        {k: v for k, v in params.items() if k in ("member", "season")},
    )
