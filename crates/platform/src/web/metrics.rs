//! Prometheus metrics: the process-wide recorder and the separate `/metrics` listener.
//!
//! The request middleware records, for every request:
//!
//! - `http_requests_total{method,route,status}` (counter)
//! - `http_request_duration_seconds{method,route,status}` (histogram)
//!
//! `route` is the route template (`/api/platform/v1/info`), `/static/*` for static files and
//! `unmatched` for requests no route matched, so label values stay bounded.
//!
//! The `metrics` crate has one global recorder per process; [`install_metrics_recorder`]
//! installs it on first call and returns the same handle afterwards. Serve the handle on its
//! own listener (the binary defaults to `127.0.0.1:9464`), never on the public one.

use std::future::Future;
use std::io;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// Name of the request counter.
pub const HTTP_REQUESTS_TOTAL: &str = "http_requests_total";
/// Name of the request-duration histogram.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "http_request_duration_seconds";

/// Histogram buckets for request durations, in seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often histogram buffers are drained while the metrics server runs.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder as the process's `metrics` recorder and returns its handle.
///
/// Safe to call more than once (tests do): the first call installs, later calls return the
/// first handle. If some other recorder was installed before, a warning is logged and the
/// returned handle renders only what is recorded through it (nothing from the `metrics`
/// macros).
pub fn install_metrics_recorder() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let builder = match builder.set_buckets_for_metric(
                Matcher::Full(HTTP_REQUEST_DURATION_SECONDS.to_owned()),
                DURATION_BUCKETS,
            ) {
                Ok(b) => b,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot set histogram buckets; using summaries");
                    PrometheusBuilder::new()
                }
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if let Err(err) = metrics::set_global_recorder(recorder) {
                tracing::warn!(
                    error = %err,
                    "another metrics recorder is already installed; /metrics will be empty"
                );
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS_TOTAL,
        "HTTP requests answered by the web shell"
    );
    metrics::describe_histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Time to produce the response head"
    );
}

/// Records one answered request (called by the request middleware).
pub(crate) fn record_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let status = status.to_string();
    metrics::counter!(
        HTTP_REQUESTS_TOTAL,
        "method" => method.to_owned(),
        "route" => route.to_owned(),
        "status" => status.clone(),
    )
    .increment(1);
    metrics::histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        "method" => method.to_owned(),
        "route" => route.to_owned(),
        "status" => status,
    )
    .record(elapsed.as_secs_f64());
}

/// The metrics router: `GET /metrics` in the Prometheus text exposition format.
pub fn metrics_router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
                    .into_response()
            }
        }),
    )
}

/// Serves [`metrics_router`] on `listener` until `shutdown` resolves, running the recorder's
/// upkeep (draining histogram buffers) every few seconds meanwhile.
pub async fn serve_metrics(
    listener: TcpListener,
    handle: PrometheusHandle,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let upkeep_handle = handle.clone();
    let upkeep = tokio::spawn(async move {
        let mut tick = tokio::time::interval(UPKEEP_INTERVAL);
        loop {
            tick.tick().await;
            upkeep_handle.run_upkeep();
        }
    });
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "metrics listening");
    }
    let result = axum::serve(listener, metrics_router(handle))
        .with_graceful_shutdown(shutdown)
        .await;
    upkeep.abort();
    result
}
