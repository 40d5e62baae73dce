-- One row per qualification whose validity ends (valid_until, the last valid day) before it
-- starts (valid_from).
WITH final AS (
    SELECT q.member_no, q.scheme, q.qualification, q.status, q.valid_from, q.valid_until,
           q.acquired_on, m.org_code, o.name AS organization
    FROM qualifications q
    JOIN members m USING (member_no)
    JOIN organizations o USING (org_code)
    WHERE q.valid_until < q.valid_from AND starts_with(o.path, $scope)
    ORDER BY q.member_no, q.scheme, q.qualification
)

SELECT * FROM final
