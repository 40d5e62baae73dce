-- One row per teacher licence and requirement as of $as_of, with the decision it leads to.
-- Before the scheme's end ($scheme_ends): between $opens_months and $closes_months months
-- before the completion deadline (the stored validity end) the holder completes >= $total_hours
-- hours (>= $mandatory_hours mandatory, >= $elective_mandatory_hours elective-mandatory,
-- >= $elective_hours elective). A course counts when the holder was at most $max_late minutes
-- late and scored >= $pass_score, and a title counts once in a lifetime. Met -> the deadline
-- moves $validity_years years on; not met -> lapse, the day after the deadline. From the
-- scheme's end every licence valid on that day loses its expiry ('convert').
WITH qualification AS (
    SELECT qualification_id, member_no, qualification, status, valid_from, valid_until,
           (valid_until + 1 - to_months($opens_months::INTEGER))::DATE AS window_from,
           (valid_until + 1 - to_months($closes_months::INTEGER))::DATE - 1 AS window_to
    FROM qualifications
    WHERE scheme = 'teacher' AND status IN ('active', 'renewed') AND valid_until IS NOT NULL
      AND ($member_no IS NULL OR member_no = $member_no)
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
           h.total >= $total_hours AND h.mandatory >= $mandatory_hours
           AND h.elective_mandatory >= $elective_mandatory_hours
           AND h.elective >= $elective_hours AS all_met
    FROM qualification q JOIN hours h USING (qualification_id)
),

with_decision AS (
    SELECT *,
           CASE
               WHEN $as_of >= $scheme_ends::DATE
                    THEN CASE WHEN valid_until >= $scheme_ends::DATE OR all_met THEN 'convert'
                              ELSE 'lapse' END
               WHEN $as_of <= valid_until THEN 'none'
               WHEN all_met THEN 'extend'
               ELSE 'lapse'
           END AS decision
    FROM decided
),

final AS (
    SELECT d.qualification_id, d.member_no, 'teacher' AS scheme, d.qualification, d.status,
           d.valid_from, d.valid_until, d.decision,
           CASE WHEN d.decision = 'convert' AND d.valid_until >= $scheme_ends::DATE
                THEN $scheme_ends::DATE ELSE d.valid_until + 1 END AS effective_on,
           CASE WHEN d.decision = 'extend'
                THEN (d.valid_until + 1 + to_years($validity_years::INTEGER))::DATE - 1 END
               AS new_valid_until,
           NULL::VARCHAR AS fee_item, NULL::INTEGER AS fee_amount,
           r.ordinal, r.code, r.label, r.required, r.actual, r.met,
           d.window_from AS period_from, d.window_to AS period_to
    FROM with_decision d,
    LATERAL (
        VALUES
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
