-- One row per reservation (of the courses $codes, every course when NULL; of members in the
-- organisation subtree $scope_path) as the roster shows it: the member, the moment it was
-- received, its place on the waitlist, the signed form (and its deadline), the fee line,
-- the day's attendance, the latest exam score, the outcome (results.sql, relation
-- `course_results`) and the completion certificate; `stage` is the roster's finer step and
-- `status` the contract's (FORMATS.md enrolments: reserved, waitlisted, cancelled, deleted,
-- not_opened, completed, absent, failed). In reservation order.
WITH enrolment AS (
    SELECT e.*, c.scheme, c.title, c.held_on
    FROM enrolments e JOIN courses c USING (course_code)
    WHERE $codes::VARCHAR[] IS NULL OR e.course_code IN (SELECT unnest($codes::VARCHAR[]))
),

place AS (
    SELECT enrolment_id,
           row_number() OVER (PARTITION BY course_code ORDER BY reserved_at, enrolment_id)
               AS waitlist_position
    FROM enrolment WHERE status = 'waitlisted'
),

line AS (
    -- a reservation's fee line and materials line
    SELECT enrolment_id, billing_id FROM enrolment WHERE billing_id IS NOT NULL
    UNION ALL
    SELECT enrolment_id, materials_billing_id FROM enrolment WHERE materials_billing_id IS NOT NULL
),

fee AS (
    SELECT l.enrolment_id,
           sum(b.amount + b.handling_fee) AS fee,
           bool_and(b.status = 'paid') AS paid,
           bool_or(b.status = 'open') AS open,
           min(b.due_on) AS fee_due_on
    FROM line l JOIN billing b USING (billing_id)
    GROUP BY l.enrolment_id
),

final AS (
    SELECT e.enrolment_id, e.course_code, e.member_no,
           m.family_name || ' ' || m.given_name AS name,
           m.family_name_kana || ' ' || m.given_name_kana AS kana, o.name AS organization,
           e.reserved_at, e.seated_at, p.waitlist_position, e.form_received_on,
           CASE WHEN e.status = 'reserved' AND pol.form_due_days > 0
                THEN e.seated_at::DATE + pol.form_due_days END AS form_due_on,
           f.fee, f.fee_due_on, r.attended, r.minutes_late, r.delay_certificate, r.score,
           r.exam_on, r.exams, r.outcome, k.certificate_no, k.certificate_due,
           k.certificate_issued_at, e.ended_on, e.end_reason, e.transferred_from,
           CASE
               WHEN e.status <> 'reserved' THEN e.status
               WHEN r.outcome IS NOT NULL THEN r.outcome
               WHEN $today >= e.held_on THEN 'result_pending'
               WHEN f.paid THEN 'paid'
               WHEN f.open THEN 'invoiced'
               WHEN e.form_received_on IS NOT NULL THEN 'form_received'
               ELSE 'reserved'
           END AS stage,
           CASE WHEN e.status = 'reserved' AND r.outcome IS NOT NULL THEN r.outcome
                ELSE e.status END AS status
    FROM enrolment e
    JOIN members m USING (member_no)
    JOIN organizations o ON o.org_code = m.org_code
    LEFT JOIN place p USING (enrolment_id)
    LEFT JOIN fee f USING (enrolment_id)
    LEFT JOIN course_results r USING (enrolment_id)
    LEFT JOIN course_completions k USING (enrolment_id)
    LEFT JOIN course_policies pol ON pol.scheme = e.scheme
    WHERE $scope_path = '/' OR starts_with(o.path, $scope_path)
)

SELECT * FROM final ORDER BY course_code, reserved_at, enrolment_id
