//! The board's tickets, kept warm per (site, user) and refreshed incrementally.
//!
//! The first load searches every open ticket of the dispatched projects (statuses whose phase
//! is not Done) plus what changed in the last two days. After that a refresh asks Jira only
//! for tickets updated since the last fetch (`updated >= -Nm`), one search call, and merges
//! them in; concurrent requests share one fetch, and requests within
//! [`BoardCache::min_interval`] of the last fetch are answered from memory without calling
//! Jira at all. A full reload runs every [`FULL_EVERY`] (to drop tickets moved out of the
//! projects or deleted) and whenever the settings change.
//!
//! The cache is per user: each user's tickets are fetched with their own token, so nobody
//! sees a ticket Jira would not show them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atlassian::client::{AtlassianClient, SearchRequest};
use atlassian::jql::{Clause, DateUnit, Direction, Field, RelativeDate, Value};
use futures_util::TryStreamExt;
use platform::store::SiteId;

use crate::board::Ticket;
use crate::phase::Phase;
use crate::store::Config;

/// A full reload at least this often.
pub const FULL_EVERY: Duration = Duration::from_secs(600);
/// Most tickets kept per board.
pub const MAX_TICKETS: usize = 20_000;

type Key = (SiteId, String);

#[derive(Default)]
struct Entry {
    tickets: BTreeMap<String, Ticket>,
    /// `tickets` as handed out, rebuilt only after a change.
    snapshot: Option<Arc<Vec<Ticket>>>,
    fetched: Option<Instant>,
    full_at: Option<Instant>,
    settings: String,
    version: u64,
    snapshot_version: u64,
}

impl Entry {
    /// The tickets as a shared list, built once per version.
    fn shared(&mut self) -> Arc<Vec<Ticket>> {
        if let Some(s) = &self.snapshot
            && self.snapshot_version == self.version
        {
            return Arc::clone(s);
        }
        let s = Arc::new(self.tickets.values().cloned().collect::<Vec<_>>());
        self.snapshot = Some(Arc::clone(&s));
        self.snapshot_version = self.version;
        s
    }
}

/// The tickets of one board at one moment.
#[derive(Clone, Debug)]
pub struct Tickets {
    /// Every ticket, by key.
    pub tickets: Arc<Vec<Ticket>>,
    /// Bumped whenever the set or a ticket changed.
    pub version: u64,
    /// Atlassian calls this request made (0 when served from memory).
    pub calls: u32,
}

/// The cache shared by every request of the server.
#[derive(Clone)]
pub struct BoardCache {
    entries: Arc<Mutex<HashMap<Key, Arc<tokio::sync::Mutex<Entry>>>>>,
    /// Requests this soon after a fetch are served from memory.
    pub min_interval: Duration,
}

impl std::fmt::Debug for BoardCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoardCache")
            .field("min_interval", &self.min_interval)
            .finish_non_exhaustive()
    }
}

impl Default for BoardCache {
    fn default() -> Self {
        Self::new(Duration::from_secs(2))
    }
}

fn settings_fingerprint(c: &Config) -> String {
    format!(
        "{}|{}|{}",
        c.projects.join(","),
        c.mapping.fingerprint(),
        serde_json::to_string(&c.fields).unwrap_or_default()
    )
}

/// The search of every ticket the board may show.
pub fn full_query(config: &Config) -> Option<Clause> {
    let projects = Field::Project.is_in(config.projects.iter().map(|p| Value::string(p.clone())));
    let projects = projects.ok()?;
    let open: Vec<Value> = config
        .mapping
        .statuses
        .keys()
        .filter(|id| config.mapping.phase(id) != Phase::Done)
        .map(|id| Value::string(id.clone()))
        .collect();
    let recent = Field::Updated.ge(Value::RelativeDate(RelativeDate::new(-2, DateUnit::Days)));
    let scope = match Field::Status.is_in(open) {
        Ok(open) => open.or(recent),
        // No statuses detected yet: what changed in the last month.
        Err(_) => Field::Updated.ge(Value::RelativeDate(RelativeDate::new(-30, DateUnit::Days))),
    };
    Some(projects.and(scope))
}

/// The search of what changed in the last `minutes` minutes.
pub fn delta_query(config: &Config, minutes: i32) -> Option<Clause> {
    let projects = Field::Project
        .is_in(config.projects.iter().map(|p| Value::string(p.clone())))
        .ok()?;
    Some(
        projects.and(Field::Updated.ge(Value::RelativeDate(RelativeDate::new(
            -minutes.max(1),
            DateUnit::Minutes,
        )))),
    )
}

impl BoardCache {
    /// A cache answering from memory for `min_interval` after each fetch.
    pub fn new(min_interval: Duration) -> Self {
        Self {
            entries: Arc::default(),
            min_interval,
        }
    }

