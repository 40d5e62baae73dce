-- One row per member and scheme where the member takes part in a scheme (holds one of its
-- qualifications, or carries its member-number prefix) but belongs to an organisation of
-- another scheme's tree. `scheme_roots` (scheme, root_code, prefix) comes from the
-- configuration (`<scheme>.root_org_code`, `<scheme>.member_no_prefix`).
WITH taking_part AS (
    SELECT DISTINCT q.member_no, q.scheme FROM qualifications q
    UNION
    SELECT m.member_no, r.scheme
    FROM members m JOIN scheme_roots r ON starts_with(m.member_no, r.prefix)
),

final AS (
    SELECT m.member_no, t.scheme, m.org_code, o.name AS organization,
           o.root_code AS org_root_code, r.root_code AS scheme_root_code,
           m.family_name, m.given_name, m.status
    FROM taking_part t
    JOIN scheme_roots r USING (scheme)
    JOIN members m USING (member_no)
    JOIN organizations o USING (org_code)
    WHERE o.root_code <> r.root_code AND starts_with(o.path, $scope)
    ORDER BY m.member_no, t.scheme
)

SELECT * FROM final
