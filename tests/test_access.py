"""Log-in: throttling kept in the database, the same answers for unknown names, sessions that
idle out, and an audit row for every attempt — never the password typed."""

from __future__ import annotations

import datetime as dt
import statistics
import time

import pytest

from core.access import login, users
from core.store import db

from .conftest import PASSWORD

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def attempts(con, username, password, n, start=T0, step=MINUTE):
    """`n` attempts a minute apart; the last result."""
    result = None
    for i in range(n):
        result = login.authenticate(con, username, password, now=start + i * step)
    return result


@pytest.mark.parametrize(("failures", "locked"), [(4, False), (5, True)])
def test_the_fifth_failure_within_15_minutes_locks_the_name(sample, failures, locked):
    last = attempts(sample, "hq", "wrong-password", failures)
    assert (last.message == login.LOCKED) is locked
    after = login.authenticate(sample, "hq", PASSWORD, now=T0 + failures * MINUTE)
    assert after.ok is not locked  # the right password does not open a locked name


def test_failures_further_apart_than_the_window_do_not_lock(sample):
    # 5 failures, but the 5th comes 15 minutes after the 1st: a new window has begun
    last = attempts(sample, "hq", "wrong-password", 5, step=dt.timedelta(minutes=3, seconds=45))
    assert last.message == login.WRONG
    assert login.authenticate(sample, "hq", PASSWORD, now=T0 + 16 * MINUTE).ok


@pytest.mark.parametrize(("minutes", "opens"), [(14, False), (15, True)])
def test_a_lock_lasts_15_minutes(sample, minutes, opens):
    locked = attempts(sample, "hq", "wrong-password", 5)
    assert locked.locked_until == T0 + 4 * MINUTE + 15 * MINUTE
    later = login.authenticate(sample, "hq", PASSWORD, now=locked.locked_until - 15 * MINUTE
                               + minutes * MINUTE)  # fmt: skip
    assert later.ok is opens
    assert (later.message == login.LOCKED) is not opens


def test_an_unknown_name_gets_the_same_answers_and_the_same_lock(sample):
    known = [login.authenticate(sample, "hq", "wrong-password", now=T0 + i * MINUTE).message
             for i in range(6)]  # fmt: skip
    unknown = [login.authenticate(sample, "nobody", "wrong-password", now=T0 + i * MINUTE).message
               for i in range(6)]  # fmt: skip
    assert known == unknown == [login.WRONG] * 4 + [login.LOCKED] * 2
    locked = dict(sample.execute("SELECT username, locked_until FROM login_throttle").fetchall())
    assert locked == {"hq": T0 + 19 * MINUTE, "nobody": T0 + 19 * MINUTE}


def test_an_unknown_name_costs_what_a_wrong_password_costs(sample):
    def timed(username):
        started = time.perf_counter()
        login.authenticate(sample, username, "wrong-password", now=T0 - dt.timedelta(days=1))
        return time.perf_counter() - started

    for name in ("hq", "nobody"):
        timed(name)  # warm up
    known = statistics.median(timed("hq") for _ in range(5))
    unknown = statistics.median(timed("nobody") for _ in range(5))
    # both do one bcrypt check (~0.05–0.1 s); without the dummy check an unknown name would
    # return in well under a millisecond
    assert unknown > known / 3 and known > unknown / 3


def test_users_unlock_ends_a_lock_and_is_audited(sample):
    attempts(sample, "hq", "wrong-password", 5, start=login.now_utc())
    assert "hq" in login.locks(sample)
    assert login.unlock(sample, "hq", actor="cli:root") is True
    assert "hq" not in login.locks(sample)
    assert login.authenticate(sample, "hq", PASSWORD).ok
    assert login.unlock(sample, "hq", actor="cli:root") is False
    row = db.one(
        sample, "SELECT actor, reason FROM audit_log WHERE action = 'unlocked' AND row_key = 'hq'"
    )
    assert row == ("cli:root", "ロックを解除")


def test_every_attempt_is_audited_and_no_row_holds_a_password(sample):
    typed = ["Guess-One-2026!", "Guess-Two-2026!", "Guess-Three-2026!", "Guess-Four-2026!",
             "Guess-Five-2026!"]  # fmt: skip
    for i, password in enumerate(typed):
        login.authenticate(sample, "analyst", password, now=T0 + i * MINUTE, where="10.0.0.7")
    ok = login.authenticate(sample, "hq", PASSWORD, now=T0)
    login.end(sample, ok.session_id, now=T0 + MINUTE)
    rows = sample.execute(
        "SELECT action, row_key, reason FROM audit_log WHERE table_name = 'users'"
        " AND action IN ('login', 'login_failed', 'locked', 'logout') ORDER BY audit_id"
    ).fetchall()
    assert [(a, k) for a, k, _ in rows] == [
        *[("login_failed", "analyst")] * 5,
        ("locked", "analyst"),
        ("login", "hq"),
        ("logout", "hq"),
    ]
    assert "10.0.0.7" in rows[0][2]
    everything = " ".join(
        str(v) for r in sample.execute("SELECT * FROM audit_log").fetchall() for v in r
    )
    assert not any(p in everything for p in [*typed, PASSWORD])


def test_a_session_idles_out_after_30_minutes_and_the_log_out_is_audited(sample):
    session = login.authenticate(sample, "hq", PASSWORD, now=T0).session_id
    assert login.current(sample, session, now=T0 + 30 * MINUTE)[0] is not None
    # that interaction counted: 30 minutes from it, not from the log-in
    assert login.current(sample, session, now=T0 + 60 * MINUTE)[0] is not None
    assert login.current(sample, session, now=T0 + 90 * MINUTE + MINUTE) == (None, "idle")
    assert login.current(sample, session, now=T0 + 92 * MINUTE) == (None, "ended")
    assert db.one(
        sample, "SELECT reason FROM audit_log WHERE action = 'logout' AND row_key = 'hq'"
    ) == ("操作がなかったためログアウト",)


def test_a_session_lasts_at_most_12_hours_however_busy(sample):
    session = login.authenticate(sample, "hq", PASSWORD, now=T0).session_id
    for minutes in range(20, 12 * 60, 20):
        assert login.current(sample, session, now=T0 + minutes * MINUTE)[0] is not None
    assert login.current(sample, session, now=T0 + 12 * 60 * MINUTE + MINUTE) == (None, "expired")


def test_role_scope_and_disabling_take_effect_at_the_next_interaction(sample):
    session = login.authenticate(sample, "hq", PASSWORD, now=T0).session_id
    users.update(sample, username="hq", actor="admin", reason="異動", role="approver",
                 org_code="SAJ-22")  # fmt: skip
    now = login.current(sample, session, now=T0 + MINUTE)[0]
    assert (now.user["role"], now.user["org_code"]) == ("approver", "SAJ-22")
    users.update(sample, username="hq", actor="admin", reason="退職", disabled=True)
    assert login.current(sample, session, now=T0 + 2 * MINUTE)[1] in ("ended", "disabled")