    fn entry(&self, key: Key) -> Arc<tokio::sync::Mutex<Entry>> {
        let mut map = match self.entries.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        Arc::clone(map.entry(key).or_default())
    }

    /// Makes every board of `site` fetch on its next request (after a write).
    pub async fn touch(&self, site: &SiteId) {
        let entries: Vec<Arc<tokio::sync::Mutex<Entry>>> = {
            let map = match self.entries.lock() {
                Ok(m) => m,
                Err(p) => p.into_inner(),
            };
            map.iter()
                .filter(|((s, _), _)| s == site)
                .map(|(_, e)| Arc::clone(e))
                .collect()
        };
        for e in entries {
            e.lock().await.fetched = None;
        }
    }

    /// Puts a ticket the server just changed into every board of `site` that has it.
    pub async fn upsert(&self, site: &SiteId, ticket: &Ticket) {
        let entries: Vec<Arc<tokio::sync::Mutex<Entry>>> = {
            let map = match self.entries.lock() {
                Ok(m) => m,
                Err(p) => p.into_inner(),
            };
            map.iter()
                .filter(|((s, _), _)| s == site)
                .map(|(_, e)| Arc::clone(e))
                .collect()
        };
        for e in entries {
            let mut e = e.lock().await;
            if let Some(t) = e.tickets.get_mut(&ticket.key) {
                *t = ticket.clone();
                e.version += 1;
            }
        }
    }

    /// The board's tickets for `account_id` on `site`, fetched with `client` (the user's).
    pub async fn tickets(
        &self,
        site: &SiteId,
        account_id: &str,
        client: &AtlassianClient,
        config: &Config,
    ) -> Result<Tickets, atlassian::client::Error> {
        let entry = self.entry((site.clone(), account_id.to_string()));
        let mut e = entry.lock().await;
        let now = Instant::now();
        let settings = settings_fingerprint(config);
        let fresh = e
            .fetched
            .is_some_and(|f| now.duration_since(f) < self.min_interval);
        if fresh && e.settings == settings {
            return Ok(Tickets {
                tickets: e.shared(),
                version: e.version,
                calls: 0,
            });
        }
        let full = e.settings != settings
            || e.full_at
                .is_none_or(|f| now.duration_since(f) >= FULL_EVERY);
        let clause = if full {
            full_query(config)
        } else {
            let since = e.fetched.map_or(FULL_EVERY, |f| now.duration_since(f));
            let minutes = i32::try_from(since.as_secs() / 60 + 2).unwrap_or(i32::MAX);
            delta_query(config, minutes)
        };
        let mut calls = 0;
        let mut found = Vec::new();
        if let Some(clause) = clause {
            let req = SearchRequest::new(clause.order_by(Field::Updated, Direction::Desc).to_jql())
                .fields(config.fields.search_fields());
            let mut pages = client.search(req);
            // Count requests by pages: each 100 tickets is one call.
            while let Some(issue) = pages.try_next().await? {
                found.push(issue);
                if found.len() >= MAX_TICKETS {
                    break;
                }
            }
            calls = u32::try_from(found.len().div_ceil(100).max(1)).unwrap_or(u32::MAX);
        }
        let before = e.version;
        if full {
            e.tickets.clear();
            e.full_at = Some(now);
            e.settings = settings;
            e.version += 1;
        }
        for issue in &found {
            if let Some(t) = crate::jira::ticket(issue, &config.fields) {
                let changed = e.tickets.get(&t.key) != Some(&t);
                if changed {
                    e.tickets.insert(t.key.clone(), t);
                    if e.version == before {
                        e.version += 1;
                    }
                }
            }
        }
        e.fetched = Some(now);
        Ok(Tickets {
            tickets: e.shared(),
            version: e.version,
            calls,
        })
    }
}

/// Rendered board fragments by (site, user, day, filters), valid while their tag is current.
#[derive(Clone, Default)]
pub struct RenderCache {
    map: Arc<Mutex<HashMap<String, (String, bytes::Bytes)>>>,
}

impl std::fmt::Debug for RenderCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderCache").finish_non_exhaustive()
    }
}

/// Most fragments kept; beyond it the cache starts afresh.
const RENDERED_MAX: usize = 500;

impl RenderCache {
    /// The fragment stored under `key` if it was rendered for `tag`.
    pub fn get(&self, key: &str, tag: &str) -> Option<bytes::Bytes> {
        let map = match self.map.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        map.get(key)
            .filter(|(t, _)| t == tag)
            .map(|(_, h)| h.clone())
    }

    /// Stores a fragment rendered for `tag`.
    pub fn put(&self, key: String, tag: String, html: bytes::Bytes) {
        let mut map = match self.map.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        if map.len() >= RENDERED_MAX {
            map.clear();
        }
        map.insert(key, (tag, html));
    }
}
