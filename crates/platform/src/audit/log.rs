//! The append-only audit log over the store.

use axum::body::Bytes;
use futures_util::Stream;
use serde::{Deserialize, Serialize};

use super::csv;
use super::entry::{Action, Actor, MAX_NAME_CHARS, MAX_TARGET_CHARS, Outcome};
use super::entry::{AuditEntry, NewEntry, clip, inverted, new_id, redact};
use crate::permissions::platform_ns;
use crate::store::{Condition, Kv, SiteId, Store, StoreError};

/// Prefix of every audit key (then the entry id).
pub const KEY_PREFIX: &str = "audit:";
/// Key of the per-site audit settings.
const SETTINGS_KEY: &str = "audit-settings";
/// Retention when none is set.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;
/// Longest retention accepted (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3650;
/// Largest page of [`AuditLog::query`].
pub const MAX_PAGE: u32 = 100;
/// Store page size while scanning.
const SCAN_PAGE: u32 = 100;
/// Entries read by one [`AuditLog::query`] call at most; past it the page ends early with a
/// cursor (`scan_limited`), so a filter that matches little cannot make one request slow.
pub const MAX_SCAN: usize = 5_000;
const DAY_MS: i64 = 86_400_000;

/// Errors of the audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The paging cursor was not issued by this log for this query.
    #[error("the paging cursor is not valid")]
    InvalidCursor,
    /// A setting out of range.
    #[error("{0}")]
    Invalid(String),
}

/// Which entries to list. Every set field must match.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditFilter {
    /// At or after (ms since the epoch).
    pub from_ms: Option<i64>,
    /// At or before (ms since the epoch).
    pub to_ms: Option<i64>,
    /// Actor id (exact) or part of the display name (case-insensitive).
    pub actor: Option<String>,
    /// This action.
    pub action: Option<Action>,
    /// This outcome.
    pub outcome: Option<Outcome>,
    /// Text anywhere in actor, action, target, detail or request id (case-insensitive).
    pub text: Option<String>,
}

impl AuditFilter {
    /// Whether `e` passes every set field.
    pub fn matches(&self, e: &AuditEntry) -> bool {
        let lower = |s: &str| s.to_lowercase();
        self.from_ms.is_none_or(|f| e.at_ms >= f)
            && self.to_ms.is_none_or(|t| e.at_ms <= t)
            && self.action.as_ref().is_none_or(|a| *a == e.action)
            && self.outcome.is_none_or(|o| o == e.outcome)
            && self
                .actor
                .as_deref()
                .is_none_or(|a| e.actor.id == a || lower(&e.actor.display).contains(&lower(a)))
            && self.text.as_deref().is_none_or(|t| {
                let t = lower(t);
                [
                    e.actor.id.as_str(),
                    e.actor.display.as_str(),
                    e.action.as_str(),
                    e.target.as_str(),
                    e.request_id.as_deref().unwrap_or(""),
                ]
                .iter()
                .any(|s| lower(s).contains(&t))
                    || lower(&e.detail.to_string()).contains(&t)
            })
    }
}

/// One page of entries, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditPage {
    /// Matching entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// Pass back to get the next page; `None` at the end.
    pub next_cursor: Option<String>,
    /// True when the page ended early because [`MAX_SCAN`] entries were read.
    pub scan_limited: bool,
}

#[derive(Serialize, Deserialize)]
struct Settings {
    retention_days: u32,
}

/// Where a query continues: the store cursor of a page and how many of its entries were
/// already consumed. Encoded as `v1.<skip>.<store cursor or ->`.
struct Position {
    store: Option<String>,
    skip: usize,
}

impl Position {
    fn encode(&self) -> String {
        format!("v1.{}.{}", self.skip, self.store.as_deref().unwrap_or("-"))
    }

    fn decode(s: &str) -> Result<Self, AuditError> {
        let mut parts = s.splitn(3, '.');
        let (Some("v1"), Some(skip), Some(store)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(AuditError::InvalidCursor);
        };
        let skip: usize = skip.parse().map_err(|_| AuditError::InvalidCursor)?;
        let ok_chars = store
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if skip >= SCAN_PAGE as usize || store.is_empty() || store.len() > 1000 || !ok_chars {
            return Err(AuditError::InvalidCursor);
        }
        Ok(Self {
            store: (store != "-").then(|| store.to_owned()),
            skip,
        })
    }
}

