-- One row per course (of $schemes and of $codes, each every one when NULL) as the catalogue
-- shows it at the moment $now: its facts, seats taken and people waiting against its capacity,
-- the minimum it needs to open (its own, else the scheme's unless the capacity is small), the
-- fee (hours × the scheme's fee per hour in relation `course_fees`, plus materials) and where
-- it stands (phase): upcoming, recruiting, extra (追加募集), closed, held, not_opened or
-- cancelled.
WITH seats AS (
    SELECT course_code,
           count(*) FILTER (WHERE status = 'reserved') AS reserved,
           count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted
    FROM enrolments
    WHERE status IN ('reserved', 'waitlisted')
      AND ($codes::VARCHAR[] IS NULL OR course_code IN (SELECT unnest($codes::VARCHAR[])))
    GROUP BY course_code
),

course AS (
    SELECT c.*, coalesce(s.reserved, 0) AS reserved, coalesce(s.waitlisted, 0) AS waitlisted,
           coalesce(c.min_to_open,
                    CASE WHEN c.capacity <= p.small_capacity THEN 0 ELSE p.min_applicants END)
               AS minimum,
           c.hours * f.per_hour + c.materials_fee AS fee
    FROM courses c
    LEFT JOIN seats s USING (course_code)
    LEFT JOIN course_policies p USING (scheme)
    LEFT JOIN course_fees f USING (scheme)
    WHERE ($schemes::VARCHAR[] IS NULL OR list_contains($schemes, c.scheme))
      AND ($codes::VARCHAR[] IS NULL OR c.course_code IN (SELECT unnest($codes::VARCHAR[])))
),

final AS (
    SELECT course_code, scheme, title, domain, qualification, hours, held_on, held_until,
           starts_at, ends_at, venue, lecturer, capacity, reserved, waitlisted,
           CASE WHEN capacity IS NOT NULL THEN greatest(capacity - reserved, 0) END AS free,
           minimum, min_to_open, materials_fee, fee, recruit_from, recruit_until, extra_from, extra_until,
           notes, status,
           CASE
               WHEN status IN ('not_opened', 'cancelled') THEN status
               WHEN $now::DATE >= held_on THEN 'held'
               WHEN recruit_from IS NOT NULL AND $now < recruit_from THEN 'upcoming'
               WHEN recruit_until IS NULL OR $now <= recruit_until THEN 'recruiting'
               WHEN extra_from IS NOT NULL AND $now >= extra_from
                    AND (extra_until IS NULL OR $now <= extra_until) THEN 'extra'
               ELSE 'closed'
           END AS phase
    FROM course
)

SELECT * FROM final ORDER BY held_on, starts_at NULLS FIRST, course_code
