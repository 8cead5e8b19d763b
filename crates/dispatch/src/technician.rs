//! Technicians: who they are, what they can do, when and where they work, and whether they
//! are available now.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::geo::LatLon;

/// Longest skill name.
pub const MAX_SKILL_LEN: usize = 40;
/// Most skills per technician.
pub const MAX_SKILLS: usize = 50;
/// Longest time-off reason or availability note.
pub const MAX_NOTE_LEN: usize = 200;
/// Availability changes kept per technician.
pub const HISTORY_LEN: usize = 200;

/// Whether a technician can take work right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Ready for work.
    Available,
    /// Short break; back soon.
    OnBreak,
    /// Outside their shift.
    OffDuty,
    /// Sick, on leave, not reachable.
    Absent,
}

impl Availability {
    /// Every status, as offered in the menu.
    pub const ALL: [Availability; 4] = [
        Availability::Available,
        Availability::OnBreak,
        Availability::OffDuty,
        Availability::Absent,
    ];

    /// Stable id.
    pub const fn id(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::OnBreak => "on_break",
            Availability::OffDuty => "off_duty",
            Availability::Absent => "absent",
        }
    }

    /// Name shown to people.
    pub const fn label(self) -> &'static str {
        match self {
            Availability::Available => "Available",
            Availability::OnBreak => "On break",
            Availability::OffDuty => "Off duty",
            Availability::Absent => "Absent",
        }
    }
}

impl fmt::Display for Availability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Availability {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Availability::ALL
            .into_iter()
            .find(|a| a.id() == s)
            .ok_or_else(|| "choose available, on_break, off_duty or absent".to_string())
    }
}

/// One change of availability, for the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityChange {
    /// When.
    pub at: Timestamp,
    /// New status.
    pub status: Availability,
    /// Account id of whoever set it (the technician or a dispatcher).
    pub by: String,
    /// Optional note.
    pub note: String,
}

/// Where the technician came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum TechSource {
    /// Member of a Jira group.
    Group(String),
    /// Holder of a Jira project role.
    ProjectRole(String),
    /// Added by hand.
    Manual,
}

/// Working hours of one weekday (local time, `start < end`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    /// Start.
    pub start: Time,
    /// End.
    pub end: Time,
}

/// A date range off work (inclusive), with a reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeOff {
    /// First day off.
    pub from: Date,
    /// Last day off.
    pub to: Date,
    /// Why (shown to dispatchers).
    pub reason: String,
}

/// A field technician of one or more dispatched projects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Technician {
    /// Atlassian account id.
    pub account_id: String,
    /// Name shown.
    pub display_name: String,
    /// How they were added.
    pub source: TechSource,
    /// Projects they work for.
    pub projects: BTreeSet<String>,
    /// Skills, lower case.
    pub skills: BTreeSet<String>,
    /// Working hours, Monday first (index = `Weekday::to_monday_zero_offset`).
    pub hours: [Option<Shift>; 7],
    /// IANA time zone name, e.g. `Europe/London`.
    pub zone: String,
    /// Time off.
    pub time_off: Vec<TimeOff>,
    /// Where their day starts.
    pub home: Option<LatLon>,
    /// Current availability.
    pub availability: Availability,
    /// Changes of availability, newest last (capped at [`HISTORY_LEN`]).
    pub history: Vec<AvailabilityChange>,
}

/// One invalid field: its name and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Form field name.
    pub field: String,
    /// What is wrong, in words.
    pub reason: String,
}

