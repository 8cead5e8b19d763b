//! The key-value API of one (site, app): get/set/delete, batches, prefix queries and
//! conditional transactions. Everything is validated here, before the backend is called.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Store;
use super::backend::{KeyRange, RawEntry, RawTx, RawWrite};
use super::error::{Result, StoreError};
use super::keys;
use super::types::{AppNs, Condition, Entry, Page, SiteId, WriteOutcome};

/// The store as one app on one site sees it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Kv {
    pub(crate) store: Store,
    pub(crate) site: SiteId,
    pub(crate) app: AppNs,
}

fn to_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<String> {
    let json = serde_json::to_string(value).map_err(|source| StoreError::Serialize {
        key: key.to_string(),
        source,
    })?;
    keys::check_value_size(key, &json)?;
    Ok(json)
}

fn to_entry<T: DeserializeOwned>(raw: RawEntry) -> Result<Entry<T>> {
    let value = serde_json::from_str(&raw.value).map_err(|source| StoreError::Deserialize {
        key: raw.key.clone(),
        source,
    })?;
    Ok(Entry {
        expires_at: raw
            .expires_at_ms
            .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()),
        key: raw.key,
        value,
        version: raw.version,
    })
}

impl Kv {
    pub(crate) fn new(store: Store, site: SiteId, app: AppNs) -> Kv {
        Kv { store, site, app }
    }

    pub fn site(&self) -> &SiteId {
        &self.site
    }

    pub fn app(&self) -> &AppNs {
        &self.app
    }

