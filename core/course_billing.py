"""Course fees (seed 004): a reservation is billed once its signed application form has arrived.

Each reservation whose form arrived by the run's date gets a fee line of hours × the scheme's
`fee_per_hour` (as configured on the day the form arrived) and, where the course has one, a
materials line (教材費). Lines are issued on the submission date and due
`teacher.payment_due_days` later, so a member's lines of one submission date form one invoice
(`documents.issue(..., issued_on=day)`). A cancelled reservation is not billed; a billed one is
never billed again. Set-based: one statement per step for every reservation at once.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import audit, billing, db
from core.config import Config

SCHEMES = ("teacher",)  # schemes whose courses are paid per hour


def _prices(con: duckdb.DuckDBPyConnection, cfg: Config) -> pl.DataFrame:
    """(scheme, form day, fee per hour, payment days) for every day a waiting form arrived."""
    days = [
        (scheme, day)
        for scheme, day in con.execute(
            "SELECT DISTINCT c.scheme, e.form_received_on FROM enrolments e"
            " JOIN courses c USING (course_code)"
            " WHERE e.billing_id IS NULL AND e.form_received_on IS NOT NULL"
        ).fetchall()
        if scheme in SCHEMES
    ]
    return pl.DataFrame(
        [
            (scheme, day, int(cfg.value(f"{scheme}.fee_per_hour", on=day)),
             int(cfg.value(f"{scheme}.payment_due_days", on=day)))
            for scheme, day in days
        ],
        schema={"scheme": pl.String, "day": pl.Date, "per_hour": pl.Int32, "due_days": pl.Int32},
        orient="row",
    )  # fmt: skip


def bill_courses(
    con: duckdb.DuckDBPyConnection, *, on: dt.date, actor: str, cfg: Config
) -> dict[str, int]:
    """Bill every reservation whose form arrived by `on`; returns lines written per item."""
    batch_id = audit.new_batch_id()
    with db.transaction(con):
        prices = _prices(con, cfg)
        with db.registered(con, course_prices=prices, item_tax=billing.tax_classes(on, cfg)):
            con.execute(
                """
                CREATE OR REPLACE TEMP TABLE course_lines AS
                SELECT nextval('billing_id_seq') AS billing_id, e.enrolment_id, e.member_no,
                       c.scheme, e.form_received_on AS issued_on,
                       e.form_received_on + p.due_days AS due_on,
                       CASE WHEN month(c.held_on) >= 4 THEN year(c.held_on)
                            ELSE year(c.held_on) - 1 END AS season,
                       x.item, x.amount,
                       CASE WHEN x.item = 'teacher_course'
                            THEN '講習「' || c.title || '」' || c.hours || '時間'
                            ELSE '講習「' || c.title || '」教材費' END AS label
                FROM enrolments e
                JOIN courses c USING (course_code)
                JOIN course_prices p ON p.scheme = c.scheme AND p.day = e.form_received_on
                CROSS JOIN LATERAL (
                    SELECT 'teacher_course' AS item, c.hours * p.per_hour AS amount
                    UNION ALL SELECT 'teacher_materials', c.materials_fee
                ) x
                WHERE e.status = 'reserved' AND e.billing_id IS NULL
                  AND e.form_received_on <= $on AND x.amount > 0
                """,
                {"on": on},
            )
            con.execute(
                """
                INSERT INTO billing (billing_id, member_no, scheme, item, description, amount,
                                     handling_fee, tax_class, issued_on, due_on, status, season)
                SELECT l.billing_id, l.member_no, l.scheme, l.item,
                       l.season || '年度 ' || l.label || ' ' || format('{:,}', l.amount) || '円',
                       l.amount, 0, coalesce(t.tax_class, 'out_of_scope'), l.issued_on,
                       l.due_on, 'open', l.season
                FROM course_lines l
                LEFT JOIN item_tax t ON t.scheme = l.scheme AND t.item = l.item
                """
            )
        # each reservation points at its fee line: billed once
        con.execute(
            """
            UPDATE enrolments AS e SET billing_id = l.billing_id
            FROM course_lines l
            WHERE e.enrolment_id = l.enrolment_id AND l.item = 'teacher_course'
            """
        )
        audit.record_rows(
            con,
            actor=actor,
            action="insert",
            table="billing",
            relation="course_lines",
            key_column="billing_id",
            member_column="member_no",
            reason=f"講習料の請求（{on.isoformat()}までに届いた申込書）",
            batch_id=batch_id,
        )
        counts = con.execute(
            "SELECT item, count(*) FROM course_lines GROUP BY item ORDER BY item"
        ).fetchall()
    return {item: int(n) for item, n in counts}
