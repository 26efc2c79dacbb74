-- Times are Unix milliseconds (BIGINT) so the same queries work on every backend.

CREATE TABLE accounts (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    -- The balance is a cached sum of the ledger, guarded so a debit can never take it below zero.
    balance        BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
    webhook_secret TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    -- SHA-256 of the key; the key itself is shown once and never stored.
    hash        TEXT NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE ledger (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    delta       BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    job_id      TEXT,
    created_at  BIGINT NOT NULL
);
-- One charge and at most one refund per job, whatever retries or crashes happen.
CREATE UNIQUE INDEX ledger_job_reason ON ledger (job_id, reason) WHERE job_id IS NOT NULL;

CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    key_id        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    mode          TEXT NOT NULL,
    spec          TEXT NOT NULL,
    input_key     TEXT,
    state         TEXT NOT NULL,
    status        TEXT NOT NULL,
    progress      BIGINT NOT NULL DEFAULT 0,
    attempts      BIGINT NOT NULL DEFAULT 0,
    max_attempts  BIGINT NOT NULL,
    run_after     BIGINT NOT NULL,
    claimed_by    TEXT,
    heartbeat_at  BIGINT,
    result        TEXT,
    error_code    TEXT,
    error_message TEXT,
    cost          BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    finished_at   BIGINT
);
CREATE INDEX jobs_queue ON jobs (state, run_after, id);
CREATE INDEX jobs_account ON jobs (account_id, id);

CREATE TABLE job_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    actor       TEXT NOT NULL,
    cause       TEXT NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id, id);

CREATE TABLE presets (
    account_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    params      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
);

CREATE TABLE idempotency (
    key_id        TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        BIGINT NOT NULL,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (key_id, idem_key)
);

-- An outbox: deliveries are written in the same transaction as the job's final state.
CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,
    job_id      TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    event       TEXT NOT NULL,
    url         TEXT NOT NULL,
    body        TEXT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    next_at     BIGINT NOT NULL,
    state       TEXT NOT NULL,
    last_error  TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX webhook_due ON webhook_deliveries (state, next_at);
