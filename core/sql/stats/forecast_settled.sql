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

decided_cycles AS (  -- the first decision about each validity end
    SELECT qualification_id, valid_until, min(as_of) AS as_of,
           arg_min(renewed, as_of) AS renewed
    FROM decided
    WHERE qualification_id IS NOT NULL
    GROUP BY qualification_id, valid_until
),

qualification_items AS (
    SELECT i.*, d.renewed, d.as_of AS decided_on
    FROM items i
    JOIN decided_cycles d USING (qualification_id, valid_until)
    WHERE d.as_of > i.made_on
),

first_runs AS (  -- per season end a membership was forecast to reach: the first run after it
    SELECT v.valid_until, min(r.as_of) AS first_run
    FROM (SELECT DISTINCT valid_until FROM items WHERE qualification_id IS NULL) v
    JOIN renewal_runs r ON r.as_of > v.valid_until AND r.as_of <= $as_of
    GROUP BY v.valid_until
),

erasures AS (
    SELECT member_no, qualification, as_of FROM decided WHERE qualification_id IS NULL
),

membership_items AS (
    SELECT i.*, e.as_of IS NULL AS renewed, coalesce(e.as_of, f.first_run) AS decided_on
    FROM items i
    JOIN first_runs f USING (valid_until)
    LEFT JOIN erasures e
        ON e.member_no = i.member_no AND e.qualification = i.qualification
       AND e.as_of > i.made_on AND e.as_of <= f.first_run
    WHERE i.qualification_id IS NULL
),

final AS (
    SELECT * FROM qualification_items  -- the same columns in the same order: items', then
    UNION ALL                           -- renewed and decided_on
    SELECT * FROM membership_items
)

SELECT * FROM final
