-- A course reservation's documents (受講申込書: kind application_form): the reservation and the
-- course as it was when the form became available, so every copy prints the same course, day
-- and fee.
ALTER TABLE documents ADD COLUMN enrolment_id BIGINT;
ALTER TABLE documents ADD COLUMN course_code VARCHAR;
ALTER TABLE documents ADD COLUMN course_title VARCHAR;
ALTER TABLE documents ADD COLUMN course_held_on DATE;
ALTER TABLE documents ADD COLUMN course_hours INTEGER;
ALTER TABLE documents ADD COLUMN course_fee INTEGER;  -- hours × the fee per hour + materials, that day
