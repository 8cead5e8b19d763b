//! Automatic dispatch: the day's unassigned jobs placed on technicians' routes.
//!
//! Jobs are taken most urgent first (the queue's order). Each goes to the technician whose
//! day it fits best: every required skill, within reach, and a place in their route where
//! it still fits the working day without making an appointment late — the place that adds
//! the least driving, with a small charge per job already given to them this run so the
//! work spreads out. Jobs nobody can take are left in the queue with the reason. Plain data
//! in, plain data out; the pages preview the plan and apply it as the dispatcher.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::Serialize;

use crate::geo::LatLon;
use crate::route::{Stop, Timeline, Travel, timeline};

/// A job waiting for a technician.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// Issue key.
    pub key: String,
    /// Required skills (normalised).
    pub skills: BTreeSet<String>,
    /// Where the work is.
    pub location: Option<LatLon>,
    /// Minutes on site.
    pub minutes: i64,
    /// A time already agreed with the customer: the visit starts then.
    pub appointment: Option<Timestamp>,
}

/// A technician's day as it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Crew {
    /// Account id.
    pub account_id: String,
    /// Name shown.
    pub name: String,
    /// Skills (normalised).
    pub skills: BTreeSet<String>,
    /// Why they cannot take work today (absent, off duty, day off, no hours), if so.
    pub unavailable: Option<String>,
    /// Where they are now (the job under way, else home).
    pub position: Option<LatLon>,
    /// Home base (the day ends there).
    pub home: Option<LatLon>,
    /// What is left of today's working window: from max(shift start, now) to shift end.
    pub window: Option<(Timestamp, Timestamp)>,
    /// The day's jobs already theirs, in order: scheduled ones with `fixed` set.
    pub day: Vec<Stop>,
}

/// The rules of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rules {
    /// Straight-line km beyond which a job is out of a technician's reach.
    pub max_km: f64,
    /// Travel estimate.
    pub travel: Travel,
    /// Minutes charged per job already given to a technician in this run (spreads work).
    pub spread_minutes: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            max_km: 80.0,
            travel: Travel::default(),
            spread_minutes: 20,
        }
    }
}

/// One job given to a technician.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Proposal {
    /// Issue key.
    pub key: String,
    /// Account id.
    pub account_id: String,
    /// Technician's name.
    pub name: String,
    /// Planned start and end of the visit.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// Road km the job adds to the technician's day.
    pub extra_km: f64,
    /// Why this technician, in words.
    pub reasons: Vec<String>,
}

/// A job nobody could take, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Left {
    /// Issue key.
    pub key: String,
    /// Why.
    pub reason: String,
}

/// A technician's day before and after the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CrewSummary {
    /// Account id.
    pub account_id: String,
    /// Name.
    pub name: String,
    /// Jobs on the day before the run.
    pub jobs_before: usize,
    /// Jobs given by the run.
    pub jobs_added: usize,
    /// Road km of the day before and after.
    pub km_before: f64,
    /// After.
    pub km_after: f64,
    /// When the day ends after the run.
    pub ends: Option<Timestamp>,
    /// The day after the run, in visiting order (the technician's jobs and the new ones).
    #[serde(skip)]
    pub stops: Vec<Stop>,
}

/// The result of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Plan {
    /// Jobs given, in the order they were decided.
    pub proposals: Vec<Proposal>,
    /// Jobs left in the queue.
    pub left: Vec<Left>,
    /// Technicians who got work (and those who did not, with their day).
    pub crews: Vec<CrewSummary>,
}

struct State<'a> {
    crew: &'a Crew,
    travel: Travel,
    stops: Vec<Stop>,
    current: Option<Timeline>,
    added: Vec<String>,
    km_before: f64,
}

impl State<'_> {
    fn timeline_of(&self, stops: &[Stop]) -> Option<Timeline> {
        let (start, end) = self.crew.window?;
        Some(timeline(
            self.crew.position,
            start,
            stops,
            self.crew.home,
            Some(end),
            &self.travel,
        ))
    }
}

/// Whether `after` (the day with `new` added) treats every visit of `before` at least as
/// well: one that kept the day still does, one that did not starts no later.
fn no_worse(before: Option<&Timeline>, after: &Timeline, new: &str) -> bool {
    let Some(before) = before else {
        return true;
    };
    after.visits.iter().filter(|v| v.key != new).all(|v| {
        match before.visits.iter().find(|b| b.key == v.key) {
            Some(b) if b.late || b.after_hours => v.start <= b.start,
            _ => !v.late && !v.after_hours,
        }
    })
}

/// Why a technician could not take a job; the most telling one is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Miss {
    Unavailable,
    Skills,
    Reach,
    Time,
}

