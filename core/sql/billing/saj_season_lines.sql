-- One row per billing line an SAJ season registration owes at approval level $level
-- ('prefecture', 'national', or 'competitor' for a competitor registration added later in
-- the season), for the registrations in temp table `registrations` (member_no, season,
-- insurance_plan, competitor, category), priced by the relations season_fee_bands,
-- season_items and season_bounds (core.schemes.saj.season_prices). `by_label` marks lines
-- told apart by their label as well (a member may race in both SAJ and FIS alpine).
WITH kept AS (
    -- qualifications a member keeps this season: held, and no return applied for
    SELECT q.qualification_id, q.member_no, q.qualification, q.acquired_on
    FROM qualifications q
    WHERE q.scheme = 'saj' AND q.status IN ('active', 'renewed', 'renewal_open')
      AND q.member_no IN (SELECT member_no FROM registrations)
      AND NOT EXISTS (
          SELECT 1 FROM applications r
          WHERE r.member_no = q.member_no AND r.scheme = q.scheme
            AND r.kind = 'qualification_return' AND r.qualification = q.qualification
            AND r.status IN ('pending', 'sent_back', 'approved'))
),

prefecture AS (
    -- 県連会費有資格者差額: qualified members pay the difference to the qualified members' fee
    SELECT r.member_no, 'saj_prefecture_qualified' AS item, '県連会費有資格者差額' AS label,
           f.difference AS amount, NULL::BIGINT AS qualification_id, r.season
    FROM registrations r JOIN season_fee_bands f USING (season, category)
    WHERE r.member_no IN (SELECT member_no FROM kept)
),

national AS (
    SELECT r.member_no, 'saj_annual_fee' AS item, f.label, f.yearly AS amount,
           NULL::BIGINT AS qualification_id, r.season
    FROM registrations r JOIN season_fee_bands f USING (season, category)
    UNION ALL
    SELECT r.member_no, i.item, i.label, i.amount, k.qualification_id, r.season
    FROM registrations r JOIN kept k USING (member_no)
    JOIN season_bounds s ON s.season = r.season
     AND (k.acquired_on IS NULL OR k.acquired_on < s.next_start)
    JOIN season_items i ON i.season = r.season AND i.code = 'qualification:' || k.qualification
    UNION ALL
    SELECT r.member_no, i.item, i.label, i.amount, NULL, r.season
    FROM registrations r
    JOIN season_items i
      ON i.season = r.season
     AND (i.code = 'insurance:' || r.insurance_plan OR i.code = 'competitor:' || r.competitor)
),

competitor AS (
    SELECT r.member_no, i.item, i.label, i.amount, NULL::BIGINT AS qualification_id, r.season
    FROM registrations r
    JOIN season_items i ON i.season = r.season AND i.code = 'competitor:' || r.competitor
),

final AS (
    SELECT 'prefecture' AS level, member_no, item, label, amount, qualification_id, season
    FROM prefecture
    UNION ALL
    SELECT 'national' AS level, member_no, item, label, amount, qualification_id, season
    FROM national
    UNION ALL
    SELECT 'competitor' AS level, member_no, item, label, amount, qualification_id, season
    FROM competitor
)

SELECT member_no, item, label, amount, qualification_id, season,
       item = 'saj_competitor' AS by_label
FROM final
WHERE level = $level
