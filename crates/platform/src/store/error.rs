//! The store's error type. Messages state the limit that was broken and never carry secret
//! values or key material.

use super::crypto::KeyringError;
use super::types::Condition;

/// Everything the store can refuse or fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("site id \"{}\" is not valid: {reason}", shorten(.value))]
    InvalidSiteId { value: String, reason: String },

    #[error("app namespace \"{}\" is not valid: {reason}", shorten(.value))]
    InvalidAppNs { value: String, reason: String },

    #[error("key is empty; a key is 1 to {max} characters")]
    KeyEmpty { max: usize },

    #[error("key \"{}\" is {len} characters; the limit is {max}", shorten(.key))]
    KeyTooLong { key: String, len: usize, max: usize },

    #[error(
        "key \"{}\" contains {ch:?} at position {position}; allowed are A-Z, a-z, 0-9, ':', '.', '_', ' ', '#' and '-'",
        shorten(.key)
    )]
    KeyInvalidChar {
        key: String,
        ch: char,
        position: usize,
    },

    #[error("key \"{}\" is only spaces; a key needs at least one other character", shorten(.key))]
    KeyOnlySpaces { key: String },

    #[error("query prefix \"{}\" is not valid: {reason}", shorten(.prefix))]
    InvalidPrefix { prefix: String, reason: String },

    #[error("value for key \"{}\" is {size} bytes of JSON; the limit is {max} bytes", shorten(.key))]
    ValueTooLarge {
        key: String,
        size: usize,
        max: usize,
    },

    #[error("secret \"{}\" is {size} bytes; the limit is {max} bytes", shorten(.key))]
    SecretTooLarge {
        key: String,
        size: usize,
        max: usize,
    },

    #[error("query limit {limit} is out of range; the limit is 1 to {max}")]
    QueryLimit { limit: u32, max: u32 },

    #[error("batch has {len} keys; the limit is {max}")]
    BatchTooLarge { len: usize, max: usize },

    #[error("transaction has {len} operations and conditions; the limit is {max}")]
    TransactionTooLarge { len: usize, max: usize },

    #[error("time to live of {ttl_ms} ms is out of range; it must be 1 ms to {max_days} days")]
    TtlOutOfRange { ttl_ms: u128, max_days: u64 },

    #[error("cursor is not valid: {reason}")]
    InvalidCursor { reason: &'static str },

    #[error(
        "transaction condition failed for key \"{}\": expected {condition}, but {}",
        shorten(.key),
        describe_actual(*.actual)
    )]
    ConditionFailed {
        key: String,
        condition: Condition,
        actual: Option<i64>,
    },

    #[error("value for key \"{}\" cannot be serialized to JSON: {source}", shorten(.key))]
    Serialize {
        key: String,
        source: serde_json::Error,
    },

    #[error("value for key \"{}\" does not have the requested type: {source}", shorten(.key))]
    Deserialize {
        key: String,
        source: serde_json::Error,
    },

    #[error(
        "secret \"{}\" cannot be decrypted: it was not written for this site, app and key, or it is damaged",
        shorten(.key)
    )]
    SecretUndecryptable { key: String },

    #[error(
        "secret \"{}\" is encrypted under key id \"{key_id}\", which the keyring does not hold",
        shorten(.key)
    )]
    SecretKeyUnknown { key: String, key_id: String },

    #[error(
        "secret rotation needs the store's keyring to be loaded from the key file {path}; it is {actual}"
    )]
    RotationKeyFileMismatch { path: String, actual: String },

    #[error(transparent)]
    Keyring(#[from] KeyringError),

    #[error(
        "transaction gave up after {attempts} attempts because of concurrent writers; retry it"
    )]
    Contention { attempts: u32 },

    #[error("stored data for key \"{}\" is corrupt: {reason}", shorten(.key))]
    Corrupt { key: String, reason: String },

    #[error("cannot create the folder {path} for the SQLite store: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },

    #[error("{backend} store failed to {op}: {source}")]
    Database {
        backend: &'static str,
        op: &'static str,
        source: sqlx::Error,
    },

    #[error("scratch store: {reason}")]
    Scratch { reason: String },

    #[error("{backend} store migration failed: {source}")]
    Migrate {
        backend: &'static str,
        source: sqlx::migrate::MigrateError,
    },
}

impl StoreError {
    /// True for errors caused by the caller's input (limits, names, cursors, conditions).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            StoreError::InvalidSiteId { .. }
                | StoreError::InvalidAppNs { .. }
                | StoreError::KeyEmpty { .. }
                | StoreError::KeyTooLong { .. }
                | StoreError::KeyInvalidChar { .. }
                | StoreError::KeyOnlySpaces { .. }
                | StoreError::InvalidPrefix { .. }
                | StoreError::ValueTooLarge { .. }
                | StoreError::SecretTooLarge { .. }
                | StoreError::QueryLimit { .. }
                | StoreError::BatchTooLarge { .. }
                | StoreError::TransactionTooLarge { .. }
                | StoreError::TtlOutOfRange { .. }
                | StoreError::InvalidCursor { .. }
                | StoreError::Serialize { .. }
        )
    }
}

/// Result alias of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Keys in messages are cut to 64 characters so a 500-character key does not flood a log.
pub(crate) fn shorten(s: &str) -> String {
    const SHOWN: usize = 64;
    if s.chars().count() <= SHOWN {
        s.to_string()
    } else {
        let head: String = s.chars().take(SHOWN).collect();
        format!("{head}…")
    }
}

fn describe_actual(actual: Option<i64>) -> String {
    match actual {
        None => "the key is absent".to_string(),
        Some(v) => format!("the key exists at version {v}"),
    }
}
