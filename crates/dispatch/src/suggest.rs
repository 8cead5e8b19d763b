//! Suggested technicians for a ticket: available technicians ranked by skill match, free
//! working time, current load and straight-line distance, each with its reasons.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::Serialize;

use crate::geo::LatLon;
use crate::technician::{Availability, Technician};

/// What the ticket needs.
#[derive(Clone, Debug, Default)]
pub struct Needs {
    /// Required skills (normalised).
    pub skills: BTreeSet<String>,
    /// Where the work is.
    pub location: Option<LatLon>,
    /// Expected minutes on site (defaults to an hour when unknown).
    pub estimate_minutes: Option<i64>,
}

/// A technician as the board knows them right now.
#[derive(Clone, Debug)]
pub struct Candidate<'a> {
    /// The technician.
    pub tech: &'a Technician,
    /// Open tickets assigned to them (not Done).
    pub load: u32,
    /// Their booked intervals today (scheduled visits).
    pub booked: Vec<(Timestamp, Timestamp)>,
    /// Where they are: the current job's location, else their home base.
    pub position: Option<LatLon>,
    /// Whether the ticket fits their route today (as automatic dispatch would place it).
    pub fit: Option<Fit>,
}

/// How a ticket fits a technician's route today.
#[derive(Clone, Debug, PartialEq)]
pub enum Fit {
    /// At this time, adding this much driving.
    At {
        /// Start of the visit.
        start: Timestamp,
        /// End.
        end: Timestamp,
        /// Road km added to the day.
        extra_km: f64,
    },
    /// Not today, and why.
    No(String),
}

/// Why a technician was left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Excluded {
    /// Availability is not Available or On break.
    Unavailable(String),
    /// A day off today.
    DayOff(String),
    /// No working hours left today.
    NoTimeLeft,
}

/// One ranked technician.
#[derive(Clone, Debug, Serialize)]
pub struct Suggestion {
    /// Account id.
    pub account_id: String,
    /// Name shown.
    pub display_name: String,
    /// 0–100, higher is better.
    pub score: u32,
    /// Each factor, in words, in the order they weigh.
    pub reasons: Vec<String>,
    /// Distance, when both positions are known.
    pub km: Option<f64>,
}

/// The result: ranked suggestions and who was left out, with why.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Suggestions {
    /// Best first.
    pub ranked: Vec<Suggestion>,
    /// Left out, with the reason.
    pub excluded: Vec<(String, Excluded)>,
}

// Weights of the four factors (sum 100).
const W_SKILL: f64 = 40.0;
const W_TIME: f64 = 25.0;
const W_DISTANCE: f64 = 20.0;
const W_LOAD: f64 = 15.0;
/// Distance at which the distance factor reaches zero.
const FAR_KM: f64 = 80.0;
/// Load at which the load factor reaches zero.
const HEAVY_LOAD: f64 = 8.0;