fn err(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// The weekday names used in form field names (`hours.mon.start`).
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Technician {
    /// A technician with no hours, skills or home base yet.
    pub fn new(account_id: &str, display_name: &str, source: TechSource) -> Self {
        Self {
            account_id: account_id.into(),
            display_name: display_name.into(),
            source,
            projects: BTreeSet::new(),
            skills: BTreeSet::new(),
            hours: [None; 7],
            zone: "UTC".into(),
            time_off: Vec::new(),
            home: None,
            availability: Availability::Available,
            history: Vec::new(),
        }
    }

    /// Every problem with the record, by field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut out = Vec::new();
        if TimeZone::get(&self.zone).is_err() {
            out.push(err(
                "zone",
                "not a time zone; use an IANA name such as Europe/London",
            ));
        }
        if self.skills.len() > MAX_SKILLS {
            out.push(err("skills", format!("at most {MAX_SKILLS} skills")));
        }
        for s in &self.skills {
            if let Err(reason) = check_skill(s) {
                out.push(err("skills", reason));
                break;
            }
        }
        for (i, shift) in self.hours.iter().enumerate() {
            if let Some(s) = shift
                && s.start >= s.end
            {
                let day = WEEKDAYS.get(i).copied().unwrap_or("day");
                out.push(err(
                    format!("hours.{day}.end"),
                    "the shift must end after it starts",
                ));
            }
        }
        for (i, off) in self.time_off.iter().enumerate() {
            if off.to < off.from {
                out.push(err(
                    format!("time_off.{i}.to"),
                    "the last day off is before the first",
                ));
            }
            if off.reason.chars().count() > MAX_NOTE_LEN {
                out.push(err(
                    format!("time_off.{i}.reason"),
                    format!("at most {MAX_NOTE_LEN} characters"),
                ));
            }
        }
        out
    }

    /// The time zone (UTC if the stored name is no longer known).
    pub fn tz(&self) -> TimeZone {
        TimeZone::get(&self.zone).unwrap_or(TimeZone::UTC)
    }

    /// The time off covering `date`, if any.
    pub fn off_on(&self, date: Date) -> Option<&TimeOff> {
        self.time_off
            .iter()
            .find(|o| o.from <= date && date <= o.to)
    }

    /// The shift of `date` (local), unless it is a day off.
    pub fn shift_on(&self, date: Date) -> Option<Shift> {
        if self.off_on(date).is_some() {
            return None;
        }
        let idx = usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0);
        self.hours.get(idx).copied().flatten()
    }

    /// The working window of `date` as instants.
    pub fn window_on(&self, date: Date) -> Option<(Timestamp, Timestamp)> {
        let shift = self.shift_on(date)?;
        let tz = self.tz();
        let start = date
            .to_datetime(shift.start)
            .to_zoned_datetime(tz.clone())
            .ok()?;
        let end = date.to_datetime(shift.end).to_zoned_datetime(tz).ok()?;
        Some((start.timestamp(), end.timestamp()))
    }

    /// Today's date in the technician's zone.
    pub fn today(&self, now: Timestamp) -> Date {
        now.to_zoned_datetime(self.tz()).date()
    }

    /// Whether `at` falls in working hours (and not on a day off).
    pub fn working_at(&self, at: Timestamp) -> bool {
        let date = at.to_zoned_datetime(self.tz()).date();
        self.window_on(date).is_some_and(|(s, e)| s <= at && at < e)
    }

    /// Minutes of working time left on `date` after `now`, less the `booked` intervals.
    pub fn free_minutes(
        &self,
        date: Date,
        now: Timestamp,
        booked: &[(Timestamp, Timestamp)],
    ) -> i64 {
        let Some((start, end)) = self.window_on(date) else {
            return 0;
        };
        let from = start.max(now);
        if from >= end {
            return 0;
        }
        let mut total = end.as_second() - from.as_second();
        // Subtract the union of the booked intervals clipped to [from, end).
        let mut clipped: Vec<(i64, i64)> = booked
            .iter()
            .map(|(s, e)| (s.max(&from).as_second(), e.min(&end).as_second()))
            .filter(|(s, e)| s < e)
            .collect();
        clipped.sort_unstable();
        let mut cursor = from.as_second();
        for (s, e) in clipped {
            let s = s.max(cursor);
            if e > s {
                total -= e - s;
                cursor = e;
            }
        }
        total.max(0) / 60
    }

    /// Sets the availability and records who did it (history capped, oldest dropped).
    pub fn set_availability(
        &mut self,
        status: Availability,
        by: &str,
        note: &str,
        at: Timestamp,
    ) -> Result<(), FieldError> {
        if note.chars().count() > MAX_NOTE_LEN {
            return Err(err("note", format!("at most {MAX_NOTE_LEN} characters")));
        }
        self.availability = status;
        self.history.push(AvailabilityChange {
            at,
            status,
            by: by.into(),
            note: note.trim().into(),
        });
        if self.history.len() > HISTORY_LEN {
            let extra = self.history.len() - HISTORY_LEN;
            self.history.drain(..extra);
        }
        Ok(())
    }
}

/// A skill: 1–40 characters of letters, digits, space, `-`, `_`, `/`, `+`, `.`.
pub fn check_skill(s: &str) -> Result<(), String> {
    let n = s.chars().count();
    if n == 0 || n > MAX_SKILL_LEN {
        return Err(format!("a skill has 1 to {MAX_SKILL_LEN} characters"));
    }
    if !s
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '/' | '+' | '.'))
    {
        return Err(format!(
            "{:?}: use letters, digits, spaces and - _ / + .",
            s.chars().take(MAX_SKILL_LEN).collect::<String>()
        ));
    }
    Ok(())
}

