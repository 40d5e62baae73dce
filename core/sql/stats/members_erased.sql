-- One row per member the batch erased between $from and $to (a SAJ member who did not register
-- for the season: the membership, not a qualification), placed as the run recorded it.
WITH final AS (
    SELECT r.member_no, r.scheme, r.as_of AS came_up_on, 'members_erased' AS outcome, r.org_code,
           o.name AS org_name, o.path, r.prefecture, r.age_band, NULL::INTEGER AS cohort,
           r.qualification
    FROM renewal_outcomes r
    LEFT JOIN organizations o ON o.org_code = r.org_code
    WHERE r.qualification = 'membership' AND r.decision = 'erase'
      AND r.as_of BETWEEN $from AND $to
)

SELECT * FROM final
