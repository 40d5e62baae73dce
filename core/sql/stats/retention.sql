-- One row per cohort (year of acquisition) and renewal cycle k = 1..$cycles: how many
-- qualifications reached their k-th cycle still valid (at_risk) and how many of those renewed
-- at it. Cycles are those the batch decided up to $to, in order, counted from the first one in
-- its history; a JPTEC invalidation after an extension ends that extension's cycle (its fee was
-- never paid). A qualification whose k-th cycle has not come up yet is not at risk at k.
WITH decided AS (
    SELECT r.qualification_id, year(r.acquired_on) AS cohort, r.decision,
           lag(r.decision) OVER w AS before, lead(r.decision) OVER w AS after, r.as_of
    FROM renewal_outcomes r
    JOIN organizations o ON o.org_code = r.org_code
    WHERE r.qualification_id IS NOT NULL AND r.as_of <= $to
      AND r.decision IN ('extend', 'lapse', 'invalidate', 'erase')
      AND starts_with(o.path, $scope) AND list_contains($schemes, r.scheme)
      AND r.acquired_on IS NOT NULL
    WINDOW w AS (PARTITION BY r.qualification_id ORDER BY r.as_of)
),

cycles AS (
    SELECT qualification_id, cohort,
           CASE WHEN decision = 'extend' AND after = 'invalidate' THEN 'invalidate'
                ELSE decision END AS outcome,
           as_of
    FROM decided
    WHERE NOT (decision = 'invalidate' AND before = 'extend')
),

lives AS (
    SELECT qualification_id, any_value(cohort) AS cohort, count(*) AS observed,
           min(k) FILTER (WHERE outcome <> 'extend') AS ended_at
    FROM (SELECT *, row_number() OVER (PARTITION BY qualification_id ORDER BY as_of) AS k
          FROM cycles)
    GROUP BY qualification_id
),

steps AS (SELECT unnest(range(1, $cycles + 1)) AS cycle),

final AS (
    SELECT l.cohort, s.cycle,
           count(*) FILTER (WHERE l.observed >= s.cycle
                            AND coalesce(l.ended_at, 1000) >= s.cycle) AS at_risk,
           count(*) FILTER (WHERE l.observed >= s.cycle
                            AND coalesce(l.ended_at, 1000) > s.cycle) AS renewed
    FROM lives l CROSS JOIN steps s
    GROUP BY ALL
    ORDER BY ALL
)

SELECT * FROM final
