-- One row per SAJ membership (qualification 'membership') and per SAJ qualification, with its
-- requirement and the decision it leads to as of $as_of. Season S (「S年度」) runs from
-- $start_month-$start_day of S to $end_month-$end_day of S+1. A member registered for an earlier
-- season who has no registration for the current one is erased once that season has begun,
-- with every qualification (the member number is never reused). A registered member's
-- qualification runs on to the current season's end once its yearly qualification fee is paid;
-- a fee left unpaid past its due date loses the qualification.
WITH season AS (
    SELECT CASE WHEN (month($as_of::DATE), day($as_of::DATE)) >= ($start_month, $start_day)
                THEN year($as_of::DATE) ELSE year($as_of::DATE) - 1 END AS current
),

bounds AS (
    SELECT current,
           make_date(current, $start_month, $start_day) AS season_from,
           make_date(current + 1, $end_month, $end_day) AS season_to
    FROM season
),

registration AS (
    SELECT p.member_no,
           max(p.season) FILTER (WHERE p.status = 'approved') AS last_season,
           bool_or(p.season = b.current AND p.status IN ('pending', 'sent_back', 'approved'))
               AS registered
    FROM applications p, bounds b
    WHERE p.scheme = 'saj' AND p.kind IN ('season_registration', 'new_registration')
      AND p.submitted_at < $as_of::DATE + INTERVAL 1 DAY
      AND ($member_no IS NULL OR p.member_no = $member_no)
    GROUP BY p.member_no
),

membership AS (
    SELECT m.member_no, m.status, r.last_season, coalesce(r.registered, false) AS registered,
           b.current, b.season_from, b.season_to,
           CASE WHEN NOT coalesce(r.registered, false) AND r.last_season < b.current
                THEN 'erase' ELSE 'none' END AS decision
    FROM members m
    JOIN registration r USING (member_no)
    CROSS JOIN bounds b
    WHERE m.status IN ('active', 'withdrawn')
),

membership_rows AS (
    SELECT NULL::BIGINT AS qualification_id, member_no, 'saj' AS scheme,
           'membership' AS qualification, status, NULL::DATE AS valid_from,
           make_date(last_season + 1, $end_month, $end_day) AS valid_until, decision,
           make_date(last_season + 1, $end_month, $end_day) + 1 AS effective_on,
           NULL::DATE AS new_valid_until, NULL::VARCHAR AS fee_item, NULL::INTEGER AS fee_amount,
           1 AS ordinal, 'season_registration' AS code, current || '年度の会員登録' AS label,
           1::DECIMAL(9, 1) AS required, registered::INTEGER::DECIMAL(9, 1) AS actual,
           registered AS met, season_from AS period_from, season_to AS period_to
    FROM membership
),

qualification AS (
    SELECT q.qualification_id, q.member_no, q.qualification, q.status, q.valid_from, q.valid_until,
           b.current, b.season_from, b.season_to,
           coalesce(ms.decision = 'erase', false) AS member_erased,
           coalesce(ms.registered, false) AS registered
    FROM qualifications q
    CROSS JOIN bounds b
    LEFT JOIN membership ms USING (member_no)
    WHERE q.scheme = 'saj' AND q.status IN ('active', 'renewed', 'renewal_open')
      AND ($member_no IS NULL OR q.member_no = $member_no)
),

fee AS (
    SELECT q.qualification_id,
           bool_or(f.status = 'paid') AS paid,
           bool_or(f.status = 'open' AND f.due_on < $as_of) AS overdue
    FROM qualification q
    JOIN billing f
        ON f.qualification_id = q.qualification_id
       AND f.item IN ('saj_qualification_registration', 'saj_certified_instructor')
       AND f.issued_on >= q.season_from AND f.issued_on <= $as_of
    GROUP BY q.qualification_id
),

qualification_rows AS (
    SELECT q.qualification_id, q.member_no, 'saj' AS scheme, q.qualification, q.status,
           q.valid_from, q.valid_until, d.decision,
           CASE WHEN d.decision = 'erase' THEN coalesce(q.valid_until + 1, q.season_from)
                WHEN d.decision = 'extend' THEN q.season_from
                ELSE $as_of::DATE END AS effective_on,
           CASE WHEN d.decision = 'extend' THEN q.season_to END AS new_valid_until,
           NULL::VARCHAR AS fee_item, NULL::INTEGER AS fee_amount,
           1 AS ordinal, 'qualification_fee' AS code, q.current || '年度の資格登録料' AS label,
           1::DECIMAL(9, 1) AS required, coalesce(f.paid, false)::INTEGER::DECIMAL(9, 1) AS actual,
           coalesce(f.paid, false) AS met, q.season_from AS period_from, q.season_to AS period_to
    FROM qualification q
    LEFT JOIN fee f USING (qualification_id),
    LATERAL (
        SELECT CASE
            WHEN q.member_erased THEN 'erase'
            WHEN q.registered AND coalesce(f.overdue, false) AND NOT coalesce(f.paid, false) THEN 'lapse'
            WHEN q.registered AND coalesce(f.paid, false)
                 AND (q.valid_until IS NULL OR q.valid_until < q.season_to) THEN 'extend'
            ELSE 'none'
        END AS decision
    ) AS d
),

final AS (  -- the relation's columns, named (so either part may order its own)
    SELECT qualification_id, member_no, scheme, qualification, status, valid_from, valid_until,
           decision, effective_on, new_valid_until, fee_item, fee_amount, code, label, required,
           actual, met, period_from, period_to, ordinal
    FROM membership_rows
    UNION ALL
    SELECT qualification_id, member_no, scheme, qualification, status, valid_from, valid_until,
           decision, effective_on, new_valid_until, fee_item, fee_amount, code, label, required,
           actual, met, period_from, period_to, ordinal
    FROM qualification_rows
)

SELECT * FROM final
