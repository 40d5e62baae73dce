"""Reminder mail, scheduled as configuration per scheme (`<scheme>.reminders`).

Each reminder names its event (a `reminder_*` template), its anchor and how far from it:

- `valid_until`: `months` and `days` before a held qualification's validity end (JSPO: the
  window opened 2 months before; ITC: the deadline in 7 days). Renewing moves the end, so a
  renewed member is never reminded of the period already renewed.
- `fee_issued`: `months` and `days` after a fee line was billed, while it is still open
  (JPTEC: unpaid after 1 and 3 months, before the 4-month invalidation).

`unless_met` names a renewal requirement (core/sql/renewals: `application`, `fees_paid` …)
that, met on the day, cancels it (ITC: no reminder once the member applied). A reminder
goes out from its day for `within_days` days (a job that missed a day catches up) and never
twice for the same member, reminder and period: its outbox row carries the key
`<scheme>.<reminder>:<qualification or line>:<period>` and the outbox refuses a key twice.
`python -m core remind` runs them for a day; run it daily, before `send-mail`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from core import config, schemes
from core.config import ConfigError
from core.documents.available import qualification_labels
from core.notify import outbox
from core.notify.events import EVENTS
from core.store import audit, db

ANCHORS = ("valid_until", "fee_issued")
EVENTS_ALLOWED = tuple(e for e in EVENTS if e.startswith("reminder_"))


@dataclass(frozen=True)
class Reminder:
    scheme: str
    code: str
    event: str
    anchor: str
    months: int
    days: int
    unless_met: str
    within_days: int


def schedule(cfg: config.Config, on: dt.date) -> list[Reminder]:
    """Every scheme's reminders in force on a day; ConfigError names a bad one."""
    found = []
    for scheme in schemes.CODES:
        key = f"{scheme}.reminders"
        for code, r in cfg.value(key, on=on).items():
            if r["event"] not in EVENTS_ALLOWED:
                raise ConfigError(
                    f"{key}.{code}.event: {r['event']!r} is not a reminder event;"
                    f" use {', '.join(EVENTS_ALLOWED)}"
                )
            if r["anchor"] not in ANCHORS:
                raise ConfigError(f"{key}.{code}.anchor: {r['anchor']!r}; use {', '.join(ANCHORS)}")
            if r["within_days"] < 1:
                raise ConfigError(f"{key}.{code}.within_days: at least 1")
            found.append(Reminder(scheme, code, **r))
    return found


def describe(reminder: dict[str, object]) -> str:
    """A configured reminder in words: 「リマインド：会費の未納（請求日の後 1か月・14日以内に送信）」."""
    from core.vocabulary import MAIL_EVENTS, REMINDER_ANCHORS, REQUIREMENTS

    months, days = int(str(reminder["months"])), int(str(reminder["days"]))
    span = "".join(
        part for part in (f"{months}か月" if months else "", f"{days}日" if days else "") if part
    )
    met = str(reminder["unless_met"])
    unless = f"、{REQUIREMENTS.get(met, met)}が済んでいれば送らない" if met else ""
    return (
        f"{MAIL_EVENTS.get(str(reminder['event']), str(reminder['event']))}"
        f"（{REMINDER_ANCHORS.get(str(reminder['anchor']), str(reminder['anchor']))} {span or '当日'}"
        f"・{reminder['within_days']}日以内に送信{unless}）"
    )


_VALIDITY = f"""
SELECT q.member_no, q.scheme, l.label AS qualification,
       {outbox.date_sql("q.valid_from")} AS valid_from,
       {outbox.date_sql("q.valid_until")} AS valid_until, q.certificate_no,
       $prefix || ':q' || q.qualification_id::VARCHAR || ':' || q.valid_until::VARCHAR
           AS dedupe_key
FROM qualifications q
JOIN members m ON m.member_no = q.member_no AND m.status = 'active'
LEFT JOIN reminder_labels l ON l.scheme = q.scheme AND l.qualification = q.qualification
WHERE q.scheme = $scheme AND q.status IN ('active', 'renewed', 'renewal_open')
  AND q.valid_until IS NOT NULL
  AND $on BETWEEN (q.valid_until - to_months($months) - to_days($days))::DATE
              AND least((q.valid_until - to_months($months) - to_days($days))::DATE
                        + ($within - 1), q.valid_until)
  AND q.qualification_id NOT IN (SELECT qualification_id FROM reminder_met)
"""
_FEE = f"""
SELECT b.member_no, b.scheme, l.label AS qualification,
       {outbox.date_sql("q.valid_from")} AS valid_from,
       {outbox.date_sql("q.valid_until")} AS valid_until, q.certificate_no,
       b.description AS items, {outbox.yen_sql("b.amount + b.handling_fee")} AS amount,
       {outbox.date_sql("b.due_on")} AS due_on, {outbox.date_sql("b.issued_on")} AS issued_on,
       $prefix || ':b' || b.billing_id::VARCHAR AS dedupe_key
FROM billing b
JOIN members m ON m.member_no = b.member_no AND m.status = 'active'
LEFT JOIN qualifications q ON q.qualification_id = b.qualification_id
LEFT JOIN reminder_labels l ON l.scheme = q.scheme AND l.qualification = q.qualification
WHERE b.scheme = $scheme AND b.status = 'open'
  AND $on BETWEEN (b.issued_on + to_months($months) + to_days($days))::DATE
              AND (b.issued_on + to_months($months) + to_days($days))::DATE + ($within - 1)
  AND coalesce(b.qualification_id, -1) NOT IN (SELECT qualification_id FROM reminder_met)
"""


def _met(
    con: duckdb.DuckDBPyConnection, r: Reminder, on: dt.date, cfg: config.Config
) -> pl.DataFrame:
    """The qualifications whose `unless_met` requirement is met on the day."""
    empty = pl.DataFrame(schema={"qualification_id": pl.Int64})
    if not r.unless_met:
        return empty
    from core.renewals.batch import requirements

    rows = requirements(con, on, schemes=(r.scheme,), cfg=cfg)
    if rows.is_empty():
        return empty
    return rows.filter(
        (pl.col("code") == r.unless_met) & pl.col("met") & pl.col("qualification_id").is_not_null()
    ).select(pl.col("qualification_id").cast(pl.Int64))


def run(
    con: duckdb.DuckDBPyConnection,
    on: dt.date,
    *,
    actor: str = "cli:remind",
    cfg: config.Config | None = None,
) -> list[dict[str, object]]:
    """Write every reminder due on `on` to the outbox, all in one transaction; the counts
    per scheme and reminder. Running it again the same day writes nothing more."""
    settings = cfg or config.current()
    batch_id = audit.new_batch_id()
    counts = []
    with db.transaction(con):
        labels = qualification_labels(settings, on)
        for r in schedule(settings, on):
            query = _VALIDITY if r.anchor == "valid_until" else _FEE
            with db.registered(
                con, reminder_labels=labels, reminder_met=_met(con, r, on, settings)
            ):
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE reminder_rows AS " + query,
                    {
                        "scheme": r.scheme,
                        "on": on,
                        "months": r.months,
                        "days": r.days,
                        "within": r.within_days,
                        "prefix": f"{r.scheme}.{r.code}",
                    },
                )
            n = outbox.write(
                con, "reminder_rows", event=r.event, actor=actor, on=on, batch_id=batch_id,
                cfg=settings,
            )  # fmt: skip
            counts.append({"scheme": r.scheme, "reminder": r.code, "event": r.event, "n": n})
    return counts
