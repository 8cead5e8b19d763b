//! From the board's data (tickets, technicians, the phase mapping) to the inputs of routing
//! ([`crate::route`]) and automatic dispatch ([`crate::auto`]): a technician's day, the jobs
//! waiting for someone, and a fingerprint that tells whether a plan shown to a dispatcher is
//! still the plan the data gives.

use std::hash::{Hash, Hasher};

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::auto::{Crew, Job, Plan};
use crate::board::Ticket;
use crate::geo::LatLon;
use crate::phase::{Phase, PhaseMapping};
use crate::route::Stop;
use crate::technician::{Availability, Technician};

/// Minutes on site when a ticket has no scheduled length.
pub const DEFAULT_MINUTES: i64 = 60;

/// A ticket's minutes on site: its scheduled length, else [`DEFAULT_MINUTES`].
pub fn minutes_of(t: &Ticket) -> i64 {
    t.scheduled
        .map(|(s, e)| (e.as_second() - s.as_second()) / 60)
        .filter(|m| *m > 0)
        .unwrap_or(DEFAULT_MINUTES)
}

fn local_date(ts: Timestamp, tz: &TimeZone) -> Date {
    ts.to_zoned_datetime(tz.clone()).date()
}

/// The tickets of `tech`'s day, in visiting order (scheduled start, unscheduled last):
/// assigned to them, in a scheduled phase, scheduled on `day` (or earlier and still open, or
/// unscheduled) in `zone`. Jobs under way (field phases) come first.
pub fn day_tickets<'a>(
    tech: &Technician,
    tickets: &'a [Ticket],
    mapping: &PhaseMapping,
    day: Date,
    zone: &TimeZone,
) -> Vec<&'a Ticket> {
    let mut mine: Vec<&Ticket> = tickets
        .iter()
        .filter(|t| t.assignee.as_deref() == Some(tech.account_id.as_str()))
        .filter(|t| mapping.phase(&t.status_id).scheduled())
        .filter(|t| t.scheduled.is_none_or(|(s, _)| local_date(s, zone) <= day))
        .collect();
    mine.sort_by(|a, b| {
        let under_way = |t: &Ticket| !mapping.phase(&t.status_id).in_field();
        under_way(a)
            .cmp(&under_way(b))
            .then(
                a.scheduled
                    .map(|s| s.0)
                    .unwrap_or(Timestamp::MAX)
                    .cmp(&b.scheduled.map(|s| s.0).unwrap_or(Timestamp::MAX)),
            )
            .then(a.key.cmp(&b.key))
    });
    mine
}

/// How many of `day`'s tickets are under way (field phases; they stay first on a route).
pub fn under_way(day: &[&Ticket], mapping: &PhaseMapping) -> usize {
    day.iter()
        .take_while(|t| mapping.phase(&t.status_id).in_field())
        .count()
}

/// Where `tech` is: the location of a job under way, else home.
pub fn position(day: &[&Ticket], tech: &Technician, mapping: &PhaseMapping) -> Option<LatLon> {
    day.iter()
        .find(|t| mapping.phase(&t.status_id).in_field())
        .and_then(|t| t.location)
        .or(tech.home)
}

/// What is left of `tech`'s working window on `day` at `now`: none on a past day, a day
/// off or a day without hours; today's starts at `now` when the shift has begun.
pub fn window(tech: &Technician, day: Date, now: Timestamp) -> Option<(Timestamp, Timestamp)> {
    let (start, end) = tech.window_on(day)?;
    let start = start.max(now);
    (start < end).then_some((start, end))
}

/// Why `tech` cannot take work on `day` (availability counts for today only).
pub fn unavailable(tech: &Technician, day: Date, now: Timestamp) -> Option<String> {
    if let Some(off) = tech.off_on(day) {
        return Some(format!("day off: {}", off.reason));
    }
    if day == tech.today(now)
        && matches!(
            tech.availability,
            Availability::OffDuty | Availability::Absent
        )
    {
        return Some(tech.availability.label().to_string());
    }
    None
}

