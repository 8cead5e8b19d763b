//! The storage backend contract: raw JSON text and bytes, already validated by [`Store`].
//! Every operation is scoped by (site, app) except the store-wide maintenance ones, and
//! "now" always comes from the store's clock, never the database's.
//!
//! [`Store`]: super::Store

use async_trait::async_trait;

use super::error::Result;
use super::types::{AppCounts, AppNs, Condition, SiteId, WriteOutcome};

/// A stored entry as the backend returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    pub key: String,
    /// Serialized JSON.
    pub value: String,
    pub version: i64,
    pub expires_at_ms: Option<i64>,
}

/// One write of a [`RawTx`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawWrite {
    Set {
        key: String,
        value: String,
        expires_at_ms: Option<i64>,
    },
    Delete {
        key: String,
    },
}

/// An all-or-nothing unit: every condition is checked, then every write applied in order.
/// A failed condition is `StoreError::ConditionFailed` and nothing is written.
#[derive(Debug, Clone, Copy)]
pub struct RawTx<'a> {
    pub site: &'a SiteId,
    pub app: &'a AppNs,
    pub now_ms: i64,
    pub conditions: &'a [(String, Condition)],
    pub writes: &'a [RawWrite],
}

/// The keys of a prefix query: `lower <= key < upper` and `key > after` (`after` may be "").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    pub lower: String,
    pub upper: String,
    pub after: String,
}

/// A stored secret as the backend returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRow {
    pub site: String,
    pub app: String,
    pub key: String,
    pub key_id: String,
    pub ciphertext: Vec<u8>,
}

/// What a site purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawPurge {
    /// Live entries and secrets per app, sorted by app.
    pub apps: Vec<AppCounts>,
    pub expired_entries: u64,
}

/// One storage engine. Implementations: SQLite (embedded) and PostgreSQL (shared).
#[async_trait]
pub trait Backend: Send + Sync {
    /// `sqlite` or `postgres`.
    fn name(&self) -> &'static str;
    async fn migrate(&self) -> Result<()>;
    async fn ping(&self) -> Result<()>;
    async fn close(&self);

    /// Live entries among `keys` (any order; missing keys are left out).
    async fn get(
        &self,
        site: &SiteId,
        app: &AppNs,
        keys: &[String],
        now_ms: i64,
    ) -> Result<Vec<RawEntry>>;
    /// Live entries in `range`, ordered by key bytes, at most `limit`.
    async fn query(
        &self,
        site: &SiteId,
        app: &AppNs,
        range: &KeyRange,
        limit: u32,
        now_ms: i64,
    ) -> Result<Vec<RawEntry>>;
    /// Applies a transaction atomically; outcomes in the order of `tx.writes`.
    async fn apply(&self, tx: RawTx<'_>) -> Result<Vec<WriteOutcome>>;
    /// Deletes every entry expired at `now_ms`; returns how many.
    async fn purge_expired(&self, now_ms: i64) -> Result<u64>;

    async fn get_secret(&self, site: &SiteId, app: &AppNs, key: &str) -> Result<Option<SecretRow>>;
    async fn put_secret(
        &self,
        site: &SiteId,
        app: &AppNs,
        key: &str,
        key_id: &str,
        ciphertext: &[u8],
        now_ms: i64,
    ) -> Result<()>;
    async fn delete_secret(&self, site: &SiteId, app: &AppNs, key: &str) -> Result<bool>;
    /// Secrets not under `key_id`, ordered by (site, app, key), after `after`, at most `limit`.
    async fn secrets_not_under(
        &self,
        key_id: &str,
        after: Option<&SecretRow>,
        limit: u32,
    ) -> Result<Vec<SecretRow>>;
    /// Replaces `old`'s ciphertext only if it is still `old.ciphertext` (compare-and-swap).
    async fn swap_secret(
        &self,
        old: &SecretRow,
        key_id: &str,
        ciphertext: &[u8],
        now_ms: i64,
    ) -> Result<bool>;
    /// Distinct key ids that stored secrets use.
    async fn secret_key_ids(&self) -> Result<Vec<String>>;

    /// Sites with live entries or secrets, sorted.
    async fn list_sites(&self, now_ms: i64) -> Result<Vec<String>>;
    /// Live entries and secrets per app of a site, sorted by app.
    async fn site_summary(&self, site: &SiteId, now_ms: i64) -> Result<Vec<AppCounts>>;
    /// Deletes everything stored for a site, atomically.
    async fn purge_site(&self, site: &SiteId, now_ms: i64) -> Result<RawPurge>;
}

/// Merges per-app entry and secret counts into one sorted list.
pub(crate) fn merge_counts(
    entries: Vec<(String, i64)>,
    secrets: Vec<(String, i64)>,
) -> Vec<AppCounts> {
    let mut map: std::collections::BTreeMap<String, AppCounts> = std::collections::BTreeMap::new();
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    for (app, n) in entries {
        map.entry(app.clone())
            .or_insert_with(|| AppCounts {
                app,
                ..AppCounts::default()
            })
            .entries += count(n);
    }
    for (app, n) in secrets {
        map.entry(app.clone())
            .or_insert_with(|| AppCounts {
                app,
                ..AppCounts::default()
            })
            .secrets += count(n);
    }
    map.into_values()
        .filter(|a| a.entries > 0 || a.secrets > 0)
        .collect()
}

/// Splits `(app, kind, count)` rows into per-app counts.
pub(crate) fn split_counts(rows: Vec<(String, String, i64)>) -> Vec<AppCounts> {
    let (e, s): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(_, kind, _)| kind == "entries");
    merge_counts(
        e.into_iter().map(|(a, _, n)| (a, n)).collect(),
        s.into_iter().map(|(a, _, n)| (a, n)).collect(),
    )
}

/// Tallies deleted `(app, live)` entry rows and `(app)` secret rows.
pub(crate) fn tally_purge(entries: Vec<(String, bool)>, secrets: Vec<(String,)>) -> RawPurge {
    let expired_entries = entries.iter().filter(|(_, live)| !live).count() as u64;
    let live = entries
        .into_iter()
        .filter(|(_, live)| *live)
        .map(|(a, _)| (a, 1))
        .collect();
    let secrets = secrets.into_iter().map(|(a,)| (a, 1)).collect();
    RawPurge {
        apps: merge_counts(live, secrets),
        expired_entries,
    }
}
