//! The queue: tickets grouped by status and sorted by SLA urgency, filters and counts.
//!
//! A JSM request's urgency comes from JSM's own SLAs (see [`super::sla`]); for a ticket
//! without SLAs (a plain Jira issue, or SLAs the user may not read) TechDesk derives the
//! resolution target from the ticket's priority (the admin-visible table [`sla_hours`]) and
//! its creation time. Breached tickets come first, then the least time left.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One ticket of a queue, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueItem {
    /// Issue key.
    pub key: String,
    /// Summary (untrusted text).
    pub summary: String,
    /// Status name.
    pub status: String,
    /// Status category key (`new`, `indeterminate`, `done`).
    pub category: String,
    /// Priority name.
    pub priority: String,
    /// Created.
    pub created: Option<Timestamp>,
    /// Assignee display name.
    pub assignee: Option<String>,
    /// Request type name.
    pub request_type: Option<String>,
}

/// Where a ticket stands against its resolution target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// Past the target.
    Breached,
    /// Less than a quarter of the allowed time left.
    AtRisk,
    /// On track.
    Ok,
    /// No target (no creation time).
    Unknown,
    /// Every JSM goal is met (no clock running).
    Met,
    /// Every running JSM clock is paused.
    Paused,
}

impl SlaState {
    /// CSS class / label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Breached => "breached",
            Self::AtRisk => "at-risk",
            Self::Ok => "ok",
            Self::Unknown => "unknown",
            Self::Met => "met",
            Self::Paused => "paused",
        }
    }
}

/// The SLA of one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sla {
    /// State at the time of computing.
    pub state: SlaState,
    /// Seconds left (negative: overdue); `None` without a target.
    pub remaining_seconds: Option<i64>,
}

impl Sla {
    /// `2h 10m left`, `overdue by 3h`, `no target`.
    pub fn label(&self) -> String {
        match self.state {
            SlaState::Met => return "met".to_owned(),
            SlaState::Paused => {
                let mut l = self.remaining_label();
                l.insert_str(0, "paused, ");
                return l;
            }
            _ => {}
        }
        self.remaining_label()
    }

    fn remaining_label(&self) -> String {
        match self.remaining_seconds {
            None => "no target".to_owned(),
            Some(s) if s >= 0 => format!(
                "{} left",
                super::duration::format_duration(u64::try_from(s).unwrap_or(0))
            ),
            Some(s) => format!(
                "overdue by {}",
                super::duration::format_duration(s.unsigned_abs())
            ),
        }
    }
}

/// Resolution target in hours per priority name (JSM's default "Time to resolution" goals).
pub fn sla_hours(priority: &str) -> i64 {
    match priority.to_ascii_lowercase().as_str() {
        "highest" | "critical" | "blocker" => 4,
        "high" | "major" => 8,
        "medium" => 24,
        "low" | "minor" => 48,
        _ => 72,
    }
}

/// The SLA of a ticket at `now`.
pub fn sla_of(priority: &str, created: Option<Timestamp>, now: Timestamp) -> Sla {
    let Some(created) = created else {
        return Sla {
            state: SlaState::Unknown,
            remaining_seconds: None,
        };
    };
    let allowed = sla_hours(priority) * 3600;
    let elapsed = now.as_second() - created.as_second();
    let remaining = allowed - elapsed;
    let state = if remaining < 0 {
        SlaState::Breached
    } else if remaining * 4 < allowed {
        SlaState::AtRisk
    } else {
        SlaState::Ok
    };
    Sla {
        state,
        remaining_seconds: Some(remaining),
    }
}

/// A ticket with its SLA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankedItem {
    /// The ticket.
    pub item: QueueItem,
    /// Its SLA.
    pub sla: Sla,
}

/// One status group of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusGroup {
    /// Status name.
    pub status: String,
    /// Its tickets, most urgent first.
    pub items: Vec<RankedItem>,
}

fn category_rank(category: &str) -> u8 {
    match category {
        "indeterminate" => 0,
        "new" => 1,
        "done" => 3,
        _ => 2,
    }
}

/// Groups by status (in progress first, then to do, then the rest; alphabetical within a
/// category) and sorts each group by SLA urgency (least time left first; tickets without a
/// target last; ties by key).
pub fn group_by_status(items: Vec<QueueItem>, now: Timestamp) -> Vec<StatusGroup> {
    group_by_status_with(items, now, &HashMap::new())
}

