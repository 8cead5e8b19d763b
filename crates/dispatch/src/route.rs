//! Routes: the order a technician visits the day's jobs, and when they get where.
//!
//! Travel is estimated from straight-line distance times a detour factor at an average
//! speed ([`Travel`]): no road network is needed, and the figures say so where they are shown.
//! [`best_order`] finds the visiting order with the least distance (exact up to
//! [`EXACT_UP_TO`] stops, then nearest neighbour improved by 2-opt and or-opt moves), and
//! [`timeline`] turns an order into arrival and departure times, keeping appointments fixed.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::geo::LatLon;

/// How travel time is estimated from straight-line distance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Travel {
    /// Average speed on the road, km/h.
    pub km_per_hour: f64,
    /// Road distance per straight-line km (roads are not straight).
    pub detour: f64,
}

impl Default for Travel {
    fn default() -> Self {
        Self {
            km_per_hour: 40.0,
            detour: 1.3,
        }
    }
}

impl Travel {
    /// Estimated road km between two points.
    pub fn road_km(&self, a: LatLon, b: LatLon) -> f64 {
        a.km_to(b) * self.detour
    }

    /// Estimated minutes of driving for `road_km` (rounded up).
    pub fn minutes_for(&self, road_km: f64) -> i64 {
        if road_km <= 0.0 || self.km_per_hour <= 0.0 {
            return 0;
        }
        (road_km / self.km_per_hour * 60.0).ceil() as i64
    }
}

/// One job of a day's route.
#[derive(Clone, Debug, PartialEq)]
pub struct Stop {
    /// Issue key.
    pub key: String,
    /// Where it is (unknown: visited without travel time, flagged).
    pub location: Option<LatLon>,
    /// Minutes on site.
    pub minutes: i64,
    /// An appointment: the visit starts exactly then (arriving earlier means waiting).
    pub fixed: Option<Timestamp>,
}

/// One visit on a timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Visit {
    /// Issue key.
    pub key: String,
    /// Where it is.
    pub location: Option<LatLon>,
    /// Estimated road km from the previous place (0 when a position is unknown).
    pub travel_km: f64,
    /// Estimated minutes of driving from the previous place.
    pub travel_minutes: i64,
    /// Minutes waiting for an appointment.
    pub wait_minutes: i64,
    /// When the work starts.
    pub start: Timestamp,
    /// When it ends.
    pub end: Timestamp,
    /// The appointment was missed (arrival after the fixed start).
    pub late: bool,
    /// It ends after the working day.
    pub after_hours: bool,
}

/// A day's visits and their totals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Timeline {
    /// In visiting order.
    pub visits: Vec<Visit>,
    /// Road km, the way home included.
    pub km: f64,
    /// Minutes of driving, the way home included.
    pub travel_minutes: i64,
    /// Road km of the way home (0 without a home).
    pub home_km: f64,
    /// Back home (or at the last job's end without a home).
    pub ends: Timestamp,
}

impl Timeline {
    /// Whether every appointment is kept and everything ends within the day.
    pub fn feasible(&self) -> bool {
        self.visits.iter().all(|v| !v.late && !v.after_hours)
    }
}

/// Visits `stops` in the given order, leaving `from` at `start_at`, and returns `home` at
/// the end (if any). A stop without a location is visited without travel; an appointment
/// waits when early and is marked late when missed. `day_end` marks visits after hours.
pub fn timeline(
    from: Option<LatLon>,
    start_at: Timestamp,
    stops: &[Stop],
    home: Option<LatLon>,
    day_end: Option<Timestamp>,
    travel: &Travel,
) -> Timeline {
    let mut here = from;
    let mut clock = start_at;
    let mut visits = Vec::with_capacity(stops.len());
    let (mut km, mut minutes) = (0.0, 0);
    for s in stops {
        let leg = match (here, s.location) {
            (Some(a), Some(b)) => travel.road_km(a, b),
            _ => 0.0,
        };
        let drive = travel.minutes_for(leg);
        let arrive = add_minutes(clock, drive);
        let (start, wait, late) = match s.fixed {
            Some(at) if at >= arrive => (at, minutes_between(arrive, at), false),
            Some(at) => (arrive, 0, arrive > at),
            None => (arrive, 0, false),
        };
        let end = add_minutes(start, s.minutes.max(0));
        visits.push(Visit {
            key: s.key.clone(),
            location: s.location,
            travel_km: leg,
            travel_minutes: drive,
            wait_minutes: wait,
            start,
            end,
            late,
            after_hours: day_end.is_some_and(|e| end > e),
        });
        km += leg;
        minutes += drive;
        clock = end;
        if s.location.is_some() {
            here = s.location;
        }
    }
    let home_km = match (here, home) {
        (Some(a), Some(b)) if !stops.is_empty() => travel.road_km(a, b),
        _ => 0.0,
    };
    let home_minutes = travel.minutes_for(home_km);
    Timeline {
        visits,
        km: km + home_km,
        travel_minutes: minutes + home_minutes,
        home_km,
        ends: add_minutes(clock, home_minutes),
    }
}

