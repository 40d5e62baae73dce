-- One row per qualification returned (返上・返納; SAJ erases a returned qualification) or
-- suspended (休止) by an approved application between $from and $to, from the audit trail
-- (core.applications.effects writes these status changes; the batch's own changes are
-- action 'renew'), with the member's place today and the age band on the day it happened.
WITH changed AS (
    SELECT TRY_CAST(a.row_key AS BIGINT) AS qualification_id, a.changed_at::DATE AS changed_on,
           CASE WHEN a.new_value = 'suspended' THEN 'suspended' ELSE 'returned' END AS outcome
    FROM audit_log a
    WHERE a.action = 'update' AND a.table_name = 'qualifications' AND a.field = 'status'
      AND a.new_value IN ('returned', 'erased', 'suspended')
      AND a.changed_at >= $from::DATE AND a.changed_at < $to::DATE + INTERVAL 1 DAY
),

final AS (
    SELECT c.qualification_id, q.member_no, q.scheme, q.qualification, c.changed_on AS came_up_on,
           c.outcome, m.org_code, o.name AS org_name, o.path,
           coalesce(o.prefecture, m.prefecture) AS prefecture,
           (date_sub('year', m.birth_date, c.changed_on) // 5) * 5 AS age_band,
           year(q.acquired_on) AS cohort
    FROM changed c
    JOIN qualifications q USING (qualification_id)
    JOIN members m ON m.member_no = q.member_no
    LEFT JOIN organizations o ON o.org_code = m.org_code
)

SELECT * FROM final
