//! JSM SLAs of a request, computed from the model: "Time to first response" (stops at the
//! first public comment by an agent, or when the request reaches a Done-category status) and
//! "Time to resolution" (stops when the request reaches a Done-category status, starts again
//! when it is reopened, paused while waiting for the customer or on hold). Goals depend on
//! the priority; the calendar is 24/7. Everything is a function of the issue and `now`, so
//! the simulator's clock makes the answers deterministic.

use jiff::Timestamp;

use super::{Category, Issue, Model};

/// Id and name of the SLA metrics every request has.
pub const SLA_METRICS: [(&str, &str); 2] = [
    ("10030", "Time to first response"),
    ("10031", "Time to resolution"),
];

/// One finished cycle of an SLA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedCycle {
    /// When the clock started.
    pub start: Timestamp,
    /// When it stopped.
    pub stop: Timestamp,
    /// Time counted (pauses excluded), milliseconds.
    pub elapsed_ms: i64,
    /// The goal, milliseconds.
    pub goal_ms: i64,
}

impl CompletedCycle {
    /// Whether the goal was missed.
    pub fn breached(&self) -> bool {
        self.elapsed_ms > self.goal_ms
    }
}

/// The running cycle of an SLA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OngoingCycle {
    /// When the clock started.
    pub start: Timestamp,
    /// Time counted so far (pauses excluded), milliseconds.
    pub elapsed_ms: i64,
    /// The goal, milliseconds.
    pub goal_ms: i64,
    /// Whether the clock is paused now.
    pub paused: bool,
}

impl OngoingCycle {
    /// Whether the goal is already missed.
    pub fn breached(&self) -> bool {
        self.elapsed_ms > self.goal_ms
    }
    /// Goal minus elapsed (negative when breached).
    pub fn remaining_ms(&self) -> i64 {
        self.goal_ms - self.elapsed_ms
    }
}

/// One SLA of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaRecord {
    /// Metric id.
    pub id: &'static str,
    /// Metric name.
    pub name: &'static str,
    /// Finished cycles, oldest first.
    pub completed: Vec<CompletedCycle>,
    /// The running cycle, if any.
    pub ongoing: Option<OngoingCycle>,
}

const HOUR_MS: i64 = 3_600_000;

/// Goals in hours (first response, resolution) by priority name.
pub fn goals_hours(priority: &str) -> (i64, i64) {
    match priority.to_ascii_lowercase().as_str() {
        "highest" => (1, 4),
        "high" => (2, 8),
        "medium" => (4, 24),
        "low" => (8, 48),
        _ => (24, 72),
    }
}

/// Whether the SLA clock pauses in a status of this name.
pub fn pauses_in(status_name: &str) -> bool {
    let n = status_name.to_ascii_lowercase();
    n.contains("waiting for customer") || n.contains("hold") || n.contains("pending")
}

/// One status period: the status holds from `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Start of the period.
    pub at: Timestamp,
    /// Whether the status is in the Done category.
    pub done: bool,
    /// Whether the clock pauses in it.
    pub paused: bool,
}

fn ms(from: Timestamp, to: Timestamp) -> i64 {
    to.as_millisecond()
        .saturating_sub(from.as_millisecond())
        .max(0)
}

/// Runs one SLA over status periods (oldest first, the first at creation) until `now`;
/// `response` (first response) also stops the clock for good.
pub fn run_cycles(
    periods: &[Period],
    response: Option<Timestamp>,
    goal_ms: i64,
    now: Timestamp,
    count_pauses: bool,
) -> (Vec<CompletedCycle>, Option<OngoingCycle>) {
    let mut completed = Vec::new();
    let mut ongoing: Option<OngoingCycle> = None;
    let end = response.map_or(now, |r| r.min(now));
    for (i, p) in periods.iter().enumerate() {
        if p.at > end {
            break;
        }
        let until = periods.get(i + 1).map_or(end, |n| n.at.min(end));
        if p.done {
            if let Some(c) = ongoing.take() {
                completed.push(CompletedCycle {
                    start: c.start,
                    stop: p.at,
                    elapsed_ms: c.elapsed_ms,
                    goal_ms,
                });
            }
            continue;
        }
        let cycle = ongoing.get_or_insert(OngoingCycle {
            start: p.at,
            elapsed_ms: 0,
            goal_ms,
            paused: false,
        });
        let paused = count_pauses && p.paused;
        cycle.paused = paused;
        if !paused {
            cycle.elapsed_ms = cycle.elapsed_ms.saturating_add(ms(p.at, until));
        }
    }
    if let Some(r) = response.filter(|r| *r <= now)
        && let Some(c) = ongoing.take()
    {
        completed.push(CompletedCycle {
            start: c.start,
            stop: r,
            elapsed_ms: c.elapsed_ms,
            goal_ms,
        });
    }
    if response.is_some_and(|r| r <= now) {
        // First response happened: the metric is met or missed for good.
        return (completed.into_iter().take(1).collect(), None);
    }
    (completed, ongoing)
}

