//! Value types of the store: site and app names, entries, conditions, reports and the clock.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};

/// An Atlassian site, keyed by its cloudId: 1–64 characters of `[A-Za-z0-9-]`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteId(String);

impl SiteId {
    pub const MAX_LEN: usize = 64;

    pub fn new(value: impl Into<String>) -> Result<Self> {
        let value = value.into();
        let reason = if value.is_empty() {
            Some("it is empty".to_string())
        } else if value.len() > Self::MAX_LEN {
            Some(format!(
                "it is {} characters; the limit is {}",
                value.chars().count(),
                Self::MAX_LEN
            ))
        } else {
            value
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
                .map(|c| format!("it contains {c:?}; allowed are A-Z, a-z, 0-9 and '-'"))
        };
        match reason {
            Some(reason) => Err(StoreError::InvalidSiteId { value, reason }),
            None => Ok(SiteId(value)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An app's namespace in the store: 1–32 characters of `[a-z0-9-]`, e.g. `techdesk`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppNs(String);

impl AppNs {
    pub const MAX_LEN: usize = 32;

    pub fn new(value: impl Into<String>) -> Result<Self> {
        let value = value.into();
        let reason = if value.is_empty() {
            Some("it is empty".to_string())
        } else if value.len() > Self::MAX_LEN {
            Some(format!(
                "it is {} characters; the limit is {}",
                value.chars().count(),
                Self::MAX_LEN
            ))
        } else {
            value
                .chars()
                .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
                .map(|c| format!("it contains {c:?}; allowed are a-z, 0-9 and '-'"))
        };
        match reason {
            Some(reason) => Err(StoreError::InvalidAppNs { value, reason }),
            None => Ok(AppNs(value)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! name_impls {
    ($t:ident) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($t), self.0)
            }
        }
        impl FromStr for $t {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self> {
                $t::new(s)
            }
        }
        impl TryFrom<String> for $t {
            type Error = StoreError;
            fn try_from(s: String) -> Result<Self> {
                $t::new(s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
name_impls!(SiteId);
name_impls!(AppNs);

/// A condition checked inside a transaction before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The key does not exist (or has expired).
    Absent,
    /// The key exists (and has not expired).
    Present,
    /// The key exists at exactly this version.
    VersionEquals(i64),
}

impl Condition {
    /// Whether a key at `actual` version (`None` = absent) satisfies the condition.
    pub fn holds(self, actual: Option<i64>) -> bool {
        match self {
            Condition::Absent => actual.is_none(),
            Condition::Present => actual.is_some(),
            Condition::VersionEquals(v) => actual == Some(v),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Absent => f.write_str("the key to be absent"),
            Condition::Present => f.write_str("the key to be present"),
            Condition::VersionEquals(v) => write!(f, "the key to be at version {v}"),
        }
    }
}

/// A stored value with its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<T = serde_json::Value> {
    pub key: String,
    pub value: T,
    /// 1 when created, +1 on every set.
    pub version: i64,
    /// When the entry stops being visible, if it was set with a time to live.
    pub expires_at: Option<jiff::Timestamp>,
}

/// One page of a query, in byte order of the keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T = serde_json::Value> {
    pub entries: Vec<Entry<T>>,
    /// Pass to [`Query::cursor`](super::Query::cursor) for the next page; `None` on the last page.
    pub cursor: Option<String>,
}

/// The result of one write in a transaction, in the order the writes were added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The key now has this version.
    Set { version: i64 },
    /// Whether a (non-expired) entry was there to delete.
    Deleted { existed: bool },
}

/// What one app holds for a site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AppCounts {
    pub app: String,
    pub entries: u64,
    pub secrets: u64,
}

/// What is stored for a site, per app (for the uninstall confirmation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SiteSummary {
    pub site: String,
    pub apps: Vec<AppCounts>,
}

impl SiteSummary {
    pub fn total_entries(&self) -> u64 {
        self.apps.iter().map(|a| a.entries).sum()
    }
    pub fn total_secrets(&self) -> u64 {
        self.apps.iter().map(|a| a.secrets).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.total_entries() == 0 && self.total_secrets() == 0
    }
}

/// What `purge_site` deleted: live entries and secrets per app, plus expired entries that
/// had not been swept yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub site: String,
    pub apps: Vec<AppCounts>,
    pub expired_entries: u64,
}

impl PurgeReport {
    pub fn total_entries(&self) -> u64 {
        self.apps.iter().map(|a| a.entries).sum()
    }
    pub fn total_secrets(&self) -> u64 {
        self.apps.iter().map(|a| a.secrets).sum()
    }
}

/// Where a secret lives (never its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretLocation {
    pub site: String,
    pub app: String,
    pub key: String,
}

/// What `rotate_key` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    /// The id of the key appended to the key file; new writes use it.
    pub new_key_id: String,
    /// Secrets re-encrypted under the new key.
    pub re_encrypted: u64,
    /// Secrets rewritten by someone else while rotating; left as that writer stored them.
    pub changed_concurrently: u64,
    /// Secrets that could not be decrypted with any key in the file (left untouched).
    pub undecryptable: Vec<SecretLocation>,
}