fn hours_minutes(m: i64) -> String {
    match (m / 60, m % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// Ranks `candidates` for a ticket needing `needs` at `now`.
pub fn suggest(needs: &Needs, candidates: &[Candidate<'_>], now: Timestamp) -> Suggestions {
    let mut out = Suggestions::default();
    let estimate = needs.estimate_minutes.unwrap_or(60).max(1);
    for c in candidates {
        let t = c.tech;
        if matches!(t.availability, Availability::OffDuty | Availability::Absent) {
            out.excluded.push((
                t.account_id.clone(),
                Excluded::Unavailable(t.availability.label().into()),
            ));
            continue;
        }
        let today = t.today(now);
        if let Some(off) = t.off_on(today) {
            out.excluded
                .push((t.account_id.clone(), Excluded::DayOff(off.reason.clone())));
            continue;
        }
        let free = t.free_minutes(today, now, &c.booked);
        if free <= 0 {
            out.excluded
                .push((t.account_id.clone(), Excluded::NoTimeLeft));
            continue;
        }
        let mut reasons = Vec::new();
        // Skills.
        let skill = if needs.skills.is_empty() {
            reasons.push("no skills required".to_string());
            1.0
        } else {
            let have: Vec<&String> = needs.skills.intersection(&t.skills).collect();
            let missing: Vec<&String> = needs.skills.difference(&t.skills).collect();
            let mut r = format!("has {} of {} skills", have.len(), needs.skills.len());
            if !missing.is_empty() {
                let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                r.push_str(&format!(" (missing {})", names.join(", ")));
            }
            reasons.push(r);
            have.len() as f64 / needs.skills.len() as f64
        };
        // Free time.
        let time = (free as f64 / estimate as f64).min(1.0);
        let mut r = format!("{} free today", hours_minutes(free));
        if free < estimate {
            r.push_str(&format!(
                ", less than the {} needed",
                hours_minutes(estimate)
            ));
        }
        reasons.push(r);
        // Distance.
        let km = match (needs.location, c.position) {
            (Some(a), Some(b)) => Some(a.km_to(b)),
            _ => None,
        };
        let distance = match km {
            Some(k) => {
                reasons.push(format!("{k:.1} km away"));
                (1.0 - k / FAR_KM).max(0.0)
            }
            None => {
                reasons.push("distance unknown".into());
                0.5
            }
        };
        // Load.
        let load = (1.0 - f64::from(c.load) / HEAVY_LOAD).max(0.0);
        reasons.push(match c.load {
            0 => "no open jobs".to_string(),
            1 => "1 open job".to_string(),
            n => format!("{n} open jobs"),
        });
        if t.availability == Availability::OnBreak {
            reasons.push("on a break now".into());
        }
        let mut score = W_SKILL * skill + W_TIME * time + W_DISTANCE * distance + W_LOAD * load;
        if t.availability == Availability::OnBreak {
            score *= 0.9;
        }
        match &c.fit {
            Some(Fit::At {
                start,
                end,
                extra_km,
            }) => {
                let hm =
                    |ts: &Timestamp| ts.to_zoned_datetime(t.tz()).strftime("%H:%M").to_string();
                reasons.push(format!(
                    "fits today's route at {}–{} (adds {extra_km:.1} km)",
                    hm(start),
                    hm(end)
                ));
            }
            Some(Fit::No(why)) => {
                reasons.push(format!("does not fit today's route: {why}"));
                score *= 0.7;
            }
            None => {}
        }
        out.ranked.push(Suggestion {
            account_id: t.account_id.clone(),
            display_name: t.display_name.clone(),
            score: score.round().clamp(0.0, 100.0) as u32,
            reasons,
            km,
        });
    }
    out.ranked.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| {
                a.km.unwrap_or(f64::MAX)
                    .total_cmp(&b.km.unwrap_or(f64::MAX))
            })
            .then_with(|| a.display_name.cmp(&b.display_name))
    });
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use jiff::civil::{date, time};

    use super::*;
    use crate::technician::{TechSource, TimeOff, weekdays};

    fn tech(id: &str, skills: &[&str]) -> Technician {
        let mut t = Technician::new(id, id, TechSource::Manual);
        t.zone = "Europe/London".into();
        t.hours = weekdays(time(8, 0, 0, 0), time(16, 0, 0, 0));
        t.skills = skills.iter().map(|s| s.to_string()).collect();
        t
    }

    fn now() -> Timestamp {
        "2026-11-30T09:00:00Z".parse().unwrap()
    }

    fn needs() -> Needs {
        Needs {
            skills: ["electrical".to_string(), "gas".to_string()].into(),
            location: Some(LatLon::new(53.48, -2.24).unwrap()),
            estimate_minutes: Some(90),
        }
    }

    #[test]
    fn ranks_by_skills_then_distance_with_reasons() {
        let a = tech("a", &["electrical", "gas"]);
        let b = tech("b", &["electrical"]);
        let c = tech("c", &["electrical", "gas"]);
        let near = Some(LatLon::new(53.49, -2.25).unwrap());
        let far = Some(LatLon::new(53.80, -1.55).unwrap()); // Leeds
        let cands = vec![
            Candidate {
                tech: &a,
                load: 1,
                booked: vec![],
                position: far,
                fit: None,
            },
            Candidate {
                tech: &b,
                load: 0,
                booked: vec![],
                position: near,
                fit: None,
            },
            Candidate {
                tech: &c,
                load: 1,
                booked: vec![],
                position: near,
                fit: None,
            },
        ];
        let s = suggest(&needs(), &cands, now());
        let order: Vec<&str> = s.ranked.iter().map(|x| x.account_id.as_str()).collect();
        assert_eq!(order, ["c", "a", "b"]);
        let b_reasons = &s.ranked[2].reasons;
        assert_eq!(b_reasons[0], "has 1 of 2 skills (missing gas)");
        assert_eq!(b_reasons[1], "7 h free today");
        assert!(b_reasons[2].ends_with("km away"));
        assert_eq!(b_reasons[3], "no open jobs");
    }

    #[test]
    fn unavailable_day_off_and_full_days_are_excluded_with_why() {
        let mut absent = tech("absent", &[]);
        absent.availability = Availability::Absent;
        let mut off = tech("off", &[]);
        off.time_off.push(TimeOff {
            from: date(2026, 11, 30),
            to: date(2026, 11, 30),
            reason: "Dentist".into(),
        });
        let full = tech("full", &[]);
        let booked = vec![(now(), "2026-11-30T16:00:00Z".parse().unwrap())];
        let cands = vec![
            Candidate {
                tech: &absent,
                load: 0,
                booked: vec![],
                position: None,
                fit: None,
            },
            Candidate {
                tech: &off,
                load: 0,
                booked: vec![],
                position: None,
                fit: None,
            },
            Candidate {
                tech: &full,
                load: 0,
                booked,
                position: None,
                fit: None,
            },
        ];
        let s = suggest(&needs(), &cands, now());
        assert!(s.ranked.is_empty());
        assert_eq!(
            s.excluded,
            vec![
                ("absent".into(), Excluded::Unavailable("Absent".into())),
                ("off".into(), Excluded::DayOff("Dentist".into())),
                ("full".into(), Excluded::NoTimeLeft),
            ]
        );
    }

    #[test]
    fn load_and_short_time_lower_the_score() {
        let idle = tech("idle", &["electrical", "gas"]);
        let busy = tech("busy", &["electrical", "gas"]);
        let late_booked = vec![(
            "2026-11-30T09:00:00Z".parse().unwrap(),
            "2026-11-30T15:30:00Z".parse().unwrap(),
        )];
        let cands = vec![
            Candidate {
                tech: &busy,
                load: 6,
                booked: late_booked,
                position: None,
                fit: None,
            },
            Candidate {
                tech: &idle,
                load: 0,
                booked: vec![],
                position: None,
                fit: None,
            },
        ];
        let s = suggest(&needs(), &cands, now());
        assert_eq!(s.ranked[0].account_id, "idle");
        assert!(s.ranked[1].reasons[1].contains("less than the 1 h 30 min needed"));
        assert!(s.ranked[0].score > s.ranked[1].score);
    }

    #[test]
    fn a_ticket_that_does_not_fit_the_route_ranks_lower_and_says_why() {
        let a = tech("a", &["electrical", "gas"]);
        let b = tech("b", &["electrical", "gas"]);
        let here = LatLon::new(53.48, -2.24).ok();
        let cands = vec![
            Candidate {
                tech: &a,
                load: 0,
                booked: vec![],
                position: here,
                fit: Some(Fit::No("no room left in the working day".into())),
            },
            Candidate {
                tech: &b,
                load: 0,
                booked: vec![],
                position: here,
                fit: Some(Fit::At {
                    start: "2026-11-30T10:00:00Z".parse().unwrap(),
                    end: "2026-11-30T11:30:00Z".parse().unwrap(),
                    extra_km: 2.04,
                }),
            },
        ];
        let s = suggest(&needs(), &cands, now());
        assert_eq!(s.ranked[0].account_id, "b");
        assert!(s.ranked[0].score > s.ranked[1].score);
        assert!(
            s.ranked[0]
                .reasons
                .contains(&"fits today's route at 10:00–11:30 (adds 2.0 km)".to_string()),
            "{:?}",
            s.ranked[0].reasons
        );
        assert!(
            s.ranked[1].reasons.contains(
                &"does not fit today's route: no room left in the working day".to_string()
            )
        );
    }
}
