//! JSM's own SLAs (`GET /rest/servicedeskapi/request/{key}/sla`) as TechDesk shows them:
//! one line per goal on the ticket view (remaining, breached, paused or met) and one
//! urgency per ticket for the queue (breached first, then least time left). Tickets without
//! SLAs (plain Jira issues) fall back to the priority table of [`super::queue::sla_of`].

use atlassian::client::Sla as JsmSla;

use super::duration::format_duration;
use super::queue::{Sla, SlaState};

/// Where one SLA goal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoalState {
    /// The clock runs and the goal is still ahead.
    Running,
    /// The clock runs (or is paused) past the goal.
    Breached,
    /// The clock is paused (e.g. waiting for the customer).
    Paused,
    /// The last cycle finished within the goal.
    Met,
    /// The last cycle finished after the goal.
    Missed,
}

impl GoalState {
    /// CSS class / label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Breached => "breached",
            Self::Paused => "paused",
            Self::Met => "met",
            Self::Missed => "missed",
        }
    }
}

/// One SLA goal as shown on the ticket view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalView {
    /// Metric name, e.g. `Time to resolution` (untrusted text, escaped by the template).
    pub name: String,
    /// State.
    pub state: GoalState,
    /// Seconds left now (negative: overdue); `None` once the goal is finished.
    pub remaining_seconds: Option<i64>,
    /// The goal in seconds.
    pub goal_seconds: i64,
}

impl GoalView {
    /// `2h 10m left`, `breached 1h ago`, `paused, 3h left`, `met`, `missed`.
    pub fn label(&self) -> String {
        let left = |s: i64| format_duration(u64::try_from(s).unwrap_or(0));
        match (self.state, self.remaining_seconds) {
            (GoalState::Running, Some(s)) => format!("{} left", left(s)),
            (GoalState::Paused, Some(s)) if s >= 0 => format!("paused, {} left", left(s)),
            (GoalState::Paused, Some(s)) | (GoalState::Breached, Some(s)) => {
                let over = format_duration(s.unsigned_abs());
                if self.state == GoalState::Paused {
                    format!("paused, overdue by {over}")
                } else {
                    format!("overdue by {over}")
                }
            }
            (GoalState::Met, _) => "met".to_owned(),
            (GoalState::Missed, _) => "missed".to_owned(),
            (_, None) => "no target".to_owned(),
        }
    }
}