    fn tx<'a>(
        &'a self,
        now_ms: i64,
        conditions: &'a [(String, Condition)],
        writes: &'a [RawWrite],
    ) -> RawTx<'a> {
        RawTx {
            site: &self.site,
            app: &self.app,
            now_ms,
            conditions,
            writes,
        }
    }

    /// The value at `key`, deserialized as `T`; `None` if absent or expired.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        Ok(self.get_entry::<T>(key).await?.map(|e| e.value))
    }

    /// The value at `key` as raw JSON.
    pub async fn get_json(&self, key: &str) -> Result<Option<serde_json::Value>> {
        self.get::<serde_json::Value>(key).await
    }

    /// The entry at `key` with its version and expiry.
    #[tracing::instrument(skip_all, fields(site = %self.site, app = %self.app, key = %key))]
    pub async fn get_entry<T: DeserializeOwned>(&self, key: &str) -> Result<Option<Entry<T>>> {
        keys::validate_key(key)?;
        self.store.count("get");
        let keys = [key.to_string()];
        let raw = self
            .store
            .backend()
            .get(&self.site, &self.app, &keys, self.store.now_ms())
            .await?;
        raw.into_iter().next().map(to_entry).transpose()
    }

    /// Stores `value` at `key` (replacing any TTL); returns the new version.
    pub async fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<i64> {
        self.set_inner(key, value, None).await
    }

    /// Stores raw JSON at `key`; returns the new version.
    pub async fn set_json(&self, key: &str, value: &serde_json::Value) -> Result<i64> {
        self.set_inner(key, value, None).await
    }

    /// Stores `value` at `key`, invisible after `ttl`; returns the new version.
    pub async fn set_with_ttl<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<i64> {
        self.set_inner(key, value, Some(ttl)).await
    }

    #[tracing::instrument(skip_all, fields(site = %self.site, app = %self.app, key = %key))]
    async fn set_inner<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<i64> {
        keys::validate_key(key)?;
        let json = to_json(key, value)?;
        let now = self.store.now_ms();
        let expires_at_ms = ttl.map(|t| keys::expiry(now, t)).transpose()?;
        self.store.count("set");
        let writes = [RawWrite::Set {
            key: key.to_string(),
            value: json,
            expires_at_ms,
        }];
        match self
            .store
            .backend()
            .apply(self.tx(now, &[], &writes))
            .await?
            .as_slice()
        {
            [WriteOutcome::Set { version }] => Ok(*version),
            _ => Err(StoreError::Corrupt {
                key: key.to_string(),
                reason: "the backend reported no version".into(),
            }),
        }
    }

    /// Deletes `key`; returns whether a (non-expired) entry was there.
    #[tracing::instrument(skip_all, fields(site = %self.site, app = %self.app, key = %key))]
    pub async fn delete(&self, key: &str) -> Result<bool> {
        keys::validate_key(key)?;
        self.store.count("delete");
        let writes = [RawWrite::Delete {
            key: key.to_string(),
        }];
        let out = self
            .store
            .backend()
            .apply(self.tx(self.store.now_ms(), &[], &writes))
            .await?;
        Ok(matches!(
            out.as_slice(),
            [WriteOutcome::Deleted { existed: true }]
        ))
    }

    /// Up to 20 entries, in the order of `keys` (`None` for absent or expired ones).
    #[tracing::instrument(skip_all, fields(site = %self.site, app = %self.app, keys = keys.len()))]
    pub async fn get_many<T: DeserializeOwned, K: AsRef<str>>(
        &self,
        keys: &[K],
    ) -> Result<Vec<Option<Entry<T>>>> {
        keys::check_batch(keys.len())?;
        let wanted: Vec<String> = keys.iter().map(|k| k.as_ref().to_string()).collect();
        for k in &wanted {
            keys::validate_key(k)?;
        }
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        self.store.count("get_many");
        let raw = self
            .store
            .backend()
            .get(&self.site, &self.app, &wanted, self.store.now_ms())
            .await?;
        let found: HashMap<String, RawEntry> =
            raw.into_iter().map(|e| (e.key.clone(), e)).collect();
        let mut out = Vec::with_capacity(wanted.len());
        for k in &wanted {
            out.push(found.get(k).cloned().map(to_entry).transpose()?);
        }
        Ok(out)
    }

    /// Sets up to 20 keys atomically; returns their new versions in order.
    #[tracing::instrument(skip_all, fields(site = %self.site, app = %self.app, keys = items.len()))]
    pub async fn set_many<T: Serialize, K: AsRef<str>>(
        &self,
        items: &[(K, T)],
    ) -> Result<Vec<i64>> {
        keys::check_batch(items.len())?;
        let mut writes = Vec::with_capacity(items.len());
        for (k, v) in items {
            let key = k.as_ref();
            keys::validate_key(key)?;
            writes.push(RawWrite::Set {
                key: key.to_string(),
                value: to_json(key, v)?,
                expires_at_ms: None,
            });
        }
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        self.store.count("set_many");
        let out = self
            .store
            .backend()
            .apply(self.tx(self.store.now_ms(), &[], &writes))
            .await?;
        Ok(out
            .into_iter()
            .map(|o| match o {
                WriteOutcome::Set { version } => version,
                WriteOutcome::Deleted { .. } => 0,
            })
            .collect())
    }

    /// Deletes up to 20 keys atomically; returns, in order, whether each existed.
    #[tracing::instrument(skip_all, fields(site = %self.site, app = %self.app, keys = keys.len()))]
    pub async fn delete_many<K: AsRef<str>>(&self, keys: &[K]) -> Result<Vec<bool>> {
        keys::check_batch(keys.len())?;
        let mut writes = Vec::with_capacity(keys.len());
        for k in keys {
            keys::validate_key(k.as_ref())?;
            writes.push(RawWrite::Delete {
                key: k.as_ref().to_string(),
            });
        }
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        self.store.count("delete_many");
        let out = self
            .store
            .backend()
            .apply(self.tx(self.store.now_ms(), &[], &writes))
            .await?;
        Ok(out
            .into_iter()
            .map(|o| matches!(o, WriteOutcome::Deleted { existed: true }))
            .collect())
    }

    /// Every entry under `prefix` (at most `max`), in key order, read page by page.
    pub async fn all_with_prefix<T: DeserializeOwned>(
        &self,
        prefix: &str,
        max: usize,
    ) -> Result<Vec<Entry<T>>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = self.query().begins_with(prefix).limit(100);
            if let Some(c) = cursor.take() {
                q = q.cursor(c);
            }
            let page = q.fetch_as::<T>().await?;
            out.extend(page.entries);
            match page.cursor {
                Some(c) if out.len() < max => cursor = Some(c),
                _ => break,
            }
        }
        out.truncate(max);
        Ok(out)
    }

    /// A prefix query, ordered by key bytes: `kv.query().begins_with("p:").limit(50).fetch()`.
    pub fn query(&self) -> Query {
        Query {
            kv: self.clone(),
            prefix: String::new(),
            limit: keys::DEFAULT_QUERY_LIMIT,
            cursor: None,
        }
    }

    /// An all-or-nothing transaction of up to 10 writes and conditions.
    pub fn transaction(&self) -> Transaction {
        Transaction {
            kv: self.clone(),
            conditions: Vec::new(),
            writes: Vec::new(),
            error: None,
        }
    }
}

/// A prefix query being built; run it with [`Query::fetch`].
#[derive(Debug, Clone)]
pub struct Query {
    kv: Kv,
    prefix: String,
    limit: u32,
    cursor: Option<String>,
}