/// The stops of a day: with `keep_times_on` = the day and its zone, jobs scheduled on that
/// day keep their times (appointments); others (overdue from earlier days, unscheduled, or
/// all of them without `keep_times_on`) are free to be placed.
pub fn stops(day: &[&Ticket], keep_times_on: Option<(Date, &TimeZone)>) -> Vec<Stop> {
    day.iter()
        .map(|t| Stop {
            key: t.key.clone(),
            location: t.location,
            minutes: minutes_of(t),
            fixed: keep_times_on.and_then(|(d, zone)| {
                t.scheduled
                    .map(|s| s.0)
                    .filter(|s| local_date(*s, zone) == d)
            }),
        })
        .collect()
}

/// `tech`'s day as automatic dispatch sees it: their jobs keep their times.
pub fn crew(
    tech: &Technician,
    tickets: &[Ticket],
    mapping: &PhaseMapping,
    day: Date,
    zone: &TimeZone,
    now: Timestamp,
) -> Crew {
    let mine = day_tickets(tech, tickets, mapping, day, zone);
    Crew {
        account_id: tech.account_id.clone(),
        name: tech.display_name.clone(),
        skills: tech.skills.clone(),
        unavailable: unavailable(tech, day, now),
        position: position(&mine, tech, mapping),
        home: tech.home,
        window: window(tech, day, now),
        day: stops(&mine, Some((day, zone))),
    }
}

/// The jobs waiting for a technician on `day`, most urgent first (the board's queue order
/// in `queue`): unassigned and not Done, scheduled on `day` or earlier, or not scheduled (a
/// Planned ticket someone already holds is theirs to hand back, not to take). A scheduled
/// start on `day` is kept as an appointment.
pub fn waiting(queue: &[&Ticket], mapping: &PhaseMapping, day: Date, zone: &TimeZone) -> Vec<Job> {
    queue
        .iter()
        .filter(|t| t.assignee.is_none() && mapping.phase(&t.status_id) != Phase::Done)
        .filter(|t| t.scheduled.is_none_or(|(s, _)| local_date(s, zone) <= day))
        .map(|t| Job {
            key: t.key.clone(),
            skills: t.skills.clone(),
            location: t.location,
            minutes: minutes_of(t),
            appointment: t
                .scheduled
                .map(|s| s.0)
                .filter(|s| local_date(*s, zone) == day),
        })
        .collect()
}

