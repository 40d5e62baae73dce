-- One row per renewal cycle that came up between $from and $to: a qualification and the validity
-- end the batch decided about, the day it first decided (came_up_on), the cycle's final outcome
-- (renewed, lapsed, invalidated, erased, converted) and where the member stood then, as the run
-- recorded it (renewal_outcomes). A fee opened (JSPO) is a step, not an outcome. A JPTEC
-- invalidation of a qualification extended before (its renewal fee left unpaid) ends the cycle
-- the extension began: that cycle counts as invalidated, not renewed. SAJ memberships are not
-- qualifications and are counted apart (members_erased).
WITH decided AS (
    SELECT as_of, qualification_id, member_no, scheme, qualification, decision, valid_until,
           new_valid_until, org_code, prefecture, age_band, acquired_on
    FROM renewal_outcomes
    WHERE qualification <> 'membership' AND decision <> 'open_fee'
      AND as_of BETWEEN $from::DATE - INTERVAL 1 YEAR AND $to::DATE + INTERVAL 1 YEAR
),

extended AS (  -- extensions of qualifications invalidated later
    SELECT qualification_id, valid_until, new_valid_until, as_of
    FROM decided
    WHERE decision = 'extend'
      AND qualification_id IN (SELECT qualification_id FROM decided WHERE decision = 'invalidate')
),

linked AS (
    SELECT d.*, coalesce(e.valid_until, d.valid_until) AS cycle_end
    FROM decided d
    LEFT JOIN extended e
        ON e.qualification_id = d.qualification_id AND e.new_valid_until = d.valid_until
       AND e.as_of <= d.as_of AND d.decision = 'invalidate'
),

cycles AS (
    SELECT qualification_id, cycle_end, min(as_of) AS came_up_on,
           arg_max(decision, as_of) AS decision
    FROM linked
    GROUP BY qualification_id, cycle_end
),

final AS (
    SELECT c.qualification_id, l.member_no, l.scheme, l.qualification, c.cycle_end,
           c.came_up_on,
           CASE c.decision WHEN 'extend' THEN 'renewed' WHEN 'lapse' THEN 'lapsed'
                WHEN 'invalidate' THEN 'invalidated' WHEN 'erase' THEN 'erased'
                WHEN 'convert' THEN 'converted' END AS outcome,
           l.org_code, o.name AS org_name, o.path, l.prefecture, l.age_band,
           year(l.acquired_on) AS cohort
    FROM cycles c
    JOIN linked l  -- where the member stood when the cycle came up
        ON l.qualification_id = c.qualification_id AND l.cycle_end = c.cycle_end
       AND l.as_of = c.came_up_on
    LEFT JOIN organizations o ON o.org_code = l.org_code
    WHERE c.came_up_on BETWEEN $from AND $to
)

SELECT * FROM final
