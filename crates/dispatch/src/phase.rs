//! The six dispatch phases and the status → phase mapping.
//!
//! The admin maps every Jira status of the dispatched projects to a phase; that mapping is the
//! single source of truth. A status nobody has mapped yet falls back by its Jira status
//! category (To Do → Planned, In Progress → Assigned, Done → Done) so the app works on day
//! one. Nothing else ever reads Jira's category.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a ticket stands in field dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The dispatcher has not acted yet.
    Planned,
    /// Handed to a technician, not moving.
    Assigned,
    /// The technician is on the way.
    Travelling,
    /// The technician is at the customer's.
    OnSite,
    /// Waiting or blocked (parts, customer, access).
    Paused,
    /// Field work finished.
    Done,
}

impl Phase {
    /// Every phase, in the order work flows.
    pub const ALL: [Phase; 6] = [
        Phase::Planned,
        Phase::Assigned,
        Phase::Travelling,
        Phase::OnSite,
        Phase::Paused,
        Phase::Done,
    ];

    /// Stable id used in forms, URLs and the store.
    pub const fn id(self) -> &'static str {
        match self {
            Phase::Planned => "planned",
            Phase::Assigned => "assigned",
            Phase::Travelling => "travelling",
            Phase::OnSite => "on_site",
            Phase::Paused => "paused",
            Phase::Done => "done",
        }
    }

    /// Name shown to people.
    pub const fn label(self) -> &'static str {
        match self {
            Phase::Planned => "Planned",
            Phase::Assigned => "Assigned",
            Phase::Travelling => "Travelling",
            Phase::OnSite => "On Site",
            Phase::Paused => "Paused",
            Phase::Done => "Done",
        }
    }

    /// The phase's colour name (also its CSS class suffix).
    pub const fn colour(self) -> &'static str {
        match self {
            Phase::Planned => "gray",
            Phase::Assigned => "indigo",
            Phase::Travelling => "cyan",
            Phase::OnSite => "blue",
            Phase::Paused => "amber",
            Phase::Done => "green",
        }
    }

    /// What the phase means, for the settings page.
    pub const fn meaning(self) -> &'static str {
        match self {
            Phase::Planned => "the dispatcher has not acted",
            Phase::Assigned => "handed to a technician, not moving",
            Phase::Travelling => "on the way to the site",
            Phase::OnSite => "working at the site",
            Phase::Paused => "waiting or blocked",
            Phase::Done => "field work finished",
        }
    }

    /// Whether a technician is out in the field (their pin follows the ticket).
    pub const fn in_field(self) -> bool {
        matches!(self, Phase::Travelling | Phase::OnSite | Phase::Paused)
    }

    /// Whether the ticket belongs on a technician's schedule (everything assigned and not
    /// yet finished).
    pub const fn scheduled(self) -> bool {
        matches!(
            self,
            Phase::Assigned | Phase::Travelling | Phase::OnSite | Phase::Paused
        )
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A phase id that is not one of the six.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a phase; use one of planned, assigned, travelling, on_site, paused, done")]
pub struct UnknownPhase(pub String);

impl FromStr for Phase {
    type Err = UnknownPhase;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phase::ALL
            .into_iter()
            .find(|p| p.id() == s)
            .ok_or_else(|| UnknownPhase(s.chars().take(40).collect()))
    }
}

/// Jira's status category (`statusCategory.key`: `new`, `indeterminate`, `done`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusCategory {
    /// `new` (To Do).
    ToDo,
    /// `indeterminate` (In Progress).
    InProgress,
    /// `done`.
    Done,
}

impl StatusCategory {
    /// From Jira's category key; anything unknown reads as To Do.
    pub fn from_key(key: &str) -> Self {
        match key {
            "indeterminate" => StatusCategory::InProgress,
            "done" => StatusCategory::Done,
            _ => StatusCategory::ToDo,
        }
    }

