-- One row per member whose postal code Japan Post does not know, or belongs to another
-- prefecture than the one stated (ref_postal_codes). Members without a postal code or a
-- prefecture (erased members) are not checked.
WITH stated AS (
    SELECT m.member_no, m.org_code, o.name AS organization, m.postal_code, m.prefecture,
           m.address, m.family_name, m.given_name
    FROM members m JOIN organizations o USING (org_code)
    WHERE m.postal_code IS NOT NULL AND m.prefecture IS NOT NULL
      AND starts_with(o.path, $scope)
),

known AS (
    SELECT postal_code, list(DISTINCT prefecture ORDER BY prefecture) AS prefectures
    FROM ref_postal_codes
    WHERE postal_code IN (SELECT postal_code FROM stated)
    GROUP BY postal_code
),

final AS (
    SELECT s.member_no, s.org_code, s.organization, s.postal_code, s.prefecture,
           array_to_string(k.prefectures, '・') AS postal_prefecture,
           CASE WHEN k.postal_code IS NULL THEN 'unknown_postal_code'
                ELSE 'other_prefecture' END AS finding,
           s.address, s.family_name, s.given_name
    FROM stated s LEFT JOIN known k USING (postal_code)
    WHERE k.postal_code IS NULL OR NOT list_contains(k.prefectures, s.prefecture)
    ORDER BY s.member_no
)

SELECT * FROM final
