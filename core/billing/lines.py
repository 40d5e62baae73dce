"""Writing billing lines: one way for the renewal batch, season billing and course fees.

A caller stages the lines it owes as a relation with the columns of `STAGED` and calls
`write`: each line gets its id, its description (「2026年度 インストラクター更新会費 2,000円」),
its tax class from the scheme's configuration (`<scheme>.tax_classes`; an item not listed is
out of scope, 不課税) and one audit row, and each member billed one mail in the outbox (the
lines of the call together: 請求書の発行, or the event the caller names), all in the caller's
transaction.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
from dateutil.relativedelta import relativedelta

from core import config, schemes
from core.store import db

# What a caller stages: who, which scheme and item, what the invoice calls it, how much, when
# it is issued and due, the qualification it is for (or NULL) and the 年度 it belongs to.
STAGED = ("member_no", "scheme", "item", "label", "amount", "issued_on", "due_on",
          "qualification_id", "season")  # fmt: skip


def tax_classes(on: dt.date, cfg: config.Config | None = None) -> pl.DataFrame:
    """(scheme, item, tax_class) as configured on `on` for every scheme."""
    settings = cfg or config.current()
    rows = [
        (scheme, item, tax)
        for scheme in schemes.CODES
        for item, tax in settings.value(f"{scheme}.tax_classes", on=on).items()
    ]
    return pl.DataFrame(
        rows, schema={"scheme": pl.String, "item": pl.String, "tax_class": pl.String}, orient="row"
    )


def due_date(cfg: config.Config, scheme: str, issued_on: dt.date) -> dt.date:
    """When a fee issued on a day is due: `<scheme>.fee_due_months` months later (the month's
    last day where the later month is shorter)."""
    months = int(cfg.value(f"{scheme}.fee_due_months", on=issued_on))
    due: dt.date = issued_on + relativedelta(months=months)
    return due


def write(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    *,
    cfg: config.Config,
    actor: str,
    reason: str | None,
    batch_id: str | None,
    on: dt.date,
    mail_event: str | None = "invoice_issued",
) -> str:
    """Insert the lines of `relation` (a code-named relation with the STAGED columns), with a
    tax class and an audit row each (reason: `reason`, else the line's description). Returns
    the name of a temp table of what was written: billing_id and the staged row's columns
    (any others the caller staged too). Runs in the caller's transaction."""
    with db.registered(con, item_tax=tax_classes(on, cfg)):
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE staged_lines AS
            SELECT row_number() OVER (ORDER BY s.member_no, s.item, s.qualification_id, s.label,
                                               s.issued_on) AS n,
                   s.*,
                   s.season || '年度 ' || s.label || ' ' || format('{{:,}}', s.amount) || '円'
                       AS description,
                   coalesce(t.tax_class, 'out_of_scope') AS tax_class
            FROM "{relation}" s
            LEFT JOIN item_tax t ON t.scheme = s.scheme AND t.item = s.item
            """
        )
    # ids from the sequence, handed out in the lines' order (a sequence is not transactional:
    # another writer may take numbers in between, so they are sorted rather than assumed)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE written_lines AS
        WITH ids AS (
            SELECT row_number() OVER (ORDER BY id) AS n, id
            FROM (SELECT nextval('billing_id_seq') AS id FROM staged_lines)
        )
        SELECT ids.id AS billing_id, s.* FROM staged_lines s JOIN ids USING (n)
        """
    )
    con.execute(
        """
        INSERT INTO billing (billing_id, member_no, scheme, item, description, amount,
                             handling_fee, tax_class, issued_on, due_on, status,
                             qualification_id, season)
        SELECT billing_id, member_no, scheme, item, description, amount, 0, tax_class,
               issued_on, due_on, 'open', qualification_id, season
        FROM written_lines ORDER BY billing_id
        """
    )
    con.execute(
        """
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field, new_value,
                               reason, batch_id)
        SELECT $actor, 'insert', 'billing', billing_id::VARCHAR, member_no, 'item',
               item || ' ' || amount::VARCHAR, coalesce($reason, description), $batch
        FROM written_lines
        """,
        {"actor": actor, "reason": reason, "batch": batch_id},
    )
    if mail_event:
        _mail(con, mail_event, cfg=cfg, actor=actor, batch_id=batch_id, on=on)
    return "written_lines"


def _mail(
    con: duckdb.DuckDBPyConnection,
    event: str,
    *,
    cfg: config.Config,
    actor: str,
    batch_id: str | None,
    on: dt.date,
) -> None:
    """One mail per member and scheme billed: the lines, their total and first due date, and
    the qualification the first line is for (the renewal batch's 「会費納入」)."""
    from core.documents.available import qualification_labels
    from core.notify import outbox

    with db.registered(con, billed_labels=qualification_labels(cfg, on)):
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE billed_mail AS
            WITH billed AS (
                SELECT member_no, scheme,
                       string_agg(description, chr(10) || '　' ORDER BY billing_id) AS items,
                       sum(amount) AS total, min(due_on) AS due, min(season) AS season,
                       arg_min(qualification_id, billing_id) AS qualification_id
                FROM written_lines GROUP BY member_no, scheme
            )
            SELECT b.member_no, b.scheme, b.items, {outbox.yen_sql("b.total")} AS amount,
                   {outbox.date_sql("b.due")} AS due_on, b.season::VARCHAR AS renewal_year,
                   l.label AS qualification, {outbox.date_sql("q.valid_from")} AS valid_from,
                   {outbox.date_sql("q.valid_until")} AS valid_until, q.certificate_no
            FROM billed b
            LEFT JOIN qualifications q ON q.qualification_id = b.qualification_id
            LEFT JOIN billed_labels l ON l.scheme = q.scheme AND l.qualification = q.qualification
            """
        )
    outbox.write(con, "billed_mail", event=event, actor=actor, on=on, batch_id=batch_id, cfg=cfg)
