//! A small time-limited cache for per-site metadata that rarely changes (field list,
//! request-type fields, Assets attribute names) and, briefly, a ticket's SLAs and
//! participants, so a warm ticket view needs few calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long metadata is reused.
pub(crate) const METADATA_TTL: Duration = Duration::from_secs(300);

/// How long a ticket's SLAs and participants are reused by the same user (TechDesk's own
/// writes refresh them at once).
pub(crate) const TICKET_TTL: Duration = Duration::from_secs(60);

/// Most entries kept; the cache is cleared when it grows past this.
const MAX_ENTRIES: usize = 10_000;

pub(crate) struct TtlCache<V> {
    ttl: Duration,
    map: Mutex<HashMap<String, (Instant, Arc<V>)>>,
}

impl<V> TtlCache<V> {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            map: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<Arc<V>> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| Arc::clone(v))
    }

    pub(crate) fn remove(&self, key: &str) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(key);
    }

    pub(crate) fn put(&self, key: String, value: V) -> Arc<V> {
        let value = Arc::new(value);
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (Instant::now(), Arc::clone(&value)));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_fresh_entries_only() {
        let c = TtlCache::new(Duration::from_secs(60));
        assert!(c.get("a").is_none());
        c.put("a".into(), 1);
        assert_eq!(c.get("a").as_deref(), Some(&1));
        c.remove("a");
        assert!(c.get("a").is_none());
        let expired = TtlCache::new(Duration::ZERO);
        expired.put("a".into(), 1);
        assert!(expired.get("a").is_none());
    }
}
