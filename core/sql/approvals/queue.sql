-- One row per open application (pending or sent back) waiting at a level the user may see,
-- with who it is about, how long it has waited at its level, its SLA deadline and the intake
-- flags. `sla_deadlines` (scheme, level, day of arrival, hours, due_day) is registered by
-- core.approval_queue: a deadline in hours runs from the arrival at the level; one in
-- business days ends with its due_day (翌営業日 for SAJ).
WITH waiting AS (
    SELECT a.*
    FROM applications a
    WHERE a.status = ANY($statuses) AND {scope}
      AND ($scheme IS NULL OR a.scheme = $scheme)
      AND ($kind IS NULL OR a.kind = $kind)
      AND ($level IS NULL OR a.level = $level)
),

returns AS (
    SELECT DISTINCT member_no, season FROM applications
    WHERE kind = 'qualification_return' AND status IN ('pending', 'sent_back')
),

deadline AS (
    SELECT w.application_id,
           coalesce(w.level_since + to_hours(d.hours), d.due_day + INTERVAL 1 DAY) AS due_at
    FROM waiting w
    LEFT JOIN sla_deadlines d
      ON d.scheme = w.scheme AND d.level = w.level AND d.day = w.level_since::DATE
    WHERE w.status = 'pending'
),

final AS (
    SELECT w.application_id, w.application_ref, w.version, w.status, w.scheme, w.kind,
           w.season, w.member_no,
           coalesce(m.family_name || ' ' || m.given_name,
                    w.family_name || ' ' || w.given_name) AS name,
           coalesce(m.birth_date, w.birth_date) AS birth_date,
           w.level, w.level_org_code, o.name AS level_org_name, home.name AS org_name,
           w.entered_by, w.qualification, w.target_org_code, w.reason, w.note,
           w.submitted_at, w.level_since,
           round(date_diff('minute', w.level_since, $now::TIMESTAMP) / 60.0, 1) AS waiting_hours,
           d.due_at,
           CASE WHEN d.due_at IS NULL THEN NULL
                WHEN d.due_at <= $now::TIMESTAMP THEN 'overdue'
                WHEN d.due_at <= $now::TIMESTAMP + INTERVAL 1 DAY THEN 'due'
                ELSE 'ok' END AS sla,
           w.duplicate_of, w.same_person_as, w.address_problem,
           (w.kind = 'qualification_return' OR ret.member_no IS NOT NULL) AS returns_qualification
    FROM waiting w
    LEFT JOIN deadline d USING (application_id)
    LEFT JOIN members m ON m.member_no = w.member_no
    LEFT JOIN organizations o ON o.org_code = w.level_org_code
    LEFT JOIN organizations home ON home.org_code = coalesce(w.org_code, m.org_code)
    LEFT JOIN returns ret ON ret.member_no = w.member_no AND ret.season = w.season
                           AND w.kind = 'season_registration'
)

SELECT * FROM final
WHERE ($flag IS NULL
       OR ($flag = 'duplicate' AND duplicate_of IS NOT NULL)
       OR ($flag = 'same_person' AND same_person_as IS NOT NULL)
       OR ($flag = 'address' AND address_problem IS NOT NULL)
       OR ($flag = 'returns_qualification' AND returns_qualification)
       OR ($flag = 'any' AND (duplicate_of IS NOT NULL OR same_person_as IS NOT NULL
                              OR address_problem IS NOT NULL OR returns_qualification))
       OR ($flag = 'overdue' AND sla = 'overdue')
       OR ($flag = 'due' AND sla IN ('due', 'overdue')))
  AND ($min_hours IS NULL OR waiting_hours >= $min_hours)
ORDER BY level_since, application_id
