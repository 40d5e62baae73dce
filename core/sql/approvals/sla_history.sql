-- One row per day of [$from, $to], level and approving organisation, plus one per day and
-- level for all its organisations together (org_code NULL): the applications waiting there at
-- the end of the day (or now, for today), their median and 95th-percentile waiting time in
-- hours and how many were past their SLA deadline. Rebuilt from application_steps:
-- each step that leaves an application at a level opens an interval that the next step closes.
-- The scope condition, filled in by core.applications.queue, keeps the organisations whose
-- queue the user sees (an approver: their own level), so today's count is the queue's.
WITH steps AS (
    SELECT s.application_id, a.scheme, s.next_level AS level, s.next_org_code AS org_code,
           s.acted_at AS since,
           lead(s.acted_at) OVER (PARTITION BY s.application_id ORDER BY s.acted_at, s.step_id) AS until
    FROM application_steps s
    JOIN applications a USING (application_id)
),

intervals AS (
    SELECT st.*,
           coalesce(st.since + to_hours(d.hours), d.due_day + INTERVAL 1 DAY) AS due_at
    FROM steps st
    LEFT JOIN sla_deadlines d
      ON d.scheme = st.scheme AND d.level = st.level AND d.day = st.since::DATE
    WHERE st.level IS NOT NULL
      AND {scope}
      AND ($scheme IS NULL OR st.scheme = $scheme)
      AND st.since < $to::DATE + INTERVAL 1 DAY
      AND (st.until IS NULL OR st.until >= $from::DATE)
),

days AS (
    SELECT d::DATE AS day, least(d + INTERVAL 1 DAY, $now::TIMESTAMP) AS day_end
    FROM generate_series($from::TIMESTAMP, $to::TIMESTAMP, INTERVAL 1 DAY) AS t(d)
    WHERE d <= $now::TIMESTAMP
),

waiting AS (
    SELECT d.day, i.level, i.org_code,
           date_diff('minute', i.since, d.day_end) / 60.0 AS hours,
           coalesce(i.due_at < d.day_end, false) AS overdue
    FROM days d
    JOIN intervals i ON i.since < d.day_end AND (i.until IS NULL OR i.until > d.day_end)
),

final AS (
    SELECT w.day, w.level, w.org_code,
           CASE WHEN grouping(w.org_code) = 0 THEN any_value(o.name) END AS org_name,
           count(*) AS pending,
           round(median(w.hours), 1) AS median_hours,
           round(quantile_cont(w.hours, 0.95), 1) AS p95_hours,
           count(*) FILTER (WHERE w.overdue) AS overdue
    FROM waiting w
    LEFT JOIN organizations o ON o.org_code = w.org_code
    GROUP BY GROUPING SETS ((w.day, w.level, w.org_code), (w.day, w.level))
)

SELECT * FROM final ORDER BY day, level, org_code NULLS FIRST
