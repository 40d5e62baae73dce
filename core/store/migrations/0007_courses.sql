-- Courses (講習) and the reservations made for them (受講申込), as far as billing needs them:
-- a course's hours and materials fee price a reservation once its signed form has arrived
-- (teacher scheme: 1,000 yen an hour plus materials, one invoice per submission date).
CREATE TABLE courses (
    course_code    VARCHAR PRIMARY KEY,
    scheme         VARCHAR NOT NULL,
    title          VARCHAR NOT NULL,
    held_on        DATE NOT NULL,
    hours          INTEGER NOT NULL,
    domain         VARCHAR,                 -- teacher: mandatory | elective_mandatory | elective
    capacity       INTEGER,
    materials_fee  INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE SEQUENCE enrolment_id_seq;
CREATE TABLE enrolments (
    enrolment_id      BIGINT PRIMARY KEY DEFAULT nextval('enrolment_id_seq'),
    course_code       VARCHAR NOT NULL,
    member_no         VARCHAR NOT NULL,
    reserved_at       TIMESTAMP NOT NULL,   -- Japan time
    form_received_on  DATE,                 -- the day the signed application form arrived
    status            VARCHAR NOT NULL DEFAULT 'reserved',  -- reserved | cancelled
    billing_id        BIGINT,               -- the course fee line, once billed
    created_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