/// Places `jobs` (most urgent first) on `crews`' days.
pub fn plan(jobs: &[Job], crews: &[Crew], rules: &Rules) -> Plan {
    let mut states: Vec<State<'_>> = crews
        .iter()
        .map(|crew| {
            let mut s = State {
                crew,
                travel: rules.travel,
                stops: crew.day.clone(),
                current: None,
                added: Vec::new(),
                km_before: 0.0,
            };
            s.current = s.timeline_of(&s.stops);
            s.km_before = s.current.as_ref().map_or(0.0, |t| t.km);
            s
        })
        .collect();
    let mut out = Plan::default();
    for job in jobs {
        let Some(location) = job.location else {
            out.left.push(Left {
                key: job.key.clone(),
                reason: "no location: assign it by hand".into(),
            });
            continue;
        };
        let mut best: Option<(f64, usize, Vec<Stop>, Timeline)> = None;
        let mut closest_miss: Option<Miss> = None;
        let mut note = |m: Miss| closest_miss = Some(closest_miss.map_or(m, |c| c.max(m)));
        for (ci, st) in states.iter().enumerate() {
            let crew = st.crew;
            if crew.unavailable.is_some() || crew.window.is_none() {
                note(Miss::Unavailable);
                continue;
            }
            if !job.skills.is_subset(&crew.skills) {
                note(Miss::Skills);
                continue;
            }
            let reach = [crew.position, crew.home]
                .into_iter()
                .flatten()
                .chain(st.stops.iter().filter_map(|s| s.location))
                .map(|p| p.km_to(location))
                .fold(f64::INFINITY, f64::min);
            if reach > rules.max_km {
                note(Miss::Reach);
                continue;
            }
            let base_km = st.current.as_ref().map_or(0.0, |t| t.km);
            let new = Stop {
                key: job.key.clone(),
                location: Some(location),
                minutes: job.minutes.max(1),
                fixed: job.appointment,
            };
            let mut fitted = false;
            for at in 0..=st.stops.len() {
                let mut cand = st.stops.clone();
                cand.insert(at, new.clone());
                let Some(tl) = st.timeline_of(&cand) else {
                    continue;
                };
                // The new visit keeps the day, nothing that was on time becomes late, and
                // nothing already late (an overbooked day) gets later.
                let own = tl.visits.get(at).is_some_and(|v| !v.late && !v.after_hours);
                if !own || !no_worse(st.current.as_ref(), &tl, &job.key) {
                    continue;
                }
                fitted = true;
                let extra = tl.km - base_km;
                // Minutes of extra driving, plus the charge for work already given.
                let cost = extra.max(0.0) * 60.0 / rules.travel.km_per_hour.max(1.0)
                    + (rules.spread_minutes as f64) * st.added.len() as f64;
                let better = match &best {
                    None => true,
                    Some((c, bi, _, _)) => {
                        cost < *c - 1e-9
                            || ((cost - *c).abs() <= 1e-9 && states[*bi].crew.name > crew.name)
                    }
                };
                if better {
                    best = Some((cost, ci, cand, tl));
                }
            }
            if !fitted {
                note(Miss::Time);
            }
        }
        let Some((_, ci, stops, tl)) = best else {
            let reason = match closest_miss {
                None | Some(Miss::Unavailable) => "no technician is available today".to_string(),
                Some(Miss::Skills) => {
                    let names: Vec<&str> = job.skills.iter().map(String::as_str).collect();
                    format!(
                        "no available technician has every skill it needs ({})",
                        names.join(", ")
                    )
                }
                Some(Miss::Reach) => format!(
                    "every technician who could do it is more than {:.0} km away",
                    rules.max_km
                ),
                Some(Miss::Time) => format!(
                    "it does not fit anybody's working day ({} min on site plus travel)",
                    job.minutes
                ),
            };
            out.left.push(Left {
                key: job.key.clone(),
                reason,
            });
            continue;
        };
        let st = &mut states[ci];
        st.stops = stops;
        st.current = Some(tl);
        st.added.push(job.key.clone());
        out.proposals.push(Proposal {
            key: job.key.clone(),
            account_id: st.crew.account_id.clone(),
            name: st.crew.name.clone(),
            start: Timestamp::UNIX_EPOCH,
            end: Timestamp::UNIX_EPOCH,
            extra_km: 0.0,
            reasons: Vec::new(),
        });
    }
    // Times and reasons come from each technician's final route (later jobs may have been
    // placed before earlier ones).
    for p in &mut out.proposals {
        let Some(st) = states.iter().find(|s| s.crew.account_id == p.account_id) else {
            continue;
        };
        let Some(tl) = &st.current else { continue };
        let Some((i, v)) = tl.visits.iter().enumerate().find(|(_, v)| v.key == p.key) else {
            continue;
        };
        p.start = v.start;
        p.end = v.end;
        // What the day would cost without this job.
        let without: Vec<Stop> = st
            .stops
            .iter()
            .filter(|s| s.key != p.key)
            .cloned()
            .collect();
        let km_without = st.timeline_of(&without).map_or(0.0, |t| t.km);
        p.extra_km = (tl.km - km_without).max(0.0);
        let job_skills = jobs
            .iter()
            .find(|j| j.key == p.key)
            .map_or(0, |j| j.skills.len());
        p.reasons = vec![
            match job_skills {
                0 => "no skills required".to_string(),
                1 => "has the skill needed".to_string(),
                n => format!("has all {n} skills needed"),
            },
            match tl.visits.get(i.wrapping_sub(1)).filter(|_| i > 0) {
                Some(prev) => format!("{:.1} km from {}", v.travel_km, prev.key),
                None => format!("{:.1} km from where the day starts", v.travel_km),
            },
            format!("adds {:.1} km to the day", p.extra_km),
            format!("job {} of {} today", i + 1, tl.visits.len()),
        ];
    }
    out.crews = states
        .iter()
        .map(|s| CrewSummary {
            account_id: s.crew.account_id.clone(),
            name: s.crew.name.clone(),
            jobs_before: s.crew.day.len(),
            jobs_added: s.added.len(),
            km_before: s.km_before,
            km_after: s.current.as_ref().map_or(0.0, |t| t.km),
            ends: s.current.as_ref().map(|t| t.ends),
            stops: s.stops.clone(),
        })
        .collect();
    out
}

#[cfg(test)]
mod tests;