/// The store's notion of "now", injectable so tests can expire entries without sleeping.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }
}

/// A clock that only moves when told to; clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    ms: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn new(start: jiff::Timestamp) -> Self {
        ManualClock {
            ms: Arc::new(AtomicI64::new(start.as_millisecond())),
        }
    }

    /// Starts at the current system time.
    pub fn starting_now() -> Self {
        Self::new(jiff::Timestamp::now())
    }

    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let _ = self
            .ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
                Some(v.saturating_add(by))
            });
    }

    pub fn set(&self, to: jiff::Timestamp) {
        self.ms.store(to.as_millisecond(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.ms.load(Ordering::SeqCst)
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn write_counts(
    f: &mut fmt::Formatter<'_>,
    apps: &[AppCounts],
    entries: u64,
    secrets: u64,
) -> fmt::Result {
    write!(
        f,
        "{} and {}",
        plural(entries, "entry", "entries"),
        plural(secrets, "secret", "secrets")
    )?;
    if !apps.is_empty() {
        let per_app: Vec<String> = apps
            .iter()
            .map(|a| {
                format!(
                    "{}: {}, {}",
                    a.app,
                    plural(a.entries, "entry", "entries"),
                    plural(a.secrets, "secret", "secrets")
                )
            })
            .collect();
        write!(f, " ({})", per_app.join("; "))?;
    }
    Ok(())
}

impl fmt::Display for SiteSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_counts(f, &self.apps, self.total_entries(), self.total_secrets())
    }
}

impl fmt::Display for PurgeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("removed ")?;
        write_counts(f, &self.apps, self.total_entries(), self.total_secrets())?;
        if self.expired_entries > 0 {
            write!(
                f,
                ", plus {} already expired",
                plural(self.expired_entries, "entry", "entries")
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for RotationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "new master key \"{}\" is current; {} re-encrypted under it",
            self.new_key_id,
            plural(self.re_encrypted, "secret", "secrets")
        )?;
        if self.changed_concurrently > 0 {
            write!(
                f,
                "; {} rewritten concurrently by a running instance (left as written; run rotate-key again to move them)",
                plural(self.changed_concurrently, "secret was", "secrets were")
            )?;
        }
        if !self.undecryptable.is_empty() {
            write!(
                f,
                "; {} could not be decrypted with any key in the file and were left untouched",
                plural(self.undecryptable.len() as u64, "secret", "secrets")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_and_app_names() {
        assert!(SiteId::new("a1b2-c3").is_ok());
        assert!(SiteId::new("x".repeat(64)).is_ok());
        let e = SiteId::new("x".repeat(65)).unwrap_err();
        assert!(
            e.to_string().contains("65 characters; the limit is 64"),
            "{e}"
        );
        assert!(SiteId::new("").is_err());
        assert!(SiteId::new("a/b").is_err());
        assert!(AppNs::new("assets-sql").is_ok());
        assert!(
            AppNs::new("Techdesk")
                .unwrap_err()
                .to_string()
                .contains("'T'")
        );
        assert!(AppNs::new("a".repeat(33)).is_err());
        let s: SiteId = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(s.as_str(), "abc");
        assert!(serde_json::from_str::<SiteId>("\"a b\"").is_err());
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(jiff::Timestamp::from_second(1_000).unwrap());
        assert_eq!(c.now_ms(), 1_000_000);
        c.advance(Duration::from_millis(1500));
        assert_eq!(c.clone().now_ms(), 1_001_500);
    }
}
