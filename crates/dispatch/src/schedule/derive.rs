//! The derivation itself: changelog → stretches → per-technician days.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::{Change, IssueHistory, Marker, Segment, SegmentKind, Stretch, TechDay, TechZone};
use crate::phase::{Phase, PhaseMapping};

/// The ticket's life as stretches of one phase and one assignee, oldest first. Zero-length
/// stretches are dropped and neighbours with the same phase and assignee merged, so a move
/// between two statuses of the same phase is not a new visit.
pub fn issue_timeline(h: &IssueHistory, mapping: &PhaseMapping, now: Timestamp) -> Vec<Stretch> {
    let mut raw: Vec<Stretch> = Vec::new();
    let mut status = h.initial_status.clone();
    let mut assignee = h.initial_assignee.clone();
    let mut start = h.created;
    let mut events: Vec<_> = h.events.iter().collect();
    events.sort_by_key(|e| e.at);
    for e in events {
        let at = e.at.max(start);
        raw.push(Stretch {
            start,
            end: at,
            ongoing: false,
            phase: mapping.phase(&status),
            status: status.clone(),
            assignee: assignee.clone(),
        });
        match &e.change {
            Change::Status { to, .. } => status = to.clone(),
            Change::Assignee { to, .. } => assignee = to.clone(),
        }
        start = at;
    }
    raw.push(Stretch {
        start,
        end: now.max(start),
        ongoing: true,
        phase: mapping.phase(&status),
        status,
        assignee,
    });
    let mut out: Vec<Stretch> = Vec::with_capacity(raw.len());
    for s in raw {
        if s.end == s.start && !s.ongoing {
            continue;
        }
        match out.last_mut() {
            Some(prev) if prev.phase == s.phase && prev.assignee == s.assignee => {
                prev.end = s.end;
                prev.ongoing = s.ongoing;
            }
            _ => out.push(s),
        }
    }
    out
}

/// Cuts `[start, end)` at each midnight of `zone`: `(day, start, end, split)`, where `split`
/// says the piece continues from the day before or into the next.
fn by_day(
    start: Timestamp,
    end: Timestamp,
    zone: &TimeZone,
) -> Vec<(Date, Timestamp, Timestamp, bool)> {
    let mut out = Vec::new();
    let mut s = start;
    let mut guard = 0;
    loop {
        let day = s.to_zoned_datetime(zone.clone()).date();
        let next = day
            .tomorrow()
            .and_then(|d| d.to_zoned_datetime(zone.clone()))
            .map(|z| z.timestamp());
        let cut = match next {
            Ok(n) if n < end && n > s => Some(n),
            _ => None,
        };
        guard += 1;
        match cut {
            Some(n) if guard < 10_000 => {
                out.push((day, s, n, true));
                s = n;
            }
            _ => {
                out.push((day, s, end, s != start));
                break;
            }
        }
    }
    out
}

#[derive(Default)]
struct Days {
    map: BTreeMap<(String, Date), TechDay>,
}

impl Days {
    fn day(&mut self, tech: &str, date: Date) -> &mut TechDay {
        self.map
            .entry((tech.to_string(), date))
            .or_insert_with(|| TechDay {
                technician: tech.to_string(),
                date,
                segments: Vec::new(),
                markers: Vec::new(),
            })
    }
}

/// Every technician's days from `histories`, read under `mapping`, cut in each technician's
/// zone (`default_zone` for anyone not in `zones`), sorted by technician then day. Segments
/// and markers inside a day are sorted by time.
pub fn derive_days(
    histories: &[IssueHistory],
    mapping: &PhaseMapping,
    zones: &[TechZone],
    default_zone: &TimeZone,
    now: Timestamp,
) -> Vec<TechDay> {
    let zone_of: HashMap<&str, &TimeZone> = zones
        .iter()
        .map(|z| (z.technician.as_str(), &z.zone))
        .collect();
    let zone = |tech: &str| zone_of.get(tech).copied().unwrap_or(default_zone);
    let mut days = Days::default();
    for h in histories {
        let stretches = issue_timeline(h, mapping, now);
        let mut prev: Option<&Stretch> = None;
        let mut visit = 0u32;
        let mut completed_once = false;
        for s in &stretches {
            let prev_phase = prev.map(|p| p.phase);
            // Whom a marker belongs to: the assignee now, else the one just before.
            let owner = s
                .assignee
                .as_deref()
                .or_else(|| prev.and_then(|p| p.assignee.as_deref()));
            if s.phase == Phase::OnSite && prev_phase != Some(Phase::OnSite) {
                visit += 1;
            }
            if let (Some(pp), Some(tech)) = (prev_phase, owner) {
                let date = s.start.to_zoned_datetime(zone(tech).clone()).date();
                if s.phase == Phase::Done && pp != Phase::Done {
                    days.day(tech, date).markers.push(Marker::Completed {
                        issue: h.key.clone(),
                        at: s.start,
                        first: !completed_once,
                        visits: visit,
                    });
                    completed_once = true;
                } else if pp == Phase::Done && s.phase != Phase::Done {
                    days.day(tech, date).markers.push(Marker::Reopened {
                        issue: h.key.clone(),
                        at: s.start,
                        to: s.phase,
                    });
                }
            }
            let kind = match s.phase {
                Phase::Travelling => Some(SegmentKind::Travel),
                Phase::OnSite => Some(SegmentKind::Visit),
                _ => None,
            };
            if let (Some(kind), Some(tech)) = (kind, s.assignee.as_deref()) {
                for (date, start, end, split) in by_day(s.start, s.end, zone(tech)) {
                    if end <= start && !s.ongoing {
                        continue;
                    }
                    days.day(tech, date).segments.push(Segment {
                        issue: h.key.clone(),
                        kind,
                        start,
                        end,
                        ongoing: s.ongoing && end == s.end,
                        visit: if kind == SegmentKind::Visit { visit } else { 0 },
                        split,
                    });
                }
            }
            prev = Some(s);
        }
    }
    let mut out: Vec<TechDay> = days.map.into_values().collect();
    for d in &mut out {
        d.segments
            .sort_by(|a, b| a.start.cmp(&b.start).then(a.issue.cmp(&b.issue)));
        d.markers.sort_by_key(Marker::at);
    }
    out
}
