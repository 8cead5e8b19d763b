//! `jsmkit bench dispatch-plan`: DispatchDesk's automatic dispatch and route planning on a
//! simulated site's real queue and technicians, beside the baselines a dispatcher has without
//! them: the nearest qualified technician for each job (added at the end of their day), and
//! visiting a day's jobs nearest-neighbour first.

use std::time::{Duration, Instant};

use atlassian_sim::Scale;
use dispatch::auto::{Crew, Job, Rules, plan};
use dispatch::board::{Filter, Ticket, build};
use dispatch::dayplan;
use dispatch::geo::LatLon;
use dispatch::route::{Stop, Timeline, best_order, optimise, path_km, timeline};
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

use super::CliError;
use super::bench_board::{DispatchSite, dispatch_site};
use crate::cli::BenchDispatchArgs;

/// The first weekday at least two days ahead: the whole working day is still to plan.
fn planning_day(zone: &TimeZone) -> Date {
    let mut d = Timestamp::now().to_zoned_datetime(zone.clone()).date();
    for _ in 0..2 {
        d = d.tomorrow().unwrap_or(d);
    }
    while matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
        d = d.tomorrow().unwrap_or(d);
    }
    d
}

/// What a method did to the days: jobs placed, new visits that break their day (late for
/// their time or after hours), visits of the day before made worse (on time before and not
/// now, or late before and later now), and the road km it added.
#[derive(Default)]
struct Tally {
    placed: usize,
    new_broken: usize,
    made_worse: usize,
    km_added: f64,
}

fn tally(before: &[Option<Timeline>], after: &[Option<Timeline>], new: &[&str]) -> Tally {
    let mut t = Tally::default();
    for (b, a) in before.iter().zip(after) {
        let Some(a) = a else { continue };
        t.km_added += a.km - b.as_ref().map_or(0.0, |b| b.km);
        for v in &a.visits {
            let broken = v.late || v.after_hours;
            if new.contains(&v.key.as_str()) {
                t.placed += 1;
                t.new_broken += usize::from(broken);
                continue;
            }
            let was = b
                .as_ref()
                .and_then(|b| b.visits.iter().find(|x| x.key == v.key));
            if let Some(w) = was {
                let worse = if w.late || w.after_hours {
                    v.start > w.start
                } else {
                    broken
                };
                t.made_worse += usize::from(worse);
            }
        }
    }
    t
}

fn day_of(c: &Crew, stops: &[Stop], rules: &Rules) -> Option<Timeline> {
    let (start, end) = c.window?;
    Some(timeline(
        c.position,
        start,
        stops,
        c.home,
        Some(end),
        &rules.travel,
    ))
}

