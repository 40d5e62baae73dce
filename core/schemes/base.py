"""What every scheme answers, with the answers most schemes share.

A scheme module (jptec.py, itc.py, …) subclasses `Scheme` and overrides what its body does
differently. Code outside core/schemes asks the registry (`core.schemes.get(code)`) instead of
naming a scheme, so "what does SAJ do here?" has one place to look.

Everything a scheme knows about numbers comes from its configuration (data/schemes/*.toml):
a scheme module says *which* keys it reads and what they mean for its rules, never the values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from core import vocabulary

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from core.checks import Check
    from core.config import Config

FISCAL_YEAR_STARTS = (
    "04-01"  # 年度: April to March, unless the scheme's configuration says otherwise
)

PERSON = ("org_code", "family_name", "given_name", "family_name_kana", "given_name_kana",
          "birth_date")  # fmt: skip
CONTACT = ("email", "phone", "postal_code", "prefecture", "address")


@dataclass(frozen=True)
class Kind:
    """An application kind a scheme accepts: the columns it must carry, and those it may."""

    needs: tuple[str, ...] = ()
    takes: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.needs, *self.takes)


# The kinds every body accepts (FORMATS.md applications.csv); a scheme adds its own.
COMMON_KINDS: dict[str, Kind] = {
    "new_registration": Kind(needs=PERSON, takes=(*CONTACT, "category")),
    "transfer": Kind(needs=("target_org_code",)),
    "qualification_return": Kind(needs=("qualification",)),
    "extension": Kind(needs=("qualification", "reason")),
    "postponement": Kind(needs=("qualification", "reason")),
    "suspension": Kind(needs=("qualification", "reason")),
    "information_change": Kind(takes=CONTACT),
}


@dataclass(frozen=True)
class CoursePolicy:
    """How one scheme's courses run (core/courses), as configured on a day."""

    activity: str  # the activity kind a completed course becomes (what the renewal rules count)
    activity_columns: tuple[str, ...]  # the columns that kind carries
    unique_titles: bool  # a course title may be taken once in a lifetime
    form_due_days: int  # the signed application form arrives within; 0: no form
    min_applicants: int  # a course under this many at the end of recruitment is not opened
    small_capacity: int  # ... unless its capacity is this or less
    opens_at: str  # "06:00": when a recruitment period given as a day opens
    certificate_due_months: int  # the certificate by the end of the month this many after
    max_minutes_late: int  # later than this counts as absent
    pass_score: int  # the exam's pass mark; 0: no exam, attendance completes

    def minimum(self, capacity: int | None) -> int:
        """The applicants a course of `capacity` needs to open (0: none)."""
        if capacity is not None and capacity <= self.small_capacity:
            return 0
        return self.min_applicants


@dataclass(frozen=True)
class Refusal:
    """Applications refused at intake without an approver: the pending ones matching `where`
    (an SQL condition over `applications a`, from code; values bound from `params`)."""

    where: str
    note: str  # the history step's note
    reason: str  # what the applicant is told (reject_reason)
    params: dict[str, object]


def month_day(value: str) -> tuple[int, int]:
    """ "05-31" → (5, 31)."""
    month, day = value.split("-")
    return int(month), int(day)


class Reader:
    """The configuration on one day, remembering which keys it was asked for.

    A rule reads its parameters through a Reader, so the keys a rule depends on are known
    without a second list to keep in step (the what-if offers exactly those).
    """

    def __init__(self, cfg: Config, on: dt.date):
        self.cfg = cfg
        self.on = on
        self.keys: list[str] = []

    def read(self, key: str) -> Any:
        if key not in self.keys:
            self.keys.append(key)
        return self.cfg.value(key, self.on)


