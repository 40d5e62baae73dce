-- One row per member of a cluster: members of two or more organisations who give the same
-- phone number, e-mail address or street address (postal code and address; spaces, dashes and
-- full-width digits ignored). The SAJ guide asks prefectures to look for fictitious
-- registrations (架空登録) by hand; a cluster across clubs is that signal. A family in one club
-- shares an address without being a cluster. `cluster` numbers the clusters, largest first.
WITH contact AS (
    SELECT m.member_no, m.org_code, o.path, o.name AS organization, m.family_name,
           m.given_name, m.phone, m.email, m.postal_code, m.address,
           nullif(regexp_replace(coalesce(m.phone, ''), '[^0-9]', '', 'g'), '') AS phone_digits,
           nullif(lower(trim(coalesce(m.email, ''))), '') AS email_key,
           CASE WHEN m.postal_code IS NOT NULL AND m.address IS NOT NULL
                THEN m.postal_code || ' '
                     || regexp_replace(translate(m.address, '０１２３４５６７８９', '0123456789'),
                                       '[\s　\-－ー‐―−]', '', 'g') END AS address_key
    FROM members m JOIN organizations o USING (org_code)
),

keyed AS (
    SELECT 'phone' AS shared, phone_digits AS shared_key, * FROM contact
    WHERE phone_digits IS NOT NULL
    UNION ALL
    SELECT 'email', email_key, * FROM contact WHERE email_key IS NOT NULL
    UNION ALL
    SELECT 'address', address_key, * FROM contact WHERE address_key IS NOT NULL
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
    SELECT n.cluster, k.shared, n.members, n.organizations, k.member_no, k.org_code,
           k.organization, k.family_name, k.given_name, k.phone, k.email, k.postal_code,
           k.address
    FROM keyed k JOIN numbered n USING (shared, shared_key)
    WHERE starts_with(k.path, $scope)
    ORDER BY n.cluster, k.member_no
)

SELECT * FROM final
