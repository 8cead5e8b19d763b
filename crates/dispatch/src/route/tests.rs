#![allow(clippy::unwrap_used)]
use proptest::prelude::*;

use super::*;

fn p(lat: f64, lon: f64) -> LatLon {
    LatLon::new(lat, lon).unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn stop(key: &str, loc: Option<LatLon>, minutes: i64) -> Stop {
    Stop {
        key: key.into(),
        location: loc,
        minutes,
        fixed: None,
    }
}

/// Every order, for checking the exact search.
fn brute_force(start: Option<LatLon>, end: Option<LatLon>, points: &[LatLon]) -> f64 {
    fn go(
        start: Option<LatLon>,
        end: Option<LatLon>,
        points: &[LatLon],
        order: &mut Vec<usize>,
        best: &mut f64,
    ) {
        if order.len() == points.len() {
            *best = best.min(path_km(start, end, points, order));
            return;
        }
        for i in 0..points.len() {
            if !order.contains(&i) {
                order.push(i);
                go(start, end, points, order, best);
                order.pop();
            }
        }
    }
    let mut best = f64::INFINITY;
    go(start, end, points, &mut Vec::new(), &mut best);
    best
}

#[test]
fn a_timeline_adds_travel_waits_for_appointments_and_flags_the_rest() {
    let travel = Travel {
        km_per_hour: 60.0,
        detour: 1.0,
    };
    let home = p(53.0, -2.0);
    // ~11.1 km north per 0.1 degree of latitude: 12 minutes at 60 km/h.
    let a = p(53.1, -2.0);
    let b = p(53.2, -2.0);
    let stops = vec![
        stop("FS-1", Some(a), 30),
        Stop {
            fixed: Some(at("2026-11-30T10:00:00Z")),
            ..stop("FS-2", Some(b), 60)
        },
        stop("FS-3", None, 15),
    ];
    let day_end = Some(at("2026-11-30T11:10:00Z"));
    let t = timeline(
        Some(home),
        at("2026-11-30T09:00:00Z"),
        &stops,
        Some(home),
        day_end,
        &travel,
    );
    let v = &t.visits;
    assert_eq!(v[0].travel_minutes, 12);
    assert_eq!(v[0].start, at("2026-11-30T09:12:00Z"));
    assert_eq!(v[0].end, at("2026-11-30T09:42:00Z"));
    // Arrives 09:54 for a 10:00 appointment: waits 6 minutes.
    assert_eq!(v[1].wait_minutes, 6);
    assert_eq!(v[1].start, at("2026-11-30T10:00:00Z"));
    assert!(!v[1].late);
    // No location: no travel, flagged after hours (ends 11:15 > 11:10).
    assert_eq!(v[2].travel_km, 0.0);
    assert_eq!(v[2].start, at("2026-11-30T11:00:00Z"));
    assert!(v[2].after_hours);
    assert!(!t.feasible());
    // Home from the last known place (b): 24 minutes.
    assert!((t.home_km - 22.24).abs() < 0.1, "{}", t.home_km);
    assert_eq!(t.travel_minutes, 12 + 12 + 23);
    assert_eq!(t.ends, at("2026-11-30T11:38:00Z"));
}

#[test]
fn a_missed_appointment_is_late() {
    let travel = Travel::default();
    let stops = vec![Stop {
        fixed: Some(at("2026-11-30T09:00:00Z")),
        ..stop("FS-1", Some(p(53.5, -2.0)), 30)
    }];
    let t = timeline(
        Some(p(53.0, -2.0)),
        at("2026-11-30T09:00:00Z"),
        &stops,
        None,
        None,
        &travel,
    );
    assert!(t.visits[0].late);
    assert!(t.visits[0].start > at("2026-11-30T09:00:00Z"));
}

#[test]
fn the_exact_order_is_the_brute_force_optimum() {
    let points = vec![
        p(53.48, -2.24),
        p(53.41, -2.99),
        p(53.80, -1.55),
        p(53.38, -1.47),
        p(53.75, -2.70),
        p(53.54, -2.63),
        p(53.39, -2.60),
    ];
    let start = Some(p(53.45, -2.10));
    for end in [None, start] {
        let order = best_order(start, end, &points);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..points.len()).collect::<Vec<_>>());
        let got = path_km(start, end, &points, &order);
        let want = brute_force(start, end, &points);
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
}