fn add_minutes(t: Timestamp, m: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_mins(m)).unwrap_or(t)
}

fn minutes_between(a: Timestamp, b: Timestamp) -> i64 {
    (b.as_second() - a.as_second()) / 60
}

/// Up to this many stops [`best_order`] is exact (Held–Karp); beyond, heuristic.
pub const EXACT_UP_TO: usize = 10;

/// Straight-line km of visiting `points` in `order` from `start`, ending at `end`.
pub fn path_km(
    start: Option<LatLon>,
    end: Option<LatLon>,
    points: &[LatLon],
    order: &[usize],
) -> f64 {
    let mut km = 0.0;
    let mut here = start;
    for &i in order {
        let Some(&p) = points.get(i) else { continue };
        if let Some(h) = here {
            km += h.km_to(p);
        }
        here = Some(p);
    }
    if let (Some(h), Some(e)) = (here, end)
        && !order.is_empty()
    {
        km += h.km_to(e);
    }
    km
}

/// The order of `points` (indices) with the least straight-line distance from `start`
/// (if known) through every point to `end` (if given). Ties keep the given order.
pub fn best_order(start: Option<LatLon>, end: Option<LatLon>, points: &[LatLon]) -> Vec<usize> {
    let n = points.len();
    if n <= 1 {
        return (0..n).collect();
    }
    if n <= EXACT_UP_TO {
        return held_karp(start, end, points);
    }
    let mut best = nearest_neighbour(start, points);
    improve(start, end, points, &mut best);
    let mut best_km = path_km(start, end, points, &best);
    // Iterated local search: kick the best order (a double bridge, which 2-opt cannot undo
    // in one move), improve again, keep what is shorter. Deterministic: same stops, same
    // route.
    let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ n as u64;
    let mut next = move |bound: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as usize) % bound.max(1)
    };
    for _ in 0..KICKS {
        let mut cuts = [1 + next(n - 1), 1 + next(n - 1), 1 + next(n - 1)];
        cuts.sort_unstable();
        let [a, b, c] = cuts;
        if !(a < b && b < c) {
            continue;
        }
        let mut cand: Vec<usize> = best[..a]
            .iter()
            .chain(&best[b..c])
            .chain(&best[a..b])
            .chain(&best[c..])
            .copied()
            .collect();
        improve(start, end, points, &mut cand);
        let km = path_km(start, end, points, &cand);
        if km < best_km - 1e-9 {
            best = cand;
            best_km = km;
        }
    }
    best
}

/// Perturbations tried after the first local search (beyond [`EXACT_UP_TO`] stops).
const KICKS: usize = 60;

/// Exact shortest open path by dynamic programming over subsets (O(n² 2ⁿ)).
fn held_karp(start: Option<LatLon>, end: Option<LatLon>, points: &[LatLon]) -> Vec<usize> {
    let n = points.len();
    let full = (1usize << n) - 1;
    let d = |i: usize, j: usize| points[i].km_to(points[j]);
    let first = |j: usize| start.map_or(0.0, |s| s.km_to(points[j]));
    let last = |j: usize| end.map_or(0.0, |e| points[j].km_to(e));
    // cost[mask][j]: shortest path from start over `mask`, ending at j (j in mask).
    let mut cost = vec![f64::INFINITY; (full + 1) * n];
    let mut prev = vec![usize::MAX; (full + 1) * n];
    for j in 0..n {
        cost[(1 << j) * n + j] = first(j);
    }
    for mask in 1..=full {
        for j in 0..n {
            let c = cost[mask * n + j];
            if mask & (1 << j) == 0 || !c.is_finite() {
                continue;
            }
            for k in 0..n {
                if mask & (1 << k) != 0 {
                    continue;
                }
                let next = mask | (1 << k);
                let nc = c + d(j, k);
                if nc < cost[next * n + k] - 1e-9 {
                    cost[next * n + k] = nc;
                    prev[next * n + k] = j;
                }
            }
        }
    }
    let mut best = 0;
    let mut best_cost = f64::INFINITY;
    for j in 0..n {
        let c = cost[full * n + j] + last(j);
        if c < best_cost - 1e-9 {
            best_cost = c;
            best = j;
        }
    }
    let mut order = Vec::with_capacity(n);
    let (mut mask, mut j) = (full, best);
    while j != usize::MAX {
        order.push(j);
        let p = prev[mask * n + j];
        mask &= !(1 << j);
        j = p;
    }
    order.reverse();
    order
}

fn nearest_neighbour(start: Option<LatLon>, points: &[LatLon]) -> Vec<usize> {
    let mut left: Vec<usize> = (0..points.len()).collect();
    let mut order = Vec::with_capacity(points.len());
    let mut here = start.unwrap_or(points[0]);
    while !left.is_empty() {
        let (pos, _) = left
            .iter()
            .enumerate()
            .map(|(pos, &i)| (pos, here.km_to(points[i])))
            .fold(
                (0, f64::INFINITY),
                |best, c| if c.1 < best.1 { c } else { best },
            );
        let i = left.remove(pos);
        here = points[i];
        order.push(i);
    }
    order
}

