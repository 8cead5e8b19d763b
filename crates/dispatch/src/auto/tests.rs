#![allow(clippy::unwrap_used)]
use proptest::prelude::*;

use super::*;

fn p(lat: f64, lon: f64) -> LatLon {
    LatLon::new(lat, lon).unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn skills(s: &[&str]) -> BTreeSet<String> {
    s.iter().map(|x| x.to_string()).collect()
}

fn crew(id: &str, home: LatLon, have: &[&str]) -> Crew {
    Crew {
        account_id: id.into(),
        name: id.into(),
        skills: skills(have),
        unavailable: None,
        position: Some(home),
        home: Some(home),
        window: Some((at("2026-11-30T08:00:00Z"), at("2026-11-30T16:00:00Z"))),
        day: Vec::new(),
    }
}

fn job(key: &str, loc: LatLon, need: &[&str], minutes: i64) -> Job {
    Job {
        key: key.into(),
        skills: skills(need),
        location: Some(loc),
        minutes,
        appointment: None,
    }
}

fn given(plan: &Plan) -> Vec<(String, String)> {
    plan.proposals
        .iter()
        .map(|p| (p.key.clone(), p.account_id.clone()))
        .collect()
}

const WEST: (f64, f64) = (53.48, -2.30);
const EAST: (f64, f64) = (53.48, -1.90);

#[test]
fn the_nearest_technician_with_the_skills_gets_the_job() {
    let crews = [
        crew("west", p(WEST.0, WEST.1), &["electrical"]),
        crew("east", p(EAST.0, EAST.1), &["electrical", "gas"]),
    ];
    let jobs = [
        job("FS-1", p(53.48, -2.28), &["electrical"], 60),
        job("FS-2", p(53.48, -2.28), &["gas"], 60),
        job("FS-3", p(53.48, -1.92), &[], 60),
    ];
    let plan = plan(&jobs, &crews, &Rules::default());
    assert_eq!(
        given(&plan),
        [
            ("FS-1".into(), "west".into()),
            ("FS-2".into(), "east".into()),
            ("FS-3".into(), "east".into())
        ]
    );
    assert!(plan.left.is_empty());
    let fs1 = &plan.proposals[0];
    assert!(
        fs1.reasons.iter().any(|r| r == "has the skill needed"),
        "{:?}",
        fs1.reasons
    );
    assert!(fs1.start >= at("2026-11-30T08:00:00Z"));
    assert_eq!(fs1.end.as_second() - fs1.start.as_second(), 3600);
}

#[test]
fn jobs_nobody_can_take_are_left_with_the_reason() {
    let mut away = crew("away", p(WEST.0, WEST.1), &["gas"]);
    away.unavailable = Some("Absent".into());
    let crews = [away, crew("here", p(EAST.0, EAST.1), &[])];
    let jobs = [
        Job {
            location: None,
            ..job("FS-1", p(53.0, -2.0), &[], 60)
        },
        job("FS-2", p(53.48, -2.0), &["gas"], 60),
        job("FS-3", p(51.5, -0.1), &[], 60),
        job("FS-4", p(53.48, -1.95), &[], 9 * 60),
    ];
    let plan = plan(&jobs, &crews, &Rules::default());
    assert!(plan.proposals.is_empty(), "{:?}", plan.proposals);
    let reasons: Vec<(&str, &str)> = plan
        .left
        .iter()
        .map(|l| (l.key.as_str(), l.reason.as_str()))
        .collect();
    assert_eq!(reasons[0], ("FS-1", "no location: assign it by hand"));
    assert_eq!(
        reasons[1],
        (
            "FS-2",
            "no available technician has every skill it needs (gas)"
        )
    );
    assert_eq!(
        reasons[2],
        (
            "FS-3",
            "every technician who could do it is more than 80 km away"
        )
    );
    assert_eq!(
        reasons[3],
        (
            "FS-4",
            "it does not fit anybody's working day (540 min on site plus travel)"
        )
    );
}

#[test]
fn nobody_available_says_so() {
    let mut a = crew("a", p(WEST.0, WEST.1), &[]);
    a.window = None;
    let plan = plan(
        &[job("FS-1", p(WEST.0, WEST.1), &[], 30)],
        &[a],
        &Rules::default(),
    );
    assert_eq!(plan.left[0].reason, "no technician is available today");
}

#[test]
fn appointments_already_on_the_day_are_kept() {
    let mut c = crew("c", p(WEST.0, WEST.1), &[]);
    // Booked 09:00–15:00 at home: only 08:00–09:00 and 15:00–16:00 are free.
    c.day = vec![Stop {
        key: "FS-9".into(),
        location: Some(p(WEST.0, WEST.1)),
        minutes: 6 * 60,
        fixed: Some(at("2026-11-30T09:00:00Z")),
    }];
    let plan = plan(
        &[
            job("FS-1", p(53.49, -2.30), &[], 45),
            job("FS-2", p(53.49, -2.30), &[], 45),
            job("FS-3", p(53.49, -2.30), &[], 45),
        ],
        &[c],
        &Rules::default(),
    );
    // Two fit (one before, one after the booking); the third does not.
    assert_eq!(plan.proposals.len(), 2, "{plan:?}");
    for pr in &plan.proposals {
        let before = pr.end <= at("2026-11-30T09:00:00Z");
        let after = pr.start >= at("2026-11-30T15:00:00Z") && pr.end <= at("2026-11-30T16:00:00Z");
        assert!(before || after, "{pr:?}");
    }
    assert_eq!(plan.left.len(), 1);
}

#[test]
fn work_is_spread_between_equally_placed_technicians() {
    let here = p(WEST.0, WEST.1);
    let crews = [crew("a", here, &[]), crew("b", here, &[])];
    let jobs: Vec<Job> = (0..4)
        .map(|i| job(&format!("FS-{i}"), p(53.49, -2.30), &[], 60))
        .collect();
    let plan = plan(&jobs, &crews, &Rules::default());
    let to_a = plan
        .proposals
        .iter()
        .filter(|p| p.account_id == "a")
        .count();
    assert_eq!(to_a, 2, "{:?}", given(&plan));
    let a = plan.crews.iter().find(|c| c.account_id == "a").unwrap();
    assert_eq!(a.jobs_added, 2);
    assert!(a.km_after > a.km_before);
}

fn instance() -> impl Strategy<Value = (Vec<Job>, Vec<Crew>)> {
    let loc = (53.0f64..54.0, -3.0f64..-1.0);
    let skill = prop::sample::subsequence(vec!["gas", "electrical", "hvac"], 0..=2);
    let jobs = prop::collection::vec((loc.clone(), skill.clone(), 15i64..240), 0..25);
    let crews = prop::collection::vec((loc, skill, any::<bool>(), 0u8..3), 1..6);
    (jobs, crews).prop_map(|(jobs, crews)| {
        let jobs = jobs
            .into_iter()
            .enumerate()
            .map(|(i, ((a, b), s, m))| job(&format!("FS-{i}"), p(a, b), &s, m))
            .collect();
        let crews = crews
            .into_iter()
            .enumerate()
            .map(|(i, ((a, b), s, avail, booked))| {
                let mut c = crew(&format!("t{i}"), p(a, b), &s);
                if !avail {
                    c.unavailable = Some("Off duty".into());
                }
                c.day = (0..booked)
                    .map(|k| Stop {
                        key: format!("X-{i}-{k}"),
                        location: Some(p(a, b)),
                        minutes: 60,
                        fixed: Some(
                            at("2026-11-30T10:00:00Z")
                                .checked_add(jiff::SignedDuration::from_hours(i64::from(k) * 3))
                                .unwrap(),
                        ),
                    })
                    .collect();
                c
            })
            .collect();
        (jobs, crews)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_plan_keeps_the_rules((jobs, crews) in instance()) {
        let rules = Rules::default();
        let plan = plan(&jobs, &crews, &rules);
        // Each job decided exactly once.
        let mut keys: Vec<&str> = plan.proposals.iter().map(|p| p.key.as_str())
            .chain(plan.left.iter().map(|l| l.key.as_str())).collect();
        keys.sort_unstable();
        let mut want: Vec<&str> = jobs.iter().map(|j| j.key.as_str()).collect();
        want.sort_unstable();
        prop_assert_eq!(keys, want);
        for c in &crews {
            let mine: Vec<&Proposal> = plan.proposals.iter().filter(|p| p.account_id == c.account_id).collect();
            if c.unavailable.is_some() {
                prop_assert!(mine.is_empty());
            }
            let (open, close) = c.window.unwrap();
            // Visits (booked and new) never overlap and new ones stay within the day.
            let mut spans: Vec<(Timestamp, Timestamp)> = c.day.iter()
                .map(|s| (s.fixed.unwrap(), s.fixed.unwrap().checked_add(jiff::SignedDuration::from_mins(s.minutes)).unwrap()))
                .collect();
            for p in &mine {
                let j = jobs.iter().find(|j| j.key == p.key).unwrap();
                prop_assert!(j.skills.is_subset(&c.skills));
                prop_assert!(p.start >= open && p.end <= close, "{:?}", p);
                prop_assert_eq!(p.end.as_second() - p.start.as_second(), j.minutes * 60);
                spans.push((p.start, p.end));
            }
            spans.sort();
            for w in spans.windows(2) {
                prop_assert!(w[0].1 <= w[1].0, "overlap {:?}", w);
            }
        }
    }
}

#[test]
fn an_overbooked_day_takes_work_only_where_it_breaks_nothing_more() {
    let mut c = crew("c", p(WEST.0, WEST.1), &[]);
    // Already late at 08:00 for a 07:30 booking (before the window): one broken visit.
    c.day = vec![Stop {
        key: "FS-9".into(),
        location: Some(p(53.49, -2.30)),
        minutes: 60,
        fixed: Some(at("2026-11-30T07:30:00Z")),
    }];
    let plan = plan(
        &[job("FS-1", p(53.49, -2.31), &[], 60)],
        &[c],
        &Rules::default(),
    );
    assert_eq!(plan.proposals.len(), 1, "{plan:?}");
    assert!(plan.proposals[0].start >= at("2026-11-30T09:00:00Z"));
}
