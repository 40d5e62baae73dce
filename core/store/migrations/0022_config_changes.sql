-- Configuration edits made in the app (制度設定; core.config.edits): each a new dated entry for
-- one key, never a rewrite; laid over data/schemes/*.toml once approved. `file_basis` is the
-- key's history in the file when the row was written, so a later change of the file is noticed
-- instead of silently overriding the edit. keep_file / adopt_file rows settle such a conflict.
CREATE SEQUENCE config_change_id_seq;
CREATE TABLE config_changes (
    change_id       BIGINT PRIMARY KEY DEFAULT nextval('config_change_id_seq'),
    key             VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL CHECK (kind IN ('set', 'keep_file', 'adopt_file')),
    effective_from  DATE,                   -- set: the day the value applies from
    value_toml      VARCHAR,                -- set: the value, as the file would write it
    reason          VARCHAR NOT NULL,
    file_basis      VARCHAR NOT NULL,       -- the file's history of the key, as TOML
    status          VARCHAR NOT NULL
                    CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    requested_by    VARCHAR NOT NULL,
    requested_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    decided_by      VARCHAR,
    decided_at      TIMESTAMPTZ,
    decision_note   VARCHAR
);
