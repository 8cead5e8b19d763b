//! Schedule derivation on hand-written changelogs.
#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use jiff::civil::date;
use jiff::tz::TimeZone;

use super::*;
use crate::phase::{Phase, PhaseMapping, Status, StatusCategory};

// Status ids as in the demo site's dispatch workflow.
const TO_DISPATCH: &str = "10001";
const ASSIGNED: &str = "10002";
const TRAVELLING: &str = "10003";
const ON_SITE: &str = "10004";
const AWAITING_PARTS: &str = "10005";
const WORK_COMPLETE: &str = "10006";
const CLOSED: &str = "10007";

fn mapping() -> PhaseMapping {
    let mut m = PhaseMapping::default();
    let st = |id: &str, name: &str, c| Status {
        id: id.into(),
        name: name.into(),
        category: c,
    };
    m.detect([
        st(TO_DISPATCH, "To Dispatch", StatusCategory::ToDo),
        st(ASSIGNED, "Assigned to Tech", StatusCategory::InProgress),
        st(TRAVELLING, "Travelling", StatusCategory::InProgress),
        st(ON_SITE, "On Site", StatusCategory::InProgress),
        st(AWAITING_PARTS, "Awaiting Parts", StatusCategory::InProgress),
        // Jira files Work Complete under In Progress; dispatch reads it as Done.
        st(WORK_COMPLETE, "Work Complete", StatusCategory::InProgress),
        st(CLOSED, "Closed", StatusCategory::Done),
    ]);
    for (id, p) in [
        (ASSIGNED, Phase::Assigned),
        (TRAVELLING, Phase::Travelling),
        (ON_SITE, Phase::OnSite),
        (AWAITING_PARTS, Phase::Paused),
        (WORK_COMPLETE, Phase::Done),
    ] {
        m.phases.insert(id.into(), p);
    }
    m
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

struct H {
    h: IssueHistory,
    status: String,
    assignee: Option<String>,
}

fn issue(key: &str, created: &str) -> H {
    H {
        h: IssueHistory {
            key: key.into(),
            created: ts(created),
            initial_status: TO_DISPATCH.into(),
            initial_assignee: None,
            events: vec![],
        },
        status: TO_DISPATCH.into(),
        assignee: None,
    }
}

impl H {
    fn to(mut self, at: &str, status: &str) -> Self {
        self.h.events.push(ChangeEvent {
            at: ts(at),
            change: Change::Status {
                from: self.status.clone(),
                to: status.into(),
            },
        });
        self.status = status.into();
        self
    }

    fn assign(mut self, at: &str, who: &str) -> Self {
        self.h.events.push(ChangeEvent {
            at: ts(at),
            change: Change::Assignee {
                from: self.assignee.clone(),
                to: Some(who.into()),
            },
        });
        self.assignee = Some(who.into());
        self
    }
}

fn utc_days(hs: Vec<H>, now: &str) -> Vec<TechDay> {
    let hs: Vec<IssueHistory> = hs.into_iter().map(|h| h.h).collect();
    derive_days(&hs, &mapping(), &[], &TimeZone::UTC, ts(now))
}

fn spans(d: &TechDay) -> Vec<(SegmentKind, String, String, u32)> {
    d.segments
        .iter()
        .map(|s| {
            (
                s.kind,
                s.start.strftime("%H:%M").to_string(),
                s.end.strftime("%H:%M").to_string(),
                s.visit,
            )
        })
        .collect()
}

#[test]
fn travel_visit_pause_and_second_visit() {
    let h = issue("FS-1", "2026-11-02T07:00:00Z")
        .assign("2026-11-02T08:00:00Z", "leo")
        .to("2026-11-02T08:00:00Z", ASSIGNED)
        .to("2026-11-02T09:00:00Z", TRAVELLING)
        .to("2026-11-02T09:30:00Z", ON_SITE)
        .to("2026-11-02T10:30:00Z", AWAITING_PARTS)
        .to("2026-11-02T13:00:00Z", TRAVELLING)
        .to("2026-11-02T13:20:00Z", ON_SITE)
        .to("2026-11-02T14:00:00Z", WORK_COMPLETE);
    let days = utc_days(vec![h], "2026-11-03T12:00:00Z");
    assert_eq!(days.len(), 1);
    let d = &days[0];
    assert_eq!(d.technician, "leo");
    assert_eq!(d.date, date(2026, 11, 2));
    use SegmentKind::*;
    assert_eq!(
        spans(d),
        vec![
            (Travel, "09:00".into(), "09:30".into(), 0),
            (Visit, "09:30".into(), "10:30".into(), 1),
            (Travel, "13:00".into(), "13:20".into(), 0),
            (Visit, "13:20".into(), "14:00".into(), 2),
        ]
    );
    assert_eq!(d.seconds(Visit), 100 * 60);
    assert_eq!(d.seconds(Travel), 50 * 60);
    assert_eq!(
        d.markers,
        vec![Marker::Completed {
            issue: "FS-1".into(),
            at: ts("2026-11-02T14:00:00Z"),
            first: true,
            visits: 2,
        }]
    );
    assert_eq!(d.completed(), 1);
}

#[test]
fn back_office_transition_after_done_changes_nothing() {
    let base = || {
        issue("FS-2", "2026-11-02T07:00:00Z")
            .assign("2026-11-02T08:00:00Z", "leo")
            .to("2026-11-02T09:00:00Z", ON_SITE)
            .to("2026-11-02T10:00:00Z", WORK_COMPLETE)
    };
    let without = utc_days(vec![base()], "2026-11-05T00:00:00Z");
    let with = utc_days(
        vec![base().to("2026-11-04T16:00:00Z", CLOSED)],
        "2026-11-05T00:00:00Z",
    );
    assert_eq!(without, with);
    assert_eq!(with.len(), 1, "no marker or day appears on the closing day");
}

#[test]
fn reopen_is_shown_and_second_completion_is_not_first() {
    let h = issue("FS-3", "2026-11-02T07:00:00Z")
        .assign("2026-11-02T08:00:00Z", "leo")
        .to("2026-11-02T09:00:00Z", ON_SITE)
        .to("2026-11-02T10:00:00Z", WORK_COMPLETE)
        .to("2026-11-03T08:00:00Z", ASSIGNED)
        .to("2026-11-03T09:00:00Z", ON_SITE)
        .to("2026-11-03T09:45:00Z", WORK_COMPLETE);
    let days = utc_days(vec![h], "2026-11-04T00:00:00Z");
    assert_eq!(days.len(), 2);
    assert_eq!(days[0].completed(), 1);
    assert_eq!(
        days[1].markers,
        vec![
            Marker::Reopened {
                issue: "FS-3".into(),
                at: ts("2026-11-03T08:00:00Z"),
                to: Phase::Assigned,
            },
            Marker::Completed {
                issue: "FS-3".into(),
                at: ts("2026-11-03T09:45:00Z"),
                first: false,
                visits: 2,
            },
        ]
    );
    assert_eq!(days[1].completed(), 0, "a re-completion is not a new job");
    assert_eq!(days[1].segments[0].visit, 2);
}

#[test]
fn visit_across_midnight_is_split_in_the_technicians_zone() {
    let h = issue("FS-4", "2026-11-02T07:00:00Z")
        .assign("2026-11-02T08:00:00Z", "leo")
        .to("2026-11-02T22:30:00Z", ON_SITE)
        .to("2026-11-03T01:00:00Z", WORK_COMPLETE);
    let hs = vec![h.h];
    // UTC: split at 00:00Z.
    let utc = derive_days(
        &hs,
        &mapping(),
        &[],
        &TimeZone::UTC,
        ts("2026-11-04T00:00:00Z"),
    );
    assert_eq!(utc.len(), 2);
    assert_eq!(utc[0].seconds(SegmentKind::Visit), 90 * 60);
    assert_eq!(utc[1].seconds(SegmentKind::Visit), 60 * 60);
    assert!(utc[0].segments[0].split && utc[1].segments[0].split);
    assert_eq!(utc[0].segments[0].visit, utc[1].segments[0].visit);
    // New York (UTC-5 in November): the whole visit is on the evening of the 2nd.
    let ny = TimeZone::get("America/New_York").unwrap();
    let zones = [TechZone {
        technician: "leo".into(),
        zone: ny,
    }];
    let local = derive_days(
        &hs,
        &mapping(),
        &zones,
        &TimeZone::UTC,
        ts("2026-11-04T00:00:00Z"),
    );
    assert_eq!(local.len(), 1);
    assert_eq!(local[0].date, date(2026, 11, 2));
    assert_eq!(local[0].seconds(SegmentKind::Visit), 150 * 60);
    assert!(!local[0].segments[0].split);
}

#[test]
fn day_of_a_clock_change_has_its_real_length() {
    // Europe/London falls back on 2026-10-25: that day has 25 hours.
    let h = issue("FS-5", "2026-10-24T20:00:00Z")
        .assign("2026-10-24T20:00:00Z", "leo")
        .to("2026-10-24T22:00:00Z", ON_SITE) // 23:00 BST on the 24th
        .to("2026-10-26T01:00:00Z", WORK_COMPLETE); // 01:00 GMT on the 26th
    let zones = [TechZone {
        technician: "leo".into(),
        zone: TimeZone::get("Europe/London").unwrap(),
    }];
    let days = derive_days(
        &[h.h],
        &mapping(),
        &zones,
        &TimeZone::UTC,
        ts("2026-10-27T00:00:00Z"),
    );
    let hours: Vec<(jiff::civil::Date, i64)> = days
        .iter()
        .map(|d| (d.date, d.seconds(SegmentKind::Visit) / 3600))
        .collect();
    assert_eq!(
        hours,
        vec![
            (date(2026, 10, 24), 1),
            (date(2026, 10, 25), 25),
            (date(2026, 10, 26), 1),
        ]
    );
}

#[test]
fn time_belongs_to_the_assignee_of_the_moment() {
    let h = issue("FS-6", "2026-11-02T07:00:00Z")
        .assign("2026-11-02T08:00:00Z", "leo")
        .to("2026-11-02T09:00:00Z", ON_SITE)
        .assign("2026-11-02T10:00:00Z", "mia")
        .to("2026-11-02T11:00:00Z", WORK_COMPLETE);
    let days = utc_days(vec![h], "2026-11-03T00:00:00Z");
    let by: Vec<(&str, i64, usize)> = days
        .iter()
        .map(|d| {
            (
                d.technician.as_str(),
                d.seconds(SegmentKind::Visit) / 60,
                d.completed(),
            )
        })
        .collect();
    assert_eq!(by, vec![("leo", 60, 0), ("mia", 60, 1)]);
    // Same visit, handed over: not a second visit.
    assert!(days.iter().all(|d| d.segments[0].visit == 1));
}

#[test]
fn unassigned_time_and_planned_tickets_show_nothing() {
    let h = issue("FS-7", "2026-11-02T07:00:00Z").to("2026-11-02T09:00:00Z", ON_SITE);
    let planned = issue("FS-8", "2026-11-02T07:00:00Z").assign("2026-11-02T08:00:00Z", "leo");
    assert!(utc_days(vec![h, planned], "2026-11-03T00:00:00Z").is_empty());
}

#[test]
fn current_interval_runs_to_now_and_is_ongoing() {
    let h = issue("FS-9", "2026-11-02T07:00:00Z")
        .assign("2026-11-02T08:00:00Z", "leo")
        .to("2026-11-02T09:00:00Z", TRAVELLING);
    let days = utc_days(vec![h], "2026-11-02T09:25:00Z");
    let s = &days[0].segments[0];
    assert!(s.ongoing);
    assert_eq!(s.seconds(), 25 * 60);
}

#[test]
fn statuses_of_one_phase_are_one_visit() {
    let mut m = mapping();
    m.phases.insert("20000".into(), Phase::OnSite);
    let h = issue("FS-10", "2026-11-02T07:00:00Z")
        .assign("2026-11-02T08:00:00Z", "leo")
        .to("2026-11-02T09:00:00Z", ON_SITE)
        .to("2026-11-02T09:30:00Z", "20000")
        .to("2026-11-02T10:00:00Z", WORK_COMPLETE);
    let days = derive_days(&[h.h], &m, &[], &TimeZone::UTC, ts("2026-11-03T00:00:00Z"));
    assert_eq!(days[0].segments.len(), 1);
    assert_eq!(days[0].segments[0].seconds(), 3600);
}

#[test]
fn snapshot_keeps_the_day_and_flags_a_new_reading() {
    let h = issue("FS-11", "2026-11-02T07:00:00Z")
        .assign("2026-11-02T08:00:00Z", "leo")
        .to("2026-11-02T09:00:00Z", ON_SITE)
        .to("2026-11-02T10:00:00Z", AWAITING_PARTS)
        .to("2026-11-02T12:00:00Z", WORK_COMPLETE);
    let hs = vec![h.h];
    let now = ts("2026-11-03T08:00:00Z");
    let m = mapping();
    let day = derive_days(&hs, &m, &[], &TimeZone::UTC, now).remove(0);
    assert!(day_finished(day.date, &TimeZone::UTC, now));
    assert!(!day_finished(date(2026, 11, 3), &TimeZone::UTC, now));
    let snap = DaySnapshot::take(day.clone(), &m, now);
    // Same mapping: same reading.
    assert!(!snap.reads_differently(&day));
    // The admin later maps Awaiting Parts to On Site: the day would read as a 3-hour visit.
    let mut m2 = m.clone();
    m2.phases.insert(AWAITING_PARTS.into(), Phase::OnSite);
    let again = derive_days(&hs, &m2, &[], &TimeZone::UTC, now).remove(0);
    assert_eq!(again.seconds(SegmentKind::Visit), 3 * 3600);
    assert!(snap.reads_differently(&again));
    assert_ne!(snap.mapping, m2.fingerprint());
    assert_eq!(
        snap.day.seconds(SegmentKind::Visit),
        3600,
        "the snapshot stays"
    );
}

#[test]
fn events_out_of_order_are_sorted() {
    let mut h = issue("FS-12", "2026-11-02T07:00:00Z")
        .assign("2026-11-02T08:00:00Z", "leo")
        .to("2026-11-02T09:00:00Z", ON_SITE)
        .to("2026-11-02T10:00:00Z", WORK_COMPLETE);
    h.h.events.reverse();
    // Reversed *and* from/to still consistent per event: sorting restores the story.
    let days = utc_days(vec![h], "2026-11-03T00:00:00Z");
    assert_eq!(days[0].seconds(SegmentKind::Visit), 3600);
}
