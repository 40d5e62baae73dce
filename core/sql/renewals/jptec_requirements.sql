-- One row per JPTEC qualification and requirement as of $as_of, with the decision it leads to.
-- Instructors: checked on the day after the validity end over the past $check_years years
-- (>= $min_courses courses taught and no unpaid fee -> +$extension_years years and a fee);
-- an instructor fee open for $unpaid_months months invalidates. Providers: a renewal course
-- extends to the course date + $provider_years years, plus the remaining whole months when
-- fewer than $bonus_under_months remained. An approved special extension (有効期間延長等承認申請,
-- an application of kind 'extension' for one of $special_reasons — disaster, pregnancy and
-- childbirth, childcare, illness, study abroad or a posting overseas — submitted during the
-- current period) credits an instructor's teaching record, and gives a provider or
-- pre-instructor $special_months more months instead of lapsing. An extension for another
-- reason is not a special extension and changes nothing.
WITH qualification AS (
    SELECT qualification_id, member_no, qualification, status, valid_from, valid_until
    FROM qualifications
    WHERE scheme = 'jptec' AND status IN ('active', 'renewed', 'renewal_open')
      AND valid_until IS NOT NULL
      AND ($member_no IS NULL OR member_no = $member_no)
),

special AS (
    SELECT q.qualification_id, count(*) > 0 AS approved
    FROM qualification q
    JOIN applications p
        ON p.member_no = q.member_no AND p.scheme = 'jptec' AND p.kind = 'extension'
       AND p.qualification = q.qualification AND p.status = 'approved'
       AND list_contains($special_reasons, p.reason)
       AND p.submitted_at::DATE BETWEEN q.valid_from AND q.valid_until
       AND p.submitted_at < $as_of::DATE + INTERVAL 1 DAY
    GROUP BY q.qualification_id
),

instructor AS (
    SELECT *, (valid_until + 1 - to_years($check_years::INTEGER))::DATE AS period_from
    FROM qualification WHERE qualification = 'instructor'
),

taught AS (
    SELECT i.qualification_id, count(a.date) AS courses
    FROM instructor i
    LEFT JOIN activities a
        ON a.member_no = i.member_no AND a.scheme = 'jptec' AND a.kind = 'taught'
       AND a.date BETWEEN i.period_from AND i.valid_until
    GROUP BY i.qualification_id
),

fees AS (
    SELECT member_no,
           count(*) AS open_lines,
           min(issued_on) AS oldest_open
    FROM billing
    WHERE scheme = 'jptec' AND status = 'open' AND issued_on <= $as_of
      AND list_contains($instructor_fees, item)
      AND ($member_no IS NULL OR member_no = $member_no)
    GROUP BY member_no
),

instructor_decision AS (
    SELECT i.*, t.courses, coalesce(f.open_lines, 0) AS open_lines,
           coalesce(sp.approved, false) AS special,
           (f.oldest_open + to_months($unpaid_months::INTEGER))::DATE AS invalidation_day,
           CASE
               WHEN (f.oldest_open + to_months($unpaid_months::INTEGER))::DATE <= $as_of THEN 'invalidate'
               WHEN $as_of <= i.valid_until THEN 'none'
               WHEN t.courses < $min_courses AND NOT coalesce(sp.approved, false) THEN 'lapse'
               WHEN coalesce(f.open_lines, 0) > 0 THEN 'none'
               ELSE 'extend'
           END AS decision
    FROM instructor i
    JOIN taught t USING (qualification_id)
    LEFT JOIN fees f USING (member_no)
    LEFT JOIN special sp USING (qualification_id)
),

