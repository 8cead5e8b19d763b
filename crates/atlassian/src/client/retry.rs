//! Retry policy: which failures are retried, how long to wait.
//!
//! Only operations marked idempotent are retried (GET/PUT/DELETE and the
//! read-only POSTs such as `/search/jql` and `/object/aql`). 429 and 503
//! honour `Retry-After` (seconds) or `X-RateLimit-Reset` (ISO 8601); without
//! a hint the delay comes from backon's jittered exponential backoff. The loop
//! itself lives in the client (a small loop rather than backon's `Retryable`,
//! because the wait depends on the response headers and the total-delay cap
//! must account for server-chosen waits).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::HeaderMap;

/// How failed idempotent calls are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total, including the first (1 disables retries).
    pub max_attempts: u32,
    /// First backoff delay.
    pub min_delay: Duration,
    /// Largest single backoff delay.
    pub max_delay: Duration,
    /// Largest sum of all waits for one call; a wait that would exceed it
    /// ends the retries.
    pub max_total_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
            max_total_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Jittered exponential delays for one call.
    pub(crate) fn backoff(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        ExponentialBuilder::new()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_jitter()
            .without_max_times()
            .build()
    }
}

/// Statuses worth retrying for idempotent calls.
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// The server's requested wait: `Retry-After` in seconds, else
/// `X-RateLimit-Reset` as an ISO 8601 instant. Capped at one hour.
pub(crate) fn retry_hint(headers: &HeaderMap) -> Option<Duration> {
    const CAP: Duration = Duration::from_secs(3600);
    if let Some(secs) = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(secs).min(CAP));
    }
    let reset = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())?
        .trim()
        .parse::<jiff::Timestamp>()
        .ok()?;
    let millis = reset
        .as_millisecond()
        .saturating_sub(jiff::Timestamp::now().as_millisecond());
    let millis = u64::try_from(millis).unwrap_or(0);
    Some(Duration::from_millis(millis).min(CAP))
}
