-- Payments that did not settle lines exactly (入金消込), refunds, and who paid a club's batch.

-- One row per imported payment that paid no line: under- or over-payment, no open line, or
-- several payments and lines that only staff can pair. Staff resolve each in the app.
CREATE SEQUENCE reconciliation_id_seq;
CREATE TABLE reconciliation (
    item_id      BIGINT PRIMARY KEY DEFAULT nextval('reconciliation_id_seq'),
    payment_id   BIGINT NOT NULL,
    kind         VARCHAR NOT NULL
                 CHECK (kind IN ('under', 'over', 'unmatched', 'ambiguous')),
    member_no    VARCHAR,
    scheme       VARCHAR,
    item         VARCHAR,
    amount       INTEGER NOT NULL,          -- what was paid
    expected     INTEGER,                   -- the open lines' total when imported; NULL: none
    status       VARCHAR NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'applied', 'refunded', 'written_off')),
    billing_id   BIGINT,                    -- the line a resolution applied the payment to
    note         VARCHAR,
    batch_id     VARCHAR,                   -- the import that raised it
    created_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    resolved_at  TIMESTAMPTZ,
    resolved_by  VARCHAR
);

-- Money paid back: a paid line refunded under its scheme's rules, or a reconciliation item.
CREATE SEQUENCE refund_id_seq;
CREATE TABLE refunds (
    refund_id    BIGINT PRIMARY KEY DEFAULT nextval('refund_id_seq'),
    billing_id   BIGINT,
    item_id      BIGINT,
    payment_id   BIGINT,
    member_no    VARCHAR,
    scheme       VARCHAR,
    amount       INTEGER NOT NULL,
    reason       VARCHAR NOT NULL,
    note         VARCHAR,
    refunded_on  DATE NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    recorded_by  VARCHAR NOT NULL
);

-- The organisation that paid for its members in one payment (まとめて支払い).
ALTER TABLE payments ADD COLUMN payer_org_code VARCHAR;