    /// The day-one phase of a status nobody has mapped.
    pub const fn fallback_phase(self) -> Phase {
        match self {
            StatusCategory::ToDo => Phase::Planned,
            StatusCategory::InProgress => Phase::Assigned,
            StatusCategory::Done => Phase::Done,
        }
    }
}

/// A Jira status as detected in the dispatched projects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Status id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Jira's category.
    pub category: StatusCategory,
}

/// How a status got its phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhaseSource {
    /// The admin mapped it.
    Mapped,
    /// Nobody has: read from Jira's status category.
    Fallback,
}

/// The admin's status → phase mapping, plus the assignee-lock phases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseMapping {
    /// Status id → phase, as the admin set it.
    pub phases: BTreeMap<String, Phase>,
    /// Statuses known from detection (for the fallback and the settings page).
    #[serde(default)]
    pub statuses: BTreeMap<String, Status>,
    /// Phases in which the assignee cannot be changed (default Travelling, On Site, Paused).
    #[serde(default = "default_lock")]
    pub lock_phases: BTreeSet<Phase>,
}

fn default_lock() -> BTreeSet<Phase> {
    [Phase::Travelling, Phase::OnSite, Phase::Paused].into()
}

impl Default for PhaseMapping {
    fn default() -> Self {
        Self {
            phases: BTreeMap::new(),
            statuses: BTreeMap::new(),
            lock_phases: default_lock(),
        }
    }
}

impl PhaseMapping {
    /// The phase of `status_id`, and whether it was mapped or fell back. A status missing
    /// from both the mapping and detection reads as `Planned` (it can only be new).
    pub fn resolve(&self, status_id: &str) -> (Phase, PhaseSource) {
        if let Some(p) = self.phases.get(status_id) {
            return (*p, PhaseSource::Mapped);
        }
        let phase = self
            .statuses
            .get(status_id)
            .map_or(Phase::Planned, |s| s.category.fallback_phase());
        (phase, PhaseSource::Fallback)
    }

    /// The phase of `status_id`.
    pub fn phase(&self, status_id: &str) -> Phase {
        self.resolve(status_id).0
    }

    /// Whether the assignee of a ticket in `status_id` is locked.
    pub fn assignee_locked(&self, status_id: &str) -> bool {
        self.lock_phases.contains(&self.phase(status_id))
    }

    /// Detected statuses nobody has mapped yet, by name.
    pub fn unmapped(&self) -> Vec<&Status> {
        let mut v: Vec<&Status> = self
            .statuses
            .values()
            .filter(|s| !self.phases.contains_key(&s.id))
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        v
    }

    /// Whether any status (mapped or by fallback) reads as Done.
    pub fn has_done(&self) -> bool {
        self.statuses
            .keys()
            .chain(self.phases.keys())
            .any(|id| self.phase(id) == Phase::Done)
    }

    /// Merges freshly detected statuses: new ones are added (unmapped), known ones get the
    /// new name and category, mappings are kept.
    pub fn detect(&mut self, detected: impl IntoIterator<Item = Status>) {
        for s in detected {
            self.statuses.insert(s.id.clone(), s);
        }
    }

    /// A stable fingerprint of what decides phases, stored with day snapshots so a later
    /// mapping edit can be pointed out.
    pub fn fingerprint(&self) -> String {
        let ids: BTreeSet<&String> = self.statuses.keys().chain(self.phases.keys()).collect();
        let mut out = String::new();
        for id in ids {
            out.push_str(id);
            out.push('=');
            out.push_str(self.phase(id).id());
            out.push(';');
        }
        out
    }
}