/// A short fingerprint of a plan's decisions (who gets what, when): a dispatcher applies
/// the plan they saw only while the data still gives the same plan.
pub fn fingerprint(plan: &Plan) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in &plan.proposals {
        (
            &p.key,
            &p.account_id,
            p.start.as_second(),
            p.end.as_second(),
        )
            .hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

/// The same for a route: the keys in order with their times.
pub fn route_fingerprint(visits: &[crate::route::Visit]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for v in visits {
        (&v.key, v.start.as_second(), v.end.as_second()).hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeSet;

    use jiff::civil::{date, time};

    use super::*;
    use crate::technician::{TechSource, TimeOff, weekdays};

    fn ticket(key: &str, status: &str, assignee: Option<&str>, start: Option<&str>) -> Ticket {
        Ticket {
            id: key.into(),
            key: key.into(),
            project: "FS".into(),
            summary: key.into(),
            status_id: status.into(),
            status_name: status.into(),
            assignee: assignee.map(Into::into),
            assignee_name: None,
            request_type: None,
            priority: None,
            skills: BTreeSet::new(),
            location: Some(LatLon::new(53.5, -2.2).unwrap()),
            address: String::new(),
            scheduled: start.map(|s| {
                let s: Timestamp = s.parse().unwrap();
                (s, Timestamp::from_second(s.as_second() + 5400).unwrap())
            }),
            updated: "2026-11-30T08:00:00Z".parse().unwrap(),
        }
    }

    fn mapping() -> PhaseMapping {
        let mut m = PhaseMapping::default();
        for (id, phase) in [
            ("planned", Phase::Planned),
            ("assigned", Phase::Assigned),
            ("onsite", Phase::OnSite),
            ("done", Phase::Done),
        ] {
            m.phases.insert(id.to_string(), phase);
        }
        m
    }

    fn tech() -> Technician {
        let mut t = Technician::new("t1", "Tess", TechSource::Manual);
        t.zone = "UTC".into();
        t.hours = weekdays(time(8, 0, 0, 0), time(16, 0, 0, 0));
        t.home = Some(LatLon::new(53.0, -2.0).unwrap());
        t
    }

    #[test]
    fn a_day_lists_the_job_under_way_first_then_by_time() {
        let tickets = vec![
            ticket("FS-1", "assigned", Some("t1"), Some("2026-11-30T13:00:00Z")),
            ticket("FS-2", "onsite", Some("t1"), Some("2026-11-30T15:00:00Z")),
            ticket("FS-3", "assigned", Some("t1"), None),
            ticket("FS-4", "assigned", Some("t1"), Some("2026-12-01T09:00:00Z")),
            ticket("FS-5", "done", Some("t1"), Some("2026-11-30T09:00:00Z")),
            ticket("FS-6", "assigned", Some("t2"), Some("2026-11-30T09:00:00Z")),
            ticket("FS-7", "assigned", Some("t1"), Some("2026-11-29T09:00:00Z")),
        ];
        let m = mapping();
        let day = day_tickets(&tech(), &tickets, &m, date(2026, 11, 30), &TimeZone::UTC);
        let keys: Vec<&str> = day.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["FS-2", "FS-7", "FS-1", "FS-3"]);
        assert_eq!(under_way(&day, &m), 1);
        assert_eq!(position(&day, &tech(), &m), tickets[1].location);
        let s = stops(&day, Some((date(2026, 11, 30), &TimeZone::UTC)));
        assert_eq!(s[0].minutes, 90);
        assert!(s[0].fixed.is_some());
        assert_eq!(s[1].fixed, None, "overdue from an earlier day: free");
        assert_eq!(s[3].fixed, None);
        assert!(stops(&day, None).iter().all(|s| s.fixed.is_none()));
    }

    #[test]
    fn windows_and_unavailability_follow_the_day() {
        let mut t = tech();
        let now: Timestamp = "2026-11-30T10:30:00Z".parse().unwrap();
        let today = date(2026, 11, 30);
        assert_eq!(
            window(&t, today, now),
            Some((now, "2026-11-30T16:00:00Z".parse().unwrap()))
        );
        assert_eq!(window(&t, date(2026, 11, 27), now), None, "a past day");
        assert!(window(&t, date(2026, 12, 1), now).is_some());
        t.availability = Availability::Absent;
        assert_eq!(unavailable(&t, today, now).as_deref(), Some("Absent"));
        assert_eq!(unavailable(&t, date(2026, 12, 1), now), None);
        t.time_off.push(TimeOff {
            from: date(2026, 12, 1),
            to: date(2026, 12, 1),
            reason: "training".into(),
        });
        assert_eq!(
            unavailable(&t, date(2026, 12, 1), now).as_deref(),
            Some("day off: training")
        );
    }

    #[test]
    fn waiting_jobs_keep_appointments_on_the_day_only() {
        let tickets = [
            ticket("FS-1", "planned", None, Some("2026-11-30T11:00:00Z")),
            ticket("FS-2", "planned", None, Some("2026-12-02T11:00:00Z")),
            ticket("FS-3", "planned", None, Some("2026-11-28T11:00:00Z")),
            ticket("FS-4", "assigned", None, None),
            ticket("FS-5", "planned", Some("t1"), None),
        ];
        let refs: Vec<&Ticket> = tickets.iter().collect();
        let jobs = waiting(&refs, &mapping(), date(2026, 11, 30), &TimeZone::UTC);
        let keys: Vec<&str> = jobs.iter().map(|j| j.key.as_str()).collect();
        assert_eq!(keys, ["FS-1", "FS-3", "FS-4"]);
        assert!(jobs[0].appointment.is_some());
        assert!(
            jobs[1].appointment.is_none(),
            "an overdue time is not an appointment"
        );
    }
}
