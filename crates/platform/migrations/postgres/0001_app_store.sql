-- The app store: key-value entries and encrypted secrets, per (site, app).
-- Text columns use COLLATE "C" so keys order by bytes, the same as SQLite's BINARY.
-- Values are kept as JSON text (not jsonb) so they come back exactly as written.
-- Instants are milliseconds since the Unix epoch, taken from the store's clock.

CREATE TABLE kv_entries (
    site          TEXT COLLATE "C" NOT NULL CHECK (char_length(site) BETWEEN 1 AND 64),
    app           TEXT COLLATE "C" NOT NULL CHECK (char_length(app) BETWEEN 1 AND 32),
    key           TEXT COLLATE "C" NOT NULL CHECK (char_length(key) BETWEEN 1 AND 500),
    value         TEXT   NOT NULL CHECK (octet_length(value) <= 245760),
    version       BIGINT NOT NULL CHECK (version >= 1),
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT,
    PRIMARY KEY (site, app, key)
);

CREATE INDEX kv_entries_expiry ON kv_entries (expires_at_ms) WHERE expires_at_ms IS NOT NULL;

CREATE TABLE kv_secrets (
    site          TEXT COLLATE "C" NOT NULL CHECK (char_length(site) BETWEEN 1 AND 64),
    app           TEXT COLLATE "C" NOT NULL CHECK (char_length(app) BETWEEN 1 AND 32),
    key           TEXT COLLATE "C" NOT NULL CHECK (char_length(key) BETWEEN 1 AND 500),
    key_id        TEXT COLLATE "C" NOT NULL,
    ciphertext    BYTEA  NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (site, app, key)
);

CREATE INDEX kv_secrets_key_id ON kv_secrets (key_id);
