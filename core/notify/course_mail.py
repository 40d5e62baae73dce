"""The mail of course reservations (seed 004: 「受付した際は、講習の申込予約を受付したことのメール
を送信します」), written in the transaction that takes or moves the reservation.

The courses stage what happened to reservations as rows of (event, enrolment_id, member_no,
course_code) — the rows they write to `course_events` — and call `write` in the same
transaction: core.courses.enrolment.admit for the reservations it takes (a seat or a waitlist
place; not a transfer, which staff tell the member themselves) and core.courses.seats.promote
for the seats it gives from the waitlist. `reserved` and `waitlisted` mail 「講習予約の受付」 (the waitlist place in words),
`promoted` mails 「キャンセル待ちの繰り上がり」; any other event sends nothing. Which schemes mail
is data: a scheme without the event's template stays silent. A reservation's event is mailed
once: calling again with the same rows writes nothing (the outbox's keys).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import config
from core.notify import outbox
from core.notify import templates as mail_templates
from core.store import db

MAILED = {"reserved": "reservation_received", "waitlisted": "reservation_received",
          "promoted": "waitlist_promoted"}  # fmt: skip
SEATED = "受付済（席を確保しました）"


def write(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    *,
    actor: str,
    on: dt.date,
    batch_id: str | None = None,
    cfg: config.Config | None = None,
    mail: mail_templates.Mail | None = None,
) -> int:
    """Write the mail of the reservations' events in `relation` (a code-named relation with
    event, enrolment_id, member_no, course_code); returns how many rows. Runs in the
    caller's transaction, after the reservations are written (a waitlisted one's place is
    counted among the course's waitlist as it stands then). Schemes without the templates
    cost nothing more than this look: their rows are left out before any member is read."""
    settings = cfg or config.current()
    found = mail or mail_templates.load()
    events = list(dict.fromkeys(MAILED.values()))
    chosen = mail_templates.frame(found, settings, on).filter(pl.col("event").is_in(events))
    mailing = chosen["scheme"].unique().sort().to_list()
    if not mailing:
        return 0
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE course_mail AS
        SELECT r.event::VARCHAR AS event, r.member_no::VARCHAR AS member_no, c.scheme,
               c.title AS course_title, c.course_code,
               {outbox.date_sql("c.held_on")} AS held_on,
               CASE WHEN r.event = 'waitlisted'
                    THEN 'キャンセル待ち（' || p.position::VARCHAR || '番目）' ELSE $seated END
                   AS status,
               p.position::VARCHAR AS position,
               'course:' || r.enrolment_id::VARCHAR || ':' || r.event AS dedupe_key
        FROM "{relation}" r
        JOIN courses c ON c.course_code = r.course_code
        LEFT JOIN (
            SELECT enrolment_id,
                   row_number() OVER (PARTITION BY course_code
                                      ORDER BY reserved_at, enrolment_id) AS position
            FROM enrolments WHERE status = 'waitlisted'
              AND course_code IN (SELECT course_code FROM "{relation}")
        ) p ON p.enrolment_id = r.enrolment_id
        WHERE r.event IN (SELECT unnest($events::VARCHAR[]))
          AND c.scheme IN (SELECT unnest($schemes::VARCHAR[]))
        """,
        {"seated": SEATED, "events": list(MAILED), "schemes": mailing},
    )
    written = 0
    for event in events:
        codes = [code for code, mailed in MAILED.items() if mailed == event]
        con.execute(
            "CREATE OR REPLACE TEMP TABLE course_mail_event AS"
            " SELECT member_no, scheme, course_title, course_code, held_on, status, position,"
            " dedupe_key FROM course_mail WHERE event IN (SELECT unnest($codes::VARCHAR[]))",
            {"codes": codes},
        )
        if db.one(con, "SELECT count(*) FROM course_mail_event") == (0,):
            continue
        written += outbox.write(
            con, "course_mail_event", event=event, actor=actor, on=on, batch_id=batch_id,
            cfg=settings, mail=found,
        )  # fmt: skip
    return written
