-- One row per member number of a person who appears under several numbers of one body:
-- the same kanji name, kana and birth date in the same organisation tree. Erased members
-- have no name left to compare. `person` numbers each such group.
WITH named AS (
    SELECT m.member_no, m.org_code, o.name AS organization, o.root_code,
           m.family_name, m.given_name, m.family_name_kana, m.given_name_kana, m.birth_date,
           m.status, o.path
    FROM members m JOIN organizations o USING (org_code)
    WHERE m.family_name IS NOT NULL AND m.family_name_kana IS NOT NULL
      AND m.birth_date IS NOT NULL
),

grouped AS (
    SELECT *,
           count(*) OVER person_rows AS numbers,
           dense_rank() OVER (ORDER BY root_code, family_name_kana, given_name_kana,
                                       birth_date, family_name, given_name) AS person
    FROM named
    WINDOW person_rows AS (PARTITION BY root_code, family_name, given_name,
                                        family_name_kana, given_name_kana, birth_date)
),

final AS (
    SELECT dense_rank() OVER (ORDER BY person) AS person, numbers, member_no, org_code,
           organization, family_name, given_name, family_name_kana, given_name_kana,
           birth_date, status
    FROM grouped
    WHERE numbers > 1 AND starts_with(path, $scope)
    ORDER BY person, member_no
)

SELECT * FROM final
