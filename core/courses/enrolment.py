"""Reservations (受講申込): first come, first served, refused with the reason, waitlisted over
capacity; the same rules for one reservation, a file of them and a transfer.

`admit` is the one writer: it checks every request (core/sql/courses/requests.sql), gives the
free seats of each course to its requests in the order they were received and waitlists the
rest, writes the reservations with an event, an audit row and the member's mail each
(core.notify.course_mail), all inside the caller's guarded transaction (core.courses.seats). A request's moment is the one it carries (a file's
`reserved_at`, `enrol --at`), or, for a reservation taken now, the moment the transaction
holds the course's seats: so the order of the moments is the order seats were given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from core import config, vocabulary
from core.config import Config
from core.courses import policy, seats
from core.errors import FileProblem, InputFileError
from core.imports.base import LINE
from core.notify import course_mail
from core.store import db, queries

JST = ZoneInfo("Asia/Tokyo")
# the column a refusal names in a file
REFUSAL_COLUMNS = {
    "unknown_member": "member_no",
    "not_in_scheme": "member_no",
    "before_period": "reserved_at",
    "after_period": "reserved_at",
    "extra_full": "reserved_at",
}
REQUESTS = pl.Schema({"line": pl.Int64(), "member_no": pl.String(), "course_code": pl.String(),
                      "reserved_at": pl.Datetime("us"), "check_period": pl.Boolean(),
                      "form_received_on": pl.Date(), "transferred_from": pl.Int64(),
                      "actor": pl.String()})  # fmt: skip


class EnrolmentRefused(ValueError):
    """A reservation the rules refuse; `code` is a key of vocabulary.REFUSALS."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.ja = vocabulary.REFUSALS[code] + (f"（{detail}）" if detail else "")
        super().__init__(self.ja)


@dataclass(frozen=True)
class Reservation:
    enrolment_id: int
    member_no: str
    course_code: str
    status: str  # reserved | waitlisted
    position: int | None  # the place on the waitlist
    reserved_at: dt.datetime
    attempts: int = 1  # transactions it took (a conflict makes another)


def now() -> dt.datetime:
    """Japan time now, to the microsecond, without a zone (as reservations store it)."""
    return dt.datetime.now(JST).replace(tzinfo=None)


def requests_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """Requests as `admit` takes them (missing keys are NULL; check_period defaults to true)."""
    filled = [{**dict.fromkeys(REQUESTS), "check_period": True, **r} for r in rows]
    return pl.DataFrame(filled, schema=REQUESTS, orient="row")


