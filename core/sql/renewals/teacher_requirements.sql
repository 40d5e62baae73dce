-- One row per teacher licence and requirement as of $as_of, with the decision it leads to.
-- Before the scheme's end ($scheme_ends): between $opens_months and $closes_months months
-- before the completion deadline the holder completes >= $total_hours hours (>= $mandatory_hours
-- mandatory, >= $elective_mandatory_hours elective-mandatory, >= $elective_hours elective). A
-- course counts when the holder was at most $max_late minutes late and scored >= $pass_score,
-- and a title counts once in a lifetime. Met -> the deadline moves $validity_years years on;
-- not met -> lapse, the day after the deadline. An approved exemption (kind 'exemption', an
-- exempt category as reason) renews without courses; an approved postponement moves the
-- deadline $postponement_months months instead of lapsing. From the scheme's end every
-- licence valid on that day loses its expiry ('convert').
--
-- The deadline is the stored validity end; where it is missing (before the scheme's end) it
-- comes from the birth date for old licences — the school year's last day
-- ($deadline_month-$deadline_day, March 31) of the school year in which the holder reaches one
-- of $ages (school years group birthdays $sy_month-$sy_day .. the day before) — or from the
-- grant date for nutrition licences and new ones ($validity_years on, at the same day).
WITH base AS (
    SELECT q.qualification_id, q.member_no, q.qualification, q.status, q.valid_from, q.valid_until,
           q.acquired_on, m.birth_date,
           -- the school-year cohort: born from April 2 of Y to April 1 of Y+1 -> Y
           year(m.birth_date)
               - CASE WHEN (month(m.birth_date), day(m.birth_date)) < ($sy_month, $sy_day) THEN 1 ELSE 0 END
               AS cohort
    FROM qualifications q JOIN members m USING (member_no)
    WHERE q.scheme = 'teacher' AND q.status IN ('active', 'renewed')
      AND (q.valid_until IS NOT NULL OR $as_of < $scheme_ends::DATE)
      AND ($member_no IS NULL OR q.member_no = $member_no)
),

candidates AS (
    -- every deadline a licence could have; the current one is the first on or after the
    -- period's start (and the scheme's first deadline)
    SELECT b.qualification_id,
           min(d.deadline) FILTER (
               WHERE d.deadline >= greatest(coalesce(b.valid_from, b.acquired_on), $first_deadline::DATE)
           ) AS computed
    FROM base b,
    LATERAL (
        SELECT make_date(b.cohort + 1 + age, $deadline_month, $deadline_day) AS deadline
        FROM unnest($ages::INTEGER[]) AS t(age)
        WHERE b.qualification IN ('regular', 'special') AND b.acquired_on < $old_licence_before::DATE
        UNION ALL
        SELECT make_date(
                   year(b.acquired_on) - CASE WHEN month(b.acquired_on) < 4 THEN 1 ELSE 0 END
                   + 1 + $validity_years * k, $deadline_month, $deadline_day)
        FROM range(1, 6) AS r(k)
        WHERE b.qualification = 'nutrition' OR b.acquired_on >= $old_licence_before::DATE
    ) AS d
    WHERE b.valid_until IS NULL
    GROUP BY b.qualification_id
),

qualification AS (
    SELECT b.*, coalesce(b.valid_until, c.computed) AS deadline,
           (coalesce(b.valid_until, c.computed) + 1 - to_months($opens_months::INTEGER))::DATE
               AS window_from,
           (coalesce(b.valid_until, c.computed) + 1 - to_months($closes_months::INTEGER))::DATE - 1
               AS window_to
    FROM base b LEFT JOIN candidates c USING (qualification_id)
    WHERE coalesce(b.valid_until, c.computed) IS NOT NULL
),

relief AS (
    -- approved exemptions and postponements for the current deadline
    SELECT q.qualification_id,
           bool_or(p.kind = 'exemption' AND list_contains($exempt_categories::VARCHAR[], p.reason))
               AS exempt,
           bool_or(p.kind = 'postponement' AND list_contains($postponement_categories::VARCHAR[], p.reason))
               AS postponed
    FROM qualification q
    JOIN applications p
        ON p.member_no = q.member_no AND p.scheme = 'teacher' AND p.status = 'approved'
       AND p.kind IN ('exemption', 'postponement')
       AND (p.qualification IS NULL OR p.qualification = q.qualification)
       AND p.submitted_at::DATE BETWEEN greatest(q.window_from, coalesce(q.valid_from, q.window_from))
                                    AND q.deadline
       AND p.submitted_at < $as_of::DATE + INTERVAL 1 DAY
    GROUP BY q.qualification_id
),