fn secs(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

/// The goals of a ticket; `since_fetch` seconds have passed since the SLAs were read
/// (running clocks are moved on by that much, paused ones are not).
pub fn goals(slas: &[JsmSla], since_fetch: i64) -> Vec<GoalView> {
    slas.iter()
        .filter_map(|s| {
            if let Some(o) = &s.ongoing_cycle {
                let goal = o.goal_duration.as_ref().map_or(0, |d| secs(d.millis));
                let reported = o.remaining_time.as_ref().map_or(goal, |d| secs(d.millis));
                let remaining = if o.paused {
                    reported
                } else {
                    reported.saturating_sub(since_fetch.max(0))
                };
                let state = if remaining < 0 || o.breached {
                    GoalState::Breached
                } else if o.paused {
                    GoalState::Paused
                } else {
                    GoalState::Running
                };
                let state = if o.paused && state == GoalState::Breached {
                    GoalState::Paused
                } else {
                    state
                };
                return Some(GoalView {
                    name: s.name.clone(),
                    state,
                    remaining_seconds: Some(remaining),
                    goal_seconds: goal,
                });
            }
            let last = s.completed_cycles.last()?;
            Some(GoalView {
                name: s.name.clone(),
                state: if last.breached {
                    GoalState::Missed
                } else {
                    GoalState::Met
                },
                remaining_seconds: None,
                goal_seconds: last.goal_duration.as_ref().map_or(0, |d| secs(d.millis)),
            })
        })
        .collect()
}

/// The ticket's urgency from its goals: breached if any open goal is past its target;
/// otherwise the open goal with least time left (at risk under a quarter of its goal);
/// paused when every open goal is paused; met when none is open. `None` without goals.
pub fn urgency(goals: &[GoalView]) -> Option<Sla> {
    if goals.is_empty() {
        return None;
    }
    let open: Vec<&GoalView> = goals
        .iter()
        .filter(|g| g.remaining_seconds.is_some())
        .collect();
    let most = open
        .iter()
        .min_by_key(|g| g.remaining_seconds.unwrap_or(i64::MAX));
    let Some(most) = most else {
        return Some(Sla {
            state: SlaState::Met,
            remaining_seconds: None,
        });
    };
    let remaining = most.remaining_seconds;
    let left = remaining.unwrap_or(i64::MAX);
    let state = if open
        .iter()
        .any(|g| g.remaining_seconds.is_some_and(|s| s < 0))
    {
        SlaState::Breached
    } else if open.iter().all(|g| g.state == GoalState::Paused) {
        SlaState::Paused
    } else if left.saturating_mul(4) < most.goal_seconds {
        SlaState::AtRisk
    } else {
        SlaState::Ok
    };
    Some(Sla {
        state,
        remaining_seconds: remaining,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sla(name: &str, v: serde_json::Value) -> JsmSla {
        let mut v = v;
        v["name"] = serde_json::json!(name);
        serde_json::from_value(v).unwrap()
    }

    fn ongoing(remaining_ms: i64, goal_ms: i64, paused: bool) -> serde_json::Value {
        serde_json::json!({"ongoingCycle": {"breached": remaining_ms < 0, "paused": paused,
            "goalDuration": {"millis": goal_ms}, "remainingTime": {"millis": remaining_ms}}})
    }

    #[test]
    fn goals_show_running_paused_breached_and_met() {
        let slas = vec![
            sla(
                "Time to first response",
                serde_json::json!({"completedCycles": [
                {"breached": false, "goalDuration": {"millis": 3_600_000}}]}),
            ),
            sla("Time to resolution", ongoing(7_200_000, 28_800_000, false)),
            sla("Paused", ongoing(600_000, 3_600_000, true)),
            sla("Late", ongoing(-60_000, 3_600_000, false)),
            sla(
                "Missed",
                serde_json::json!({"completedCycles": [{"breached": true}]}),
            ),
            sla("Nothing", serde_json::json!({})),
        ];
        let g = goals(&slas, 60);
        assert_eq!(g.len(), 5, "a goal without cycles is not shown");
        assert_eq!(g[0].state, GoalState::Met);
        assert_eq!(g[0].label(), "met");
        assert_eq!(g[1].state, GoalState::Running);
        assert_eq!(
            g[1].remaining_seconds,
            Some(7200 - 60),
            "moved on since the fetch"
        );
        assert_eq!(g[2].state, GoalState::Paused);
        assert_eq!(
            g[2].remaining_seconds,
            Some(600),
            "paused clocks stand still"
        );
        assert!(g[2].label().starts_with("paused"));
        assert_eq!(g[3].state, GoalState::Breached);
        assert!(g[3].label().starts_with("overdue by"));
        assert_eq!(g[4].state, GoalState::Missed);
    }

    #[test]
    fn urgency_puts_breaches_first_then_least_time() {
        let late = goals(&[sla("a", ongoing(-1000, 3_600_000, false))], 0);
        assert_eq!(urgency(&late).unwrap().state, SlaState::Breached);
        let soon = goals(
            &[
                sla("a", ongoing(600_000, 3_600_000, false)),
                sla("b", ongoing(7_200_000, 28_800_000, false)),
            ],
            0,
        );
        let u = urgency(&soon).unwrap();
        assert_eq!(u.remaining_seconds, Some(600));
        assert_eq!(u.state, SlaState::AtRisk, "10 minutes of an hour");
        let paused = goals(&[sla("a", ongoing(3_000_000, 3_600_000, true))], 0);
        assert_eq!(urgency(&paused).unwrap().state, SlaState::Paused);
        let met = goals(
            &[sla(
                "a",
                serde_json::json!({"completedCycles": [{"breached": false}]}),
            )],
            0,
        );
        let u = urgency(&met).unwrap();
        assert_eq!((u.state, u.remaining_seconds), (SlaState::Met, None));
        assert_eq!(urgency(&[]), None);
    }
}
