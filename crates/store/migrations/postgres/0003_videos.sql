-- Videos uploaded for processing (`POST /v1/uploads`).
CREATE TABLE video_uploads (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    blob        TEXT NOT NULL,
    filename    TEXT NOT NULL,
    size        BIGINT NOT NULL,
    -- ffprobe's findings as the server recorded them (JSON).
    info        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX jobs_account_kind ON jobs (account_id, kind, id);
