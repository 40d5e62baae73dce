-- One row per application in `approval_ids` and per step of its approval chain: the level and
-- the organisation that approves there, in order. The chain comes from the scheme's
-- configuration (`chain_steps`: scheme, transfer, position, level); a level is skipped where
-- the application's organisation has no ancestor of that kind (a club under no regional
-- body), and a proxy application (代理申請) skips the club that made it. A transfer is
-- approved along the destination's chain, destination club included.
WITH subject AS (
    SELECT a.application_id, a.scheme, a.kind = 'transfer' AS transfer,
           a.entered_by, a.proxy_org_code,
           CASE WHEN a.kind = 'transfer' THEN a.target_org_code ELSE a.org_code END AS base_org
    FROM applications a
    WHERE a.application_id IN (SELECT application_id FROM approval_ids)
),

final AS (
    SELECT s.application_id, c.position, c.level, up.org_code AS level_org_code
    FROM subject s
    JOIN organizations o ON o.org_code = s.base_org
    JOIN chain_steps c ON c.scheme = s.scheme AND c.transfer = s.transfer
    JOIN organizations up ON starts_with(o.path, up.path) AND up.kind = c.level
    WHERE NOT (c.level = 'club' AND s.entered_by = 'proxy' AND up.org_code = s.proxy_org_code)
)

SELECT * FROM final