impl Model {
    /// The status periods of an issue up to `now` (from its changelog).
    pub fn status_periods(&self, issue: &Issue, now: Timestamp) -> Vec<Period> {
        let period = |at: Timestamp, status: &str| {
            let s = self.statuses.get(status);
            Period {
                at,
                done: s.is_some_and(|s| s.category == Category::Done),
                paused: s.is_some_and(|s| pauses_in(&s.name)),
            }
        };
        let changes: Vec<(Timestamp, Option<String>, Option<String>)> = issue
            .changelog
            .iter()
            .flat_map(|h| {
                h.items
                    .iter()
                    .filter(|it| it.field_id == "status")
                    .map(move |it| (h.created, it.from.clone(), it.to.clone()))
            })
            .filter(|(at, _, _)| *at <= now)
            .collect();
        let initial = changes
            .first()
            .and_then(|(_, from, _)| from.clone())
            .unwrap_or_else(|| issue.status.clone());
        let mut out = vec![period(issue.created, &initial)];
        for (at, _, to) in changes {
            if let Some(to) = to {
                out.push(period(at.max(issue.created), &to));
            }
        }
        out
    }

    /// The first public comment by an agent of the issue's project, if any, up to `now`.
    pub fn first_response(&self, issue: &Issue, now: Timestamp) -> Option<Timestamp> {
        let project = self.project(&issue.project_id)?;
        issue
            .comments
            .iter()
            .filter(|c| c.public && c.created <= now && c.author != issue.reporter)
            .filter(|c| self.is_agent(&c.author, project))
            .map(|c| c.created)
            .min()
    }

    /// The SLAs of a JSM request at `now` (empty for issues not raised through JSM).
    pub fn slas(&self, issue: &Issue, now: Timestamp) -> Vec<SlaRecord> {
        if issue.request_type.is_none() {
            return Vec::new();
        }
        let priority = self
            .priority(&issue.priority)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        let (first_h, resolution_h) = goals_hours(&priority);
        let periods = self.status_periods(issue, now);
        let response = self.first_response(issue, now);
        let (c1, o1) = run_cycles(&periods, response, first_h * HOUR_MS, now, false);
        let (c2, o2) = run_cycles(&periods, None, resolution_h * HOUR_MS, now, true);
        let [(id1, n1), (id2, n2)] = SLA_METRICS;
        vec![
            SlaRecord {
                id: id1,
                name: n1,
                completed: c1,
                ongoing: o1,
            },
            SlaRecord {
                id: id2,
                name: n2,
                completed: c2,
                ongoing: o2,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    fn p(at: i64, done: bool, paused: bool) -> Period {
        Period {
            at: ts(at),
            done,
            paused,
        }
    }

    #[test]
    fn an_open_request_runs_one_cycle() {
        let (c, o) = run_cycles(&[p(0, false, false)], None, 3_600_000, ts(1800), true);
        assert!(c.is_empty());
        let o = o.unwrap();
        assert_eq!(o.elapsed_ms, 1_800_000);
        assert_eq!(o.remaining_ms(), 1_800_000);
        assert!(!o.breached() && !o.paused);
    }

    #[test]
    fn done_stops_and_reopen_starts_a_new_cycle() {
        let periods = [
            p(0, false, false),
            p(100, true, false),
            p(200, false, false),
        ];
        let (c, o) = run_cycles(&periods, None, 50_000, ts(260), true);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].stop, ts(100));
        assert!(c[0].breached(), "100 s against a 50 s goal");
        let o = o.unwrap();
        assert_eq!(o.start, ts(200));
        assert_eq!(o.elapsed_ms, 60_000);
        assert!(o.breached());
    }

    #[test]
    fn waiting_pauses_the_clock() {
        let periods = [p(0, false, false), p(100, false, true)];
        let (_, o) = run_cycles(&periods, None, 1_000_000, ts(500), true);
        let o = o.unwrap();
        assert_eq!(o.elapsed_ms, 100_000);
        assert!(o.paused);
        let (_, o) = run_cycles(&periods, None, 1_000_000, ts(500), false);
        assert_eq!(o.unwrap().elapsed_ms, 500_000, "pauses not counted");
    }

    #[test]
    fn first_response_completes_the_metric() {
        let (c, o) = run_cycles(&[p(0, false, false)], Some(ts(30)), 60_000, ts(500), false);
        assert!(o.is_none());
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].elapsed_ms, 30_000);
        assert!(!c[0].breached());
        // A response after `now` does not count yet.
        let (c, o) = run_cycles(&[p(0, false, false)], Some(ts(900)), 60_000, ts(500), false);
        assert!(c.is_empty());
        assert!(o.unwrap().breached());
    }

    #[test]
    fn goals_follow_priority() {
        assert_eq!(goals_hours("Highest"), (1, 4));
        assert_eq!(goals_hours("medium"), (4, 24));
        assert_eq!(goals_hours("whatever"), (24, 72));
        assert!(pauses_in("Waiting for customer"));
        assert!(!pauses_in("In Progress"));
    }
}
