-- One row per ITC coordinator qualification and requirement as of $as_of, with its decision.
-- A certificate valid to May 31 of year Y renews in Y's window: the member applies within the
-- window (the only step due by May 31, seed 001 FAQ Q1) with the points of the previous fiscal
-- year reaching $threshold; applying with enough points opens the fee, paid by that line's own
-- due date (those certified in the previous fiscal year are exempt); the practical activity
-- report is answered by $report_month-$report_day of Y. All done -> valid to May 31 of Y+1,
-- from June 1. Each step lapses the certificate (from June 1) only once its own deadline has
-- passed undone: no application or too few points after May 31, the fee unpaid after its
-- due date, no report after the report's deadline. Until then the decision waits.
WITH qualification AS (
    SELECT qualification_id, member_no, qualification, status, acquired_on, valid_from,
           valid_until, year(valid_until) AS renewal_year
    FROM qualifications
    WHERE scheme = 'itc' AND status IN ('active', 'renewed', 'renewal_open')
      AND valid_until IS NOT NULL
      AND ($member_no IS NULL OR member_no = $member_no)
),

bounds AS (
    SELECT *,
           make_timestamp(renewal_year, $opens_month, $opens_day, $opens_hour, $opens_minute, 0)
               AS window_opens,
           make_timestamp(renewal_year, $closes_month, $closes_day, 23, 59, 59) AS window_closes,
           make_date(renewal_year - 1, $fy_month, $fy_day) AS fiscal_from,
           make_date(renewal_year, $fy_month, $fy_day) - 1 AS fiscal_to,
           make_date(renewal_year, $report_month, $report_day) AS report_due
    FROM qualification
),

points AS (
    SELECT b.qualification_id, coalesce(sum(a.points), 0) AS points
    FROM bounds b
    LEFT JOIN activities a
        ON a.member_no = b.member_no AND a.scheme = 'itc' AND a.kind = 'points'
       AND a.date BETWEEN b.fiscal_from AND b.fiscal_to
    GROUP BY b.qualification_id
),

applied AS (
    SELECT b.qualification_id, min(p.submitted_at) AS applied_at
    FROM bounds b
    JOIN applications p
        ON p.member_no = b.member_no AND p.scheme = 'itc' AND p.kind = 'season_registration'
       AND p.season = b.renewal_year AND p.status IN ('pending', 'approved')
       AND p.submitted_at BETWEEN b.window_opens AND b.window_closes
       AND p.submitted_at <= $as_of::DATE + INTERVAL 1 DAY
    GROUP BY b.qualification_id
),

reported AS (
    SELECT b.qualification_id, count(*) AS reports
    FROM bounds b
    JOIN activities a
        ON a.member_no = b.member_no AND a.scheme = 'itc' AND a.kind = 'report'
       AND a.date BETWEEN b.window_opens::DATE AND least(b.report_due, $as_of::DATE)
    GROUP BY b.qualification_id
),

fee AS (
    SELECT b.qualification_id,
           bool_or(f.status = 'paid') AS paid,
           bool_or(f.status = 'open') AS open,
           max(f.due_on) FILTER (WHERE f.status = 'open') AS due_on
    FROM bounds b
    JOIN billing f
        ON f.qualification_id = b.qualification_id AND f.item = 'itc_renewal'
       AND f.issued_on >= b.window_opens::DATE AND f.issued_on <= $as_of
    GROUP BY b.qualification_id
),

facts AS (
    SELECT b.*, p.points, a.applied_at IS NOT NULL AS applied,
           coalesce(r.reports, 0) > 0 OR NOT $report_required AS reported,
           $exempt_previous_year AND b.acquired_on BETWEEN b.fiscal_from AND b.fiscal_to AS exempt,
           coalesce(f.paid, false) AS paid, coalesce(f.open, false) AS fee_open,
           f.due_on AS fee_due,
           p.points >= $threshold AS points_met
    FROM bounds b
    JOIN points p USING (qualification_id)
    LEFT JOIN applied a USING (qualification_id)
    LEFT JOIN reported r USING (qualification_id)
    LEFT JOIN fee f USING (qualification_id)
),

decided AS (
    SELECT *,
           CASE
               WHEN applied AND points_met AND (exempt OR paid) AND reported THEN 'extend'
               WHEN $as_of <= valid_until THEN
                   CASE WHEN applied AND points_met AND NOT exempt AND NOT paid AND NOT fee_open
                        THEN 'open_fee' ELSE 'none' END
               -- after May 31: each step lapses the certificate once its own deadline passed
               WHEN NOT applied OR NOT points_met THEN 'lapse'
               WHEN NOT exempt AND NOT paid AND fee_open AND fee_due < $as_of THEN 'lapse'
               WHEN NOT reported AND $as_of > report_due THEN 'lapse'
               WHEN NOT exempt AND NOT paid AND NOT fee_open THEN 'open_fee'
               ELSE 'none'
           END AS decision
    FROM facts
),

final AS (
    SELECT d.qualification_id, d.member_no, 'itc' AS scheme, d.qualification, d.status,
           d.valid_from, d.valid_until, d.decision,
           CASE WHEN d.decision = 'open_fee' THEN $as_of::DATE
                WHEN d.decision = 'none' AND $as_of > d.valid_until
                THEN least(coalesce(d.fee_due + 1, d.report_due + 1), d.report_due + 1)
                ELSE d.valid_until + 1 END
               AS effective_on,
           CASE WHEN d.decision = 'extend'
                THEN make_date(d.renewal_year + 1, $until_month, $until_day) END AS new_valid_until,
           CASE WHEN d.decision = 'open_fee' THEN 'itc_renewal' END AS fee_item,
           CASE WHEN d.decision = 'open_fee' THEN $fee::INTEGER END AS fee_amount,
           r.ordinal, r.code, r.label, r.required, r.actual, r.met, r.period_from, r.period_to
    FROM decided d,
    LATERAL (
        VALUES
            (1, 'points', '実践力ポイント', $threshold::DECIMAL(9, 1), d.points::DECIMAL(9, 1),
             d.points_met, d.fiscal_from, d.fiscal_to),
            (2, 'application', '更新申請', 1::DECIMAL(9, 1), d.applied::INTEGER::DECIMAL(9, 1),
             d.applied, d.window_opens::DATE, d.window_closes::DATE),
            (3, 'renewal_fee', CASE WHEN d.exempt THEN '更新料（前年度認定のため免除）' ELSE '更新料の納入' END,
             CASE WHEN d.exempt THEN 0 ELSE 1 END::DECIMAL(9, 1), d.paid::INTEGER::DECIMAL(9, 1),
             d.exempt OR d.paid, d.window_opens::DATE,
             CASE WHEN d.exempt THEN d.window_closes::DATE
                  ELSE coalesce(d.fee_due, d.window_closes::DATE) END),
            (4, 'activity_report', '実務活動報告書', 1::DECIMAL(9, 1), d.reported::INTEGER::DECIMAL(9, 1),
             d.reported, d.window_opens::DATE, d.report_due)
    ) AS r(ordinal, code, label, required, actual, met, period_from, period_to)
)

SELECT * FROM final