/// [`group_by_status`] with JSM's SLAs where known (`jsm`: issue key → urgency); the others
/// fall back to the priority table.
pub fn group_by_status_with(
    items: Vec<QueueItem>,
    now: Timestamp,
    jsm: &HashMap<String, Sla>,
) -> Vec<StatusGroup> {
    let mut groups: Vec<(u8, StatusGroup)> = Vec::new();
    for item in items {
        let sla = jsm
            .get(&item.key)
            .copied()
            .unwrap_or_else(|| sla_of(&item.priority, item.created, now));
        let ranked = RankedItem { item, sla };
        match groups
            .iter_mut()
            .find(|(_, g)| g.status == ranked.item.status)
        {
            Some((_, g)) => g.items.push(ranked),
            None => groups.push((
                category_rank(&ranked.item.category),
                StatusGroup {
                    status: ranked.item.status.clone(),
                    items: vec![ranked],
                },
            )),
        }
    }
    groups.sort_by(|(ra, a), (rb, b)| ra.cmp(rb).then_with(|| a.status.cmp(&b.status)));
    groups
        .into_iter()
        .map(|(_, mut g)| {
            g.items.sort_by(|a, b| {
                let key = |r: &RankedItem| {
                    (
                        r.sla.state != SlaState::Breached,
                        r.sla.remaining_seconds.unwrap_or(i64::MAX),
                    )
                };
                key(a)
                    .cmp(&key(b))
                    .then_with(|| a.item.key.cmp(&b.item.key))
            });
            g
        })
        .collect()
}

/// Filters of the queue page (also what a saved view stores).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueFilter {
    /// `mine` (default) or `team` (unassigned tickets).
    pub scope: String,
    /// Free-text search (summary, description, comments).
    pub q: String,
    /// Only this priority name.
    pub priority: String,
    /// Only this project key.
    pub project: String,
    /// Only this SLA state (`breached`, `at-risk`).
    pub sla: String,
}

impl QueueFilter {
    /// True for the team queue.
    pub fn is_team(&self) -> bool {
        self.scope == "team"
    }

    /// Checks lengths and values; returns the problems as (field, reason).
    pub fn check(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !matches!(self.scope.as_str(), "" | "mine" | "team") {
            out.push(("scope", "choose mine or team".to_owned()));
        }
        if self.q.chars().count() > 200 {
            out.push(("q", "at most 200 characters".to_owned()));
        }
        if self.priority.chars().count() > 60 {
            out.push(("priority", "at most 60 characters".to_owned()));
        }
        if !self.project.is_empty() && !super::settings::is_project_key(&self.project) {
            out.push(("project", "not a project key".to_owned()));
        }
        if !matches!(self.sla.as_str(), "" | "breached" | "at-risk" | "ok") {
            out.push(("sla", "choose breached, at-risk or ok".to_owned()));
        }
        out
    }
}

/// Applies the SLA filter (the others go into the JQL).
pub fn filter_sla(groups: Vec<StatusGroup>, sla: &str) -> Vec<StatusGroup> {
    if sla.is_empty() {
        return groups;
    }
    groups
        .into_iter()
        .filter_map(|mut g| {
            g.items.retain(|r| r.sla.state.as_str() == sla);
            (!g.items.is_empty()).then_some(g)
        })
        .collect()
}

/// Number of tickets in all groups.
pub fn count(groups: &[StatusGroup]) -> usize {
    groups.iter().map(|g| g.items.len()).sum()
}

/// The JQL of a queue: open tickets (not done) assigned to the caller (`mine`) or to
/// nobody (`team`), in the enabled projects, narrowed by the filter; built only with the
/// `atlassian::jql` builders, so no input can change the query's structure.
pub fn queue_jql(
    filter: &QueueFilter,
    projects: &[String],
) -> Result<atlassian::jql::Jql, atlassian::jql::JqlError> {
    use atlassian::jql::{Clause, Direction, Field, Function, TextQuery};
    let mut clauses: Vec<Clause> = Vec::new();
    if !filter.project.is_empty() {
        clauses.push(Field::Project.eq(filter.project.as_str()));
    } else if !projects.is_empty() {
        clauses.push(Field::Project.is_in(projects.iter().map(String::as_str))?);
    }
    clauses.push(if filter.is_team() {
        Field::Assignee.is_empty()
    } else {
        Field::Assignee.eq(Function::CurrentUser)
    });
    clauses.push(Field::StatusCategory.ne("Done"));
    if !filter.priority.is_empty() {
        clauses.push(Field::Priority.eq(filter.priority.as_str()));
    }
    let q = filter.q.trim();
    if !q.is_empty() {
        clauses.push(Field::Text.contains(TextQuery::words(q)));
    }
    let all = Clause::all(clauses).unwrap_or_else(|| Field::StatusCategory.ne("Done"));
    Ok(all.order_by(Field::Created, Direction::Asc).to_jql())
}

#[cfg(test)]
mod jql_tests {
    use super::*;

