-- Certificates and notices (documents) and the notification outbox (送信トレイ).

-- 請求書・領収証宛名: the addressee every invoice and receipt of the member carries (ITC
-- lets members edit it); NULL means the member's own name with 様.
ALTER TABLE members ADD COLUMN invoice_addressee VARCHAR;

-- JSPO: whether the registration card of this licence is posted (郵送する/しない), as the
-- holder chose during the renewal; NULL = not answered.
ALTER TABLE qualifications ADD COLUMN card_posting VARCHAR;

-- One row per document a member may have: its number and its content as of the day it
-- became available, so every copy printed later is the same document.
CREATE SEQUENCE document_id_seq;
CREATE TABLE documents (
    document_id        BIGINT PRIMARY KEY DEFAULT nextval('document_id_seq'),
    document_no        VARCHAR NOT NULL,
    member_no          VARCHAR NOT NULL,
    scheme             VARCHAR NOT NULL,
    kind               VARCHAR NOT NULL,       -- certificate, commission_letter, …
    qualification_id   BIGINT,                 -- NULL for a season's membership card
    season             INTEGER,                -- the 年度 of a season's card
    holder_name        VARCHAR,
    holder_kana        VARCHAR,
    qualification      VARCHAR,                -- the qualification type code
    certificate_no     VARCHAR,
    valid_from         DATE,
    valid_until        DATE,
    org_name           VARCHAR,
    held               VARCHAR,                -- a membership card: the qualifications held
    available_on       DATE NOT NULL,
    batch_id           VARCHAR,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- Every print or download of a document: who, when, which copy.
CREATE SEQUENCE document_issue_id_seq;
CREATE TABLE document_issues (
    issue_id     BIGINT PRIMARY KEY DEFAULT nextval('document_issue_id_seq'),
    document_id  BIGINT NOT NULL,
    copy_no      INTEGER NOT NULL,
    issued_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    issued_by    VARCHAR NOT NULL,
    batch_id     VARCHAR
);

-- The outbox: one row per mail, written in the transaction of the event it tells about,
-- rendered then (subject and body as sent) and with its Message-ID, so a delivery retried
-- after a crash is the same message.
CREATE SEQUENCE outbox_id_seq;
CREATE TABLE outbox (
    outbox_id         BIGINT PRIMARY KEY DEFAULT nextval('outbox_id_seq'),
    event             VARCHAR NOT NULL,
    member_no         VARCHAR,
    scheme            VARCHAR NOT NULL,
    recipient         VARCHAR,
    sender            VARCHAR NOT NULL,
    subject           VARCHAR NOT NULL,
    body              VARCHAR NOT NULL,
    status            VARCHAR NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
    status_reason     VARCHAR,                 -- why suppressed or failed, in words
    message_id        VARCHAR NOT NULL,        -- '<uuid@domain>', made with the row
    dedupe_key        VARCHAR,                 -- reminders: the reminder, item and period
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TIMESTAMPTZ,
    sent_at           TIMESTAMPTZ,
    last_attempt_at   TIMESTAMPTZ,
    resent_from       BIGINT,                  -- a resend: the row it repeats
    created_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    created_by        VARCHAR NOT NULL,
    batch_id          VARCHAR
);

-- The reminders written, one row each: a key written twice (two `remind` runs at once)
-- conflicts, so a reminder is never sent twice. Kept apart from the outbox so that the
-- outbox itself needs no index but its id (the batch writes 100,000 rows at a time).
CREATE TABLE outbox_keys (
    dedupe_key  VARCHAR PRIMARY KEY,
    outbox_id   BIGINT
);

-- Addresses a mail server refused for good (5xx): later mail to them is suppressed until
-- the member's address is corrected (a new address is not in this table).
CREATE TABLE mail_failures (
    member_no   VARCHAR NOT NULL,
    email       VARCHAR NOT NULL,
    failed_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    reason      VARCHAR,
    outbox_id   BIGINT
);

-- The one sender allowed to run: a second `send-mail` started meanwhile leaves at once.
CREATE TABLE mail_sender_lease (
    name          VARCHAR PRIMARY KEY,
    pid           INTEGER NOT NULL,
    host          VARCHAR NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    heartbeat_at  TIMESTAMPTZ NOT NULL
);
