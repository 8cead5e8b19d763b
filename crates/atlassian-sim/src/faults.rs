//! Deterministic fault injection for the API paths (`/rest/`, `/jsm/`, `/ex/`):
//! latency, 429 bursts, 5xx, held responses (timeouts) and truncated bodies.
//! Configure through [`crate::server::SimConfig::faults`], [`Faults::set`] or
//! `POST /sim/faults` (bearer = the sim admin token, body = [`FaultConfig`] JSON).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::rng::Rng;
use crate::server::AppState;

/// What to inject. All `every_n` counters count API requests (1-based); probabilities are
/// drawn from a PRNG seeded with `seed`, so runs are reproducible.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FaultConfig {
    /// PRNG seed.
    pub seed: u64,
    /// Added latency per request, milliseconds.
    pub latency_ms: u64,
    /// Every Nth request starts a 429 burst.
    pub rate_limit_every_n: Option<u64>,
    /// Length of each 429 burst (requests), at least 1.
    pub rate_limit_burst: u64,
    /// `Retry-After` seconds of 429s.
    pub retry_after_secs: u64,
    /// Probability of a 5xx.
    pub error_rate: f64,
    /// Every Nth request fails with a 5xx.
    pub error_every_n: Option<u64>,
    /// 5xx statuses to choose from (default 500, 502, 503).
    pub error_statuses: Vec<u16>,
    /// Every Nth request is held for `hold_ms` before answering.
    pub hold_every_n: Option<u64>,
    /// How long a held response waits, milliseconds.
    pub hold_ms: u64,
    /// Every Nth response body is cut in half while declaring the full length.
    pub truncate_every_n: Option<u64>,
    /// Only requests whose path starts with this prefix are affected (default: all API paths).
    pub path_prefix: Option<String>,
}

#[derive(Debug)]
struct Inner {
    cfg: FaultConfig,
    rng: Rng,
    count: u64,
    burst_left: u64,
    injected: u64,
}

/// Shared fault injector.
#[derive(Clone, Debug)]
pub struct Faults(Arc<Mutex<Inner>>);

enum Action {
    None,
    RateLimit(u64),
    Error(u16),
    Hold(u64),
    Truncate,
}

impl Faults {
    /// An injector for `cfg`.
    pub fn new(cfg: FaultConfig) -> Self {
        let rng = Rng::derive(cfg.seed, "faults");
        Faults(Arc::new(Mutex::new(Inner {
            cfg,
            rng,
            count: 0,
            burst_left: 0,
            injected: 0,
        })))
    }

    /// Replaces the configuration and resets counters.
    pub fn set(&self, cfg: FaultConfig) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Inner {
            rng: Rng::derive(cfg.seed, "faults"),
            cfg,
            count: 0,
            burst_left: 0,
            injected: 0,
        };
    }

    /// How many faults were injected so far.
    pub fn injected(&self) -> u64 {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .injected
    }

    fn decide(&self, path: &str) -> (u64, Action) {
        let mut g = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let api =
            path.starts_with("/rest/") || path.starts_with("/jsm/") || path.starts_with("/ex/");
        let applies = api
            && g.cfg
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p));
        if !applies {
            return (0, Action::None);
        }
        g.count += 1;
        let n = g.count;
        let hit = |every: Option<u64>| every.is_some_and(|e| e > 0 && n.is_multiple_of(e));
        let latency = g.cfg.latency_ms;
        let action = if g.burst_left > 0 {
            g.burst_left -= 1;
            Action::RateLimit(g.cfg.retry_after_secs)
        } else if hit(g.cfg.rate_limit_every_n) {
            g.burst_left = g.cfg.rate_limit_burst.max(1) - 1;
            Action::RateLimit(g.cfg.retry_after_secs)
        } else if hit(g.cfg.error_every_n) || {
            let rate = g.cfg.error_rate;
            rate > 0.0 && g.rng.chance(rate)
        } {
            let statuses = if g.cfg.error_statuses.is_empty() {
                vec![500, 502, 503]
            } else {
                g.cfg.error_statuses.clone()
            };
            let i = g.rng.index(statuses.len());
            Action::Error(statuses.get(i).copied().unwrap_or(500))
        } else if hit(g.cfg.hold_every_n) {
            Action::Hold(g.cfg.hold_ms)
        } else if hit(g.cfg.truncate_every_n) {
            Action::Truncate
        } else {
            Action::None
        };
        if !matches!(action, Action::None) {
            g.injected += 1;
        }
        (latency, action)
    }
}

/// The middleware; also counts every request in [`AppState::requests`].
pub async fn inject(State(state): State<AppState>, req: Request, next: Next) -> Response {
    state
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (latency, action) = state.faults.decide(req.uri().path());
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match action {
        Action::None => next.run(req).await,
        Action::RateLimit(secs) => {
            let reset = state
                .clock
                .now()
                .checked_add(jiff::SignedDuration::from_secs(
                    i64::try_from(secs).unwrap_or(0),
                ))
                .unwrap_or(state.clock.now());
            let mut r = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(
                    serde_json::json!({"errorMessages": ["Rate limit exceeded."], "errors": {}}),
                ),
            )
                .into_response();
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                h.insert(header::RETRY_AFTER, v);
            }
            if let Ok(v) = HeaderValue::from_str(&reset.strftime("%Y-%m-%dT%H:%MZ").to_string()) {
                h.insert("x-ratelimit-reset", v);
            }
            h.insert(
                "ratelimit-reason",
                HeaderValue::from_static("jira-burst-based"),
            );
            r
        }
        Action::Error(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                axum::Json(
                    serde_json::json!({"errorMessages": ["Internal server error"], "errors": {}}),
                ),
            )
                .into_response()
        }
        Action::Hold(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Action::Truncate => {
            let resp = next.run(req).await;
            let (mut parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
                .await
                .unwrap_or_default();
            let cut = bytes.slice(..bytes.len() / 2);
            let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(cut)]);
            if let Ok(v) = HeaderValue::from_str(&bytes.len().to_string()) {
                parts.headers.insert(header::CONTENT_LENGTH, v);
            }
            Response::from_parts(parts, Body::from_stream(stream))
        }
    }
}
