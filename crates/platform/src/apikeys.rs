//! API keys: machine principals for pull endpoints and integrations.
//!
//! A key is `jsmk.<site>.<id>.<secret>`: the site (cloudId) and a short public id name the
//! record; the secret is 32 random bytes (256 bits, base64url). Only `SHA-256(secret)` is
//! stored; the whole key is shown once when it is issued. Authentication looks the record up
//! by site and id, compares the hash in constant time, refuses revoked keys and records the
//! last use (at most once a minute per key, so reads stay cheap).
//!
//! Keys carry scopes such as `assets-sql:export:exp-123` or `assets-sql:export:*` and never
//! hold user roles (see [`Principal::ApiKey`]). [`RateLimiter`] is a per-key token bucket for
//! the endpoints keys call.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::permissions::Principal;
use crate::store::{AppNs, Condition, SiteId, Store, StoreError};

/// Prefix of every key, so leaked keys are recognisable by secret scanners.
pub const KEY_PREFIX: &str = "jsmk";
/// Longest key name.
pub const MAX_NAME_LEN: usize = 80;
/// Most scopes on one key.
pub const MAX_SCOPES: usize = 32;
/// Most keys (including revoked ones) per site and app.
pub const MAX_KEYS: usize = 500;
/// Last-use times are written at most this often per key.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

/// What can go wrong with API keys. Messages never contain a key or its hash.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    /// The presented key is not one of ours, is revoked, or does not match.
    #[error("the API key is not valid")]
    Invalid,
    /// A field of a new key is not acceptable.
    #[error("{field}: {reason}")]
    Field {
        /// Form field name.
        field: &'static str,
        /// Why, in words.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The system's random source failed.
    #[error("no randomness available: {0}")]
    Random(String),
}

/// A key as stored and listed (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyMeta {
    /// Public id (12 lowercase hex digits).
    pub id: String,
    /// Name given by the admin.
    pub name: String,
    /// What the key may do.
    pub scopes: BTreeSet<String>,
    /// Issued at (ms since the epoch).
    pub created_at_ms: i64,
    /// Account id of the admin who issued it.
    pub created_by: String,
    /// Last successful use (ms), if any.
    pub last_used_at_ms: Option<i64>,
    /// Revoked at (ms), if revoked.
    pub revoked_at_ms: Option<i64>,
}

impl KeyMeta {
    /// Whether the key still authenticates.
    pub fn active(&self) -> bool {
        self.revoked_at_ms.is_none()
    }

    /// What the UI shows in place of the key: `jsmk.…<id>.…`.
    pub fn hint(&self) -> String {
        format!("{KEY_PREFIX}.….{}.…", self.id)
    }
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    #[serde(flatten)]
    meta: KeyMeta,
    /// Hex SHA-256 of the secret part.
    hash: String,
}

/// A freshly issued key: the only time the full key exists outside the caller's hands.
#[derive(Debug)]
pub struct IssuedKey {
    /// Its record.
    pub meta: KeyMeta,
    /// The full key to show once.
    pub key: SecretString,
}

/// A new key's details, validated by [`ApiKeys::issue`].
#[derive(Clone, Debug)]
pub struct NewKey {
    /// Name to recognise it by.
    pub name: String,
    /// Scopes, e.g. `assets-sql:export:*`.
    pub scopes: BTreeSet<String>,
    /// Account id of the issuing admin.
    pub created_by: String,
}

