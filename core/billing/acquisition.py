"""Fees a newly acquired qualification opens (JPTEC: the new instructor's 3,000 yen).

A scheme says which of its qualifications cost a fee to acquire (core.schemes:
`acquisition_fees`). A qualification entered with an acquisition day in the current 年度 or
later is new: its fee is billed on the day it is entered, for the 年度 it was acquired in,
due as the scheme's configuration says. An older acquisition day is a record brought over
from another system (its fee belongs to that system), and opens nothing.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core import schemes
from core.billing import lines as billing_lines
from core.config import Config
from core.store import db


def open_fees(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    *,
    cfg: Config,
    actor: str,
    batch_id: str,
    on: dt.date,
) -> int:
    """Bill the acquisition fees of the new qualifications in `relation` (code-named, with
    member_no, scheme, qualification, acquired_on); returns the lines written. Runs in the
    caller's transaction."""
    terms = [
        (s.code, qualification, item, s.items[item], amount, s.year_start(cfg, s.year(cfg, on)),
         billing_lines.due_date(cfg, s.code, on))
        for s in schemes.every()
        for qualification, (item, amount) in s.acquisition_fees(cfg, on).items()
    ]  # fmt: skip
    if not terms:
        return 0
    fees = pl.DataFrame(
        terms,
        schema={"scheme": pl.String, "qualification": pl.String, "item": pl.String,
                "label": pl.String, "amount": pl.Int32, "year_from": pl.Date, "due_on": pl.Date},
        orient="row",
    )  # fmt: skip
    with db.registered(con, acquisition_fees=fees):
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE acquisition_lines AS
            SELECT r.member_no, f.scheme, f.item, f.label, f.amount, $on::DATE AS issued_on,
                   f.due_on, q.qualification_id, year(r.acquired_on)
                       - CASE WHEN r.acquired_on < make_date(year(r.acquired_on),
                                  month(f.year_from), day(f.year_from)) THEN 1 ELSE 0 END
                       AS season
            FROM "{relation}" r
            JOIN acquisition_fees f USING (scheme, qualification)
            JOIN qualifications q USING (member_no, scheme, qualification)
            WHERE r.acquired_on >= f.year_from AND f.amount > 0
            """,
            {"on": on},
        )
    billing_lines.write(
        con, "acquisition_lines", cfg=cfg, actor=actor, reason=None, batch_id=batch_id, on=on
    )
    row = db.one(con, "SELECT count(*) FROM acquisition_lines")
    return int(row[0]) if row else 0
