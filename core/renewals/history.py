"""What each renewal run decided, kept beside its audit rows for statistics and the forecast.

The audit trail says which fields a run changed; the statistics also need what the batch
*decided* (a renewal of an already renewed qualification changes no status), where the member
stood when it ran (organisation, prefecture, age band: an erased member's birth date is gone
the moment the run ends), and, for the decisions that end a qualification, which requirements
were unmet — the requirements relation at that run. `record` writes both, set-based, in the
run's transaction, before the run's changes are applied.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from core.store import db

ENDING = ("lapse", "invalidate", "erase")  # decisions whose unmet requirements are kept


def record(
    con: duckdb.DuckDBPyConnection,
    rows: pl.DataFrame,
    decided: pl.DataFrame,
    as_of: dt.date,
    batch_id: str,
) -> int:
    """Write one renewal_outcomes row per decision other than `none`, and one renewal_unmet row
    per unmet requirement of a lapse, invalidation or erasure; returns the outcomes written."""
    if decided.is_empty():
        return 0
    changes = decided.filter(pl.col("decision") != "none").select(
        "qualification_id", "member_no", "scheme", "qualification", "decision", "status",
        "valid_until", "new_valid_until", pl.col("fee_amount").cast(pl.Int32),
    )  # fmt: skip
    if changes.is_empty():
        return 0
    unmet = rows.filter(pl.col("decision").is_in(ENDING) & ~pl.col("met").fill_null(False)).select(
        "qualification_id", "member_no", "scheme", "qualification", "decision", "code", "label",
        "required", "actual", "period_from", "period_to",
    )  # fmt: skip
    with db.registered(con, run_changes=changes, run_unmet=unmet):
        con.execute(
            """
            INSERT INTO renewal_outcomes (batch_id, as_of, qualification_id, member_no, scheme,
                   qualification, decision, old_status, valid_until, new_valid_until, fee_amount,
                   org_code, prefecture, age_band, acquired_on)
            SELECT $batch, $as_of, c.qualification_id, c.member_no, c.scheme, c.qualification,
                   c.decision, c.status, c.valid_until, c.new_valid_until, c.fee_amount,
                   m.org_code, coalesce(o.prefecture, m.prefecture),
                   (date_sub('year', m.birth_date, $as_of) // 5) * 5, q.acquired_on
            FROM run_changes c
            LEFT JOIN members m USING (member_no)
            LEFT JOIN organizations o ON o.org_code = m.org_code
            LEFT JOIN qualifications q ON q.qualification_id = c.qualification_id
            """,
            {"batch": batch_id, "as_of": as_of},
        )
        con.execute(
            "INSERT INTO renewal_unmet SELECT $batch, * FROM run_unmet", {"batch": batch_id}
        )
    return changes.height
