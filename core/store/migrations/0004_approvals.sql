-- Applications move through an approval chain (core/approvals.py): where each one waits now,
-- who entered it, what intake checks found, and one history row per step.
ALTER TABLE applications ADD COLUMN entered_by VARCHAR NOT NULL DEFAULT 'member';  -- member | proxy | admin | import
ALTER TABLE applications ADD COLUMN org_code VARCHAR;          -- the member's (or new member's) organisation at intake
ALTER TABLE applications ADD COLUMN level VARCHAR;             -- the level it waits at: club | region | prefecture | national
ALTER TABLE applications ADD COLUMN level_org_code VARCHAR;    -- the organisation that approves at that level
ALTER TABLE applications ADD COLUMN level_since TIMESTAMP;     -- Japan time it arrived at that level
ALTER TABLE applications ADD COLUMN decided_at TIMESTAMP;      -- Japan time of the final approval / rejection
ALTER TABLE applications ADD COLUMN version INTEGER NOT NULL DEFAULT 0;  -- bumped by every step
-- new registrations carry the member's data until approval creates the member
ALTER TABLE applications ADD COLUMN family_name VARCHAR;
ALTER TABLE applications ADD COLUMN given_name VARCHAR;
ALTER TABLE applications ADD COLUMN family_name_kana VARCHAR;
ALTER TABLE applications ADD COLUMN given_name_kana VARCHAR;
ALTER TABLE applications ADD COLUMN birth_date DATE;
ALTER TABLE applications ADD COLUMN email VARCHAR;
ALTER TABLE applications ADD COLUMN phone VARCHAR;
ALTER TABLE applications ADD COLUMN postal_code VARCHAR;
ALTER TABLE applications ADD COLUMN prefecture VARCHAR;
ALTER TABLE applications ADD COLUMN address VARCHAR;
ALTER TABLE applications ADD COLUMN category VARCHAR;
-- SAJ season registration extras, billed at national approval
ALTER TABLE applications ADD COLUMN insurance_plan VARCHAR;
ALTER TABLE applications ADD COLUMN competitor VARCHAR;        -- saj_alpine | fis_alpine
-- intake checks (core/approvals_checks.py), recomputed set-based
ALTER TABLE applications ADD COLUMN duplicate_of VARCHAR;      -- application_ref of the same member's other application
ALTER TABLE applications ADD COLUMN same_person_as VARCHAR;    -- another member_no with the same name, kana and birth date
ALTER TABLE applications ADD COLUMN address_problem VARCHAR;   -- why the address does not agree with Japan Post
ALTER TABLE applications ADD COLUMN reject_reason VARCHAR;     -- why intake refused it (status 'rejected')

CREATE SEQUENCE application_step_id_seq;
CREATE TABLE application_steps (
    step_id         BIGINT PRIMARY KEY DEFAULT nextval('application_step_id_seq'),
    application_id  BIGINT NOT NULL,
    action          VARCHAR NOT NULL,   -- submitted | approved | sent_back | resubmitted | rejected | withdrawn
    level           VARCHAR,            -- the level acted at (NULL for intake)
    org_code        VARCHAR,            -- the organisation acting at that level
    next_level      VARCHAR,            -- where the application waits afterwards (NULL when done)
    next_org_code   VARCHAR,
    reason          VARCHAR,            -- send-back reason code
    note            VARCHAR,
    actor           VARCHAR NOT NULL,
    acted_at        TIMESTAMP NOT NULL  -- Japan time
);
