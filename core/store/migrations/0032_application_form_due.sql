-- A 受講申込書 prints the day its signed form is due (提出期限): the day the seat was given
-- (the reservation, or the promotion from the waitlist) plus the scheme's
-- application_form_due_days, as of the day the form became available. NULL: no deadline.
ALTER TABLE documents ADD COLUMN course_form_due DATE;
