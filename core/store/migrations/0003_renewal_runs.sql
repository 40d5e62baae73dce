-- The renewal batch's run history: who ran it, for which date, and what it changed.
CREATE SEQUENCE renewal_run_id_seq;
CREATE TABLE renewal_runs (
    run_id       BIGINT PRIMARY KEY DEFAULT nextval('renewal_run_id_seq'),
    as_of        DATE NOT NULL,
    schemes      VARCHAR NOT NULL,          -- comma-separated scheme codes
    actor        VARCHAR NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    finished_at  TIMESTAMPTZ,
    counts       VARCHAR NOT NULL,          -- JSON: [{"scheme", "outcome", "n"}]
    batch_id     VARCHAR NOT NULL           -- the audit rows of this run
);
