-- Access a body can go live with (core/access): passwords users own, log-in throttling that
-- holds across browsers and app servers, server-side sessions that idle out.

-- After an admin's reset the user must choose a new password before any page opens.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN password_changed_at TIMESTAMPTZ;

-- One row per user name tried (known or not: an unknown name is throttled like a known one).
CREATE TABLE login_throttle (
    username           VARCHAR PRIMARY KEY,
    failures           INTEGER NOT NULL DEFAULT 0,  -- failed attempts in the current window
    window_started_at  TIMESTAMPTZ,                 -- the first failure of the window
    locked_until       TIMESTAMPTZ                  -- no log-in for this name before then
);

-- A signed-in browser: the cookie carries the session id (signed); the row says whether the
-- session still stands (not ended, not idle too long), whichever app server serves it.
CREATE TABLE login_sessions (
    session_id    VARCHAR PRIMARY KEY,
    username      VARCHAR NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ,
    ended_why     VARCHAR                          -- logout, idle, disabled, password
);
CREATE INDEX login_sessions_user ON login_sessions (username);

-- Whether the user still has the demo password the README publishes (admins are warned).
ALTER TABLE users ADD COLUMN demo_password BOOLEAN NOT NULL DEFAULT false;
