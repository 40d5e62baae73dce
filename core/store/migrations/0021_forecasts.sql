-- The next season's forecast (次期更新見込み), kept once a day so it can be back-tested: what was
-- expected as of `made_on` for each qualification (or SAJ membership) due within the horizon,
-- and each requirement it still lacked then (kept for the latest forecasts only: the at-risk
-- list). core.stats.forecast writes them, learns from the items whose cycles the batch has
-- since decided, and the back-test compares them with what the batch did (renewal_outcomes).
CREATE TABLE forecast_runs (
    made_on      DATE PRIMARY KEY,
    horizon_end  DATE NOT NULL,            -- qualifications due before this day were forecast
    actor        VARCHAR NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE TABLE forecast_items (
    made_on           DATE NOT NULL,
    qualification_id  BIGINT,              -- NULL for a SAJ membership
    member_no         VARCHAR NOT NULL,
    scheme            VARCHAR NOT NULL,
    qualification     VARCHAR NOT NULL,
    valid_until       DATE,                -- the validity end coming up
    org_code          VARCHAR,
    prefecture        VARCHAR,
    state             VARCHAR NOT NULL,    -- what was still missing: 'application|points:2|…'
    months_to_end     INTEGER NOT NULL,    -- whole months from made_on to valid_until
    p_renew           DOUBLE NOT NULL,     -- the chance it renews (0–1)
    fee               INTEGER NOT NULL,    -- yen a renewal bills
    missing           VARCHAR[],           -- requirement codes still unmet
    deadline          DATE                 -- the earliest deadline of those
);

CREATE TABLE forecast_gaps (
    made_on           DATE NOT NULL,
    qualification_id  BIGINT,
    member_no         VARCHAR NOT NULL,
    scheme            VARCHAR NOT NULL,
    qualification     VARCHAR NOT NULL,
    valid_until       DATE,
    code              VARCHAR NOT NULL,
    label             VARCHAR,
    required          DECIMAL(9, 1),
    actual            DECIMAL(9, 1),
    deadline          DATE                     -- by when it must be done
);