    #[test]
    fn mine_and_team_queues() {
        let f = QueueFilter::default();
        let jql = queue_jql(&f, &["FS".into(), "IT".into()]).unwrap();
        assert_eq!(
            jql.as_str(),
            r#"project IN ("FS", "IT") AND assignee = currentUser() AND statusCategory != "Done" ORDER BY created ASC"#
        );
        let f = QueueFilter {
            scope: "team".into(),
            q: "pump\" OR project = X".into(),
            priority: "High".into(),
            ..QueueFilter::default()
        };
        let jql = queue_jql(&f, &[]).unwrap();
        assert!(jql.as_str().starts_with("assignee IS EMPTY AND"), "{jql}");
        assert!(jql.as_str().contains(r#"priority = "High""#));
        assert!(jql.as_str().contains(r#"text ~ "#));
        assert!(!jql.as_str().contains(r#"" OR project = X"#), "{jql}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    fn item(key: &str, status: &str, cat: &str, prio: &str, created: Option<i64>) -> QueueItem {
        QueueItem {
            key: key.into(),
            summary: format!("s {key}"),
            status: status.into(),
            category: cat.into(),
            priority: prio.into(),
            created: created.map(ts),
            assignee: None,
            request_type: None,
        }
    }

    #[test]
    fn sla_states() {
        let now = ts(100_000);
        let s = sla_of("High", Some(ts(100_000 - 9 * 3600)), now);
        assert_eq!(s.state, SlaState::Breached);
        assert_eq!(s.remaining_seconds, Some(-3600));
        assert_eq!(s.label(), "overdue by 1h");
        let s = sla_of("High", Some(ts(100_000 - 7 * 3600)), now);
        assert_eq!(s.state, SlaState::AtRisk);
        let s = sla_of("Low", Some(ts(100_000 - 3600)), now);
        assert_eq!(s.state, SlaState::Ok);
        assert_eq!(s.label(), "47h left");
        assert_eq!(sla_of("High", None, now).state, SlaState::Unknown);
    }

    #[test]
    fn groups_by_status_and_sorts_by_urgency() {
        let now = ts(1_000_000);
        let items = vec![
            item("FS-3", "To Do", "new", "Low", Some(1_000_000 - 3600)),
            item("FS-1", "In Progress", "indeterminate", "Low", Some(999_000)),
            item("FS-2", "To Do", "new", "Highest", Some(1_000_000 - 3600)),
            item("FS-4", "To Do", "new", "Highest", None),
            item("FS-5", "Waiting", "indeterminate", "Medium", Some(1)),
        ];
        let groups = group_by_status(items, now);
        let names: Vec<_> = groups.iter().map(|g| g.status.as_str()).collect();
        assert_eq!(names, vec!["In Progress", "Waiting", "To Do"]);
        let todo: Vec<_> = groups[2]
            .items
            .iter()
            .map(|r| r.item.key.as_str())
            .collect();
        assert_eq!(todo, vec!["FS-2", "FS-3", "FS-4"]);
        assert_eq!(count(&groups), 5);
        let breached = filter_sla(groups, "breached");
        assert_eq!(count(&breached), 1);
        assert_eq!(breached[0].items[0].item.key, "FS-5");
    }

    #[test]
    fn jsm_slas_win_over_the_priority_table_and_breaches_come_first() {
        let now = ts(1_000_000);
        let items = vec![
            item("FS-1", "To Do", "new", "Highest", Some(1_000_000 - 3600)),
            item("FS-2", "To Do", "new", "Low", Some(1_000_000 - 60)),
            item("FS-3", "To Do", "new", "Low", Some(1_000_000 - 60)),
            item("FS-4", "To Do", "new", "Low", Some(1_000_000 - 60)),
        ];
        let mut jsm = HashMap::new();
        let sla = |state, remaining_seconds| Sla {
            state,
            remaining_seconds,
        };
        // A paused clock past its goal still counts as breached, ahead of a soon deadline.
        jsm.insert("FS-2".to_owned(), sla(SlaState::Breached, Some(-10)));
        jsm.insert("FS-3".to_owned(), sla(SlaState::Ok, Some(60)));
        jsm.insert("FS-4".to_owned(), sla(SlaState::Met, None));
        let groups = group_by_status_with(items, now, &jsm);
        let keys: Vec<_> = groups[0]
            .items
            .iter()
            .map(|r| r.item.key.as_str())
            .collect();
        assert_eq!(keys, vec!["FS-2", "FS-3", "FS-1", "FS-4"]);
        assert_eq!(groups[0].items[3].sla.label(), "met");
        let paused = sla(SlaState::Paused, Some(3600));
        assert_eq!(paused.label(), "paused, 1h left");
    }

    #[test]
    fn filter_checks() {
        assert!(QueueFilter::default().check().is_empty());
        let bad = QueueFilter {
            scope: "all".into(),
            q: "x".repeat(201),
            project: "fs;".into(),
            sla: "x".into(),
            ..QueueFilter::default()
        };
        assert_eq!(bad.check().len(), 4);
    }
}