class Scheme:
    """One body's renewal scheme. Subclasses set the class attributes and override methods."""

    code: ClassVar[str]
    short_name: ClassVar[str]  # how a message names the body: "JPTEC", "SAJ", "教員免許状更新"
    # the renewal rules: core/sql/renewals/<renewal_relation>.sql returns the requirements
    # relation (one row per qualification and requirement, with the decision)
    renewal_relation: ClassVar[str]
    items: ClassVar[dict[str, str]]  # billing item code → what an invoice calls it
    kinds: ClassVar[dict[str, Kind]] = COMMON_KINDS
    # activities.csv kinds the renewal rules count, and the columns each needs
    activity_kinds: ClassVar[dict[str, Kind]] = {}
    erases_members: ClassVar[bool] = False  # members who do not register are erased (SAJ)
    returned_status: ClassVar[str] = "returned"  # a returned qualification's status
    year_starts_key: ClassVar[str | None] = None  # the key of the day its 年度 starts
    # season billing: core/sql/billing/<season_relation>.sql prices a season's registrations
    season_relation: ClassVar[str | None] = None
    # courses paid by the hour: (the hours' billing item, the materials' billing item)
    course_items: ClassVar[tuple[str, str] | None] = None
    # courses (core/courses): the activity kind a completed course becomes, None for a scheme
    # that runs no courses; whether a course title may be taken once in a lifetime only
    course_activity: ClassVar[str | None] = None
    unique_course_titles: ClassVar[bool] = False

    # -- renewal ----------------------------------------------------------------------------

    def renewal_parameters(self, config: Reader) -> dict[str, Any]:
        """The values the renewal query binds, read from the configuration."""
        raise NotImplementedError

    def renewal_keys(self, cfg: Config, on: dt.date) -> tuple[str, ...]:
        """The configuration keys the renewal rules read."""
        reader = Reader(cfg, on)
        self.renewal_parameters(reader)
        return tuple(reader.keys)

    def outcomes(self) -> tuple[str, ...]:
        """The decisions the batch counts for this scheme (FORMATS.md outcomes)."""
        return tuple(d for d in vocabulary.DECISIONS if d != "erase" or self.erases_members)

    # -- the year -------------------------------------------------------------------------------

    def _year_starts(self, cfg: Config, on: dt.date) -> tuple[int, int]:
        key = self.year_starts_key
        return month_day(str(cfg.value(key, on=on)) if key else FISCAL_YEAR_STARTS)

    def year(self, cfg: Config, day: dt.date) -> int:
        """The 年度 (fiscal year, season or school year) that `day` belongs to."""
        month, first = self._year_starts(cfg, day)
        return day.year if (day.month, day.day) >= (month, first) else day.year - 1

    def year_start(self, cfg: Config, year: int) -> dt.date:
        """The first day of the 年度 `year`."""
        month, first = self._year_starts(cfg, dt.date(year, 12, 31))
        return dt.date(year, month, first)

    def activity_choices(self, cfg: Config, column: str) -> dict[str, str] | None:
        """The codes an activity's column may hold (code → label), else None."""
        return None

    def acquisition_fees(self, cfg: Config, on: dt.date) -> dict[str, tuple[str, int]]:
        """The qualifications that cost a fee to acquire: qualification → (item, yen)."""
        return {}

    def season_prices(self, cfg: Config, seasons: list[int]) -> dict[str, pl.DataFrame]:
        """The price relations the season query joins (schemes with a season_relation)."""
        raise NotImplementedError(f"{self.code} does not bill by season")

    def course_policy(self, cfg: Config, on: dt.date) -> CoursePolicy | None:
        """How the scheme's courses take reservations and decide completion on a day; None
        for a scheme that runs no courses."""
        if self.course_activity is None:
            return None
        code = self.code
        return CoursePolicy(
            activity=self.course_activity,
            activity_columns=self.activity_kinds[self.course_activity].columns,
            unique_titles=self.unique_course_titles,
            form_due_days=int(cfg.value(f"{code}.application_form_due_days", on=on)),
            min_applicants=int(cfg.value(f"{code}.course.min_applicants", on=on)),
            small_capacity=int(cfg.value(f"{code}.course.small_capacity", on=on)),
            opens_at=str(cfg.value(f"{code}.course.opens_at", on=on)),
            certificate_due_months=int(cfg.value(f"{code}.course.certificate_due_months", on=on)),
            max_minutes_late=int(cfg.value(f"{code}.attendance.max_minutes_late", on=on)),
            pass_score=int(cfg.value(f"{code}.exam.pass_score", on=on)),
        )

    def course_fees(self, cfg: Config, on: dt.date) -> tuple[int, int] | None:
        """(yen per course hour, days to pay) on a day, for schemes whose courses are billed
        by the hour; None for the others."""
        return None

    # -- applications ----------------------------------------------------------------------------

    def chain(self, cfg: Config, on: dt.date, *, transfer: bool = False) -> tuple[str, ...]:
        """The approval levels, bottom first; ValueError names a level that does not exist."""
        key = f"{self.code}.approval.{'transfer_chain' if transfer else 'chain'}"
        levels = tuple(cfg.value(key, on=on))
        unknown = [level for level in levels if level not in vocabulary.LEVELS]
        if unknown:
            raise ValueError(
                f"{key}: unknown level {unknown[0]!r}; use {', '.join(vocabulary.LEVELS)}"
            )
        return levels

    def sla(self, cfg: Config, on: dt.date) -> dict[str, tuple[int | None, int | None]]:
        """The levels with a deadline: level → (hours from arrival, or business days after the
        day of arrival). HQ approves within `approval.national_business_days` business days."""
        days = int(cfg.value(f"{self.code}.approval.national_business_days", on=on))
        return {"national": (None, days)}

    def reasons(self, cfg: Config, kind: str, on: dt.date) -> dict[str, str]:
        """The reasons an application of `kind` may give, code → label (a form's choices)."""
        if "reason" not in self.kinds.get(kind, Kind()).columns:
            return {}
        return {code: vocabulary.REASONS[code] for code in vocabulary.FORMATS_REASONS}

    def accepted_reasons(self, cfg: Config, kind: str, on: dt.date) -> tuple[str, ...]:
        """The reason codes a file may give for `kind`: FORMATS.md's, and the scheme's own."""
        return tuple(dict.fromkeys((*vocabulary.FORMATS_REASONS, *self.reasons(cfg, kind, on))))

    def reason_label(self, cfg: Config, code: str, on: dt.date) -> str:
        """A reason as the scheme words it, else as the vocabulary does."""
        for kind in self.kinds:
            found = self.reasons(cfg, kind, on).get(code)
            if found:
                return found
        return vocabulary.REASONS.get(code, code)

    def choices(self, cfg: Config, column: str, kind: str, on: dt.date) -> dict[str, str] | None:
        """The options of a form field that takes one of a list (code → label), else None."""
        if column == "reason":
            return self.reasons(cfg, kind, on)
        if column == "qualification":
            labels: dict[str, str] = cfg.value(f"{self.code}.qualifications", on=on)
            return dict(labels)
        return None

    def application_rules(
        self, con: duckdb.DuckDBPyConnection, frame: pl.DataFrame
    ) -> tuple[pl.DataFrame, list[Check]]:
        """Rules of the scheme's own for applications (a file's rows, or a form's one row),
        beyond the kinds and the columns each needs; the frame may gain columns."""
        return frame, []

    # -- what an application does, inside the approver's transaction (default: nothing more
    #    than core.applications.effects does for every scheme) ----------------------------------

    def intake_refusals(self, cfg: Config) -> list[Refusal]:
        """Applications refused at intake, without an approver (default: none)."""
        return []

    def at_approval(
        self, con: duckdb.DuckDBPyConnection, *, cfg: Config, actor: str, now: dt.datetime
    ) -> None:
        """The scheme's own effects of the approvals in temp table approval_moves."""

    def at_withdrawal(
        self, con: duckdb.DuckDBPyConnection, record: dict[str, Any], *, actor: str
    ) -> None:
        """Take back what an application's approvals so far did, when it is withdrawn."""