instructor_rows AS (
    SELECT d.qualification_id, d.member_no, 'jptec' AS scheme, d.qualification, d.status,
           d.valid_from, d.valid_until, d.decision,
           CASE WHEN d.decision = 'invalidate' THEN d.invalidation_day ELSE d.valid_until + 1 END
               AS effective_on,
           CASE WHEN d.decision = 'extend'
                THEN (d.valid_until + 1 + to_years($extension_years::INTEGER))::DATE - 1 END
               AS new_valid_until,
           CASE WHEN d.decision = 'extend' THEN 'jptec_instructor_renewal' END AS fee_item,
           CASE WHEN d.decision = 'extend' THEN $renewal_fee::INTEGER END AS fee_amount,
           r.code, r.label, r.required, r.actual, r.met, r.period_from, r.period_to, r.ordinal
    FROM instructor_decision d,
    LATERAL (
        VALUES
            (1, 'courses_taught', CASE WHEN d.special THEN '指導実績（特別延長により付与）' ELSE '指導実績' END,
             $min_courses::DECIMAL(9, 1), d.courses::DECIMAL(9, 1),
             d.courses >= $min_courses OR d.special, d.period_from, d.valid_until),
            (2, 'fees_paid', '未納の会費', 0::DECIMAL(9, 1),
             d.open_lines::DECIMAL(9, 1), d.open_lines = 0, NULL::DATE, $as_of::DATE)
    ) AS r(ordinal, code, label, required, actual, met, period_from, period_to)
),

provider AS (
    SELECT p.*, c.course_date, c.courses, coalesce(sp.approved, false) AS special
    FROM qualification p
    LEFT JOIN special sp USING (qualification_id)
    LEFT JOIN (
        SELECT q.qualification_id, max(a.date) AS course_date, count(a.date) AS courses
        FROM qualification q
        JOIN activities a
            ON a.member_no = q.member_no AND a.scheme = 'jptec' AND a.kind = 'renewal_course'
           AND a.date > q.valid_from AND a.date <= $as_of
        WHERE q.qualification = 'provider'
        GROUP BY q.qualification_id
    ) c USING (qualification_id)
    WHERE p.qualification IN ('provider', 'pre_instructor')
),

provider_decision AS (
    SELECT *,
           -- whole months from the course day to the day after the old validity end
           CASE WHEN course_date IS NULL OR course_date > valid_until THEN 0
                ELSE date_part('year', age(valid_until + 1, course_date)) * 12
                     + date_part('month', age(valid_until + 1, course_date)) END AS remaining_months,
           CASE WHEN course_date IS NOT NULL THEN 'extend'
                WHEN $as_of > valid_until AND special THEN 'extend'
                WHEN $as_of > valid_until AND qualification = 'provider' THEN 'lapse'
                ELSE 'none' END AS decision
    FROM provider
),

provider_rows AS (
    SELECT d.qualification_id, d.member_no, 'jptec' AS scheme, d.qualification, d.status,
           d.valid_from, d.valid_until, d.decision,
           CASE WHEN d.decision = 'extend' AND d.course_date IS NOT NULL THEN d.course_date
                ELSE d.valid_until + 1 END AS effective_on,
           CASE WHEN d.decision = 'extend' AND d.course_date IS NULL
                THEN (d.valid_until + 1 + to_months($special_months::INTEGER))::DATE - 1
                WHEN d.decision = 'extend'
                THEN (d.course_date + to_years($provider_years::INTEGER)
                      + to_months(CASE WHEN d.remaining_months < $bonus_under_months
                                       THEN d.remaining_months ELSE 0 END::INTEGER))::DATE - 1
           END AS new_valid_until,
           NULL::VARCHAR AS fee_item, NULL::INTEGER AS fee_amount,
           1 AS ordinal,
           CASE WHEN d.qualification = 'provider' THEN 'renewal_course' ELSE 'special_extension' END
               AS code,
           CASE WHEN d.qualification = 'provider' THEN '更新コースの受講' ELSE '有効期間延長の承認' END
               AS label,
           1::DECIMAL(9, 1) AS required,
           CASE WHEN d.qualification = 'provider' THEN coalesce(d.courses, 0)
                ELSE d.special::INTEGER END::DECIMAL(9, 1) AS actual,
           d.course_date IS NOT NULL OR d.special AS met, d.valid_from AS period_from,
           $as_of::DATE AS period_to
    FROM provider_decision d
),

final AS (  -- the relation's columns, named (so either part may order its own)
    SELECT qualification_id, member_no, scheme, qualification, status, valid_from, valid_until,
           decision, effective_on, new_valid_until, fee_item, fee_amount, code, label, required,
           actual, met, period_from, period_to, ordinal
    FROM instructor_rows
    UNION ALL
    SELECT qualification_id, member_no, scheme, qualification, status, valid_from, valid_until,
           decision, effective_on, new_valid_until, fee_item, fee_amount, code, label, required,
           actual, met, period_from, period_to, ordinal
    FROM provider_rows
)

SELECT * FROM final