#[test]
fn optimise_keeps_the_job_under_way_first_and_unlocated_jobs_last() {
    let home = p(53.0, -2.0);
    let stops = vec![
        stop("UNDERWAY", Some(p(53.3, -2.0)), 60),
        stop("FAR", Some(p(53.9, -2.0)), 60),
        stop("NOWHERE", None, 30),
        stop("NEAR", Some(p(53.4, -2.0)), 60),
        stop("MIDDLE", Some(p(53.6, -2.0)), 60),
    ];
    let keys: Vec<String> = optimise(Some(home), None, &stops, 1)
        .into_iter()
        .map(|s| s.key)
        .collect();
    assert_eq!(keys, ["UNDERWAY", "NEAR", "MIDDLE", "FAR", "NOWHERE"]);
}

#[test]
fn optimise_does_not_move_appointments() {
    let home = p(53.0, -2.0);
    let stops = vec![
        stop("B", Some(p(53.2, -2.0)), 30),
        stop("A", Some(p(53.1, -2.0)), 30),
        Stop {
            fixed: Some(at("2026-11-30T13:00:00Z")),
            ..stop("APPT", Some(p(53.5, -2.0)), 30)
        },
        stop("D", Some(p(53.9, -2.0)), 30),
        stop("C", Some(p(53.7, -2.0)), 30),
    ];
    let keys: Vec<String> = optimise(Some(home), Some(home), &stops, 0)
        .into_iter()
        .map(|s| s.key)
        .collect();
    assert_eq!(keys, ["A", "B", "APPT", "C", "D"]);
}

fn points_strategy(max: usize) -> impl Strategy<Value = Vec<LatLon>> {
    prop::collection::vec((53.0f64..54.0, -3.0f64..-1.0), 0..max)
        .prop_map(|v| v.into_iter().map(|(a, b)| p(a, b)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn small_orders_are_optimal(points in points_strategy(7), home in (53.0f64..54.0, -3.0f64..-1.0)) {
        let start = Some(p(home.0, home.1));
        let order = best_order(start, start, &points);
        prop_assert_eq!(order.len(), points.len());
        let got = path_km(start, start, &points, &order);
        let want = if points.is_empty() { 0.0 } else { brute_force(start, start, &points) };
        prop_assert!((got - want).abs() < 1e-6, "{} vs {}", got, want);
    }

    #[test]
    fn large_orders_visit_everything_once_and_beat_the_given_order(points in points_strategy(40)) {
        let start = points.first().copied();
        let order = best_order(start, None, &points);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        prop_assert_eq!(sorted, (0..points.len()).collect::<Vec<_>>());
        let given: Vec<usize> = (0..points.len()).collect();
        let nn = nearest_neighbour_for_test(start, &points);
        let got = path_km(start, None, &points, &order);
        prop_assert!(got <= path_km(start, None, &points, &given) + 1e-6);
        prop_assert!(got <= path_km(start, None, &points, &nn) + 1e-6);
    }
}

fn nearest_neighbour_for_test(start: Option<LatLon>, points: &[LatLon]) -> Vec<usize> {
    if points.is_empty() {
        return Vec::new();
    }
    super::nearest_neighbour(start, points)
}

#[test]
fn the_search_beyond_ten_stops_comes_close_to_the_optimum() {
    // Deterministic instances (a linear congruential generator), solved both ways at 10 stops.
    let mut x: u64 = 42;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut worst: f64 = 1.0;
    for _ in 0..20 {
        let points: Vec<LatLon> = (0..10)
            .map(|_| p(53.0 + next(), -3.0 + 2.0 * next()))
            .collect();
        let home = Some(p(53.5, -2.0));
        let exact = path_km(home, home, &points, &held_karp(home, home, &points));
        let mut order = nearest_neighbour(home, &points);
        improve(home, home, &points, &mut order);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        let got = path_km(home, home, &points, &order);
        assert!(got >= exact - 1e-6);
        worst = worst.max(got / exact);
    }
    assert!(worst < 1.05, "heuristic up to {worst:.3}x the optimum");
}