/// The audit log of every site. Cheap to clone. There is no update or delete: entries are
/// written once (a write never replaces a key) and leave only through [`AuditLog::purge`].
///
/// Keys are `audit:<id>` with `id = <13-digit (9999999999999 - ms)>-<8 hex inverted sequence><8 hex random>`: the
/// store lists keys in ascending byte order, so inverting the time makes a plain prefix
/// query return the newest entries first, and paging forward goes back in time.
#[derive(Clone, Debug)]
pub struct AuditLog {
    store: Store,
}

impl AuditLog {
    /// The log kept in `store` (namespace `platform`), timed by the store's clock.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    fn kv(&self, site: &SiteId) -> Kv {
        self.store.kv(site, &platform_ns())
    }

    /// Appends an entry (detail redacted, fields clipped) and returns it as stored.
    #[tracing::instrument(skip_all, fields(site = %site, action = %new.action))]
    pub async fn record(&self, site: &SiteId, new: NewEntry) -> Result<AuditEntry, AuditError> {
        let now = self.store.now_ms();
        let entry = AuditEntry {
            id: new_id(now),
            at_ms: now,
            site: site.to_string(),
            actor: Actor {
                kind: new.actor.kind,
                id: clip(&new.actor.id, MAX_NAME_CHARS),
                display: clip(&new.actor.display, MAX_NAME_CHARS),
            },
            action: new.action,
            target: clip(&new.target, MAX_TARGET_CHARS),
            detail: redact(&new.detail),
            outcome: new.outcome,
            request_id: new.request_id.map(|r| clip(&r, 100)),
        };
        let key = format!("{KEY_PREFIX}{}", entry.id);
        self.kv(site)
            .transaction()
            .check(&key, Condition::Absent)
            .set(&key, &entry)
            .commit()
            .await?;
        Ok(entry)
    }

    /// Up to `limit` (1–100) entries matching `filter`, newest first, continuing after
    /// `cursor`. Entries are scanned newest-first and filtered here; the scan stops at the
    /// first entry older than `filter.from_ms`, and after [`MAX_SCAN`] entries (the page
    /// then has a cursor and `scan_limited`).
    pub async fn query(
        &self,
        site: &SiteId,
        filter: &AuditFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<AuditPage, AuditError> {
        let limit = limit.clamp(1, MAX_PAGE) as usize;
        let mut pos = match cursor {
            Some(c) => Position::decode(c)?,
            None => Position {
                store: None,
                skip: 0,
            },
        };
        let kv = self.kv(site);
        let mut out = AuditPage::default();
        let mut scanned = 0usize;
        loop {
            let mut q = kv.query().begins_with(KEY_PREFIX).limit(SCAN_PAGE);
            if let Some(c) = &pos.store {
                q = q.cursor(c.clone());
            }
            let page = q.fetch().await.map_err(|e| match e {
                StoreError::InvalidCursor { .. } => AuditError::InvalidCursor,
                other => AuditError::Store(other),
            })?;
            let count = page.entries.len();
            for (i, raw) in page.entries.into_iter().enumerate().skip(pos.skip) {
                scanned += 1;
                let Ok(entry) = serde_json::from_value::<AuditEntry>(raw.value) else {
                    tracing::warn!(key = %raw.key, "unreadable audit entry skipped");
                    continue;
                };
                if filter.from_ms.is_some_and(|f| entry.at_ms < f) {
                    return Ok(out);
                }
                if filter.matches(&entry) {
                    out.entries.push(entry);
                }
                if out.entries.len() == limit {
                    out.next_cursor = if i + 1 < count {
                        Some(
                            Position {
                                store: pos.store.clone(),
                                skip: i + 1,
                            }
                            .encode(),
                        )
                    } else {
                        page.cursor.map(|c| {
                            Position {
                                store: Some(c),
                                skip: 0,
                            }
                            .encode()
                        })
                    };
                    return Ok(out);
                }
            }
            let Some(next) = page.cursor else {
                return Ok(out);
            };
            pos = Position {
                store: Some(next),
                skip: 0,
            };
            if scanned >= MAX_SCAN {
                out.next_cursor = Some(pos.encode());
                out.scan_limited = true;
                return Ok(out);
            }
        }
    }

    /// Every matching entry as CSV (header first, RFC 4180, CSV-injection safe), read page
    /// by page as the stream is polled.
    pub fn export_csv(
        &self,
        site: &SiteId,
        filter: AuditFilter,
    ) -> impl Stream<Item = Result<Bytes, AuditError>> + Send + 'static {
        struct State {
            log: AuditLog,
            site: SiteId,
            filter: AuditFilter,
            cursor: Option<String>,
            header_sent: bool,
        }
        let state = State {
            log: self.clone(),
            site: site.clone(),
            filter,
            cursor: None,
            header_sent: false,
        };
        futures_util::stream::try_unfold(Some(state), |state| async move {
            let Some(mut st) = state else {
                return Ok(None);
            };
            if !st.header_sent {
                st.header_sent = true;
                return Ok(Some((Bytes::from(csv::header()), Some(st))));
            }
            let page = st
                .log
                .query(&st.site, &st.filter, st.cursor.as_deref(), MAX_PAGE)
                .await?;
            let mut chunk = String::new();
            for e in &page.entries {
                csv::write_row(&mut chunk, e);
            }
            let next = page.next_cursor.map(|c| State {
                cursor: Some(c),
                ..st
            });
            Ok(Some((Bytes::from(chunk), next)))
        })
    }

    /// Days entries are kept on `site` (default [`DEFAULT_RETENTION_DAYS`]).
    pub async fn retention_days(&self, site: &SiteId) -> Result<u32, AuditError> {
        let s: Option<Settings> = self.kv(site).get(SETTINGS_KEY).await?;
        Ok(s.map_or(DEFAULT_RETENTION_DAYS, |s| s.retention_days))
    }

    /// Sets the retention of `site` (1 to [`MAX_RETENTION_DAYS`] days). Record the change
    /// as `settings_change` yourself: the log does not know who made it.
    pub async fn set_retention_days(&self, site: &SiteId, days: u32) -> Result<(), AuditError> {
        if !(1..=MAX_RETENTION_DAYS).contains(&days) {
            return Err(AuditError::Invalid(format!(
                "retention must be 1 to {MAX_RETENTION_DAYS} days"
            )));
        }
        self.kv(site)
            .set(
                SETTINGS_KEY,
                &Settings {
                    retention_days: days,
                },
            )
            .await?;
        Ok(())
    }

    /// Deletes the entries of `site` older than its retention; returns how many. The
    /// scheduler calls it (daily); it is the only way entries leave the log.
    #[tracing::instrument(skip_all, fields(site = %site))]
    pub async fn purge(&self, site: &SiteId) -> Result<u64, AuditError> {
        let days = self.retention_days(site).await?;
        let cutoff = self
            .store
            .now_ms()
            .saturating_sub(i64::from(days).saturating_mul(DAY_MS));
        let kv = self.kv(site);
        let mut deleted = 0u64;
        for prefix in older_than_prefixes(cutoff) {
            loop {
                let page = kv
                    .query()
                    .begins_with(format!("{KEY_PREFIX}{prefix}"))
                    .limit(SCAN_PAGE)
                    .fetch()
                    .await?;
                if page.entries.is_empty() {
                    break;
                }
                let keys: Vec<String> = page.entries.into_iter().map(|e| e.key).collect();
                for chunk in keys.chunks(crate::store::MAX_BATCH) {
                    let existed = kv.delete_many(chunk).await?;
                    deleted += existed.iter().filter(|e| **e).count() as u64;
                }
            }
        }
        if deleted > 0 {
            tracing::info!(deleted, retention_days = days, "audit entries purged");
        }
        Ok(deleted)
    }
}

/// Key prefixes (after `audit:`) covering exactly the ids of instants before `cutoff_ms`:
/// those whose 13-digit inverted time is at least `inverted(cutoff_ms - 1)`. Fixed-width
/// digit strings at least `y` are `y` itself plus, for each position `i`, `y[..i]` followed
/// by any digit greater than `y[i]`: at most 1 + 13 × 9 prefix queries, each listing only
/// entries to delete.
pub(crate) fn older_than_prefixes(cutoff_ms: i64) -> Vec<String> {
    if cutoff_ms <= 0 {
        return Vec::new();
    }
    let y = inverted(cutoff_ms - 1);
    let digits = y.as_bytes();
    let mut out = vec![y.clone()];
    for i in (0..digits.len()).rev() {
        for d in (digits[i] + 1)..=b'9' {
            out.push(format!("{}{}", &y[..i], d as char));
        }
    }
    out
}