/// 2-opt (reverse a segment) and or-opt (move a run of up to three stops, either way round)
/// until no move shortens the path; bounded so a pathological input cannot loop for long.
///
/// The path is `[start, order…, end]` over a distance matrix where a missing start or end is
/// a node at distance 0 from everything, so each move is priced by the few edges it changes.
fn improve(start: Option<LatLon>, end: Option<LatLon>, points: &[LatLon], order: &mut Vec<usize>) {
    let n = points.len();
    if n < 3 {
        return;
    }
    let (s, e) = (n, n + 1);
    let at = |i: usize| points.get(i).copied();
    let node = |i: usize| match i {
        i if i == s => start,
        i if i == e => end,
        i => at(i),
    };
    let mut d = vec![0.0f64; (n + 2) * (n + 2)];
    for a in 0..n + 2 {
        for b in 0..n + 2 {
            if let (Some(p), Some(q)) = (node(a), node(b)) {
                d[a * (n + 2) + b] = p.km_to(q);
            }
        }
    }
    let dist = |a: usize, b: usize| d[a * (n + 2) + b];
    let mut seq: Vec<usize> = std::iter::once(s)
        .chain(order.iter().copied())
        .chain(std::iter::once(e))
        .collect();
    const EPS: f64 = 1e-9;
    for _round in 0..100 {
        let mut better = false;
        // 2-opt: reverse seq[i..=j].
        for i in 1..n {
            for j in i + 1..=n {
                let delta = dist(seq[i - 1], seq[j]) + dist(seq[i], seq[j + 1])
                    - dist(seq[i - 1], seq[i])
                    - dist(seq[j], seq[j + 1]);
                if delta < -EPS {
                    seq[i..=j].reverse();
                    better = true;
                }
            }
        }
        // Or-opt: move seq[i..i+len] between seq[k] and seq[k+1], maybe reversed.
        for len in 1..=3.min(n - 1) {
            let mut i = 1;
            while i + len <= n + 1 {
                let (first, last) = (seq[i], seq[i + len - 1]);
                let (a, b) = (seq[i - 1], seq[i + len]);
                let gain = dist(a, first) + dist(last, b) - dist(a, b);
                let mut best: Option<(f64, usize, bool)> = None;
                for k in 0..=n {
                    if k + 1 >= i && k < i + len {
                        continue; // inside or next to the run
                    }
                    let (c, f) = (seq[k], seq[k + 1]);
                    for reversed in [false, true] {
                        let (x, y) = if reversed {
                            (last, first)
                        } else {
                            (first, last)
                        };
                        let cost = dist(c, x) + dist(y, f) - dist(c, f);
                        if cost - gain < best.map_or(-EPS, |b| b.0) {
                            best = Some((cost - gain, k, reversed));
                        }
                    }
                }
                if let Some((_, k, reversed)) = best {
                    let mut run: Vec<usize> = seq.drain(i..i + len).collect();
                    if reversed {
                        run.reverse();
                    }
                    let to = if k >= i { k + 1 - len } else { k + 1 };
                    seq.splice(to..to, run);
                    better = true;
                }
                i += 1;
            }
        }
        if !better {
            break;
        }
    }
    *order = seq[1..=n].to_vec();
}

/// The best visiting order of a day's stops: the first `keep` stay first (a job under way),
/// appointments keep their time order relative to each other, and stops without a location go
/// last. Returns the stops reordered.
pub fn optimise(
    from: Option<LatLon>,
    home: Option<LatLon>,
    stops: &[Stop],
    keep: usize,
) -> Vec<Stop> {
    let keep = keep.min(stops.len());
    let (kept, rest) = stops.split_at(keep);
    let start = kept.iter().rev().find_map(|s| s.location).or(from);
    // Appointments are not moved: only the free stops between them are reordered.
    let mut out: Vec<Stop> = kept.to_vec();
    let mut segment: Vec<&Stop> = Vec::new();
    let mut unlocated: Vec<Stop> = Vec::new();
    let mut here = start;
    for s in rest {
        if s.location.is_none() {
            unlocated.push(s.clone());
        } else if s.fixed.is_some() {
            flush(&mut segment, s.location, &mut here, &mut out);
            out.push(s.clone());
            here = s.location;
        } else {
            segment.push(s);
        }
    }
    flush(&mut segment, home, &mut here, &mut out);
    out.extend(unlocated);
    out
}

/// Appends `segment` to `out` in its best order from `here` towards `next`.
fn flush(
    segment: &mut Vec<&Stop>,
    next: Option<LatLon>,
    here: &mut Option<LatLon>,
    out: &mut Vec<Stop>,
) {
    let points: Vec<LatLon> = segment.iter().filter_map(|s| s.location).collect();
    for i in best_order(*here, next, &points) {
        if let Some(s) = segment.get(i) {
            out.push((*s).clone());
            *here = s.location;
        }
    }
    segment.clear();
}

#[cfg(test)]
mod tests;
