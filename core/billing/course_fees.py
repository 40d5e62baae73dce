"""Course fees (seed 004): a reservation is billed once its signed application form has arrived.

Each reservation whose form arrived by the run's date gets a fee line of hours × the scheme's
fee per hour (as configured on the day the form arrived) and, where the course has one, a
materials line (教材費), for schemes whose courses are billed by the hour (core.schemes:
`course_fees`). Lines are issued on the submission date and due the scheme's days later, so a
member's lines of one submission date form one invoice (`documents.issue(..., issued_on=day)`).
A cancelled reservation is not billed; a billed one is never billed again. Set-based: one
statement per step for every reservation at once.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import schemes
from core.billing import lines as billing_lines
from core.config import Config
from core.store import audit, db


def _prices(con: duckdb.DuckDBPyConnection, cfg: Config) -> pl.DataFrame:
    """Per scheme and form day of the waiting reservations: the items, the fee per hour, the
    days to pay; and per scheme and course day, the 年度 the lines belong to."""
    rows = []
    for scheme, form_day, held_on in con.execute(
        "SELECT DISTINCT c.scheme, e.form_received_on, c.held_on FROM enrolments e"
        " JOIN courses c USING (course_code)"
        " WHERE e.billing_id IS NULL AND e.form_received_on IS NOT NULL"
    ).fetchall():
        owner = schemes.get(scheme)
        terms = owner.course_fees(cfg, form_day)
        if terms is None or owner.course_items is None:
            continue
        hour_item, materials_item = owner.course_items
        rows.append((scheme, form_day, held_on, hour_item, materials_item, *terms,
                     owner.year(cfg, held_on)))  # fmt: skip
    return pl.DataFrame(
        rows,
        schema={"scheme": pl.String, "day": pl.Date, "held_on": pl.Date, "hour_item": pl.String,
                "materials_item": pl.String, "per_hour": pl.Int32, "due_days": pl.Int32,
                "season": pl.Int32},
        orient="row",
    )  # fmt: skip


def bill_courses(
    con: duckdb.DuckDBPyConnection, *, on: dt.date, actor: str, cfg: Config
) -> dict[str, int]:
    """Bill every reservation whose form arrived by `on`; returns lines written per item."""
    batch_id = audit.new_batch_id()
    with db.transaction(con):
        with db.registered(con, course_prices=_prices(con, cfg)):
            con.execute(
                """
                CREATE OR REPLACE TEMP TABLE course_lines AS
                SELECT e.member_no, c.scheme, x.item, x.label, x.amount,
                       e.form_received_on AS issued_on, e.form_received_on + p.due_days AS due_on,
                       NULL::BIGINT AS qualification_id, p.season, e.enrolment_id,
                       x.item = p.hour_item AS hours_line
                FROM enrolments e
                JOIN courses c USING (course_code)
                JOIN course_prices p
                  ON p.scheme = c.scheme AND p.day = e.form_received_on AND p.held_on = c.held_on
                CROSS JOIN LATERAL (
                    SELECT p.hour_item AS item, c.hours * p.per_hour AS amount,
                           '講習「' || c.title || '」' || c.hours || '時間' AS label
                    UNION ALL
                    SELECT p.materials_item, c.materials_fee, '講習「' || c.title || '」教材費'
                ) x
                WHERE e.status = 'reserved' AND e.billing_id IS NULL
                  AND e.form_received_on <= $on AND x.amount > 0
                """,
                {"on": on},
            )
        written = billing_lines.write(
            con,
            "course_lines",
            cfg=cfg,
            actor=actor,
            reason=f"講習料の請求（{on.isoformat()}までに届いた申込書）",
            batch_id=batch_id,
            on=on,
        )
        # each reservation points at its fee line (billed once) and its materials line
        con.execute(
            f"""
            UPDATE enrolments AS e SET billing_id = w.billing_id
            FROM "{written}" w
            WHERE e.enrolment_id = w.enrolment_id AND w.hours_line
            """
        )
        con.execute(
            f"""
            UPDATE enrolments AS e SET materials_billing_id = w.billing_id
            FROM "{written}" w
            WHERE e.enrolment_id = w.enrolment_id AND NOT w.hours_line
            """
        )
        counts = con.execute(
            "SELECT item, count(*) FROM course_lines GROUP BY item ORDER BY item"
        ).fetchall()
    return {item: int(n) for item, n in counts}
