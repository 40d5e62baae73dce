-- What each renewal run decided, kept for the statistics (更新・失効統計) and the forecast's
-- back-test: one row per qualification (or SAJ membership) a run changed, with where the member
-- stood when it ran — the organisation, its prefecture and the 5-year age band, so a member
-- erased later (personal data cleared) still counts in the right band — and, for the decisions
-- that end a qualification, the requirements that were unmet (the requirements relation at
-- that run). Written by core.renewals.history in the run's transaction.
CREATE TABLE renewal_outcomes (
    batch_id          VARCHAR NOT NULL,     -- renewal_runs.batch_id, and the run's audit rows
    as_of             DATE NOT NULL,
    qualification_id  BIGINT,               -- NULL for a SAJ membership
    member_no         VARCHAR NOT NULL,
    scheme            VARCHAR NOT NULL,
    qualification     VARCHAR NOT NULL,     -- 'membership' for a SAJ membership
    decision          VARCHAR NOT NULL,     -- extend | open_fee | lapse | invalidate | erase | convert
    old_status        VARCHAR,
    valid_until       DATE,                 -- the validity end the decision was about
    new_valid_until   DATE,
    fee_amount        INTEGER,
    org_code          VARCHAR,
    prefecture        VARCHAR,              -- the organisation's prefecture, else the member's
    age_band          INTEGER,              -- 40 = 40–44 years old on as_of; NULL: unknown
    acquired_on       DATE,
    recorded          BOOLEAN NOT NULL DEFAULT true  -- false: rebuilt from the audit trail
);

CREATE TABLE renewal_unmet (
    batch_id          VARCHAR NOT NULL,
    qualification_id  BIGINT,
    member_no         VARCHAR NOT NULL,
    scheme            VARCHAR NOT NULL,
    qualification     VARCHAR NOT NULL,
    decision          VARCHAR NOT NULL,     -- lapse | invalidate | erase
    code              VARCHAR NOT NULL,     -- the requirement (FORMATS.md explain codes)
    label             VARCHAR,
    required          DECIMAL(9, 1),
    actual            DECIMAL(9, 1),
    period_from       DATE,
    period_to         DATE
);

-- Runs from before this table existed: their outcomes rebuilt from the audit trail (what each
-- run changed), placed with today's organisation and age; their unmet requirements are unknown.
INSERT INTO renewal_outcomes (batch_id, as_of, qualification_id, member_no, scheme,
                              qualification, decision, old_status, valid_until, new_valid_until,
                              org_code, prefecture, age_band, acquired_on, recorded)
WITH changed AS (
    SELECT r.batch_id, r.as_of, TRY_CAST(a.row_key AS BIGINT) AS qualification_id,
           max(CASE WHEN a.field = 'status' THEN a.old_value END) AS old_status,
           max(CASE WHEN a.field = 'status' THEN a.new_value END) AS new_status,
           bool_or(a.field = 'valid_until') AS until_changed,
           max(CASE WHEN a.field = 'valid_until' THEN a.old_value END) AS old_until,
           max(CASE WHEN a.field = 'valid_until' THEN a.new_value END) AS new_until
    FROM audit_log a JOIN renewal_runs r USING (batch_id)
    WHERE a.action = 'renew' AND a.table_name = 'qualifications'
    GROUP BY ALL
)
SELECT c.batch_id, c.as_of, c.qualification_id, q.member_no, q.scheme, q.qualification,
       CASE WHEN c.until_changed AND c.new_until IS NULL THEN 'convert'
            WHEN c.until_changed THEN 'extend'
            WHEN c.new_status = 'lapsed' THEN 'lapse'
            WHEN c.new_status = 'invalidated' THEN 'invalidate'
            WHEN c.new_status = 'erased' THEN 'erase'
            WHEN c.new_status = 'renewal_open' THEN 'open_fee'
            ELSE 'extend' END,
       coalesce(c.old_status, q.status),
       coalesce(TRY_CAST(c.old_until AS DATE), q.valid_until), TRY_CAST(c.new_until AS DATE),
       m.org_code, coalesce(o.prefecture, m.prefecture),
       (date_sub('year', m.birth_date, c.as_of) // 5) * 5, q.acquired_on, false
FROM changed c
JOIN qualifications q USING (qualification_id)
LEFT JOIN members m ON m.member_no = q.member_no
LEFT JOIN organizations o ON o.org_code = m.org_code;

INSERT INTO renewal_outcomes (batch_id, as_of, member_no, scheme, qualification, decision,
                              old_status, org_code, prefecture, recorded)
SELECT r.batch_id, r.as_of, a.member_no,
       (SELECT any_value(p.scheme) FROM applications p
        WHERE p.member_no = a.member_no AND p.kind = 'season_registration'),
       'membership', 'erase', a.old_value, m.org_code, o.prefecture, false
FROM audit_log a JOIN renewal_runs r USING (batch_id)
LEFT JOIN members m ON m.member_no = a.member_no
LEFT JOIN organizations o ON o.org_code = m.org_code
WHERE a.action = 'erase' AND a.table_name = 'members'
  AND EXISTS (SELECT 1 FROM applications p
              WHERE p.member_no = a.member_no AND p.kind = 'season_registration');
