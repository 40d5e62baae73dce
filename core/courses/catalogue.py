"""The catalogue (講習一覧): courses created and edited by `import courses` or the app's form,
every change audited; a course never loses seats below the seats it has given, and seats it
gains go to the people waiting in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb
import polars as pl

from core import config, imports, schemes
from core.config import Config
from core.courses import changes, enrolment, policy, seats
from core.errors import FileProblem, InputFileError
from core.imports.base import LINE
from core.imports.courses import COLUMNS
from core.store import audit, db, queries

FORM_FILE = "講習の登録"  # how a form's problems name their "file"
EDITABLE = [c for c in COLUMNS if c not in ("course_code", "scheme")]
# the columns' types as the courses table has them
TYPES = {c: "VARCHAR" for c in COLUMNS} | {
    "held_on": "DATE", "held_until": "DATE", "hours": "INTEGER", "capacity": "INTEGER",
    "materials_fee": "INTEGER", "min_to_open": "INTEGER", "recruit_from": "TIMESTAMP",
    "recruit_until": "TIMESTAMP", "extra_from": "TIMESTAMP", "extra_until": "TIMESTAMP",
    "starts_at": "TIME", "ends_at": "TIME",
}  # fmt: skip


def write_rows(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    *,
    file: str,
    actor: str,
    batch_id: str,
    replace: bool = False,
) -> list[str]:
    """Create the courses whose code is new and edit the others (a NULL keeps the stored value
    unless `replace`), with an audit row per new course and per changed field; promotions
    where seats were added. All or none; InputFileError when a capacity falls below the seats
    given (checked again once the courses' seats are held)."""
    rows = frame.select(LINE, *COLUMNS).with_columns(  # as the table stores them
        pl.col("starts_at", "ends_at").cast(pl.String).str.slice(0, 8),
    )
    codes = rows["course_code"].to_list()

    def work() -> tuple[int, int, int]:
        seats.guard(con, codes)
        with db.registered(con, course_rows=rows):
            short = db.frame(
                con,
                """
                SELECT r.__line AS line, r.capacity, count(*) AS seated
                FROM course_rows r JOIN enrolments e USING (course_code)
                WHERE e.status = 'reserved' AND r.capacity IS NOT NULL
                GROUP BY r.__line, r.capacity HAVING count(*) > r.capacity ORDER BY line
                """,
            )
            if short.height:
                raise InputFileError(
                    [FileProblem(file, int(r["line"]), "capacity",
                                 f"定員を予約済みの人数（{r['seated']}人）より少なくできません")
                     for r in short.iter_rows(named=True)]
                )  # fmt: skip
            typed = ", ".join(f'"{c}"::{t} AS "{c}"' for c, t in TYPES.items())
            con.execute(f"CREATE OR REPLACE TEMP TABLE course_input AS SELECT {typed}"
                        " FROM course_rows")  # fmt: skip
        con.execute("CREATE OR REPLACE TEMP TABLE course_edits AS SELECT r.* FROM course_input r"
                    " JOIN courses c USING (course_code)")  # fmt: skip
        con.execute("CREATE OR REPLACE TEMP TABLE course_news AS SELECT * FROM course_input"
                    " WHERE course_code NOT IN (SELECT course_code FROM courses)")  # fmt: skip
        changed = _edit(con, actor=actor, batch_id=batch_id, replace=replace)
        names = ", ".join(f'"{c}"' for c in COLUMNS)
        values = ", ".join("coalesce(materials_fee, 0)" if c == "materials_fee" else f'"{c}"'
                           for c in COLUMNS)  # fmt: skip
        con.execute(
            f"INSERT INTO courses ({names}, updated_at) SELECT {values}, current_timestamp"
            " FROM course_news"
        )
        audit.record_rows(con, actor=actor, action="insert", table="courses",
                          relation="course_news", key_column="course_code", member_column=None,
                          reason=f"講習の登録 {file}", batch_id=batch_id)  # fmt: skip
        promoted = seats.promote(con, codes, moment=enrolment.now(), actor=actor, batch_id=batch_id)
        added = db.one(con, "SELECT count(*) FROM course_news")
        return (int(added[0]) if added else 0), changed, promoted.height

    (added, changed, promoted), _ = seats.run(con, work)
    return [f"courses: {added:,} added, {changed:,} fields changed; {promoted:,} promoted from the"
            " waitlist"]  # fmt: skip


def _edit(con: duckdb.DuckDBPyConnection, *, actor: str, batch_id: str, replace: bool) -> int:
    """Apply the edits of `course_edits`, one audit row per changed field; returns the count."""
    new = {c: (f'r."{c}"' if replace else f'coalesce(r."{c}", c."{c}")') for c in EDITABLE}
    if replace:  # no materials fee is a fee of 0
        new["materials_fee"] = 'coalesce(r."materials_fee", 0)'
    diffs = " UNION ALL ".join(
        f"SELECT r.course_code, '{c}' AS field, c.\"{c}\"::VARCHAR AS old_value,"
        f" ({new[c]})::VARCHAR AS new_value FROM course_edits r JOIN courses c USING (course_code)"
        f' WHERE c."{c}" IS DISTINCT FROM ({new[c]})'
        for c in EDITABLE
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE course_diffs AS {diffs}")
    con.execute(
        """
        INSERT INTO audit_log (actor, action, table_name, row_key, field, old_value, new_value,
                               reason, batch_id)
        SELECT $actor, 'update', 'courses', course_code, field, old_value, new_value,
               '講習の変更', $batch FROM course_diffs
        """,
        {"actor": actor, "batch": batch_id},
    )
    sets = ", ".join(f'"{c}" = {new[c]}' for c in EDITABLE)
    con.execute(
        f"UPDATE courses AS c SET {sets}, updated_at = current_timestamp FROM course_edits r"
        " WHERE c.course_code = r.course_code"
        " AND c.course_code IN (SELECT course_code FROM course_diffs)"
    )
    n = db.one(con, "SELECT count(*) FROM course_diffs")
    return int(n[0]) if n else 0


def save_course(con: duckdb.DuckDBPyConnection, values: dict[str, Any], *, actor: str) -> list[str]:
    """Create or edit one course from the app's form, with the rules a file's row meets; every
    field is taken as given (an empty one clears it). InputFileError names the fields."""
    cells = {c: None if values.get(c) in (None, "") else str(values[c]) for c in COLUMNS}
    frame = pl.DataFrame([cells], schema=dict.fromkeys(COLUMNS, pl.String)).with_columns(
        pl.lit(2, dtype=pl.Int64).alias(LINE)
    )
    checked, _ = imports.check_frame(con, "courses", frame, file=FORM_FILE)
    finished = imports.SPECS["courses"].finish(checked)
    return write_rows(con, finished, file=FORM_FILE, actor=actor,
                      batch_id=audit.new_batch_id(), replace=True)  # fmt: skip


def listing(
    con: duckdb.DuckDBPyConnection,
    *,
    at: dt.datetime | None = None,
    scheme_codes: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    cfg: Config | None = None,
) -> pl.DataFrame:
    """The catalogue at a moment (core/sql/courses/catalogue.sql): the courses of these schemes
    and codes (every one when None)."""
    settings = cfg or config.current()
    moment = at or enrolment.now()
    fees = [
        {"scheme": code, "per_hour": terms[0]}
        for code in policy.course_schemes()
        if (terms := schemes.get(code).course_fees(settings, moment.date())) is not None
    ]
    with db.registered(
        con,
        course_policies=policy.frame(settings, moment.date()),
        course_fees=pl.DataFrame(fees, schema={"scheme": pl.String, "per_hour": pl.Int64}),
    ):
        return db.frame(
            con,
            queries.query("courses", "catalogue"),
            {
                "now": moment,
                "schemes": list(scheme_codes) if scheme_codes else None,
                "codes": list(codes) if codes is not None else None,
            },
        )


def course(
    con: duckdb.DuckDBPyConnection, code: str, *, cfg: Config | None = None
) -> dict[str, Any]:
    """One course as the catalogue shows it; ValueError when there is none."""
    found = listing(con, codes=[code], cfg=cfg)
    if found.is_empty():
        raise ValueError(f"講習コード {code} の講習はありません")
    return found.row(0, named=True)


def cancel_course(
    con: duckdb.DuckDBPyConnection, code: str, *, on: dt.date, actor: str, note: str
) -> changes.Ended:
    """A course cancelled (天災等による中止): every reservation and place on the waitlist ends,
    open fees are cancelled and paid ones refunded in full. Audited with the note."""
    if not note.strip():
        raise ValueError("中止の理由（備考）を入力してください")

    def work() -> changes.Ended:
        seats.guard(con, [code])
        row = db.one(con, "SELECT status FROM courses WHERE course_code = ?", [code])
        if row is None or row[0] != "scheduled":
            raise ValueError(f"講習 {code} は中止できません（{row[0] if row else 'ありません'}）")
        con.execute(
            "UPDATE courses SET status = 'cancelled', status_on = ?, updated_at = current_timestamp"
            " WHERE course_code = ?",
            [on, code],
        )
        audit.record_changes(con, actor=actor, action="update", table="courses", row_key=code,
                             changes={"status": ("scheduled", "cancelled")}, reason=note.strip())  # fmt: skip
        ids = [r[0] for r in con.execute(
            "SELECT enrolment_id FROM enrolments WHERE course_code = ?"
            " AND status IN ('reserved', 'waitlisted')", [code]).fetchall()]  # fmt: skip
        return changes.end(con, ids, status="cancelled", reason="course_cancelled", on=on,
                           actor=actor, refund_reason=changes.CANCELLED_REFUND)  # fmt: skip

    ended, _ = seats.run(con, work)
    return ended
