-- One row per member of a cluster: members of two or more organisations who give the same
-- phone number, e-mail address or street address (postal code and address; spaces, dashes and
-- full-width digits ignored). The SAJ guide asks prefectures to look for fictitious
-- registrations (架空登録) by hand; a cluster across clubs is that signal. A family in one club
-- shares an address without being a cluster. `cluster` numbers the clusters, largest first.
WITH keys AS (
    SELECT m.member_no, m.org_code,
           -- phone_key: the digits the search keeps with the row (core.members)
           nullif(coalesce(m.phone_key, regexp_replace(m.phone, '[^0-9]', '', 'g')), '')
               AS phone_key,
           nullif(lower(trim(m.email)), '') AS email_key,
           CASE WHEN m.postal_code IS NOT NULL AND m.address IS NOT NULL
                THEN m.postal_code || ' '
                     || translate(m.address, '０１２３４５６７８９ 　-－ー‐―−', '0123456789')
           END AS address_key
    FROM members m
),

keyed AS (
    SELECT 'phone' AS shared, phone_key AS shared_key, member_no, org_code
    FROM keys WHERE phone_key IS NOT NULL
    UNION ALL
    SELECT 'email', email_key, member_no, org_code FROM keys WHERE email_key IS NOT NULL
    UNION ALL
    SELECT 'address', address_key, member_no, org_code FROM keys WHERE address_key IS NOT NULL
),

clusters AS (
    SELECT shared, shared_key, count(*) AS members, count(DISTINCT org_code) AS organizations
    FROM keyed
    GROUP BY shared, shared_key
    HAVING count(DISTINCT org_code) > 1
),

numbered AS (
    SELECT *, row_number() OVER (ORDER BY members DESC, organizations DESC, shared,
                                          shared_key) AS cluster
    FROM clusters
),

final AS (
    SELECT n.cluster, k.shared, n.members, n.organizations, m.member_no, m.org_code,
           o.name AS organization, m.family_name, m.given_name, m.phone, m.email,
           m.postal_code, m.address
    FROM keyed k
    JOIN numbered n USING (shared, shared_key)
    JOIN members m USING (member_no)
    JOIN organizations o ON o.org_code = m.org_code
    WHERE starts_with(o.path, $scope)
    ORDER BY n.cluster, m.member_no
)

SELECT * FROM final
