-- One row per reservation asked for (relation `requests`: a file's line, a form, a transfer;
-- `request_members`: the active members among them, `$members`: their numbers),
-- with the first reason the member may not have it for (NULL: none) and whether it came in
-- only during the extra recruitment period (追加募集: taken only while a seat is free). What
-- can change while a request waits for its seat — the course no longer scheduled or begun,
-- the member holding it already — is decided with the seats held (core.courses.enrolment).
--
-- Refused: a member unknown or no longer active; a course unknown; a member outside the
-- course's scheme (the organisation tree under the scheme's root); outside the recruitment
-- period and the extra one (where `check_period`; the periods' ends are inclusive); the same
-- member and course twice among the requests; for schemes whose titles count once in a
-- lifetime, a title the member took before (an activity with that course name: a completion
-- or an earlier record) or holds on another course; a course whose days and hours overlap
-- another the member holds or waits for, or an earlier request's. Requests compete in
-- (reserved_at, line) order.
WITH member AS (
    -- the requesting members that are active (request_members: found by the caller by key)
    SELECT member_no, org_code FROM request_members
),

request AS (
    SELECT r.line, r.member_no, r.course_code, r.reserved_at, r.check_period,
           c.course_code IS NOT NULL AS course_known, m.member_no IS NOT NULL AS member_known,
           c.scheme, c.title, c.held_on,
           coalesce(c.held_until, c.held_on) AS held_until, c.starts_at, c.ends_at,
           c.recruit_from, c.recruit_until, c.extra_from, c.extra_until,
           o.root_code, p.root_org_code, coalesce(p.unique_titles, false) AS unique_titles
    FROM requests r
    LEFT JOIN courses c USING (course_code)
    LEFT JOIN member m ON m.member_no = r.member_no
    LEFT JOIN organizations o ON o.org_code = m.org_code
    LEFT JOIN course_policies p ON p.scheme = c.scheme
),

held AS MATERIALIZED (
    -- the reservations the requesting members hold or wait for
    SELECT e.member_no, e.course_code, c.scheme, c.title, c.held_on,
           coalesce(c.held_until, c.held_on) AS held_until, c.starts_at, c.ends_at
    FROM enrolments e JOIN courses c USING (course_code)
    WHERE e.status IN ('reserved', 'waitlisted')
      AND e.member_no = ANY($members::VARCHAR[])
),

taken AS MATERIALIZED (
    -- titles taken before: every activity that names its course (completions included)
    SELECT DISTINCT member_no, scheme, course_name AS title
    FROM activities
    WHERE course_name IS NOT NULL AND member_no = ANY($members::VARCHAR[])
),

windows AS (
    SELECT *,
           (recruit_from IS NULL OR reserved_at >= recruit_from)
               AND (recruit_until IS NULL OR reserved_at <= recruit_until) AS in_main,
           extra_from IS NOT NULL AND reserved_at >= extra_from
               AND (extra_until IS NULL OR reserved_at <= extra_until) AS in_extra
    FROM request
),

checked AS (
    SELECT w.*,
           NOT w.member_known AS unknown_member,
           NOT w.course_known AS unknown_course,
           w.root_code IS DISTINCT FROM w.root_org_code AS not_in_scheme,
           w.check_period AND NOT w.in_main AND NOT w.in_extra
               AND w.reserved_at < w.recruit_from AS before_period,
           w.check_period AND NOT w.in_main AND NOT w.in_extra AS outside_period,
           EXISTS (SELECT 1 FROM request r2
                   WHERE r2.member_no = w.member_no AND r2.course_code = w.course_code
                     AND r2.line < w.line) AS duplicate_in_file,
           w.unique_titles AND (
               EXISTS (SELECT 1 FROM held h
                       WHERE h.member_no = w.member_no AND h.scheme = w.scheme
                         AND h.title = w.title AND h.course_code <> w.course_code)
               OR EXISTS (SELECT 1 FROM taken t
                          WHERE t.member_no = w.member_no AND t.scheme = w.scheme
                            AND t.title = w.title)
               OR EXISTS (SELECT 1 FROM request r2
                          WHERE r2.member_no = w.member_no AND r2.scheme = w.scheme
                            AND r2.title = w.title AND r2.course_code <> w.course_code
                            AND (r2.reserved_at, r2.line) < (w.reserved_at, w.line))
           ) AS same_title,
           EXISTS (SELECT 1 FROM held h
                   WHERE h.member_no = w.member_no AND h.course_code <> w.course_code
                     AND h.held_on <= w.held_until AND w.held_on <= h.held_until
                     AND (h.starts_at IS NULL OR h.ends_at IS NULL OR w.starts_at IS NULL
                          OR w.ends_at IS NULL
                          OR (h.starts_at < w.ends_at AND w.starts_at < h.ends_at)))
           OR EXISTS (SELECT 1 FROM request r2
                      WHERE r2.member_no = w.member_no AND r2.course_code <> w.course_code
                        AND (r2.reserved_at, r2.line) < (w.reserved_at, w.line)
                        AND r2.held_on <= w.held_until AND w.held_on <= r2.held_until
                        AND (r2.starts_at IS NULL OR r2.ends_at IS NULL OR w.starts_at IS NULL
                             OR w.ends_at IS NULL
                             OR (r2.starts_at < w.ends_at AND w.starts_at < r2.ends_at)))
               AS overlap
    FROM windows w
),

final AS (
    SELECT line, member_no, course_code, reserved_at, scheme,
           CASE
               WHEN unknown_member THEN 'unknown_member'
               WHEN unknown_course THEN 'unknown_course'
               WHEN not_in_scheme THEN 'not_in_scheme'
               WHEN before_period THEN 'before_period'
               WHEN outside_period THEN 'after_period'
               WHEN duplicate_in_file THEN 'duplicate_in_file'
               WHEN same_title THEN 'same_title'
               WHEN overlap THEN 'overlap'
           END AS refusal,
           check_period AND NOT coalesce(in_main, true) AND coalesce(in_extra, false) AS extra_only
    FROM checked
)

SELECT * FROM final
