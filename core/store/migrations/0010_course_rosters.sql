-- Courses and rosters (core/courses): the catalogue's remaining facts, seats and the waitlist,
-- attendance, exam scores, completions and the events a later outbox mails about.

-- The catalogue: dates and times, where and by whom, what to bring, the recruitment periods
-- (Japan time), the minimum to open (NULL: the scheme's default), and the course's own state.
ALTER TABLE courses ADD COLUMN held_until DATE;          -- last day of a multi-day course; NULL: one day
ALTER TABLE courses ADD COLUMN starts_at TIME;
ALTER TABLE courses ADD COLUMN ends_at TIME;
ALTER TABLE courses ADD COLUMN venue VARCHAR;
ALTER TABLE courses ADD COLUMN lecturer VARCHAR;
ALTER TABLE courses ADD COLUMN notes VARCHAR;            -- 持ち物 and other notices
ALTER TABLE courses ADD COLUMN qualification VARCHAR;    -- JSPO: the licence a training counts for
ALTER TABLE courses ADD COLUMN min_to_open INTEGER;      -- NULL: the scheme's configured minimum
ALTER TABLE courses ADD COLUMN recruit_from TIMESTAMP;   -- 募集期間 (Japan time)
ALTER TABLE courses ADD COLUMN recruit_until TIMESTAMP;
ALTER TABLE courses ADD COLUMN extra_from TIMESTAMP;     -- 追加募集 (only while seats are free)
ALTER TABLE courses ADD COLUMN extra_until TIMESTAMP;
ALTER TABLE courses ADD COLUMN status VARCHAR NOT NULL DEFAULT 'scheduled';  -- scheduled | not_opened | cancelled
ALTER TABLE courses ADD COLUMN status_on DATE;           -- the day it was marked not opened or cancelled
-- Every transaction that gives or frees a seat of a course first bumps this number, so two
-- such transactions on one course never decide from the same count: the second one conflicts
-- and runs again (core/courses/seats.py).
ALTER TABLE courses ADD COLUMN seat_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE courses ADD COLUMN updated_at TIMESTAMPTZ;

-- A reservation holds a seat (reserved) or waits (waitlisted) until it ends: cancelled,
-- deleted (invoice unpaid) or not_opened. seated_at is when the seat was given: the moment
-- of the reservation, or of the promotion from the waitlist (the form's 14 days run from it).
ALTER TABLE enrolments ADD COLUMN seated_at TIMESTAMP;
ALTER TABLE enrolments ADD COLUMN ended_on DATE;
ALTER TABLE enrolments ADD COLUMN end_reason VARCHAR;    -- member | withdrawal | late_form | unpaid | not_opened | transferred | course_cancelled
ALTER TABLE enrolments ADD COLUMN transferred_from BIGINT;  -- the reservation of a course not opened
ALTER TABLE enrolments ADD COLUMN updated_at TIMESTAMPTZ;
-- the materials line (教材費) billed with the fee line (billing_id): the two go together
ALTER TABLE enrolments ADD COLUMN materials_billing_id BIGINT;
UPDATE enrolments SET seated_at = reserved_at WHERE status = 'reserved';

-- On the day: present or absent; minutes late (NULL: on time) and whether a delay certificate
-- (遅延証明書) was shown. One row per reservation, replaced when corrected.
CREATE TABLE course_attendance (
    enrolment_id       BIGINT PRIMARY KEY,
    attended           VARCHAR NOT NULL CHECK (attended IN ('present', 'absent')),
    minutes_late       SMALLINT CHECK (minutes_late >= 0),
    delay_certificate  BOOLEAN NOT NULL DEFAULT false,
    recorded_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    recorded_by        VARCHAR NOT NULL
);

-- Exam scores (修了認定試験): one row per reservation and exam day; a later day is a re-exam
-- (追試験). The latest counts.
CREATE SEQUENCE course_score_id_seq;
CREATE TABLE course_scores (
    score_id      BIGINT PRIMARY KEY DEFAULT nextval('course_score_id_seq'),
    enrolment_id  BIGINT NOT NULL,
    exam_on       DATE NOT NULL,
    score         SMALLINT NOT NULL CHECK (score BETWEEN 0 AND 100),
    method        VARCHAR NOT NULL CHECK (method IN ('written', 'practical', 'oral')),
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    recorded_by   VARCHAR NOT NULL
);

-- A completed course: the activity row the renewal rules count (activity_id) and the
-- completion certificate (修了証明書) due by the end of the following month.
CREATE TABLE course_completions (
    enrolment_id           BIGINT PRIMARY KEY,
    member_no              VARCHAR NOT NULL,
    course_code            VARCHAR NOT NULL,
    completed_on           DATE NOT NULL,
    activity_id            BIGINT NOT NULL,
    certificate_no         VARCHAR NOT NULL,
    certificate_due        DATE NOT NULL,
    certificate_issued_at  TIMESTAMPTZ,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- What happened to a reservation, for the members' mail (a later outbox reads these rows:
-- a promotion from the waitlist is `promoted`).
CREATE SEQUENCE course_event_id_seq;
CREATE TABLE course_events (
    event_id      BIGINT PRIMARY KEY DEFAULT nextval('course_event_id_seq'),
    event         VARCHAR NOT NULL,
    enrolment_id  BIGINT NOT NULL,
    member_no     VARCHAR NOT NULL,
    course_code   VARCHAR NOT NULL,
    scheme        VARCHAR NOT NULL,
    happened_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    detail        VARCHAR
);

-- A member's reservations (the refusals: the same title, overlapping days) and a course's
-- (seats, the roster) are looked up at every reservation: by index, not by a scan.
CREATE INDEX enrolments_member ON enrolments (member_no);
CREATE INDEX enrolments_course ON enrolments (course_code);
