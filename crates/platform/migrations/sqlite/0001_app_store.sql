-- The app store: key-value entries and encrypted secrets, per (site, app).
-- Keys compare with BINARY collation (byte order), the same order as PostgreSQL's "C".
-- Instants are milliseconds since the Unix epoch, taken from the store's clock.

CREATE TABLE kv_entries (
    site          TEXT    NOT NULL CHECK (length(site) BETWEEN 1 AND 64),
    app           TEXT    NOT NULL CHECK (length(app) BETWEEN 1 AND 32),
    key           TEXT    NOT NULL CHECK (length(key) BETWEEN 1 AND 500),
    value         TEXT    NOT NULL CHECK (length(CAST(value AS BLOB)) <= 245760),
    version       INTEGER NOT NULL CHECK (version >= 1),
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER,
    PRIMARY KEY (site, app, key)
);

CREATE INDEX kv_entries_expiry ON kv_entries (expires_at_ms) WHERE expires_at_ms IS NOT NULL;

CREATE TABLE kv_secrets (
    site          TEXT    NOT NULL CHECK (length(site) BETWEEN 1 AND 64),
    app           TEXT    NOT NULL CHECK (length(app) BETWEEN 1 AND 32),
    key           TEXT    NOT NULL CHECK (length(key) BETWEEN 1 AND 500),
    key_id        TEXT    NOT NULL,
    ciphertext    BLOB    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (site, app, key)
);

CREATE INDEX kv_secrets_key_id ON kv_secrets (key_id);