/// The baseline: each job to the nearest available technician with its skills (within the
/// same reach), added at the end of their day. Returns the days after.
fn nearest_qualified(jobs: &[Job], crews: &[Crew], rules: &Rules) -> Vec<Vec<Stop>> {
    let mut days: Vec<Vec<Stop>> = crews.iter().map(|c| c.day.clone()).collect();
    for j in jobs {
        let Some(loc) = j.location else { continue };
        let best = crews
            .iter()
            .enumerate()
            .filter(|(_, c)| c.unavailable.is_none() && c.window.is_some())
            .filter(|(_, c)| j.skills.is_subset(&c.skills))
            .filter_map(|(i, c)| c.position.map(|p| (i, p.km_to(loc))))
            .filter(|(_, km)| *km <= rules.max_km)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((i, _)) = best {
            days[i].push(Stop {
                key: j.key.clone(),
                location: Some(loc),
                minutes: j.minutes,
                fixed: j.appointment,
            });
        }
    }
    days
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

async fn site_data(
    args: &BenchDispatchArgs,
) -> anyhow::Result<(
    Vec<Ticket>,
    Vec<dispatch::technician::Technician>,
    dispatch::store::Config,
)> {
    let DispatchSite {
        sim: _sim,
        store,
        site,
        admin,
        client,
        _dir,
    } = dispatch_site(args.seed, Scale::Large, Vec::new()).await?;
    let ds = dispatch::store::DispatchStore::new(&store, &site);
    let (config, _) = ds.config().await?;
    let techs = ds.technicians().await?;
    let tickets = dispatch::cache::BoardCache::default()
        .tickets(&site, &admin, &client, &config)
        .await?
        .tickets
        .to_vec();
    Ok((tickets, techs, config))
}

/// Runs the benchmark and prints the figures.
pub async fn dispatch_plan(args: BenchDispatchArgs) -> Result<(), CliError> {
    run(args).await.map_err(CliError::Other)
}

async fn run(args: BenchDispatchArgs) -> anyhow::Result<()> {
    let (tickets, techs, config) = site_data(&args).await?;
    let zone = TimeZone::get(&config.board_zone).unwrap_or(TimeZone::UTC);
    let day = planning_day(&zone);
    let now = Timestamp::now();
    let board = build(
        &tickets,
        &techs,
        &config.mapping,
        day,
        &zone,
        &Filter::default(),
    );
    let queue: Vec<&Ticket> = board.queue.iter().map(|c| &c.ticket).collect();
    let jobs = dayplan::waiting(&queue, &config.mapping, day, &zone);
    let crews: Vec<Crew> = techs
        .iter()
        .map(|t| dayplan::crew(t, &tickets, &config.mapping, day, &zone, now))
        .collect();
    let rules = Rules::default();
    let located = jobs.iter().filter(|j| j.location.is_some()).count();
    let able = crews
        .iter()
        .filter(|c| c.unavailable.is_none() && c.window.is_some())
        .count();

    let timelines = |days: &[Vec<Stop>]| -> Vec<Option<Timeline>> {
        crews
            .iter()
            .zip(days)
            .map(|(c, d)| day_of(c, d, &rules))
            .collect()
    };
    let before = timelines(&crews.iter().map(|c| c.day.clone()).collect::<Vec<_>>());
    let new_keys: Vec<&str> = jobs.iter().map(|j| j.key.as_str()).collect();
    let seeded_broken = before
        .iter()
        .flatten()
        .flat_map(|t| &t.visits)
        .filter(|v| v.late || v.after_hours)
        .count();
    let t = Instant::now();
    let base_days = nearest_qualified(&jobs, &crews, &rules);
    let base_time = t.elapsed();
    let base = tally(&before, &timelines(&base_days), &new_keys);
    let t = Instant::now();
    let ours = plan(&jobs, &crews, &rules);
    let ours_time = t.elapsed();
    let days: Vec<Vec<Stop>> = crews
        .iter()
        .map(|c| {
            ours.crews
                .iter()
                .find(|s| s.account_id == c.account_id)
                .map_or_else(|| c.day.clone(), |s| s.stops.clone())
        })
        .collect();
    let ours_tally = tally(&before, &timelines(&days), &new_keys);
    println!(
        "Automatic dispatch, large site (seed {}), {}: {} waiting jobs ({} with a location), {} technicians ({} working that day)",
        args.seed,
        day,
        jobs.len(),
        located,
        crews.len(),
        able
    );
    println!(
        "the days as seeded already hold {seeded_broken} visits that are late for their time or after hours"
    );
    println!(
        "{:<42} {:>7} {:>14} {:>12} {:>10} {:>10}",
        "method", "placed", "new broken", "made worse", "km added", "time"
    );
    for (name, t, d) in [
        ("nearest qualified technician (baseline)", &base, base_time),
        ("jsmkit automatic dispatch", &ours_tally, ours_time),
    ] {
        println!(
            "{:<42} {:>7} {:>14} {:>12} {:>10.1} {:>10}",
            name,
            t.placed,
            t.new_broken,
            t.made_worse,
            t.km_added,
            format!("{:.1} ms", d.as_secs_f64() * 1e3)
        );
    }
    println!(
        "jobs placed that keep their day and break no other visit: baseline {} (of {} placed), jsmkit {} (of {} placed); left in the queue with a reason: {}",
        base.placed
            .saturating_sub(base.new_broken + base.made_worse),
        base.placed,
        ours_tally
            .placed
            .saturating_sub(ours_tally.new_broken + ours_tally.made_worse),
        ours_tally.placed,
        ours.left.len()
    );

    // Routes: every day with two or more located jobs, in three orders.
    let mut route_times = Vec::new();
    let (mut km_planned, mut km_nn, mut km_best, mut n_days) = (0.0, 0.0, 0.0, 0);
    for (c, d) in crews.iter().zip(&days) {
        let pts: Vec<LatLon> = d.iter().filter_map(|s| s.location).collect();
        if pts.len() < 2 {
            continue;
        }
        n_days += 1;
        let given: Vec<usize> = (0..pts.len()).collect();
        km_planned += path_km(c.position, c.home, &pts, &given);
        km_nn += path_km(c.position, c.home, &pts, &nearest_first(c.position, &pts));
        let free: Vec<Stop> = d
            .iter()
            .map(|s| Stop {
                fixed: None,
                ..s.clone()
            })
            .collect();
        let t = Instant::now();
        let best = optimise(c.position, c.home, &free, 0);
        route_times.push(t.elapsed());
        let best_pts: Vec<LatLon> = best.iter().filter_map(|s| s.location).collect();
        km_best += path_km(
            c.position,
            c.home,
            &best_pts,
            &(0..best_pts.len()).collect::<Vec<_>>(),
        );
    }
    route_times.sort_unstable();
    println!();
    println!("Routes of the {n_days} days with two or more jobs (straight-line km, home to home)");
    println!("{:<46} {:>12} {:>10}", "order", "km", "x best");
    for (name, km) in [
        ("as dispatched (appointments' order)", km_planned),
        ("nearest neighbour (baseline)", km_nn),
        ("jsmkit best order", km_best),
    ] {
        println!(
            "{:<46} {:>12.1} {:>10.3}",
            name,
            km,
            if km_best > 0.0 { km / km_best } else { 1.0 }
        );
    }
    println!(
        "planning one day: p50 {}, p99 {} (exact up to {} stops)",
        us(percentile(&route_times, 0.5)),
        us(percentile(&route_times, 0.99)),
        dispatch::route::EXACT_UP_TO
    );
    // Longer days than the site has, from its ticket locations.
    let all: Vec<LatLon> = tickets.iter().filter_map(|t| t.location).collect();
    for n in [10usize, 25, 60] {
        if all.len() < n + 1 {
            continue;
        }
        let step = all.len() / (n + 1);
        let pts: Vec<LatLon> = (1..=n).map(|i| all[i * step]).collect();
        let home = Some(all[0]);
        let t = Instant::now();
        let order = best_order(home, home, &pts);
        let took = t.elapsed();
        let best = path_km(home, home, &pts, &order);
        let nn = path_km(home, home, &pts, &nearest_first(home, &pts));
        let given = path_km(home, home, &pts, &(0..n).collect::<Vec<_>>());
        println!(
            "a day of {n} stops: best {best:.1} km in {}, nearest neighbour {nn:.1} km ({:.3}x), ticket order {given:.1} km ({:.3}x)",
            us(took),
            nn / best,
            given / best
        );
    }
    Ok(())
}

/// Nearest neighbour from `start`: the order a dispatcher gets by always going to the closest
/// job next.
fn nearest_first(start: Option<LatLon>, pts: &[LatLon]) -> Vec<usize> {
    let mut left: Vec<usize> = (0..pts.len()).collect();
    let mut out = Vec::new();
    let mut here = start.or_else(|| pts.first().copied());
    while !left.is_empty() {
        let pos = match here {
            Some(h) => left
                .iter()
                .enumerate()
                .min_by(|a, b| h.km_to(pts[*a.1]).total_cmp(&h.km_to(pts[*b.1])))
                .map_or(0, |(p, _)| p),
            None => 0,
        };
        let i = left.remove(pos);
        here = Some(pts[i]);
        out.push(i);
    }
    out
}
