-- One row per scheme, qualification and requirement: of the qualifications the batch lapsed,
-- invalidated or erased between $from and $to (SAJ memberships included), how many had that
-- requirement unmet at the run that ended them (renewal_unmet: the requirements relation at
-- that run). One ending may lack several requirements; `endings` counts each ending once.
WITH ended AS (
    SELECT o.batch_id, o.as_of, o.qualification_id, o.member_no, o.scheme, o.qualification,
           o.decision, o.recorded
    FROM renewal_outcomes o
    JOIN organizations g ON g.org_code = o.org_code
    WHERE o.decision IN ('lapse', 'invalidate', 'erase') AND o.as_of BETWEEN $from AND $to
      AND starts_with(g.path, $scope) AND list_contains($schemes, o.scheme)
),

totals AS (
    SELECT scheme, qualification, count(*) AS endings, count(*) FILTER (WHERE recorded) AS known
    FROM ended GROUP BY ALL
),

cited AS (
    SELECT e.scheme, e.qualification, u.code, any_value(u.label) AS label,
           count(DISTINCT (e.batch_id, e.member_no, e.qualification)) AS lacking
    FROM ended e
    JOIN renewal_unmet u
        ON u.batch_id = e.batch_id AND u.member_no = e.member_no
       AND u.qualification = e.qualification
    GROUP BY ALL
),

final AS (
    SELECT t.scheme, t.qualification, c.code, c.label, coalesce(c.lacking, 0) AS lacking,
           t.endings, t.known
    FROM totals t LEFT JOIN cited c USING (scheme, qualification)
    ORDER BY t.scheme, t.qualification, lacking DESC
)

SELECT * FROM final