def check(con: duckdb.DuckDBPyConnection, requests: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """Every request with `refusal` (NULL: accepted), `extra_only` and the course's scheme."""
    day = requests["reserved_at"].min() if requests.height else None
    on = day.date() if isinstance(day, dt.datetime) else dt.date.today()
    members = requests["member_no"].drop_nulls().unique().sort().to_list()
    # the requesting members, found by the members' key first: inside the whole check the
    # planner would scan a million members for them
    found = db.frame(
        con,
        "SELECT member_no, org_code FROM members"
        " WHERE member_no = ANY($members::VARCHAR[]) AND status = 'active'",
        {"members": members},
    )
    with db.registered(
        con, requests=requests, course_policies=policy.frame(cfg, on), request_members=found
    ):
        return db.frame(con, queries.query("courses", "requests"), {"members": members})


def admit(
    con: duckdb.DuckDBPyConnection,
    requests: pl.DataFrame,
    *,
    actor: str,
    cfg: Config,
    batch_id: str | None = None,
    event: str = "reserved",
    seated_at: dt.datetime | None = None,
    checked: pl.DataFrame | None = None,
    partial: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Write the accepted requests, in the caller's transaction, after guarding their courses:
    (what was written: line, enrolment_id, member_no, course_code, status, position, reserved_at;
    the refused requests: line, member_no, course_code, refusal). Nothing is written when any
    request is refused, unless `partial` (the reservation counter: each request on its own). With the seats held, a request is also refused for a course no longer
    scheduled or begun at its moment, or one the member holds or waits for already, and during
    the extra period when no seat is free. `checked`: `check`'s rows when the caller made them
    before the transaction (a single reservation: short transactions, fewer conflicts);
    `seated_at`: when a seat given now counts from (default: the request's moment); `event`:
    what the events call a seat given (waitlisted ones are `waitlisted`)."""
    if checked is None:  # the caller guarded the courses when it checked first
        seats.guard(con, requests["course_code"].drop_nulls().unique().to_list())
        checked = check(con, requests, cfg)
    with db.registered(con, checked_requests=checked, requests=requests):
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE screened AS
            WITH asked AS (
                SELECT r.line, r.member_no, r.course_code, q.reserved_at, r.extra_only,
                       q.form_received_on, q.transferred_from, q.actor, c.capacity, c.scheme,
                       c.status <> 'scheduled' OR q.reserved_at::DATE >= c.held_on AS closed
                FROM checked_requests r JOIN requests q USING (line)
                JOIN courses c ON c.course_code = r.course_code
                WHERE r.refusal IS NULL
            ),
            held AS (
                SELECT e.member_no, e.course_code, e.status FROM enrolments e
                WHERE e.course_code IN (SELECT course_code FROM asked)
                  AND e.status IN ('reserved', 'waitlisted')
            ),
            flagged AS (
                SELECT a.*,
                       CASE WHEN a.closed THEN 'course_closed'
                            WHEN EXISTS (SELECT 1 FROM held h WHERE h.member_no = a.member_no
                                         AND h.course_code = a.course_code) THEN 'already_booked'
                       END AS late_refusal
                FROM asked a
            ),
            seated AS (
                SELECT course_code, count(*) AS seated FROM held WHERE status = 'reserved'
                GROUP BY course_code
            )
            SELECT f.line, f.member_no, f.course_code, f.reserved_at, f.extra_only,
                   f.form_received_on, f.transferred_from, f.actor, f.capacity, f.scheme,
                   f.late_refusal, NULL::VARCHAR AS old_status,
                   CASE WHEN f.capacity IS NULL
                             OR coalesce(s.seated, 0) + row_number() OVER (
                                    PARTITION BY f.course_code, f.late_refusal IS NULL
                                    ORDER BY f.reserved_at, f.line)
                                <= f.capacity
                        THEN 'reserved' ELSE 'waitlisted' END AS status
            FROM flagged f LEFT JOIN seated s USING (course_code)
            """
        )
    refused = pl.concat(
        [
            checked.filter(pl.col("refusal").is_not_null()).select(
                "line", "member_no", "course_code", "refusal"
            ),
            db.frame(
                con,
                "SELECT line, member_no, course_code, coalesce(late_refusal, 'extra_full')"
                " AS refusal FROM screened"
                " WHERE late_refusal IS NOT NULL OR (extra_only AND status = 'waitlisted')",
            ),
        ]
    ).sort("line")
    if refused.height and not partial:
        return pl.DataFrame(), refused
    # ids from the sequence, handed out in the order the requests were received (a sequence
    # is not transactional: another writer may take numbers in between, so they are sorted)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE admitted AS
        WITH taken AS (
            SELECT *, row_number() OVER (ORDER BY reserved_at, line) AS n FROM screened
            WHERE late_refusal IS NULL AND NOT (extra_only AND status = 'waitlisted')
        ),
        ids AS (
            SELECT row_number() OVER (ORDER BY id) AS n, id
            FROM (SELECT nextval('enrolment_id_seq') AS id FROM taken)
        )
        SELECT t.*, ids.id AS enrolment_id FROM taken t JOIN ids USING (n)
        """
    )
    con.execute(
        """
        INSERT INTO enrolments (enrolment_id, course_code, member_no, reserved_at,
                                form_received_on, status, seated_at, transferred_from)
        SELECT enrolment_id, course_code, member_no, reserved_at, form_received_on, status,
               CASE WHEN status = 'reserved' THEN coalesce($seated_at, reserved_at) END,
               transferred_from
        FROM admitted ORDER BY reserved_at, line
        """,
        {"seated_at": seated_at},
    )
    con.execute(
        """
        INSERT INTO course_events (event, enrolment_id, member_no, course_code, scheme, detail)
        SELECT CASE WHEN status = 'reserved' THEN $event ELSE 'waitlisted' END, enrolment_id,
               member_no, course_code, scheme,
               CASE WHEN status = 'reserved' THEN $seat ELSE $wait END
        FROM admitted
        """,
        {"event": event, "seat": vocabulary.ENROLMENT_STATUSES["reserved"],
         "wait": vocabulary.ENROLMENT_STATUSES["waitlisted"]},
    )  # fmt: skip
    if event == "reserved":  # a transfer is staff's move, told to the member individually
        con.execute(
            "CREATE OR REPLACE TEMP TABLE admitted_mail AS SELECT status AS event, enrolment_id,"
            " member_no, course_code FROM admitted"
        )
        course_mail.write(con, "admitted_mail", actor=actor, on=now().date(),
                          batch_id=batch_id, cfg=cfg)  # fmt: skip
    con.execute(
        """
        INSERT INTO audit_log (actor, action, table_name, row_key, member_no, field, new_value,
                               reason, batch_id)
        SELECT coalesce(actor, $actor), $action, 'enrolments', enrolment_id::VARCHAR, member_no,
               'status', status,
               course_code || ': ' || CASE WHEN status = 'reserved' THEN $seat ELSE $wait END,
               $batch
        FROM admitted
        """,
        {"actor": actor, "action": "transfer" if event == "transferred" else "reserve",
         "seat": vocabulary.ENROLMENT_STATUSES["reserved"],
         "wait": vocabulary.ENROLMENT_STATUSES["waitlisted"], "batch": batch_id},
    )  # fmt: skip
    written = db.frame(
        con,
        """
        WITH places AS (
            SELECT enrolment_id, row_number() OVER (PARTITION BY course_code
                                                    ORDER BY reserved_at, enrolment_id) AS position
            FROM enrolments
            WHERE status = 'waitlisted' AND course_code IN (SELECT course_code FROM admitted)
        )
        SELECT a.line, a.enrolment_id, a.member_no, a.course_code, a.status, p.position,
               a.reserved_at
        FROM admitted a LEFT JOIN places p USING (enrolment_id) ORDER BY a.line
        """,
    )
    return written, refused


def reserve(
    con: duckdb.DuckDBPyConnection,
    member_no: str,
    course_code: str,
    *,
    actor: str,
    at: dt.datetime | None = None,
    cfg: Config | None = None,
) -> Reservation:
    """Reserve a seat, or a place on the waitlist, for one member. `at`: the moment the
    reservation was received, when it was received elsewhere. By default it is received now:
    the member and the period are checked against that moment, and the reservation takes its
    place at the moment the course's seats are held (a few milliseconds later), so the order
    of the moments is the order seats were given. Reservations arriving together are taken
    together (core.courses.counter). EnrolmentRefused with the reason, nothing written."""
    from core.courses import counter  # the counter takes reservations through `admit`

    return counter.reserve(con, member_no, course_code, actor=actor, at=at, cfg=cfg)


def import_rows(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, *, file: str, actor: str, batch_id: str
) -> list[str]:
    """enrolments.csv's checked rows: reserved in `reserved_at` order, over capacity waitlisted;
    a refused row is an error of the file (InputFileError), and then nothing is written."""
    requests = frame.select(
        pl.col(LINE).alias("line"), "member_no", "course_code", "reserved_at",
        pl.lit(True).alias("check_period"), "form_received_on",
        pl.lit(None, dtype=pl.Int64).alias("transferred_from"),
        pl.lit(None, dtype=pl.String).alias("actor"),
    ).cast(REQUESTS)  # fmt: skip
    settings = config.current()

    def work() -> pl.DataFrame:
        written, refused = admit(con, requests, actor=actor, cfg=settings, batch_id=batch_id)
        if refused.height:
            raise refusals_error(refused, file)
        return written

    written, _ = seats.run(con, work)
    counts = written.group_by("status").len()
    n = dict(zip(counts["status"].to_list(), counts["len"].to_list(), strict=True))
    return [f"reserved {n.get('reserved', 0):,}, waitlisted {n.get('waitlisted', 0):,}"]


def refusals_error(refused: pl.DataFrame, file: str) -> InputFileError:
    """Refused requests as the problems of a file, by line and column."""
    problems = [
        FileProblem(file, int(r["line"]), REFUSAL_COLUMNS.get(r["refusal"], "course_code"),
                    f"{vocabulary.REFUSALS[r['refusal']]}: '{r['member_no']}' '{r['course_code']}'")
        for r in refused.head(20).iter_rows(named=True)
    ]  # fmt: skip
    return InputFileError(problems, refused.height)
