-- One row per document that is available on $on to a chosen member and not yet recorded:
-- a qualification's document (its template lists the qualification type) while it is held
-- and valid, and, when the template requires it, no fee line of it is open; a season's
-- membership card (qualification `membership`) once the member's registration for the
-- season is approved and, when required, none of the season's lines is open; a course
-- reservation's application form (qualification `course`: 受講申込書) while the reservation
-- waits for its signed form and the course is still to come.
-- Inputs: doc_candidates (member_no, scheme, qualification_id: when $listed, only those
-- qualifications' documents), doc_templates (scheme, kind, qualification,
-- requires_paid, number_prefix), doc_seasons (scheme, season, season_from, season_until),
-- doc_labels (scheme, qualification, label), doc_course_fees (scheme, per_hour),
-- doc_course_policies (scheme, form_due_days: the form's days from the seat given).
WITH chosen AS (
    SELECT DISTINCT member_no, scheme FROM doc_candidates
),

qualified AS (
    SELECT t.kind, t.number_prefix, q.member_no, q.scheme, q.qualification_id,
           NULL::INTEGER AS season, NULL::BIGINT AS enrolment_id, q.qualification,
           q.certificate_no, q.valid_from, q.valid_until, NULL::VARCHAR AS held,
           NULL::VARCHAR AS course_code, NULL::VARCHAR AS course_title,
           NULL::DATE AS course_held_on, NULL::INTEGER AS course_hours,
           NULL::INTEGER AS course_fee, NULL::DATE AS course_form_due
    FROM chosen c
    JOIN qualifications q ON q.member_no = c.member_no AND q.scheme = c.scheme
    JOIN doc_templates t ON t.scheme = q.scheme AND t.qualification = q.qualification
    WHERE q.status IN ('active', 'renewed')
      AND (q.valid_until IS NULL OR q.valid_until >= $on)
      AND (NOT $listed OR q.qualification_id IN (SELECT qualification_id FROM doc_candidates))
      AND NOT (t.requires_paid AND EXISTS (
          SELECT 1 FROM billing b
          WHERE b.qualification_id = q.qualification_id AND b.status = 'open'))
),

held AS (  -- for a season's membership card
    SELECT q.member_no, q.scheme, string_agg(l.label, '・' ORDER BY l.label) AS held
    FROM chosen c
    JOIN (SELECT DISTINCT scheme FROM doc_templates WHERE qualification = 'membership') t
      ON t.scheme = c.scheme
    JOIN qualifications q ON q.member_no = c.member_no AND q.scheme = c.scheme
    JOIN doc_labels l ON l.scheme = q.scheme AND l.qualification = q.qualification
    WHERE q.status IN ('active', 'renewed', 'renewal_open')
    GROUP BY q.member_no, q.scheme
),

seasonal AS (
    SELECT t.kind, t.number_prefix, c.member_no, c.scheme, NULL::BIGINT AS qualification_id,
           s.season, NULL::BIGINT AS enrolment_id, 'membership' AS qualification,
           NULL::VARCHAR AS certificate_no,
           s.season_from AS valid_from, s.season_until AS valid_until, h.held,
           NULL::VARCHAR AS course_code, NULL::VARCHAR AS course_title,
           NULL::DATE AS course_held_on, NULL::INTEGER AS course_hours,
           NULL::INTEGER AS course_fee, NULL::DATE AS course_form_due
    FROM chosen c
    JOIN doc_templates t ON t.scheme = c.scheme AND t.qualification = 'membership'
    JOIN doc_seasons s ON s.scheme = c.scheme
    JOIN members m ON m.member_no = c.member_no AND m.status = 'active'
    LEFT JOIN held h ON h.member_no = c.member_no AND h.scheme = c.scheme
    WHERE EXISTS (
              SELECT 1 FROM applications a
              WHERE a.member_no = c.member_no AND a.scheme = c.scheme
                AND a.kind = 'season_registration' AND a.status = 'approved'
                AND a.season = s.season)
      AND NOT (t.requires_paid AND EXISTS (
          SELECT 1 FROM billing b
          WHERE b.member_no = c.member_no AND b.scheme = c.scheme AND b.season = s.season
            AND b.status = 'open'))
),

reserved AS (  -- a reservation waiting for its signed application form (受講申込書)
    SELECT t.kind, t.number_prefix, e.member_no, k.scheme, NULL::BIGINT AS qualification_id,
           NULL::INTEGER AS season, e.enrolment_id, 'course' AS qualification,
           NULL::VARCHAR AS certificate_no, e.reserved_at::DATE AS valid_from,
           k.held_on AS valid_until, NULL::VARCHAR AS held, k.course_code,
           k.title AS course_title, k.held_on AS course_held_on, k.hours AS course_hours,
           k.hours * f.per_hour + k.materials_fee AS course_fee,
           CASE WHEN p.form_due_days > 0 THEN e.seated_at::DATE + p.form_due_days END
               AS course_form_due
    FROM chosen c
    JOIN enrolments e ON e.member_no = c.member_no
    JOIN courses k ON k.course_code = e.course_code AND k.scheme = c.scheme
    JOIN doc_templates t ON t.scheme = k.scheme AND t.qualification = 'course'
    LEFT JOIN doc_course_fees f ON f.scheme = k.scheme
    LEFT JOIN doc_course_policies p ON p.scheme = k.scheme
    WHERE NOT $listed
      AND e.status = 'reserved' AND e.form_received_on IS NULL AND k.held_on >= $on
),

final AS (
    SELECT n.*
    FROM (SELECT * FROM qualified UNION ALL SELECT * FROM seasonal
          UNION ALL SELECT * FROM reserved) n
    WHERE NOT EXISTS (
        SELECT 1 FROM documents d
        WHERE d.member_no = n.member_no AND d.kind = n.kind AND d.scheme = n.scheme
          AND d.qualification_id IS NOT DISTINCT FROM n.qualification_id
          AND d.season IS NOT DISTINCT FROM n.season
          AND d.enrolment_id IS NOT DISTINCT FROM n.enrolment_id
          AND d.valid_until IS NOT DISTINCT FROM n.valid_until)
)

SELECT * FROM final
