//! The dispatch board of one day: the Planned queue and one lane per technician, built from
//! tickets, technicians and the phase mapping. Plain data in, plain data out.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::geo::LatLon;
use crate::phase::{Phase, PhaseMapping};
use crate::technician::{Availability, Technician};

/// A ticket as the board needs it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ticket {
    /// Issue id.
    pub id: String,
    /// Issue key.
    pub key: String,
    /// Project key.
    pub project: String,
    /// Summary.
    pub summary: String,
    /// Status id.
    pub status_id: String,
    /// Status name.
    pub status_name: String,
    /// Assignee account id.
    pub assignee: Option<String>,
    /// Assignee display name.
    pub assignee_name: Option<String>,
    /// Request type name.
    pub request_type: Option<String>,
    /// Priority name.
    pub priority: Option<String>,
    /// Skills required (normalised).
    pub skills: BTreeSet<String>,
    /// Site position.
    pub location: Option<LatLon>,
    /// Street address, city, postcode as one line.
    pub address: String,
    /// Scheduled start and end.
    pub scheduled: Option<(Timestamp, Timestamp)>,
    /// Last update.
    pub updated: Timestamp,
}

/// What the dispatcher filtered by (all optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Filter {
    /// Project key.
    #[serde(default)]
    pub project: Option<String>,
    /// Status id.
    #[serde(default)]
    pub status: Option<String>,
    /// Request type name.
    #[serde(default)]
    pub request_type: Option<String>,
    /// Technician account id (lanes).
    #[serde(default)]
    pub technician: Option<String>,
    /// Skill.
    #[serde(default)]
    pub skill: Option<String>,
    /// Free text: key, summary, address.
    #[serde(default)]
    pub q: Option<String>,
}

