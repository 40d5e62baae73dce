"""The reservation counter (受付): reservations that arrive together are taken together.

On the opening morning thousands of members reserve within a minute, most of them for a few
courses. Taken one transaction each, every reservation would hold the same few courses'
seats in turn and meet the others' conflicts. Instead, in a process serving a database file
(the app, a script), a reservation joins a queue, and one waiting thread at a time — the one
holding the counter — takes everything queued so far in one set-based transaction: the
refusals checked for all, moments given in the order they joined the queue, seats given in
that order (core.courses.enrolment.admit), one commit. Every reservation gets its own
answer (its seat or its place, or its refusal); one refusal does not stop the others. Each
request's own moment of arrival decides the recruitment period; the moment it takes its
place (`reserved_at`) is given under the seats' guard, so the order of moments is the order
seats were given. Conflicts with other writers (a cancellation, an import, the daily job)
are still met by the seats' guard and retried (core.courses.seats).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

import duckdb
import polars as pl

from core import config
from core.config import Config
from core.courses import enrolment, seats
from core.courses.enrolment import EnrolmentRefused, Reservation

_GUARD = threading.Lock()
_QUEUES: dict[str, list[_Ask]] = {}
_COUNTERS: dict[str, threading.Lock] = {}
STEP = dt.timedelta(microseconds=1)  # between the moments of reservations taken together


@dataclass
class _Ask:
    member_no: str
    course_code: str
    at: dt.datetime | None  # received elsewhere at this moment
    received: dt.datetime  # the moment it arrived here (or `at`)
    actor: str
    done: threading.Event = field(default_factory=threading.Event)
    result: Reservation | BaseException | None = None


def _database(con: duckdb.DuckDBPyConnection) -> str | None:
    """The database file this connection serves (None in memory: nothing to share)."""
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return str(row[0][0]) if row and row[0][0] else None


def reserve(
    con: duckdb.DuckDBPyConnection,
    member_no: str,
    course_code: str,
    *,
    actor: str,
    at: dt.datetime | None = None,
    cfg: Config | None = None,
) -> Reservation:
    """core.courses.enrolment.reserve: one member's reservation, taken with those that arrive
    at the same moment in this process."""
    settings = cfg or config.current()
    ask = _Ask(member_no.strip(), course_code.strip(), at, at or enrolment.now(), actor)
    key = _database(con)
    if key is None:
        _take(con, [ask], settings)
    else:
        with _GUARD:
            _QUEUES.setdefault(key, []).append(ask)
            counter = _COUNTERS.setdefault(key, threading.Lock())
        with counter:
            if not ask.done.is_set():  # nobody took it yet: take all that wait, this one too
                with _GUARD:
                    batch, _QUEUES[key] = _QUEUES[key], []
                _take(con, batch, settings)
    if isinstance(ask.result, BaseException):
        raise ask.result
    assert isinstance(ask.result, Reservation)
    return ask.result


def _take(con: duckdb.DuckDBPyConnection, asks: list[_Ask], cfg: Config) -> None:
    """Take these reservations in one guarded transaction; each ask gets its answer."""
    received = enrolment.requests_frame(
        [{"line": n, "member_no": a.member_no, "course_code": a.course_code,
          "reserved_at": a.received, "actor": a.actor} for n, a in enumerate(asks, start=1)]
    )  # fmt: skip

    def work() -> tuple[pl.DataFrame, pl.DataFrame]:
        seats.guard(con, received["course_code"].unique().to_list())
        checked = enrolment.check(con, received, cfg)  # by the moment each arrived
        start = enrolment.now()  # the seats are held: from here, moments follow the seats
        placed = received.with_columns(
            reserved_at=pl.Series(
                [a.at or start + STEP * n for n, a in enumerate(asks)], dtype=pl.Datetime("us")
            )
        )
        return enrolment.admit(con, placed, actor=asks[0].actor, cfg=cfg, checked=checked,
                               partial=True)  # fmt: skip

    try:
        (written, refused), attempts = seats.run(con, work)
    except BaseException as exc:  # every ask of the batch learns why
        for ask in asks:
            ask.result = exc
            ask.done.set()
        raise
    answers: dict[int, Reservation | BaseException] = {}
    for row in written.iter_rows(named=True):
        answers[row["line"]] = Reservation(
            int(row["enrolment_id"]), row["member_no"], row["course_code"], row["status"],
            row["position"], row["reserved_at"], attempts)  # fmt: skip
    for row in refused.iter_rows(named=True):
        answers[row["line"]] = EnrolmentRefused(row["refusal"])
    for n, ask in enumerate(asks, start=1):
        ask.result = answers[n]
        ask.done.set()
