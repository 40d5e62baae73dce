"""Transfers (振替) out of a course that was not opened: staff move its participants to an open
course of the same scheme and domain in one action. They keep their place by the moment they
reserved: the free seats go to them in that order, the rest wait in that order among the
people already waiting. A participant whose signed form was on file counts as having sent it
on the day of the transfer (the university handles them individually, seed 004), so the new
course is billed and due from that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import polars as pl

from core import config, vocabulary
from core.config import Config
from core.courses import changes, enrolment, seats
from core.store import db


def candidates(con: duckdb.DuckDBPyConnection, code: str, on: dt.date) -> pl.DataFrame:
    """The open courses a participant of `code` may move to: same scheme and domain,
    scheduled, still to come on `on`, with their seats."""
    return db.frame(
        con,
        """
        SELECT t.course_code, t.title, t.held_on, t.capacity,
               count(e.enrolment_id) FILTER (WHERE e.status = 'reserved') AS reserved,
               count(e.enrolment_id) FILTER (WHERE e.status = 'waitlisted') AS waitlisted
        FROM courses s
        JOIN courses t ON t.scheme = s.scheme AND t.domain IS NOT DISTINCT FROM s.domain
         AND t.course_code <> s.course_code AND t.status = 'scheduled' AND t.held_on > $on
        LEFT JOIN enrolments e ON e.course_code = t.course_code
        WHERE s.course_code = $code
        GROUP BY ALL ORDER BY t.held_on, t.course_code
        """,
        {"code": code, "on": on},
    )


def transfer(
    con: duckdb.DuckDBPyConnection,
    enrolment_ids: Sequence[int],
    target: str,
    *,
    on: dt.date,
    actor: str,
    cfg: Config | None = None,
) -> pl.DataFrame:
    """Move reservations of a course not opened to `target`; returns the new reservations
    (member_no, status, position). ValueError (nothing written) naming what stands in the way:
    a reservation that was not ended by its course's not opening (or was moved already), a
    target of another scheme or domain, or a member the target refuses (with the reason)."""
    settings = cfg or config.current()
    ids = sorted({int(i) for i in enrolment_ids})
    if not ids:
        raise ValueError("振替える受講者を選んでください")
    moment = changes.moment_of(on)

    def work() -> pl.DataFrame:
        seats.guard(con, [target])
        sources = db.frame(
            con,
            """
            SELECT e.enrolment_id, e.member_no, e.course_code, e.reserved_at, e.status,
                   e.end_reason, e.form_received_on, c.scheme, c.domain
            FROM enrolments e JOIN courses c USING (course_code)
            WHERE e.enrolment_id IN (SELECT unnest($ids::BIGINT[]))
            """,
            {"ids": ids},
        )
        movable = sources.filter(
            (pl.col("status") == "not_opened") & (pl.col("end_reason") == "not_opened")
        )
        if movable.height != len(ids):
            raise ValueError("振替できるのは不開講となった講習の受講者（未振替）だけです")
        goal = db.one(con, "SELECT scheme, domain FROM courses WHERE course_code = ?", [target])
        if goal is None:
            raise ValueError(f"講習コード {target} の講習はありません")
        if any((s, d) != goal for s, d in movable.select("scheme", "domain").unique().rows()):
            raise ValueError("振替先は同じ制度・同じ領域の講習です")
        requests = movable.sort("reserved_at", "enrolment_id").select(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("line"),
            "member_no",
            pl.lit(target).alias("course_code"),
            "reserved_at",
            pl.lit(False).alias("check_period"),  # staff move them outside the periods
            pl.when(pl.col("form_received_on").is_not_null()).then(pl.lit(on))
            .otherwise(None).alias("form_received_on"),
            pl.col("enrolment_id").alias("transferred_from"),
            pl.lit(None, dtype=pl.String).alias("actor"),
        ).cast(enrolment.REQUESTS)  # fmt: skip
        written, refused = enrolment.admit(con, requests, actor=actor, cfg=settings,
                                           event="transferred", seated_at=moment)  # fmt: skip
        if refused.height:
            reasons = "、".join(f"{r['member_no']}: {vocabulary.REFUSALS[r['refusal']]}"
                                for r in refused.iter_rows(named=True))  # fmt: skip
            raise ValueError(f"振替できない受講者がいます（{reasons}）")
        con.execute(
            "UPDATE enrolments SET end_reason = 'transferred', updated_at = current_timestamp"
            " WHERE enrolment_id IN (SELECT unnest($ids::BIGINT[]))",
            {"ids": ids},
        )
        with db.registered(con, moved_sources=movable):
            con.execute(
                """
                INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                                       old_value, new_value, reason)
                SELECT $actor, 'transfer', 'enrolments', enrolment_id::VARCHAR, member_no,
                       'end_reason', 'not_opened', 'transferred', course_code || ' → ' || $target
                FROM moved_sources
                """,
                {"actor": actor, "target": target},
            )
        return written.select("member_no", "status", "position")

    moved, _ = seats.run(con, work)
    return moved
