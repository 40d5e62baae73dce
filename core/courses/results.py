"""Results: attendance on the day, exam scores and re-exams, and completions.

A completion is the activity the scheme's renewal rules already count — teacher `course`
(hours, domain, title, score, minutes late), JPTEC `renewal_course`, JSPO `training` (with the
licence) — written beside a course_completions row that carries the completion certificate
(修了証明書, due by the end of the following month). Which reservations are completed is
decided once (core/sql/courses/results.sql) and kept in step whenever results change: a
correction that undoes a completion removes its activity again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb
import polars as pl

from core import config, imports
from core.config import Config
from core.courses import enrolment, policy, seats
from core.imports.base import LINE
from core.store import db, queries

GRID_FILE = "出欠・成績の表"  # how the roster grid's problems name their "file"


def write_rows(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, *, file: str, actor: str, batch_id: str
) -> list[str]:
    """Record checked attendance rows (attendance.csv, the roster grid): one attendance per
    reservation (replaced), a score per exam day (replaced, a later day is a re-exam); then
    completions. All or nothing; every change audited."""
    settings = config.current()

    def work() -> dict[str, int]:
        with db.registered(con, result_rows=frame.drop(LINE)):
            _attendance(con, actor=actor, batch_id=batch_id)
            scores = _scores(con, actor=actor, batch_id=batch_id)
            codes = [r[0] for r in con.execute(
                "SELECT DISTINCT course_code FROM result_rows").fetchall()]  # fmt: skip
        done = sync(con, codes, actor=actor, batch_id=batch_id, cfg=settings)
        return {"scores": scores, **done}

    counts, _ = seats.run(con, work)
    return [f"results of {frame['enrolment_id'].n_unique():,} participants, {counts['scores']:,}"
            f" scores; {counts['completed']:,} completed, {counts['revoked']:,} completions"
            " withdrawn"]  # fmt: skip


def _attendance(con: duckdb.DuckDBPyConnection, *, actor: str, batch_id: str) -> None:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE attendance_rows AS
        SELECT DISTINCT r.enrolment_id, r.member_no, r.attended, r.minutes_late::SMALLINT AS minutes_late,
               r.delay_certificate, a.attended AS old_attended, a.minutes_late AS old_minutes_late
        FROM result_rows r LEFT JOIN course_attendance a USING (enrolment_id)
        """
    )
    for field in ("attended", "minutes_late"):
        con.execute(
            f"""
            INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field,
                                   old_value, new_value, reason, batch_id)
            SELECT $actor, 'record', 'course_attendance', enrolment_id::VARCHAR, member_no,
                   '{field}', old_{field}::VARCHAR, {field}::VARCHAR, '出欠の記録', $batch
            FROM attendance_rows WHERE old_{field} IS DISTINCT FROM {field}
              AND (old_attended IS NOT NULL OR {field} IS NOT NULL)
            """,
            {"actor": actor, "batch": batch_id},
        )
    con.execute(
        "DELETE FROM course_attendance WHERE enrolment_id IN (SELECT enrolment_id FROM attendance_rows)"
    )
    con.execute(
        """
        INSERT INTO course_attendance (enrolment_id, attended, minutes_late, delay_certificate,
                                       recorded_by)
        SELECT enrolment_id, attended, minutes_late, delay_certificate, $actor FROM attendance_rows
        """,
        {"actor": actor},
    )