/// A phase suggested by a status's name (only offered, never saved without the admin).
pub fn suggest_by_name(name: &str) -> Option<Phase> {
    let n = name.to_lowercase();
    let has = |w: &str| n.contains(w);
    Some(
        if has("travel") || has("en route") || has("on the way") || has("driving") {
            Phase::Travelling
        } else if has("on site")
            || has("onsite")
            || has("on-site")
            || has("at site")
            || has("working")
        {
            Phase::OnSite
        } else if has("await")
            || has("paused")
            || has("waiting")
            || has("on hold")
            || has("blocked")
        {
            Phase::Paused
        } else if has("complete")
            || has("resolved")
            || has("done")
            || has("closed")
            || has("finished")
        {
            Phase::Done
        } else if has("assigned") || has("scheduled") || has("dispatched") {
            Phase::Assigned
        } else if has("dispatch") || has("new") || has("open") || has("triage") || has("backlog") {
            Phase::Planned
        } else {
            return None;
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn status(id: &str, name: &str, category: StatusCategory) -> Status {
        Status {
            id: id.into(),
            name: name.into(),
            category,
        }
    }

    fn mapping() -> PhaseMapping {
        let mut m = PhaseMapping::default();
        m.detect([
            status("1", "To Dispatch", StatusCategory::ToDo),
            status("2", "Assigned to Tech", StatusCategory::InProgress),
            status("3", "Travelling", StatusCategory::InProgress),
            status("4", "Work Complete", StatusCategory::InProgress),
            status("5", "Closed", StatusCategory::Done),
        ]);
        m
    }

    #[test]
    fn unmapped_statuses_fall_back_by_category() {
        let m = mapping();
        assert_eq!(m.resolve("1"), (Phase::Planned, PhaseSource::Fallback));
        assert_eq!(m.phase("3"), Phase::Assigned);
        assert_eq!(m.phase("5"), Phase::Done);
        assert_eq!(m.phase("unknown"), Phase::Planned);
        assert_eq!(m.unmapped().len(), 5);
    }

    #[test]
    fn the_mapping_wins_over_the_category() {
        let mut m = mapping();
        m.phases.insert("3".into(), Phase::Travelling);
        // Jira files "Work Complete" under In Progress; the admin says it is Done.
        m.phases.insert("4".into(), Phase::Done);
        assert_eq!(m.resolve("4"), (Phase::Done, PhaseSource::Mapped));
        assert!(m.assignee_locked("3"));
        assert!(!m.assignee_locked("2"));
        assert_eq!(
            m.unmapped()
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
            ["Assigned to Tech", "Closed", "To Dispatch"]
        );
    }

    #[test]
    fn fingerprint_changes_with_the_mapping() {
        let mut m = mapping();
        let before = m.fingerprint();
        m.phases.insert("2".into(), Phase::Assigned);
        assert_eq!(before, m.fingerprint(), "same phases, same reading");
        m.phases.insert("4".into(), Phase::Done);
        assert_ne!(before, m.fingerprint());
    }

    #[test]
    fn names_suggest_phases() {
        assert_eq!(suggest_by_name("To Dispatch"), Some(Phase::Planned));
        assert_eq!(suggest_by_name("Assigned to Tech"), Some(Phase::Assigned));
        assert_eq!(suggest_by_name("Travelling"), Some(Phase::Travelling));
        assert_eq!(suggest_by_name("On Site"), Some(Phase::OnSite));
        assert_eq!(suggest_by_name("Awaiting Parts"), Some(Phase::Paused));
        assert_eq!(suggest_by_name("Work Complete"), Some(Phase::Done));
        assert_eq!(suggest_by_name("Closed"), Some(Phase::Done));
        assert_eq!(suggest_by_name("Frobnicated"), None);
    }

    #[test]
    fn phase_ids_round_trip() {
        for p in Phase::ALL {
            assert_eq!(p.id().parse::<Phase>().unwrap(), p);
        }
        assert!("bogus".parse::<Phase>().is_err());
        assert!(!mapping().has_done() || mapping().phase("5") == Phase::Done);
    }

    #[test]
    fn mapping_serialises_with_default_lock() {
        let m: PhaseMapping = serde_json::from_str(r#"{"phases":{"1":"on_site"}}"#).unwrap();
        assert_eq!(m.phase("1"), Phase::OnSite);
        assert_eq!(m.lock_phases, default_lock());
    }
}
