"""Reservations (受講申込): first come, first served, refused with the reason, waitlisted over
capacity; the same rules for one reservation, a file of them and a transfer.

`admit` is the one writer: it checks every request (core/sql/courses/requests.sql), gives the
free seats of each course to its requests in the order they were received and waitlists the
rest, writes the reservations with an event and an audit row each, all inside the caller's
guarded transaction (core.courses.seats). A request's moment is the one it carries (a file's
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
                      "form_received_on": pl.Date(), "transferred_from": pl.Int64()})  # fmt: skip


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
    with db.registered(con, requests=requests, course_policies=policy.frame(cfg, on)):
        return db.frame(con, queries.query("courses", "requests"))


def admit(
    con: duckdb.DuckDBPyConnection,
    requests: pl.DataFrame,
    *,
    actor: str,
    cfg: Config,
    batch_id: str | None = None,
    event: str = "reserved",
    seated_at: dt.datetime | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Write the accepted requests, in the caller's transaction, after guarding their courses:
    (what was written: line, enrolment_id, member_no, course_code, status, position, reserved_at;
    the refused requests: line, member_no, course_code, refusal). Nothing is written when any
    request is refused. `seated_at`: when a seat given now counts from (default: the request's
    moment); `event`: what the events call a seat given (waitlisted ones are `waitlisted`)."""
    seats.guard(con, requests["course_code"].drop_nulls().unique().to_list())
    checked = check(con, requests, cfg)
    with db.registered(con, checked_requests=checked, requests=requests):
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE admitted AS
            WITH ok AS (
                SELECT r.line, r.member_no, r.course_code, r.reserved_at, r.extra_only,
                       q.form_received_on, q.transferred_from, c.capacity, c.scheme
                FROM checked_requests r JOIN requests q USING (line)
                JOIN courses c ON c.course_code = r.course_code
                WHERE r.refusal IS NULL
            ),
            seated AS (
                SELECT course_code, count(*) AS seated FROM enrolments
                WHERE status = 'reserved' AND course_code IN (SELECT course_code FROM ok)
                GROUP BY course_code
            )
            SELECT ok.*, NULL::VARCHAR AS old_status,
                   row_number() OVER (ORDER BY ok.reserved_at, ok.line) AS n,
                   CASE WHEN ok.capacity IS NULL
                             OR coalesce(s.seated, 0) + row_number() OVER (
                                    PARTITION BY ok.course_code ORDER BY ok.reserved_at, ok.line)
                                <= ok.capacity
                        THEN 'reserved' ELSE 'waitlisted' END AS status
            FROM ok LEFT JOIN seated s USING (course_code)
            """
        )
    # ids from the sequence, handed out in the order the requests were received (a sequence
    # is not transactional: another writer may take numbers in between, so they are sorted)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE admitted AS
        WITH ids AS (
            SELECT row_number() OVER (ORDER BY id) AS n, id
            FROM (SELECT nextval('enrolment_id_seq') AS id FROM admitted)
        )
        SELECT a.* EXCLUDE (n), ids.id AS enrolment_id FROM admitted a JOIN ids USING (n)
        """
    )
    refused = pl.concat(
        [
            checked.filter(pl.col("refusal").is_not_null()).select(
                "line", "member_no", "course_code", "refusal"
            ),
            db.frame(
                con,
                "SELECT line, member_no, course_code, 'extra_full' AS refusal FROM admitted"
                " WHERE extra_only AND status = 'waitlisted'",
            ),
        ]
    ).sort("line")
    if refused.height:
        return pl.DataFrame(), refused
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
    for status in ("reserved", "waitlisted"):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE admitted_{status} AS"
            " SELECT * FROM admitted WHERE status = ?",
            [status],
        )
        seats.record(con, f"admitted_{status}", event if status == "reserved" else "waitlisted",
                     action="transfer" if event == "transferred" else "reserve", actor=actor,
                     batch_id=batch_id, new=status,
                     detail=vocabulary.ENROLMENT_STATUSES[status])  # fmt: skip
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
    reservation was received, when it was received elsewhere (default: now, taken once the
    course's seats are held). EnrolmentRefused with the reason, nothing written."""
    settings = cfg or config.current()
    member_no, course_code = member_no.strip(), course_code.strip()

    def work() -> tuple[pl.DataFrame, pl.DataFrame]:
        seats.guard(con, [course_code])  # before the moment: the order of moments is the order
        moment = at or now()
        request = requests_frame(
            [{"line": 1, "member_no": member_no, "course_code": course_code, "reserved_at": moment}]
        )
        written, refused = admit(con, request, actor=actor, cfg=settings)
        if refused.height:
            raise EnrolmentRefused(str(refused["refusal"][0]))
        return written, refused

    (written, _), attempts = seats.run(con, work)
    row = written.row(0, named=True)
    return Reservation(int(row["enrolment_id"]), member_no, course_code, str(row["status"]),
                       row["position"], row["reserved_at"], attempts)  # fmt: skip


def import_rows(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, *, file: str, actor: str, batch_id: str
) -> list[str]:
    """enrolments.csv's checked rows: reserved in `reserved_at` order, over capacity waitlisted;
    a refused row is an error of the file (InputFileError), and then nothing is written."""
    requests = frame.select(
        pl.col(LINE).alias("line"), "member_no", "course_code", "reserved_at",
        pl.lit(True).alias("check_period"), "form_received_on",
        pl.lit(None, dtype=pl.Int64).alias("transferred_from"),
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
