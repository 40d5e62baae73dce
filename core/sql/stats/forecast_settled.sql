-- One row per item of a forecast made before $as_of whose renewal cycle the batch has decided
-- since (by $as_of): did it renew? A qualification renewed when the batch extended it for the
-- validity end the forecast was about (a JSPO fee opened is a step, not the decision), and did
-- not when it lapsed, was invalidated or erased. A SAJ membership renewed when the member was
-- not erased by the first run after the season began. Items still undecided are left out.
WITH items AS (
    SELECT f.made_on, f.qualification_id, f.member_no, f.scheme, f.qualification, f.valid_until,
           f.org_code, f.state, f.months_to_end, f.p_renew, f.fee
    FROM forecast_items f
    WHERE f.made_on < $as_of AND f.made_on >= $since
),

decided AS (
    SELECT member_no, qualification, qualification_id, valid_until, as_of,
           decision = 'extend' AS renewed
    FROM renewal_outcomes
    WHERE decision <> 'open_fee' AND as_of <= $as_of
),

qualification_items AS (
    SELECT i.*, arg_min(d.renewed, d.as_of) AS renewed, min(d.as_of) AS decided_on
    FROM items i
    JOIN decided d
        ON d.qualification_id = i.qualification_id AND d.valid_until = i.valid_until
       AND d.as_of > i.made_on
    WHERE i.qualification_id IS NOT NULL
    GROUP BY ALL
),

membership_items AS (
    SELECT i.*, e.as_of IS NULL AS renewed, coalesce(e.as_of, r.first_run) AS decided_on
    FROM items i
    JOIN (SELECT i2.made_on, i2.member_no, min(r.as_of) AS first_run
          FROM items i2 JOIN renewal_runs r ON r.as_of > i2.valid_until AND r.as_of <= $as_of
          WHERE i2.qualification_id IS NULL
          GROUP BY ALL) r USING (made_on, member_no)
    LEFT JOIN decided e
        ON e.member_no = i.member_no AND e.qualification = i.qualification
       AND e.qualification_id IS NULL AND e.as_of > i.made_on AND e.as_of <= r.first_run
    WHERE i.qualification_id IS NULL
),

final AS (
    SELECT * FROM qualification_items
    UNION ALL BY NAME
    SELECT * FROM membership_items
)

SELECT * FROM final
