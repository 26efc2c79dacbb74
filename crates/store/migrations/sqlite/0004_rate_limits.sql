-- Token buckets per API key (the same schema as PostgreSQL's; an embedded node limits in memory).
CREATE TABLE rate_buckets (
    key_id   TEXT PRIMARY KEY,
    tokens   REAL NOT NULL,
    at       INTEGER NOT NULL,
    allowed  INTEGER NOT NULL
);
