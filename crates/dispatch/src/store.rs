//! What DispatchDesk keeps in the app store (namespace `dispatch`, per site): its settings,
//! the technicians and the frozen day snapshots. One place for every key.

use jiff::civil::Date;
use platform::store::{AppNs, Condition, Kv, SiteId, Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::jira::FieldMap;
use crate::map::MapTiles;
use crate::phase::PhaseMapping;
use crate::schedule::DaySnapshot;
use crate::technician::Technician;

/// The app's namespace in the store.
pub const NAMESPACE: &str = "dispatch";
/// Most technicians per site.
pub const MAX_TECHNICIANS: usize = 1_000;
/// Most dispatched projects.
pub const MAX_PROJECTS: usize = 20;

const CONFIG_KEY: &str = "config";

/// The app's namespace as a value.
pub fn ns() -> AppNs {
    #[allow(clippy::expect_used)]
    AppNs::new(NAMESPACE).expect("\"dispatch\" is a valid namespace (a constant)")
}

/// DispatchDesk's settings for one site.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Dispatched project keys.
    #[serde(default)]
    pub projects: Vec<String>,
    /// Status → phase, lock phases, detected statuses.
    #[serde(default)]
    pub mapping: PhaseMapping,
    /// Which custom fields hold location, address, skills, schedule.
    #[serde(default)]
    pub fields: FieldMap,
    /// Status to move a Planned ticket to when it is assigned (must map to Assigned).
    #[serde(default)]
    pub assign_status: Option<String>,
    /// Time zone the board's days are cut in (IANA).
    #[serde(default = "default_zone")]
    pub board_zone: String,
    /// The map's tile server (none: markers over a plain background).
    #[serde(default)]
    pub map_tiles: Option<MapTiles>,
    /// Driving estimate and automatic dispatch's reach.
    #[serde(default)]
    pub planning: crate::planning::Planning,
    /// Automatic dispatch runs by itself every this many minutes (none: only on request).
    #[serde(default)]
    pub auto_every_minutes: Option<u32>,
}

fn default_zone() -> String {
    "UTC".into()
}

/// The store of one site as DispatchDesk sees it.
#[derive(Clone, Debug)]
pub struct DispatchStore {
    kv: Kv,
}

/// Where the last automatic dispatch run is kept.
const AUTO_RUN_KEY: &str = "autorun:last";

fn tech_key(account_id: &str) -> String {
    format!("tech:{account_id}")
}

fn snapshot_key(account_id: &str, date: Date) -> String {
    format!("snap:{account_id}:{}", date.strftime("%Y-%m-%d"))
}

/// Whether an account id can be part of a store key (Atlassian ids: letters, digits, `:`,
/// `-`, `_`, `.`; at most 128 characters).
pub fn valid_account_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.'))
}

impl DispatchStore {
    /// The store of `site`.
    pub fn new(store: &Store, site: &SiteId) -> Self {
        Self {
            kv: store.kv(site, &ns()),
        }
    }

    /// The settings (defaults before the admin saved any) and their version (0: never saved).
    pub async fn config(&self) -> Result<(Config, i64), StoreError> {
        Ok(match self.kv.get_entry::<Config>(CONFIG_KEY).await? {
            Some(e) => (e.value, e.version),
            None => (
                Config {
                    board_zone: default_zone(),
                    ..Config::default()
                },
                0,
            ),
        })
    }

    /// What the last automatic dispatch run by itself did.
    pub async fn auto_run(&self) -> Result<Option<crate::autorun::RunSummary>, StoreError> {
        self.kv.get(AUTO_RUN_KEY).await
    }

    /// Keeps what an automatic dispatch run did.
    pub async fn save_auto_run(&self, run: &crate::autorun::RunSummary) -> Result<(), StoreError> {
        self.kv.set(AUTO_RUN_KEY, run).await.map(|_| ())
    }

    /// Saves the settings if nobody changed them since `version` (0: never saved).
    pub async fn save_config(&self, config: &Config, version: i64) -> Result<(), StoreError> {
        let cond = if version == 0 {
            Condition::Absent
        } else {
            Condition::VersionEquals(version)
        };
        self.kv
            .transaction()
            .check(CONFIG_KEY, cond)
            .set(CONFIG_KEY, config)
            .commit()
            .await
            .map(|_| ())
    }

    /// Every technician, by name, with a fingerprint of their stored versions (changes
    /// whenever any technician is added, changed or removed).
    pub async fn technicians_tagged(&self) -> Result<(Vec<Technician>, u64), StoreError> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let mut out = Vec::new();
        for e in self
            .kv
            .all_with_prefix::<Technician>("tech:", MAX_TECHNICIANS)
            .await?
        {
            e.key.hash(&mut h);
            e.version.hash(&mut h);
            out.push(e.value);
        }
        out.sort_by(|a, b| {
            a.display_name
                .to_lowercase()
                .cmp(&b.display_name.to_lowercase())
                .then(a.account_id.cmp(&b.account_id))
        });
        Ok((out, h.finish()))
    }

    /// Every technician, by name.
    pub async fn technicians(&self) -> Result<Vec<Technician>, StoreError> {
        let mut out: Vec<Technician> = self
            .kv
            .all_with_prefix::<Technician>("tech:", MAX_TECHNICIANS)
            .await?
            .into_iter()
            .map(|e| e.value)
            .collect();
        out.sort_by(|a, b| {
            a.display_name
                .to_lowercase()
                .cmp(&b.display_name.to_lowercase())
                .then(a.account_id.cmp(&b.account_id))
        });
        Ok(out)
    }

    /// One technician with its version.
    pub async fn technician(
        &self,
        account_id: &str,
    ) -> Result<Option<(Technician, i64)>, StoreError> {
        if !valid_account_id(account_id) {
            return Ok(None);
        }
        Ok(self
            .kv
            .get_entry::<Technician>(&tech_key(account_id))
            .await?
            .map(|e| (e.value, e.version)))
    }

    /// Saves a technician if its version is still `version` (0: new).
    pub async fn save_technician(&self, t: &Technician, version: i64) -> Result<(), StoreError> {
        let key = tech_key(&t.account_id);
        let cond = if version == 0 {
            Condition::Absent
        } else {
            Condition::VersionEquals(version)
        };
        self.kv
            .transaction()
            .check(&key, cond)
            .set(&key, t)
            .commit()
            .await
            .map(|_| ())
    }

    /// Removes a technician; `false` if there was none.
    pub async fn delete_technician(&self, account_id: &str) -> Result<bool, StoreError> {
        if !valid_account_id(account_id) {
            return Ok(false);
        }
        self.kv.delete(&tech_key(account_id)).await
    }

    /// The frozen snapshot of a technician's day, if taken.
    pub async fn snapshot(
        &self,
        account_id: &str,
        date: Date,
    ) -> Result<Option<DaySnapshot>, StoreError> {
        if !valid_account_id(account_id) {
            return Ok(None);
        }
        self.kv.get(&snapshot_key(account_id, date)).await
    }

    /// Freezes a finished day (never overwrites: the first reading stays).
    pub async fn save_snapshot(&self, snap: &DaySnapshot) -> Result<bool, StoreError> {
        let key = snapshot_key(&snap.day.technician, snap.day.date);
        match self
            .kv
            .transaction()
            .check(&key, Condition::Absent)
            .set(&key, snap)
            .commit()
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