/// Normalises a skill as entered: trimmed, inner whitespace collapsed, lower case.
pub fn normalise_skill(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A standard week: Monday to Friday, `start`–`end`.
pub fn weekdays(start: Time, end: Time) -> [Option<Shift>; 7] {
    let mut h = [None; 7];
    for (i, d) in h.iter_mut().enumerate() {
        if i < 5 {
            *d = Some(Shift { start, end });
        }
    }
    h
}

/// The weekday of a form index (0 = Monday).
pub fn weekday(i: usize) -> Weekday {
    match i {
        0 => Weekday::Monday,
        1 => Weekday::Tuesday,
        2 => Weekday::Wednesday,
        3 => Weekday::Thursday,
        4 => Weekday::Friday,
        5 => Weekday::Saturday,
        _ => Weekday::Sunday,
    }
}

/// `date` plus `days` (saturating at the calendar's ends).
pub fn add_days(date: Date, days: i32) -> Date {
    date.checked_add(days.days()).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use jiff::civil::{date, time};

    use super::*;

    fn leo() -> Technician {
        let mut t = Technician::new("leo", "Leo Ashworth", TechSource::Manual);
        t.zone = "Europe/London".into();
        t.hours = weekdays(time(8, 0, 0, 0), time(16, 0, 0, 0));
        t
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn working_hours_follow_the_zone_and_days_off() {
        let mut t = leo();
        // Monday 2026-11-30, GMT = UTC.
        assert!(t.working_at(ts("2026-11-30T08:00:00Z")));
        assert!(!t.working_at(ts("2026-11-30T16:00:00Z")));
        assert!(!t.working_at(ts("2026-11-29T10:00:00Z")), "Sunday");
        // Summer: BST, 08:00 local is 07:00Z.
        assert!(t.working_at(ts("2026-06-01T07:00:00Z")));
        t.time_off.push(TimeOff {
            from: date(2026, 11, 30),
            to: date(2026, 12, 1),
            reason: "Training".into(),
        });
        assert!(!t.working_at(ts("2026-11-30T10:00:00Z")));
        assert_eq!(t.off_on(date(2026, 12, 1)).unwrap().reason, "Training");
        assert!(t.working_at(ts("2026-12-02T10:00:00Z")));
    }

    #[test]
    fn free_minutes_subtract_overlapping_bookings_once() {
        let t = leo();
        let d = date(2026, 11, 30);
        let now = ts("2026-11-30T07:00:00Z");
        assert_eq!(t.free_minutes(d, now, &[]), 8 * 60);
        let booked = [
            (ts("2026-11-30T09:00:00Z"), ts("2026-11-30T10:00:00Z")),
            (ts("2026-11-30T09:30:00Z"), ts("2026-11-30T11:00:00Z")),
            (ts("2026-11-30T15:30:00Z"), ts("2026-11-30T18:00:00Z")),
        ];
        assert_eq!(t.free_minutes(d, now, &booked), 8 * 60 - 120 - 30);
        assert_eq!(t.free_minutes(d, ts("2026-11-30T15:00:00Z"), &booked), 30);
        assert_eq!(t.free_minutes(date(2026, 11, 29), now, &[]), 0);
    }

    #[test]
    fn validation_names_each_field() {
        let mut t = leo();
        assert!(t.validate().is_empty());
        t.zone = "Mars/Olympus".into();
        t.hours[2] = Some(Shift {
            start: time(17, 0, 0, 0),
            end: time(9, 0, 0, 0),
        });
        t.skills.insert("<script>".into());
        t.time_off.push(TimeOff {
            from: date(2026, 12, 2),
            to: date(2026, 12, 1),
            reason: String::new(),
        });
        let fields: Vec<String> = t.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["zone", "skills", "hours.wed.end", "time_off.0.to"]);
    }

    #[test]
    fn availability_history_is_kept_and_capped() {
        let mut t = leo();
        for i in 0..(HISTORY_LEN + 5) {
            let s = Availability::ALL[i % 4];
            t.set_availability(s, "disp", "", ts("2026-11-30T08:00:00Z"))
                .unwrap();
        }
        assert_eq!(t.history.len(), HISTORY_LEN);
        assert!(
            t.set_availability(
                Availability::Absent,
                "leo",
                &"x".repeat(201),
                ts("2026-11-30T08:00:00Z")
            )
            .is_err()
        );
        assert_eq!(
            "on_break".parse::<Availability>().unwrap(),
            Availability::OnBreak
        );
        assert_eq!(normalise_skill("  Gas   Safe "), "gas safe");
    }
}
