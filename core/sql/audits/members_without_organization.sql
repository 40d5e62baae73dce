-- One row per member whose organisation is missing or unknown: no org_code, or a code that
-- is not in the organisation tree. Such a member is seen by no scoped user, so only users of
-- every organisation ($scope = '/') get these rows.
WITH orphan AS (
    SELECT m.member_no, m.org_code, m.family_name, m.given_name, m.prefecture, m.status
    FROM members m
    ANTI JOIN organizations o USING (org_code)
),

final AS (
    SELECT member_no, org_code, family_name, given_name, prefecture, status
    FROM orphan
    WHERE $scope = '/'
    ORDER BY member_no
)

SELECT * FROM final