/// A scope: `app:action` or `app:action:target`, each part `[a-z0-9-]`, the target also
/// `A-Z`, `_` or `*` alone.
pub fn check_scope(scope: &str) -> Result<(), String> {
    let parts: Vec<&str> = scope.split(':').collect();
    let word = |s: &str| {
        !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let target = |s: &str| {
        s == "*"
            || (!s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    };
    let ok = match parts.as_slice() {
        [app, action] => word(app) && word(action),
        [app, action, t] => word(app) && word(action) && target(t),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not a scope; use app:action or app:action:target (a-z, 0-9, '-'; target also A-Z, '_' or '*')",
            truncate(scope, 80)
        ))
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Whether `scopes` grant `wanted`, where a key scope ending in `:*` grants every target of
/// that app and action.
pub fn scope_grants(scopes: &BTreeSet<String>, wanted: &str) -> bool {
    if scopes.contains(wanted) {
        return true;
    }
    let Some((base, _target)) = wanted.rsplit_once(':') else {
        return false;
    };
    wanted.matches(':').count() == 2 && scopes.contains(&format!("{base}:*"))
}

fn hash_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn record_key(id: &str) -> String {
    format!("apikey:{id}")
}

/// The parts of a presented key, if it has the right shape.
fn parse(token: &str) -> Option<(SiteId, &str, &str)> {
    let mut it = token.trim().split('.');
    let (prefix, site, id, secret) = (it.next()?, it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || prefix != KEY_PREFIX {
        return None;
    }
    let id_ok = id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let secret_ok = secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !id_ok || !secret_ok {
        return None;
    }
    Some((SiteId::new(site).ok()?, id, secret))
}

fn random<const N: usize>() -> Result<[u8; N], ApiKeyError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| ApiKeyError::Random(e.to_string()))?;
    Ok(buf)
}

/// The API keys of one app, on every site.
#[derive(Clone, Debug)]
pub struct ApiKeys {
    store: Store,
    app: AppNs,
}

impl ApiKeys {
    /// Keys kept in `app`'s namespace.
    pub fn new(store: Store, app: AppNs) -> Self {
        Self { store, app }
    }

    /// Validates `new` and issues a key. Field errors name `name` or `scopes`.
    #[tracing::instrument(skip_all, fields(site = %site, app = %self.app))]
    pub async fn issue(&self, site: &SiteId, new: NewKey) -> Result<IssuedKey, ApiKeyError> {
        let name = new.name.trim().to_string();
        if name.is_empty() {
            return Err(field("name", "give the key a name"));
        }
        if name.chars().count() > MAX_NAME_LEN {
            return Err(field(
                "name",
                &format!("use at most {MAX_NAME_LEN} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(field("name", "control characters are not allowed"));
        }
        if new.scopes.is_empty() {
            return Err(field("scopes", "choose at least one scope"));
        }
        if new.scopes.len() > MAX_SCOPES {
            return Err(field("scopes", &format!("at most {MAX_SCOPES} scopes")));
        }
        for s in &new.scopes {
            check_scope(s).map_err(|r| field("scopes", &r))?;
        }
        if self.list(site).await?.len() >= MAX_KEYS {
            return Err(field(
                "name",
                &format!("this site already has {MAX_KEYS} keys; delete revoked ones first"),
            ));
        }
        let id = hex::encode(random::<6>()?);
        let secret = URL_SAFE_NO_PAD.encode(random::<32>()?);
        let meta = KeyMeta {
            id: id.clone(),
            name,
            scopes: new.scopes,
            created_at_ms: self.store.now_ms(),
            created_by: new.created_by,
            last_used_at_ms: None,
            revoked_at_ms: None,
        };
        let stored = StoredKey {
            meta: meta.clone(),
            hash: hash_hex(&secret),
        };
        let kv = self.store.kv(site, &self.app);
        kv.transaction()
            .check(&record_key(&id), Condition::Absent)
            .set(&record_key(&id), &stored)
            .commit()
            .await?;
        tracing::info!(key = %id, "API key issued");
        let key = format!("{KEY_PREFIX}.{}.{id}.{secret}", site.as_str());
        Ok(IssuedKey {
            meta,
            key: SecretString::from(key),
        })
    }

    /// Every key of `site` (active and revoked), newest first.
    pub async fn list(&self, site: &SiteId) -> Result<Vec<KeyMeta>, ApiKeyError> {
        let kv = self.store.kv(site, &self.app);
        let mut out: Vec<KeyMeta> = kv
            .all_with_prefix::<StoredKey>("apikey:", usize::MAX)
            .await?
            .into_iter()
            .map(|e| e.value.meta)
            .collect();
        out.sort_by(|a, b| b.created_at_ms.cmp(&a.created_at_ms).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// One key's record.
    pub async fn get(&self, site: &SiteId, id: &str) -> Result<Option<KeyMeta>, ApiKeyError> {
        if !(id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Ok(None);
        }
        let kv = self.store.kv(site, &self.app);
        Ok(kv.get::<StoredKey>(&record_key(id)).await?.map(|s| s.meta))
    }

    /// Revokes a key; `false` when there is no such key or it was already revoked.
    #[tracing::instrument(skip_all, fields(site = %site, key = %id))]
    pub async fn revoke(&self, site: &SiteId, id: &str) -> Result<bool, ApiKeyError> {
        if !(id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Ok(false);
        }
        let kv = self.store.kv(site, &self.app);
        for _ in 0..5 {
            let Some(entry) = kv.get_entry::<StoredKey>(&record_key(id)).await? else {
                return Ok(false);
            };
            let mut stored = entry.value;
            if stored.meta.revoked_at_ms.is_some() {
                return Ok(false);
            }
            stored.meta.revoked_at_ms = Some(self.store.now_ms());
            let done = kv
                .transaction()
                .check(&record_key(id), Condition::VersionEquals(entry.version))
                .set(&record_key(id), &stored)
                .commit()
                .await;
            match done {
                Ok(_) => {
                    tracing::info!("API key revoked");
                    return Ok(true);
                }
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiKeyError::Store(StoreError::Contention { attempts: 5 }))
    }

    /// Deletes a revoked key's record; `false` if there is none or it is still active.
    pub async fn delete_revoked(&self, site: &SiteId, id: &str) -> Result<bool, ApiKeyError> {
        match self.get(site, id).await? {
            Some(m) if !m.active() => {
                let kv = self.store.kv(site, &self.app);
                Ok(kv.delete(&record_key(id)).await?)
            }
            _ => Ok(false),
        }
    }

    /// Checks a presented key; on success the machine principal it stands for.
    #[tracing::instrument(skip_all, fields(app = %self.app))]
    pub async fn authenticate(&self, token: &str) -> Result<Principal, ApiKeyError> {
        let Some((site, id, secret)) = parse(token) else {
            return Err(ApiKeyError::Invalid);
        };
        let kv = self.store.kv(&site, &self.app);
        let Some(entry) = kv.get_entry::<StoredKey>(&record_key(id)).await? else {
            return Err(ApiKeyError::Invalid);
        };
        let presented = hash_hex(secret);
        let equal: bool = presented
            .as_bytes()
            .ct_eq(entry.value.hash.as_bytes())
            .into();
        if !equal || entry.value.meta.revoked_at_ms.is_some() {
            return Err(ApiKeyError::Invalid);
        }
        let now = self.store.now_ms();
        let stale = entry
            .value
            .meta
            .last_used_at_ms
            .is_none_or(|t| now - t >= LAST_USED_GRANULARITY_MS);
        let principal = Principal::ApiKey {
            site: site.clone(),
            id: id.to_string(),
            scopes: entry.value.meta.scopes.clone(),
        };
        if stale {
            let mut stored = entry.value;
            stored.meta.last_used_at_ms = Some(now);
            // A lost race only means another request recorded the use first.
            let r = kv
                .transaction()
                .check(&record_key(id), Condition::VersionEquals(entry.version))
                .set(&record_key(id), &stored)
                .commit()
                .await;
            if let Err(e) = r
                && !matches!(e, StoreError::ConditionFailed { .. })
            {
                tracing::warn!(error = %e, "could not record the key's last use");
            }
        }
        Ok(principal)
    }
}

fn field(field: &'static str, reason: &str) -> ApiKeyError {
    ApiKeyError::Field {
        field,
        reason: reason.to_string(),
    }
}

/// The full key text, for showing once.
pub fn reveal(key: &IssuedKey) -> &str {
    key.key.expose_secret()
}

/// A per-key token bucket: `burst` requests at once, refilled at `per_minute`.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    burst: f64,
    per_ms: f64,
    buckets: Arc<Mutex<HashMap<String, (f64, i64)>>>,
}

impl RateLimiter {
    /// A limiter allowing `burst` requests at once and `per_minute` sustained.
    pub fn new(burst: u32, per_minute: u32) -> Self {
        Self {
            burst: f64::from(burst.max(1)),
            per_ms: f64::from(per_minute.max(1)) / 60_000.0,
            buckets: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Takes one token for `key` at `now_ms`; `Err(wait)` says how long until the next.
    pub fn check(&self, key: &str, now_ms: i64) -> Result<(), Duration> {
        let mut map = match self.buckets.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() > 10_000 {
            // Forget full buckets: they behave exactly like absent ones.
            let (burst, per_ms) = (self.burst, self.per_ms);
            map.retain(|_, (tokens, at)| *tokens + (now_ms - *at).max(0) as f64 * per_ms < burst);
        }
        let (tokens, at) = map.entry(key.to_string()).or_insert((self.burst, now_ms));
        let elapsed = (now_ms - *at).max(0) as f64;
        *tokens = (*tokens + elapsed * self.per_ms).min(self.burst);
        *at = now_ms.max(*at);
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait_ms = ((1.0 - *tokens) / self.per_ms).ceil();
            Err(Duration::from_millis(wait_ms as u64))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scopes_are_checked() {
        for ok in ["assets-sql:export", "assets-sql:export:*", "a:b:EXP_1-x"] {
            assert!(check_scope(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "assets-sql",
            "Assets:export",
            "a:b:c:d",
            "a::b",
            "a:b:c*",
            "a:b:<script>",
        ] {
            assert!(check_scope(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wildcard_grants_every_target_of_that_action_only() {
        let s: BTreeSet<String> = ["assets-sql:export:*".to_string()].into();
        assert!(scope_grants(&s, "assets-sql:export:e1"));
        assert!(!scope_grants(&s, "assets-sql:admin:e1"));
        assert!(!scope_grants(&s, "assets-sql:export"));
        let one: BTreeSet<String> = ["assets-sql:export:e1".to_string()].into();
        assert!(scope_grants(&one, "assets-sql:export:e1"));
        assert!(!scope_grants(&one, "assets-sql:export:e2"));
    }

    #[test]
    fn malformed_keys_do_not_parse() {
        let secret = "a".repeat(43);
        assert!(parse(&format!("jsmk.site-1.0123456789ab.{secret}")).is_some());
        for bad in [
            String::new(),
            format!("jsmx.site-1.0123456789ab.{secret}"),
            format!("jsmk.site_1.0123456789ab.{secret}"),
            format!("jsmk.site-1.0123456789a.{secret}"),
            format!("jsmk.site-1.0123456789ab.{secret}.x"),
            format!("jsmk.site-1.0123456789ab.{}", "a".repeat(42)),
            format!("jsmk.site-1.0123456789ab.{}!", "a".repeat(42)),
        ] {
            assert!(parse(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn bucket_allows_burst_then_says_how_long_to_wait() {
        let rl = RateLimiter::new(2, 60);
        assert!(rl.check("k", 0).is_ok());
        assert!(rl.check("k", 0).is_ok());
        let wait = rl.check("k", 0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(1000));
        assert!(rl.check("other", 0).is_ok(), "buckets are per key");
        assert!(rl.check("k", 1000).is_ok(), "refilled after the wait");
        assert!(rl.check("k", 1000).is_err());
    }
}