def _scores(con: duckdb.DuckDBPyConnection, *, actor: str, batch_id: str) -> int:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE score_rows AS
        SELECT r.enrolment_id, r.member_no, r.exam_on, r.score::SMALLINT AS score, r.method,
               s.score_id, s.score AS old_score
        FROM result_rows r
        LEFT JOIN course_scores s ON s.enrolment_id = r.enrolment_id AND s.exam_on = r.exam_on
        WHERE r.score IS NOT NULL
        """
    )
    con.execute(
        """
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field, old_value,
                               new_value, reason, batch_id)
        SELECT $actor, 'record', 'course_scores', enrolment_id::VARCHAR, member_no, 'score',
               old_score::VARCHAR, score::VARCHAR,
               CASE WHEN score_id IS NULL THEN '成績の記録（' ELSE '成績の訂正（' END
                   || strftime(exam_on, '%Y-%m-%d') || '）', $batch
        FROM score_rows WHERE old_score IS DISTINCT FROM score
        """,
        {"actor": actor, "batch": batch_id},
    )
    con.execute(
        """
        UPDATE course_scores AS s SET score = r.score, method = r.method,
               recorded_at = current_timestamp, recorded_by = $actor
        FROM score_rows r WHERE s.score_id = r.score_id
          AND (s.score IS DISTINCT FROM r.score OR s.method IS DISTINCT FROM r.method)
        """,
        {"actor": actor},
    )
    con.execute(
        """
        INSERT INTO course_scores (enrolment_id, exam_on, score, method, recorded_by)
        SELECT enrolment_id, exam_on, score, method, $actor FROM score_rows WHERE score_id IS NULL
        """,
        {"actor": actor},
    )
    n = db.one(con, "SELECT count(*) FROM score_rows")
    return int(n[0]) if n else 0


def outcomes(
    con: duckdb.DuckDBPyConnection, codes: Sequence[str] | None, *, cfg: Config, on: dt.date
) -> pl.DataFrame:
    """core/sql/courses/results.sql: one row per seat given on the courses (all when None)."""
    with db.registered(con, course_policies=policy.frame(cfg, on)):
        return db.frame(con, queries.query("courses", "results"),
                        {"codes": list(codes) if codes is not None else None})  # fmt: skip


def sync(
    con: duckdb.DuckDBPyConnection,
    codes: Sequence[str],
    *,
    actor: str,
    batch_id: str,
    cfg: Config,
) -> dict[str, int]:
    """Bring the completions of these courses in step with their results, in the caller's
    transaction: new completions get their activity and certificate row, withdrawn ones lose
    them, changed scores or lateness are carried to the activity. Returns the counts."""
    results = outcomes(con, codes, cfg=cfg, on=enrolment.now().date())
    with db.registered(
        con, course_results=results, course_policies=policy.frame(cfg, dt.date.today())
    ):
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE revoked AS
            SELECT k.enrolment_id, k.activity_id, k.member_no, k.course_code, c.scheme,
                   'completed' AS old_status
            FROM course_completions k JOIN courses c USING (course_code)
            LEFT JOIN course_results r USING (enrolment_id)
            WHERE k.course_code IN (SELECT unnest($codes::VARCHAR[])) AND r.outcome IS DISTINCT FROM 'completed'
            """,
            {"codes": list(codes)},
        )
        con.execute("DELETE FROM activities WHERE activity_id IN (SELECT activity_id FROM revoked)")
        con.execute(
            "DELETE FROM course_completions WHERE enrolment_id IN (SELECT enrolment_id FROM revoked)"
        )
        seats.record(con, "revoked", "completed", action="uncomplete", actor=actor,
                     batch_id=batch_id, new=None, detail="修了の取消（結果の訂正）")  # fmt: skip
        con.execute(
            """
            UPDATE activities AS a
            SET score = CASE WHEN p.with_score THEN r.score END,
                minutes_late = CASE WHEN p.with_minutes_late THEN r.minutes_late END
            FROM course_completions k JOIN course_results r USING (enrolment_id)
            JOIN course_policies p ON p.scheme = r.scheme
            WHERE a.activity_id = k.activity_id
              AND (a.score IS DISTINCT FROM CASE WHEN p.with_score THEN r.score END
                   OR a.minutes_late IS DISTINCT FROM CASE WHEN p.with_minutes_late THEN r.minutes_late END)
            """
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE completable AS
            SELECT r.*, p.activity, p.with_hours, p.with_domain, p.with_course_name,
                   p.with_qualification, p.with_score, p.with_minutes_late,
                   last_day(r.last_day + to_months(p.certificate_due_months)) AS certificate_due,
                   row_number() OVER (ORDER BY r.enrolment_id) AS n, NULL::VARCHAR AS old_status
            FROM course_results r JOIN course_policies p ON p.scheme = r.scheme
            WHERE r.outcome = 'completed'
              AND r.enrolment_id NOT IN (SELECT enrolment_id FROM course_completions)
            """
        )
    con.execute(  # activity ids in the reservations' order (sorted: a sequence may skip)
        """
        CREATE OR REPLACE TEMP TABLE completing AS
        WITH ids AS (
            SELECT row_number() OVER (ORDER BY id) AS n, id
            FROM (SELECT nextval('activity_id_seq') AS id FROM completable)
        )
        SELECT c.*, ids.id AS activity_id FROM completable c JOIN ids USING (n)
        """
    )
    con.execute(
        """
        INSERT INTO activities (activity_id, member_no, scheme, kind, date, qualification, hours,
                                domain, course_name, score, minutes_late)
        SELECT activity_id, member_no, scheme, activity, last_day,
               CASE WHEN with_qualification THEN qualification END,
               CASE WHEN with_hours THEN hours END, CASE WHEN with_domain THEN domain END,
               CASE WHEN with_course_name THEN title END, CASE WHEN with_score THEN score END,
               CASE WHEN with_minutes_late THEN minutes_late END
        FROM completing
        """
    )
    con.execute(
        """
        INSERT INTO course_completions (enrolment_id, member_no, course_code, completed_on,
                                        activity_id, certificate_no, certificate_due)
        SELECT enrolment_id, member_no, course_code, last_day, activity_id,
               course_code || '-' || lpad(enrolment_id::VARCHAR, 7, '0'), certificate_due
        FROM completing
        """
    )
    seats.record(con, "completing", "completed", action="complete", actor=actor,
                 batch_id=batch_id, new="completed", detail="修了（更新の実績に計上）")  # fmt: skip
    counts = db.one(con, "SELECT (SELECT count(*) FROM completing), (SELECT count(*) FROM revoked)")
    return {"completed": int(counts[0]), "revoked": int(counts[1])} if counts else {}


def record_grid(
    con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], *, actor: str
) -> imports.ImportResult:
    """The roster grid's rows (member_no, course_code, attended, minutes_late, delay_certificate,
    score, exam_on, method), checked and written as attendance.csv is: all or none;
    InputFileError names the grid's row (行 = row number + 1, as a file's line) and column."""
    columns = ["member_no", "course_code", "attended", "minutes_late", "score", "exam_on",
               "method", "delay_certificate"]  # fmt: skip
    cells = [{c: None if r.get(c) in (None, "") else str(r[c]) for c in columns} for r in rows]
    frame = pl.DataFrame(cells, schema=dict.fromkeys(columns, pl.String), orient="row")
    frame = frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(LINE))
    return imports.import_frame(con, "attendance", frame, file=GRID_FILE, actor=actor)


def issue_certificates(
    con: duckdb.DuckDBPyConnection, enrolment_ids: Sequence[int], *, actor: str
) -> int:
    """Mark the completion certificates of these reservations issued (those not issued yet)."""
    issued, _ = seats.run(con, lambda: mark_issued(con, enrolment_ids, actor=actor))
    return issued


def mark_issued(con: duckdb.DuckDBPyConnection, enrolment_ids: Sequence[int], *, actor: str) -> int:
    """`issue_certificates` in the caller's transaction; returns how many were marked."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE issuing AS
        SELECT k.enrolment_id, k.member_no, k.course_code, c.scheme, NULL::VARCHAR AS old_status
        FROM course_completions k JOIN courses c USING (course_code)
        WHERE k.enrolment_id IN (SELECT unnest($ids::BIGINT[])) AND k.certificate_issued_at IS NULL
        """,
        {"ids": [int(i) for i in enrolment_ids]},
    )
    con.execute(
        "UPDATE course_completions SET certificate_issued_at = current_timestamp"
        " WHERE enrolment_id IN (SELECT enrolment_id FROM issuing)"
    )
    con.execute(
        """
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, reason)
        SELECT $actor, 'certificate', 'course_completions', enrolment_id::VARCHAR, member_no,
               course_code || ': 修了証明書の発行'
        FROM issuing
        """,
        {"actor": actor},
    )
    n = db.one(con, "SELECT count(*) FROM issuing")
    return int(n[0]) if n else 0
