-- The asset store: originals and the results saved from the bg_remove add-on.

CREATE TABLE assets (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    name            TEXT NOT NULL,
    mime            TEXT NOT NULL,
    size            BIGINT NOT NULL,
    width           BIGINT NOT NULL,
    height          BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    blob            TEXT NOT NULL,
    -- Custom metadata: a JSON object owned by the client.
    custom          TEXT NOT NULL,
    -- Lineage: the asset this one was made from. Not a foreign key: the lineage stays recorded
    -- after the source is deleted.
    source_asset_id TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
-- Listing newest first per account: ids are UUIDv7, so they sort by creation.
CREATE INDEX assets_account ON assets (account_id, id);

CREATE TABLE asset_conversions (
    asset_id    TEXT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    -- Each write goes to a fresh blob and this row is switched in one statement, so a reader
    -- gets the old file or the new one, never a part.
    blob        TEXT NOT NULL,
    mime        TEXT NOT NULL,
    size        BIGINT NOT NULL,
    width       BIGINT NOT NULL,
    height      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (asset_id, name)
);