completed AS (
    -- completed courses, each title once in a lifetime (its first completion)
    SELECT member_no, date, domain, hours
    FROM activities
    WHERE scheme = 'teacher' AND kind = 'course'
      AND coalesce(minutes_late, 0) <= $max_late AND score >= $pass_score
      AND member_no IN (SELECT member_no FROM qualification)
    QUALIFY row_number() OVER (PARTITION BY member_no, course_name ORDER BY date) = 1
),

hours AS (
    SELECT q.qualification_id,
           coalesce(sum(c.hours), 0) AS total,
           coalesce(sum(c.hours) FILTER (WHERE c.domain = 'mandatory'), 0) AS mandatory,
           coalesce(sum(c.hours) FILTER (WHERE c.domain = 'elective_mandatory'), 0) AS elective_mandatory,
           coalesce(sum(c.hours) FILTER (WHERE c.domain = 'elective'), 0) AS elective
    FROM qualification q
    LEFT JOIN completed c
        ON c.member_no = q.member_no AND c.date BETWEEN q.window_from AND q.window_to
    GROUP BY q.qualification_id
),

decided AS (
    SELECT q.*, h.total, h.mandatory, h.elective_mandatory, h.elective,
           coalesce(r.exempt, false) AS exempt, coalesce(r.postponed, false) AS postponed,
           coalesce(r.exempt, false) OR (
               h.total >= $total_hours AND h.mandatory >= $mandatory_hours
               AND h.elective_mandatory >= $elective_mandatory_hours
               AND h.elective >= $elective_hours) AS all_met
    FROM qualification q JOIN hours h USING (qualification_id)
    LEFT JOIN relief r USING (qualification_id)
),

with_decision AS (
    SELECT *,
           CASE
               WHEN $as_of >= $scheme_ends::DATE
                    THEN CASE WHEN deadline >= $scheme_ends::DATE OR all_met OR postponed
                              THEN 'convert' ELSE 'lapse' END
               WHEN $as_of <= deadline THEN 'none'
               WHEN all_met OR postponed THEN 'extend'
               ELSE 'lapse'
           END AS decision
    FROM decided
),

final AS (
    SELECT d.qualification_id, d.member_no, 'teacher' AS scheme, d.qualification, d.status,
           d.valid_from, d.valid_until, d.decision,
           CASE WHEN d.decision = 'convert' AND d.deadline >= $scheme_ends::DATE
                THEN $scheme_ends::DATE ELSE d.deadline + 1 END AS effective_on,
           CASE WHEN d.decision = 'extend' AND NOT d.all_met
                THEN (d.deadline + 1 + to_months($postponement_months::INTEGER))::DATE - 1
                WHEN d.decision = 'extend'
                THEN (d.deadline + 1 + to_years($validity_years::INTEGER))::DATE - 1 END
               AS new_valid_until,
           NULL::VARCHAR AS fee_item, NULL::INTEGER AS fee_amount,
           r.ordinal, r.code, r.label, r.required, r.actual, r.met,
           CASE WHEN r.code = 'deadline' THEN NULL ELSE d.window_from END AS period_from,
           CASE WHEN r.code = 'deadline' THEN d.deadline ELSE d.window_to END AS period_to
    FROM with_decision d,
    LATERAL (
        VALUES
            (0, 'deadline', CASE WHEN d.exempt THEN '修了確認期限（免除の承認あり）'
                                 WHEN d.postponed THEN '修了確認期限（延期の承認あり）'
                                 ELSE '修了確認期限' END,
             NULL::DECIMAL(9, 1), NULL::DECIMAL(9, 1), $as_of <= d.deadline OR d.all_met OR d.postponed),
            (1, 'total_hours', '講習の合計時間', $total_hours::DECIMAL(9, 1), d.total::DECIMAL(9, 1),
             d.total >= $total_hours),
            (2, 'mandatory_hours', '必修領域', $mandatory_hours::DECIMAL(9, 1),
             d.mandatory::DECIMAL(9, 1), d.mandatory >= $mandatory_hours),
            (3, 'elective_mandatory_hours', '選択必修領域', $elective_mandatory_hours::DECIMAL(9, 1),
             d.elective_mandatory::DECIMAL(9, 1), d.elective_mandatory >= $elective_mandatory_hours),
            (4, 'elective_hours', '選択領域', $elective_hours::DECIMAL(9, 1),
             d.elective::DECIMAL(9, 1), d.elective >= $elective_hours)
    ) AS r(ordinal, code, label, required, actual, met)
)

SELECT * FROM final
