-- Token buckets per API key, shared by every API node (scale-out rate limits).
CREATE TABLE rate_buckets (
    key_id   TEXT PRIMARY KEY,
    tokens   DOUBLE PRECISION NOT NULL,
    at       BIGINT NOT NULL,
    allowed  BOOLEAN NOT NULL
);
