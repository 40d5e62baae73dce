-- One row per seat given (a reservation holding a seat) on the courses $codes (every course when
-- NULL), with what the day and the exam gave: attended, minutes late, the latest exam score
-- (a re-exam is a later row) and the outcome under the scheme's policy (`course_policies`):
-- absent when absent or more than max_late minutes late; completed when present (at most
-- max_late minutes late) and, where the scheme examines (pass_score > 0), the latest score is at
-- least pass_score; failed when the latest score is below it; NULL while nothing decides.
WITH seat AS (
    SELECT e.enrolment_id, e.member_no, e.course_code, c.scheme, c.title, c.domain, c.hours,
           c.qualification, c.held_on, coalesce(c.held_until, c.held_on) AS last_day
    FROM enrolments e JOIN courses c USING (course_code)
    WHERE e.status = 'reserved' AND ($codes::VARCHAR[] IS NULL OR e.course_code IN (SELECT unnest($codes::VARCHAR[])))
),

latest AS (
    SELECT s.enrolment_id, arg_max(s.score, (s.exam_on, s.score_id)) AS score,
           max(s.exam_on) AS exam_on, count(*) AS exams
    FROM course_scores s JOIN seat USING (enrolment_id)
    GROUP BY s.enrolment_id
),

final AS (
    SELECT t.*, a.attended, a.minutes_late, coalesce(a.delay_certificate, false) AS delay_certificate,
           l.score, l.exam_on, coalesce(l.exams, 0) AS exams, p.pass_score, p.max_late,
           CASE
               WHEN a.attended = 'absent' OR a.minutes_late > p.max_late THEN 'absent'
               WHEN a.attended IS NULL THEN NULL
               WHEN p.pass_score = 0 OR l.score >= p.pass_score THEN 'completed'
               WHEN l.score IS NOT NULL THEN 'failed'
           END AS outcome
    FROM seat t
    LEFT JOIN course_attendance a USING (enrolment_id)
    LEFT JOIN latest l USING (enrolment_id)
    JOIN course_policies p ON p.scheme = t.scheme
)

SELECT * FROM final
