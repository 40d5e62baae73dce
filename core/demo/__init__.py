"""Realistic synthetic data for all five schemes, deterministic for a seed.

``build_demo(con, members=20000, seed=42, today=None)`` fills the empty tables
organizations, members, qualifications, activities, billing and payments of a migrated
database in one transaction and records one audit_log row per table. Everything is
drawn with numpy from ``numpy.random.default_rng([seed, stream, part])`` and built as
whole-table arrays, so a million members (about ten million activity rows) take about
30 seconds on two cores. Dates are placed around ``today`` so the back office has live
work: validities ending this month, a renewal batch that has not run since yesterday,
fees in arrears, open renewal windows.

Layout: :mod:`~core.demo.orgs` (the forest), :mod:`~core.demo.people` (members),
one module per scheme (:mod:`~core.demo.jptec`, :mod:`~core.demo.itc`,
:mod:`~core.demo.jspo`, :mod:`~core.demo.saj`, :mod:`~core.demo.teacher`) and
:mod:`~core.demo.store` (ids and inserts).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import duckdb
import numpy as np

from core import config, text
from core.billing import lines as billing_lines
from core.config import Config
from core.demo import applications as open_applications
from core.demo import dates, itc, jptec, jspo, saj, teacher
from core.demo import mail as demo_mail
from core.demo.orgs import SCHEMES, build_forest
from core.demo.people import Roster, make_roster, member_frame, prefecture_weights, scheme_sizes
from core.demo.reference import GroupSampler, name_pool, postal_pool
from core.demo.rows import SchemeRows
from core.demo.store import Ids, insert_frame, write_scheme
from core.store import db
from core.store.db import transaction

__all__ = ["DEMO_TABLES", "build_demo"]

DEMO_TABLES = (
    "organizations",
    "members",
    "qualifications",
    "activities",
    "billing",
    "payments",
    "applications",
)

Builder = Callable[[np.random.Generator, Config, Roster, int], SchemeRows]
_BUILDERS: dict[str, Builder] = {
    "jptec": jptec.build,
    "itc": itc.build,
    "jspo": jspo.build,
    "saj": saj.build,
    "teacher": teacher.build,
}


def _rng(seed: int, *stream: int) -> np.random.Generator:
    """An independent generator per part, so one part's draws never shift another's."""
    return np.random.default_rng([seed, *stream])


def _require_empty(con: duckdb.DuckDBPyConnection) -> None:
    for table in DEMO_TABLES:
        rows = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()
        if rows[0][0]:
            raise ValueError(
                f"table {table} already has {rows[0][0]} rows; demo data needs it empty"
            )


def _season_registrations(con: duckdb.DuckDBPyConnection, cfg: Config, on: dt.date) -> int:
    """SAJ's yearly fee line exists because SAJ approved the season's registration (seed 003):
    one approved season_registration per yearly fee line that was not cancelled, submitted
    the day the line was issued. The renewal batch reads these to keep or erase members."""
    month, day = (int(part) for part in str(cfg.value("saj.season.starts", on=on)).split("-"))
    rows = con.execute(
        """
        INSERT INTO applications (application_ref, member_no, scheme, kind, season, submitted_at,
                                  status, note)
        SELECT 'DEMO-SAJ-' || lpad(CAST(row_number() OVER (ORDER BY billing_id) AS VARCHAR), 9, '0'),
               member_no, 'saj', 'season_registration',
               CASE WHEN (month(issued_on), day(issued_on)) >= (?, ?) THEN year(issued_on)
                    ELSE year(issued_on) - 1 END,
               issued_on::TIMESTAMP + INTERVAL 10 HOUR, 'approved', 'demo'
        FROM billing WHERE scheme = 'saj' AND item = 'saj_annual_fee' AND status <> 'cancelled'
        """,
        [month, day],
    ).fetchall()
    return int(rows[0][0])


def build_demo(
    con: duckdb.DuckDBPyConnection,
    members: int = 20000,
    seed: int = 42,
    today: dt.date | None = None,
    *,
    intake: bool = True,
) -> dict[str, int]:
    """Fill the empty demo tables with `members` members; returns the row count per table.

    `intake=False` leaves out the current season's open applications (core.demo.history adds
    them at the end of the years it builds).

    Same `members`, `seed` and `today` give identical rows (ids included). Raises
    ValueError when a table already has rows; nothing is written then.
    """
    if members < 0:
        raise ValueError("members must be 0 or more")
    if seed < 0:
        raise ValueError("seed must be 0 or more")
    on = today or dt.date.today()
    day = dates.day(on)
    cfg = config.current()
    sizes = scheme_sizes(members)
    width = max(7, len(str(max(sizes.values()))))
    counts = dict.fromkeys(DEMO_TABLES, 0)
    with transaction(con):
        _require_empty(con)
        postal = postal_pool(con)
        expected = {s: prefecture_weights(s) * sizes[s] for s in SCHEMES}
        forest = build_forest(_rng(seed, 0), cfg, expected, postal)
        counts["organizations"] = insert_frame(con, "organizations", forest.frame)
        ids = Ids(con)
        rosters: dict[str, Roster] = {}
        for part, scheme in enumerate(SCHEMES):
            if not sizes[scheme]:
                continue
            roster = make_roster(_rng(seed, 1, part), scheme, sizes[scheme], forest, day)
            rows = _BUILDERS[scheme](_rng(seed, 2, part), cfg, roster, day)
            written = write_scheme(con, cfg, scheme, rows, roster.numbers(), ids, width)
            for table, n in written.items():
                counts[table] += n
            rosters[scheme] = roster
            del rows
        names = name_pool()
        sampler = GroupSampler(postal.pref, postal.weight)
        for part, scheme in enumerate(SCHEMES):
            if scheme not in rosters:
                continue
            prefix = str(cfg.value(f"{scheme}.member_no_prefix", on=on))
            frame = member_frame(
                _rng(seed, 3, part), rosters[scheme], prefix, width, forest, names, postal, sampler
            )
            counts["members"] += insert_frame(con, "members", frame)
            del frame
        ids.finish()
        counts["applications"] = _season_registrations(con, cfg, on)
        if intake:
            open_applications.build(con, cfg, on, seed)
        demo_mail.deliver(con, on)
        with db.registered(con, item_tax=billing_lines.tax_classes(on, cfg)):
            con.execute(
                "UPDATE billing AS b SET tax_class = t.tax_class FROM item_tax t"
                " WHERE b.scheme = t.scheme AND b.item = t.item"
            )
        # approvals in the intake add billing lines and steps: count what the tables hold
        counts = {table: db.table_count(con, table) for table in DEMO_TABLES}
        batch = f"demo-{uuid.uuid4().hex[:12]}"
        note = f"デモデータ（会員 {members:,}人・乱数 {seed}・基準日 {text.jp_date(on)}）"
        con.executemany(
            "INSERT INTO audit_log (actor, action, table_name, new_value, reason, batch_id)"
            " VALUES ('cli:demo', 'demo', ?, ?, ?, ?)",
            [[table, str(n), note, batch] for table, n in counts.items()],
        )
    return counts
