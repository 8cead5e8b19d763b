//! Field time from the Jira changelog.
//!
//! For every technician and day: the visits (On Site intervals) and travel (Travelling
//! intervals) they made, when jobs were completed and reopened. The rules:
//!
//! - A visit is an On Site interval. Entering Paused ends the visit; coming back to On Site
//!   starts a new one (visits are numbered per ticket).
//! - Travelling intervals are travel.
//! - Completion is the first entry into a Done phase. Leaving Done for any field phase is a
//!   reopen, shown as such; entering Done again after a reopen is shown as "completed again".
//!   Moving between Done statuses (back-office transitions) changes nothing.
//! - Time belongs to the ticket's assignee at that moment; unassigned time is nobody's.
//! - Days are cut at midnight in the technician's time zone; intervals crossing midnight are
//!   split. An interval still open runs to `now` and is marked ongoing.
//!
//! Phases come from the [`PhaseMapping`], so a finished day is frozen as a [`DaySnapshot`]
//! (with the mapping's fingerprint) and not rewritten later; [`DaySnapshot::reads_differently`]
//! says whether today's mapping would read it otherwise.

mod derive;
#[cfg(test)]
mod tests;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

pub use derive::{derive_days, issue_timeline};

use crate::phase::{Phase, PhaseMapping};

/// One change from an issue's changelog that matters to dispatch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// The status changed (status ids).
    Status {
        /// Previous status id.
        from: String,
        /// New status id.
        to: String,
    },
    /// The assignee changed (account ids).
    Assignee {
        /// Previous assignee.
        from: Option<String>,
        /// New assignee.
        to: Option<String>,
    },
}

/// A dated [`Change`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// When it happened.
    pub at: Timestamp,
    /// What changed.
    pub change: Change,
}

/// What the changelog says about one ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueHistory {
    /// Issue key, e.g. `FS-12`.
    pub key: String,
    /// Created at.
    pub created: Timestamp,
    /// Status id at creation (the `from` of the first status change, or the current status
    /// when there is none).
    pub initial_status: String,
    /// Assignee at creation.
    pub initial_assignee: Option<String>,
    /// Status and assignee changes, oldest first (ties keep their order).
    pub events: Vec<ChangeEvent>,
}

/// One stretch of a ticket's life in one phase with one assignee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stretch {
    /// Start.
    pub start: Timestamp,
    /// End (`now` for the current stretch).
    pub end: Timestamp,
    /// True for the current stretch.
    pub ongoing: bool,
    /// Phase throughout.
    pub phase: Phase,
    /// Status id throughout.
    pub status: String,
    /// Assignee throughout.
    pub assignee: Option<String>,
}

/// Kind of field time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    /// On the way.
    Travel,
    /// On site.
    Visit,
}

/// Field time of one technician on one ticket within one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Issue key.
    pub issue: String,
    /// Travel or visit.
    pub kind: SegmentKind,
    /// Start (within the day).
    pub start: Timestamp,
    /// End (within the day).
    pub end: Timestamp,
    /// Still going on (only the current interval, on today).
    pub ongoing: bool,
    /// For visits: 1 for the ticket's first visit, 2 for the next… (travel: 0).
    pub visit: u32,
    /// True when the interval continues from the previous day or into the next.
    pub split: bool,
}

impl Segment {
    /// Length in seconds.
    pub fn seconds(&self) -> i64 {
        (self.end.as_second() - self.start.as_second()).max(0)
    }
}

/// A moment worth showing on the timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Marker {
    /// The ticket entered Done (`first`: for the first time).
    Completed {
        /// Issue key.
        issue: String,
        /// When.
        at: Timestamp,
        /// First entry into Done (false: completed again after a reopen).
        first: bool,
        /// On Site visits before this completion.
        visits: u32,
    },
    /// The ticket left Done for a field phase.
    Reopened {
        /// Issue key.
        issue: String,
        /// When.
        at: Timestamp,
        /// Phase it went back to.
        to: Phase,
    },
}

impl Marker {
    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            Marker::Completed { at, .. } | Marker::Reopened { at, .. } => *at,
        }
    }
}

/// One technician's day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TechDay {
    /// Account id.
    pub technician: String,
    /// The day, in the technician's time zone.
    pub date: Date,
    /// Visits and travel, by start time.
    pub segments: Vec<Segment>,
    /// Completions and reopens, by time.
    pub markers: Vec<Marker>,
}

impl TechDay {
    /// Seconds of the given kind.
    pub fn seconds(&self, kind: SegmentKind) -> i64 {
        self.segments
            .iter()
            .filter(|s| s.kind == kind)
            .map(Segment::seconds)
            .sum()
    }

    /// Jobs completed this day (first completions only).
    pub fn completed(&self) -> usize {
        self.markers
            .iter()
            .filter(|m| matches!(m, Marker::Completed { first: true, .. }))
            .count()
    }
}

/// A technician and the zone their days are cut in.
#[derive(Clone, Debug)]
pub struct TechZone {
    /// Account id.
    pub technician: String,
    /// Their time zone.
    pub zone: TimeZone,
}

/// A finished day, frozen with the mapping that read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySnapshot {
    /// The day as it was computed.
    pub day: TechDay,
    /// [`PhaseMapping::fingerprint`] at the time.
    pub mapping: String,
    /// When the snapshot was taken.
    pub taken_at: Timestamp,
}

impl DaySnapshot {
    /// Freezes `day`, read under `mapping`.
    pub fn take(day: TechDay, mapping: &PhaseMapping, now: Timestamp) -> Self {
        Self {
            day,
            mapping: mapping.fingerprint(),
            taken_at: now,
        }
    }

    /// Whether `recomputed` (the same day under today's mapping) reads differently: the
    /// snapshot stays what is shown; the page points the difference out.
    pub fn reads_differently(&self, recomputed: &TechDay) -> bool {
        self.day.segments != recomputed.segments || self.day.markers != recomputed.markers
    }
}

/// Whether `date` is over in `zone` at `now` (its snapshot may be taken).
pub fn day_finished(date: Date, zone: &TimeZone, now: Timestamp) -> bool {
    match date
        .tomorrow()
        .and_then(|d| d.to_zoned_datetime(zone.clone()))
        .map(|z| z.timestamp())
    {
        Ok(end) => now >= end,
        Err(_) => false,
    }
}
