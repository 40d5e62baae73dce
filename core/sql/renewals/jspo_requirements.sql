-- One row per JSPO coach licence and requirement as of $as_of, with the decision it leads to.
-- Renewal opens $months_before months before the validity end for holders who completed the
-- licence's mandatory trainings in the current period: the registration fee is opened; once
-- it is paid the licence runs on for the licence's validity years; unpaid past the end, it lapses.
WITH licence AS (
    SELECT unnest($licence_codes::VARCHAR[]) AS qualification,
           unnest($licence_fees::INTEGER[]) AS fee,
           unnest($licence_years::INTEGER[]) AS validity_years,
           unnest($licence_trainings::INTEGER[]) AS required_trainings,
           unnest($licence_labels::VARCHAR[]) AS licence_label
),

qualification AS (
    SELECT q.qualification_id, q.member_no, q.qualification, q.status, q.valid_from, q.valid_until,
           (q.valid_until - to_months($months_before::INTEGER))::DATE AS window_opens,
           l.fee, l.validity_years, l.required_trainings, l.licence_label
    FROM qualifications q JOIN licence l USING (qualification)
    WHERE q.scheme = 'jspo' AND q.status IN ('active', 'renewed', 'renewal_open')
      AND q.valid_until IS NOT NULL
      AND ($member_no IS NULL OR q.member_no = $member_no)
),

training AS (
    SELECT q.qualification_id, count(a.date) AS trainings
    FROM qualification q
    LEFT JOIN activities a
        ON a.member_no = q.member_no AND a.scheme = 'jspo' AND a.kind = 'training'
       AND a.qualification = q.qualification
       AND a.date BETWEEN q.valid_from AND least(q.valid_until, $as_of::DATE)
    GROUP BY q.qualification_id
),

fee AS (
    -- this period's registration fee: a line for the licence issued since the window opened
    SELECT q.qualification_id,
           bool_or(b.status = 'paid') AS paid,
           bool_or(b.status = 'open') AS open
    FROM qualification q
    JOIN billing b
        ON b.qualification_id = q.qualification_id AND b.item = 'jspo_registration'
       AND b.issued_on >= q.window_opens AND b.issued_on <= $as_of
    GROUP BY q.qualification_id
),

decided AS (
    SELECT q.*, t.trainings, coalesce(f.paid, false) AS paid, coalesce(f.open, false) AS open,
           CASE
               WHEN coalesce(f.paid, false) THEN 'extend'
               WHEN $as_of > q.valid_until THEN 'lapse'
               WHEN $as_of >= q.window_opens AND t.trainings >= q.required_trainings
                    AND NOT coalesce(f.open, false) THEN 'open_fee'
               ELSE 'none'
           END AS decision
    FROM qualification q JOIN training t USING (qualification_id)
    LEFT JOIN fee f USING (qualification_id)
),

final AS (
    SELECT d.qualification_id, d.member_no, 'jspo' AS scheme, d.qualification, d.status,
           d.valid_from, d.valid_until, d.decision,
           CASE WHEN d.decision = 'open_fee' THEN $as_of::DATE ELSE d.valid_until + 1 END
               AS effective_on,
           CASE WHEN d.decision = 'extend'
                THEN (d.valid_until + 1 + to_years(d.validity_years))::DATE - 1 END
               AS new_valid_until,
           CASE WHEN d.decision = 'open_fee' THEN 'jspo_registration' END AS fee_item,
           CASE WHEN d.decision = 'open_fee' THEN d.fee END AS fee_amount,
           r.ordinal, r.code, r.label, r.required, r.actual, r.met, r.period_from, r.period_to
    FROM decided d,
    LATERAL (
        VALUES
            (1, 'mandatory_training', '義務研修', d.required_trainings::DECIMAL(9, 1),
             d.trainings::DECIMAL(9, 1), d.trainings >= d.required_trainings,
             d.valid_from, least(d.valid_until, $as_of::DATE)),
            (2, 'registration_fee', '登録料の納入', 1::DECIMAL(9, 1),
             d.paid::INTEGER::DECIMAL(9, 1), d.paid, d.window_opens, d.valid_until)
    ) AS r(ordinal, code, label, required, actual, met, period_from, period_to)
)

SELECT * FROM final