impl Query {
    /// Only keys starting with `prefix` (default: all keys).
    pub fn begins_with(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Page size, 1 to 100 (default 20).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// Continue after the page that returned `cursor` (same prefix only).
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// One page of raw JSON entries.
    pub async fn fetch(self) -> Result<Page> {
        self.fetch_as().await
    }

    /// One page, values deserialized as `T`.
    #[tracing::instrument(skip_all, fields(site = %self.kv.site, app = %self.kv.app, prefix = %self.prefix))]
    pub async fn fetch_as<T: DeserializeOwned>(self) -> Result<Page<T>> {
        let Query {
            kv,
            prefix,
            limit,
            cursor,
        } = self;
        keys::validate_prefix(&prefix)?;
        keys::check_query_limit(limit)?;
        let after = match &cursor {
            Some(c) => keys::decode_cursor(&kv.site, &kv.app, &prefix, c)?,
            None => String::new(),
        };
        kv.store.count("query");
        let range = KeyRange {
            upper: keys::prefix_upper_bound(&prefix),
            lower: prefix.clone(),
            after,
        };
        let mut raw = kv
            .store
            .backend()
            .query(&kv.site, &kv.app, &range, limit + 1, kv.store.now_ms())
            .await?;
        let more = raw.len() > limit as usize;
        raw.truncate(limit as usize);
        let cursor = match (more, raw.last()) {
            (true, Some(last)) => Some(keys::encode_cursor(&kv.site, &kv.app, &prefix, &last.key)),
            _ => None,
        };
        let entries = raw.into_iter().map(to_entry).collect::<Result<Vec<_>>>()?;
        Ok(Page { entries, cursor })
    }
}

#[derive(Debug)]
enum PendingWrite {
    Set {
        key: String,
        json: String,
        ttl: Option<Duration>,
    },
    Delete {
        key: String,
    },
}

/// An all-or-nothing transaction: every condition is checked first, then every write is
/// applied in order. A failed condition is [`StoreError::ConditionFailed`] and nothing is
/// written. Input errors are kept and reported by [`Transaction::commit`].
#[derive(Debug)]
pub struct Transaction {
    kv: Kv,
    conditions: Vec<(String, Condition)>,
    writes: Vec<PendingWrite>,
    error: Option<StoreError>,
}

impl Transaction {
    fn keep(mut self, r: Result<()>) -> Self {
        if let Err(e) = r
            && self.error.is_none()
        {
            self.error = Some(e);
        }
        self
    }

    fn add_set<T: Serialize + ?Sized>(
        mut self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Self {
        let r = keys::validate_key(key).and_then(|()| to_json(key, value));
        match r {
            Ok(json) => {
                self.writes.push(PendingWrite::Set {
                    key: key.to_string(),
                    json,
                    ttl,
                });
                self
            }
            Err(e) => self.keep(Err(e)),
        }
    }

    /// Sets `key` to `value`.
    pub fn set<T: Serialize + ?Sized>(self, key: &str, value: &T) -> Self {
        self.add_set(key, value, None)
    }

    /// Sets `key` to `value`, invisible after `ttl`.
    pub fn set_with_ttl<T: Serialize + ?Sized>(self, key: &str, value: &T, ttl: Duration) -> Self {
        self.add_set(key, value, Some(ttl))
    }

    /// Deletes `key`.
    pub fn delete(mut self, key: &str) -> Self {
        let r = keys::validate_key(key);
        if r.is_ok() {
            self.writes.push(PendingWrite::Delete {
                key: key.to_string(),
            });
        }
        self.keep(r)
    }

    /// Requires `condition` to hold for `key` when the transaction commits.
    pub fn check(mut self, key: &str, condition: Condition) -> Self {
        let r = keys::validate_key(key);
        if r.is_ok() {
            self.conditions.push((key.to_string(), condition));
        }
        self.keep(r)
    }

    /// Operations plus conditions so far (the limit is 10).
    pub fn len(&self) -> usize {
        self.writes.len() + self.conditions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs the transaction; outcomes are in the order the writes were added.
    #[tracing::instrument(skip_all, fields(site = %self.kv.site, app = %self.kv.app, ops = self.len()))]
    pub async fn commit(self) -> Result<Vec<WriteOutcome>> {
        keys::check_transaction(self.len())?;
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.kv.store.now_ms();
        let writes = self
            .writes
            .into_iter()
            .map(|w| match w {
                PendingWrite::Set { key, json, ttl } => {
                    let expires_at_ms = ttl.map(|t| keys::expiry(now, t)).transpose()?;
                    Ok(RawWrite::Set {
                        key,
                        value: json,
                        expires_at_ms,
                    })
                }
                PendingWrite::Delete { key } => Ok(RawWrite::Delete { key }),
            })
            .collect::<Result<Vec<_>>>()?;
        self.kv.store.count("transaction");
        self.kv
            .store
            .backend()
            .apply(self.kv.tx(now, &self.conditions, &writes))
            .await
    }
}