fn nonempty(o: &Option<String>) -> Option<&str> {
    o.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Filter {
    /// Whether a ticket passes the ticket filters (technician filters lanes, not tickets).
    pub fn matches(&self, t: &Ticket) -> bool {
        if nonempty(&self.project).is_some_and(|p| p != t.project) {
            return false;
        }
        if nonempty(&self.status).is_some_and(|s| s != t.status_id) {
            return false;
        }
        if nonempty(&self.request_type).is_some_and(|r| t.request_type.as_deref() != Some(r)) {
            return false;
        }
        if let Some(skill) = nonempty(&self.skill)
            && !t.skills.contains(&skill.to_lowercase())
        {
            return false;
        }
        if let Some(q) = nonempty(&self.q) {
            let q = q.to_lowercase();
            let hay = format!("{} {} {}", t.key, t.summary, t.address).to_lowercase();
            if !q.split_whitespace().all(|w| hay.contains(w)) {
                return false;
            }
        }
        true
    }

    /// Whether anything is filtered.
    pub fn is_empty(&self) -> bool {
        [
            &self.project,
            &self.status,
            &self.request_type,
            &self.technician,
            &self.skill,
            &self.q,
        ]
        .iter()
        .all(|o| nonempty(o).is_none())
    }
}

/// A ticket placed on the board, with its phase and whether its assignee is locked.
#[derive(Clone, Debug, Serialize)]
pub struct Card {
    /// The ticket.
    pub ticket: Ticket,
    /// Its phase under the mapping.
    pub phase: Phase,
    /// Whether the assignee cannot be changed (lock phases).
    pub locked: bool,
}

/// One technician's lane.
#[derive(Clone, Debug, Serialize)]
pub struct Lane {
    /// Account id.
    pub account_id: String,
    /// Name.
    pub name: String,
    /// Availability now.
    pub availability: Availability,
    /// Working window of the day (local times as text, e.g. `08:00–16:00`), or why none.
    pub hours: String,
    /// Open (not Done) tickets assigned, whatever their day.
    pub load: usize,
    /// The day's cards, by scheduled start.
    pub cards: Vec<Card>,
}

/// Most queue cards shown; the rest are counted (filters narrow the queue).
pub const QUEUE_SHOWN: usize = 150;

/// The whole board.
#[derive(Clone, Debug, Serialize)]
pub struct Board {
    /// The day shown.
    pub day: Date,
    /// Planned or unassigned tickets, most urgent first (at most [`QUEUE_SHOWN`]).
    pub queue: Vec<Card>,
    /// Queue tickets not shown.
    pub queue_hidden: usize,
    /// One lane per technician, by name.
    pub lanes: Vec<Lane>,
    /// Tickets assigned to someone who is not a technician here.
    pub others: Vec<Card>,
    /// Count per phase over every card on the board.
    pub counts: BTreeMap<Phase, usize>,
}

fn on_day(ts: Timestamp, day: Date, tz: &TimeZone) -> bool {
    ts.to_zoned_datetime(tz.clone()).date() == day
}

fn before_day(ts: Timestamp, day: Date, tz: &TimeZone) -> bool {
    ts.to_zoned_datetime(tz.clone()).date() < day
}

fn priority_rank(p: Option<&str>) -> u8 {
    match p.map(str::to_lowercase).as_deref() {
        Some("highest" | "1") => 0,
        Some("high" | "2") => 1,
        Some("medium" | "3") => 2,
        Some("low" | "4") => 3,
        Some("lowest" | "5") => 4,
        _ => 2,
    }
}

/// Builds the board of `day` (in `zone`, the board's zone) at `now`.
///
/// - Queue: tickets in the Planned phase, and unassigned tickets not Done.
/// - Lanes: each technician's tickets in a scheduled phase (Assigned, Travelling, On Site,
///   Paused) scheduled on the day, unscheduled, or overdue from earlier days; plus Done
///   tickets updated on the day.
pub fn build(
    tickets: &[Ticket],
    technicians: &[Technician],
    mapping: &PhaseMapping,
    day: Date,
    zone: &TimeZone,
    filter: &Filter,
) -> Board {
    let tech_ids: BTreeSet<&str> = technicians.iter().map(|t| t.account_id.as_str()).collect();
    let mut queue = Vec::new();
    let mut others = Vec::new();
    let mut by_tech: BTreeMap<&str, Vec<Card>> = BTreeMap::new();
    let mut load: BTreeMap<&str, usize> = BTreeMap::new();
    let mut counts = BTreeMap::new();
    for t in tickets {
        let phase = mapping.phase(&t.status_id);
        if let Some(a) = t.assignee.as_deref()
            && phase != Phase::Done
            && phase != Phase::Planned
        {
            *load.entry(a).or_default() += 1;
        }
        if !filter.matches(t) {
            continue;
        }
        let card = Card {
            ticket: t.clone(),
            phase,
            locked: mapping.lock_phases.contains(&phase),
        };
        let assignee = t.assignee.as_deref();
        if phase == Phase::Planned || (assignee.is_none() && phase != Phase::Done) {
            *counts.entry(phase).or_default() += 1;
            queue.push(card);
            continue;
        }
        let Some(a) = assignee else {
            continue; // unassigned and Done: nothing to show
        };
        let shows = match phase {
            Phase::Done => on_day(t.updated, day, zone),
            _ => match t.scheduled {
                None => true,
                Some((start, _)) => on_day(start, day, zone) || before_day(start, day, zone),
            },
        };
        if !shows {
            continue;
        }
        *counts.entry(phase).or_default() += 1;
        if tech_ids.contains(a) {
            by_tech.entry(a).or_default().push(card);
        } else {
            others.push(card);
        }
    }
    queue.sort_by(|a, b| {
        priority_rank(a.ticket.priority.as_deref())
            .cmp(&priority_rank(b.ticket.priority.as_deref()))
            .then(
                a.ticket
                    .scheduled
                    .map(|s| s.0)
                    .cmp(&b.ticket.scheduled.map(|s| s.0)),
            )
            .then(a.ticket.key.cmp(&b.ticket.key))
    });
    let want_tech = nonempty(&filter.technician);
    let mut lanes: Vec<Lane> = technicians
        .iter()
        .filter(|t| want_tech.is_none_or(|w| w == t.account_id))
        .map(|t| {
            let mut cards = by_tech.remove(t.account_id.as_str()).unwrap_or_default();
            cards.sort_by(|a, b| {
                (a.phase == Phase::Done)
                    .cmp(&(b.phase == Phase::Done))
                    .then(
                        a.ticket
                            .scheduled
                            .map(|s| s.0)
                            .cmp(&b.ticket.scheduled.map(|s| s.0)),
                    )
                    .then(a.ticket.key.cmp(&b.ticket.key))
            });
            let hours = match (t.off_on(day), t.shift_on(day)) {
                (Some(off), _) => format!("Off: {}", off.reason),
                (None, Some(s)) => format!(
                    "{}–{} {}",
                    s.start.strftime("%H:%M"),
                    s.end.strftime("%H:%M"),
                    t.zone
                ),
                (None, None) => "Not working".into(),
            };
            Lane {
                account_id: t.account_id.clone(),
                name: t.display_name.clone(),
                availability: t.availability,
                hours,
                load: load.get(t.account_id.as_str()).copied().unwrap_or(0),
                cards,
            }
        })
        .collect();
    lanes.sort_by_key(|a| a.name.to_lowercase());
    others.sort_by(|a, b| a.ticket.key.cmp(&b.ticket.key));
    let queue_hidden = queue.len().saturating_sub(QUEUE_SHOWN);
    queue.truncate(QUEUE_SHOWN);
    Board {
        day,
        queue,
        queue_hidden,
        lanes,
        others,
        counts,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use jiff::civil::{date, time};

    use super::*;
    use crate::phase::{Status, StatusCategory};
    use crate::technician::{TechSource, weekdays};

    fn mapping() -> PhaseMapping {
        let mut m = PhaseMapping::default();
        m.detect([
            Status {
                id: "1".into(),
                name: "To Dispatch".into(),
                category: StatusCategory::ToDo,
            },
            Status {
                id: "2".into(),
                name: "Assigned".into(),
                category: StatusCategory::InProgress,
            },
            Status {
                id: "4".into(),
                name: "On Site".into(),
                category: StatusCategory::InProgress,
            },
            Status {
                id: "6".into(),
                name: "Work Complete".into(),
                category: StatusCategory::InProgress,
            },
        ]);
        m.phases.insert("4".into(), Phase::OnSite);
        m.phases.insert("6".into(), Phase::Done);
        m
    }

    fn ticket(key: &str, status: &str, assignee: Option<&str>, start: Option<&str>) -> Ticket {
        let ts = |s: &str| s.parse::<Timestamp>().unwrap();
        Ticket {
            id: key.into(),
            key: key.into(),
            project: key.split('-').next().unwrap().into(),
            summary: format!("Boiler fault {key}"),
            status_id: status.into(),
            status_name: status.into(),
            assignee: assignee.map(Into::into),
            assignee_name: assignee.map(Into::into),
            request_type: Some("Repair".into()),
            priority: Some("Medium".into()),
            skills: ["gas".to_string()].into(),
            location: None,
            address: "1 Deansgate".into(),
            scheduled: start.map(|s| (ts(s), ts(s))),
            updated: ts("2026-11-30T09:00:00Z"),
        }
    }

    fn techs() -> Vec<Technician> {
        let mut leo = Technician::new("leo", "Leo", TechSource::Manual);
        leo.hours = weekdays(time(8, 0, 0, 0), time(16, 0, 0, 0));
        let mia = Technician::new("mia", "Mia", TechSource::Manual);
        vec![mia, leo]
    }

    #[test]
    fn queue_lanes_and_others() {
        let tickets = vec![
            ticket("FS-1", "1", None, None),
            ticket("FS-2", "2", Some("leo"), Some("2026-11-30T10:00:00Z")),
            ticket("FS-3", "4", Some("leo"), Some("2026-11-29T10:00:00Z")), // overdue
            ticket("FS-4", "2", Some("leo"), Some("2026-12-01T10:00:00Z")), // tomorrow
            ticket("FS-5", "6", Some("leo"), None),                         // done today
            ticket("FS-6", "2", Some("stranger"), None),
            ticket("FS-7", "2", None, None), // unassigned, In Progress
        ];
        let b = build(
            &tickets,
            &techs(),
            &mapping(),
            date(2026, 11, 30),
            &TimeZone::UTC,
            &Filter::default(),
        );
        let keys = |cards: &[Card]| {
            cards
                .iter()
                .map(|c| c.ticket.key.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&b.queue), ["FS-1", "FS-7"]);
        assert_eq!(
            b.lanes.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            ["Leo", "Mia"]
        );
        assert_eq!(keys(&b.lanes[0].cards), ["FS-3", "FS-2", "FS-5"]);
        assert_eq!(
            b.lanes[0].load, 3,
            "FS-2, FS-3, FS-4: open, whatever the day"
        );
        assert!(b.lanes[0].cards[0].locked, "On Site is a lock phase");
        assert_eq!(b.lanes[0].hours, "08:00–16:00 UTC");
        assert_eq!(b.lanes[1].hours, "Not working");
        assert_eq!(keys(&b.others), ["FS-6"]);
        assert_eq!(b.counts[&Phase::Done], 1);
    }

    #[test]
    fn filters_narrow_tickets_and_lanes() {
        let tickets = vec![
            ticket("FS-1", "1", None, None),
            ticket("FAC-2", "1", None, None),
            ticket("FS-3", "2", Some("leo"), None),
        ];
        let f = Filter {
            project: Some("FAC".into()),
            ..Filter::default()
        };
        let b = build(
            &tickets,
            &techs(),
            &mapping(),
            date(2026, 11, 30),
            &TimeZone::UTC,
            &f,
        );
        assert_eq!(b.queue.len(), 1);
        assert!(b.lanes.iter().all(|l| l.cards.is_empty()));
        let f = Filter {
            technician: Some("leo".into()),
            q: Some("boiler fs-3".into()),
            ..Filter::default()
        };
        let b = build(
            &tickets,
            &techs(),
            &mapping(),
            date(2026, 11, 30),
            &TimeZone::UTC,
            &f,
        );
        assert_eq!(b.lanes.len(), 1);
        assert_eq!(b.lanes[0].cards.len(), 1);
        assert!(b.queue.is_empty());
        assert!(!f.is_empty());
        assert!(Filter::default().is_empty());
    }

    #[test]
    fn a_done_status_jira_files_under_in_progress_counts_as_done() {
        let tickets = vec![ticket(
            "FS-9",
            "6",
            Some("leo"),
            Some("2026-11-20T10:00:00Z"),
        )];
        let b = build(
            &tickets,
            &techs(),
            &mapping(),
            date(2026, 11, 30),
            &TimeZone::UTC,
            &Filter::default(),
        );
        assert_eq!(b.lanes[0].cards[0].phase, Phase::Done);
        assert_eq!(b.lanes[0].load, 0);
        assert!(!b.lanes[0].cards[0].locked);
    }
}
