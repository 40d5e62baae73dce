"""Builders for the course tests: the people of the teacher and JSPO trees, courses, a clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest

from core import imports
from core.courses import catalogue, enrolment

DATA = Path(__file__).parent / "data"
T = [f"T{i:07d}" for i in range(25)]  # T[1] … T[24]: teachers (TEACHER tree)
S = [f"S{i:07d}" for i in range(5)]  # S[1] … S[4]: JSPO coaches
J = ["J0000001", "J0000002"]  # the sample's JPTEC instructor and provider


def add_people(con: duckdb.DuckDBPyConnection) -> None:
    """The teacher and JSPO organisations and members, beside the sample's."""
    imports.import_file(con, "organizations", DATA / "course_organizations.csv", actor="test")
    imports.import_file(con, "members", DATA / "course_members.csv", actor="test")


def add_course(con: duckdb.DuckDBPyConnection, code: str, **fields: Any) -> None:
    """A course with sensible teacher defaults (a 6-hour mandatory course, 3 seats, recruiting
    2021-05-01 06:00 to 2021-05-14 17:00, held 2021-08-02), changed by `fields`."""
    values = {
        "course_code": code,
        "scheme": "teacher",
        "title": f"講習{code}",
        "held_on": "2021-08-02",
        "hours": 6,
        "domain": "mandatory",
        "capacity": 3,
        "recruit_from": "2021-05-01",
        "recruit_until": "2021-05-14 17:00",
        **fields,
    }
    catalogue.save_course(con, {k: v for k, v in values.items() if v is not None}, actor="test")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class Clock:
    """The moment core.courses takes as now (reservations without a time, promotions)."""

    def __init__(self, moment: dt.datetime):
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment

    def set(self, text: str) -> None:
        self.moment = at(text)


def clock(monkeypatch: pytest.MonkeyPatch, start: str = "2021-05-01 06:00") -> Clock:
    found = Clock(at(start))
    monkeypatch.setattr(enrolment, "now", found)
    return found
