//! The ticket-view benchmark: server time of building and rendering the ticket page
//! (no HTTP), and the Atlassian calls each view makes, counted by the caller's counter
//! (e.g. the simulator's request count).

use std::time::{Duration, Instant};

use askama::Template;
use atlassian::client::AtlassianClient;
use platform::permissions::AccessContext;

use crate::routes::{TechDeskState, ticket};

/// What [`bench_ticket_view`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// Views measured (after the cold one).
    pub iterations: usize,
    /// Median server time of a warm view.
    pub p50: Duration,
    /// 99th percentile of a warm view.
    pub p99: Duration,
    /// Atlassian calls of the first (cold) view.
    pub cold_calls: u64,
    /// Most Atlassian calls of any warm view.
    pub max_warm_calls: u64,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ticket view: {} warm views, p50 {:.2} ms, p99 {:.2} ms; Atlassian calls per view: {} cold, at most {} warm",
            self.iterations,
            self.p50.as_secs_f64() * 1000.0,
            self.p99.as_secs_f64() * 1000.0,
            self.cold_calls,
            self.max_warm_calls
        )
    }
}

/// Why the benchmark stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The page could not be built (Jira error, store error).
    #[error("the ticket view failed: {0}")]
    View(String),
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Views ticket `key` once cold and `iterations` times warm as the user behind `ctx` and
/// `client`; `calls` returns the running count of Atlassian requests.
pub async fn bench_ticket_view(
    state: &TechDeskState,
    ctx: &AccessContext,
    client: &AtlassianClient,
    key: &str,
    iterations: usize,
    calls: &(dyn Fn() -> u64 + Sync),
) -> Result<BenchReport, BenchError> {
    let view = || async {
        let page = ticket::build(state, ctx, client, &None, key)
            .await
            .map_err(|e| BenchError::View(e.0.public_message()))?;
        page.render().map_err(|e| BenchError::View(e.to_string()))
    };
    let before = calls();
    view().await?;
    let cold_calls = calls().saturating_sub(before);
    let mut times = Vec::with_capacity(iterations);
    let mut max_warm_calls = 0;
    for _ in 0..iterations {
        let before = calls();
        let start = Instant::now();
        view().await?;
        times.push(start.elapsed());
        max_warm_calls = max_warm_calls.max(calls().saturating_sub(before));
    }
    times.sort();
    Ok(BenchReport {
        iterations,
        p50: percentile(&times, 0.50),
        p99: percentile(&times, 0.99),
        cold_calls,
        max_warm_calls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&d, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&d, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}
