"""Writing outbox rows: set-based, inside the transaction of the event they tell about.

A producer (the renewal batch, billing, payments, approvals, reminders) stages a relation
with `member_no`, `scheme` and the placeholder values of its event as text (any of
core.notify.events.PLACEHOLDERS; `dedupe_key` for reminders), and calls `write`. Each row
gets the scheme's template for the event rendered in SQL, the member's address, a
Message-ID made now (so a delivery retried after a crash is the same message) and a status:
`pending`, or `suppressed` with the reason when there is nobody to send to (no address, an
address a server refused for good, an erased member). A scheme without a template for the
event writes nothing: which events a body mails is data (data/templates/<scheme>.toml).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import config
from core.notify import templates
from core.notify.events import EVENTS, PLACEHOLDERS
from core.store import db

# Date and money as mail prints them, for the SQL of the producers
DATE = "strftime({}, '%Y年%-m月%-d日')"
YEN = "format('{{:,}}', {}) || '円'"

SUPPRESSED = {
    "no_address": "メールアドレスの登録がありません",
    "failing": "このアドレスは配信不能として記録されています",
    "erased": "抹消された会員です",
}


def date_sql(column: str) -> str:
    return DATE.format(column)


def yen_sql(column: str) -> str:
    return YEN.format(column)


def mail_templates_placeholders(chosen: pl.DataFrame) -> tuple[str, ...]:
    """The placeholders the chosen templates use: only those are replaced (a template uses a
    few of the thirty)."""
    text = "".join(chosen["subject"].to_list() + chosen["body"].to_list())
    return tuple(p for p in PLACEHOLDERS if "{" + p + "}" in text)


def write(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    *,
    event: str,
    actor: str,
    on: dt.date,
    batch_id: str | None = None,
    cfg: config.Config | None = None,
    mail: templates.Mail | None = None,
) -> int:
    """Write one outbox row per row of `relation` (code-named) whose scheme mails `event`;
    returns how many. A row whose `dedupe_key` is already in the outbox is skipped (a
    reminder is never sent twice). Runs in the caller's transaction."""
    if event not in EVENTS:
        raise ValueError(f"unknown mail event {event!r}")
    settings = cfg or config.current()
    found = mail or templates.load()
    chosen = templates.frame(found, settings, on).filter(pl.col("event") == event)
    if chosen.is_empty():
        return 0
    columns = {c.lower() for c in db.frame(con, f'SELECT * FROM "{relation}" LIMIT 0').columns}
    given = [p for p in PLACEHOLDERS if p in columns and p not in ("name", "member_no")]
    values = ", ".join(
        f's."{p}"::VARCHAR AS "{p}"' if p in given else f'NULL::VARCHAR AS "{p}"'
        for p in PLACEHOLDERS
        if p not in ("name", "member_no", "body_name", "scheme_name")
    )
    chosen = chosen.with_columns(domain=pl.col("sender").str.extract(r"@([^>]+)>", 1))
    dedupe = "s.dedupe_key::VARCHAR" if "dedupe_key" in columns else "NULL::VARCHAR"
    used = mail_templates_placeholders(chosen)
    with db.registered(con, mail_templates=chosen):
        # the values only; the templates' text joins in again when the rows are rendered
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE outbox_values AS
            SELECT s.member_no::VARCHAR AS member_no, s.scheme::VARCHAR AS scheme,
                   {dedupe} AS dedupe_key,
                   coalesce(nullif(trim(concat_ws(' ', m.family_name, m.given_name)), ''),
                            s.member_no::VARCHAR) AS name,
                   {values},
                   nullif(trim(m.email), '') AS email, m.status AS member_status,
                   f.member_no IS NOT NULL AS failing
            FROM "{relation}" s
            SEMI JOIN mail_templates t ON t.scheme = s.scheme
            LEFT JOIN members m ON m.member_no = s.member_no
            LEFT JOIN (SELECT DISTINCT member_no, email FROM mail_failures) f
              ON f.member_no = s.member_no AND f.email = m.email
            """
        )
        if "dedupe_key" in columns:
            con.execute(
                "DELETE FROM outbox_values v"
                " WHERE v.dedupe_key IN (SELECT dedupe_key FROM outbox_keys)"
            )
            # a second writer of the same keys at the same moment conflicts here, rolls back
            con.execute(
                "INSERT INTO outbox_keys (dedupe_key) SELECT dedupe_key FROM outbox_values"
                " WHERE dedupe_key IS NOT NULL"
            )
        con.execute(
            f"""
            INSERT INTO outbox (event, member_no, scheme, recipient, sender, subject, body,
                                status, status_reason, message_id, dedupe_key, created_by,
                                batch_id)
            SELECT $event, v.member_no, v.scheme, v.email, t.sender,
                   {templates.render_sql("t.subject", "v", used)},
                   {templates.render_sql("t.body", "v", used)},
                   CASE WHEN v.member_status = 'erased' OR v.email IS NULL OR v.failing
                        THEN 'suppressed' ELSE 'pending' END,
                   CASE WHEN v.member_status = 'erased' THEN $erased
                        WHEN v.email IS NULL THEN $no_address
                        WHEN v.failing THEN $failing END,
                   '<' || uuid()::VARCHAR || '@' || t.domain || '>',
                   v.dedupe_key, $actor, $batch
            FROM outbox_values v JOIN mail_templates t ON t.scheme = v.scheme
            """,
            {"event": event, "actor": actor, "batch": batch_id, **SUPPRESSED},
        )
    counted = db.one(con, "SELECT count(*) FROM outbox_values")
    return int(counted[0]) if counted else 0
