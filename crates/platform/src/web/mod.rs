//! The web shell: one axum server carrying every app's pages and JSON APIs.
//!
//! The binary builds the router with [`shell_router`], binds a listener itself and calls
//! [`serve`]; tests bind `127.0.0.1:0` or use `Router::oneshot`. What the shell provides:
//!
//! - **Middleware** on every response: an `x-request-id` (the client's if sane, otherwise a
//!   UUID v4; echoed and recorded in the request span), a `tracing` span per request with the
//!   route template, method, status and latency, Prometheus metrics
//!   ([`install_metrics_recorder`], [`serve_metrics`] on a separate listener), a body limit
//!   (413), a request timeout (503 `request_timeout`), panics turned into 500s, and security
//!   headers (a strict [`CONTENT_SECURITY_POLICY`] without `unsafe-inline`, `nosniff`,
//!   `Referrer-Policy: same-origin`, `DENY` framing, COOP, a minimal `Permissions-Policy`, HSTS when
//!   `public_url` is https). Handlers may set any of these headers themselves; theirs wins.
//! - **One error shape** for every JSON API: [`ApiError`] (`{"error": {"code", "message",
//!   "fields"}}`), [`FieldErrors`] for validation, [`Json`]/[`Query`]/[`Path`] extractors
//!   whose rejections use the same shape, 404 in that shape for unknown `/api/` paths.
//!   Pages use [`HtmlError`], which renders the error page in the base layout.
//! - **OpenAPI** at `GET /api/openapi.json`, generated from the handlers' `#[utoipa::path]`.
//! - **Probes**: `/healthz` (liveness) and `/readyz` (asks a [`ReadinessCheck`]).
//! - **Pages**: the base layout ([`PageChrome`]), the home page, a placeholder page per
//!   [`Section`] that has no app yet, and static files at `/static/` from
//!   [`WebConfig::assets_dir`].
//!
//! # Adding an app
//!
//! An app crate hands the shell an [`AppRoutes`]: its [`Section`], an `OpenApiRouter` with
//! its JSON routes (each under `/api/<section id>/v1/…`, registered with
//! `utoipa_axum::routes!`), and a plain `Router` with its pages (including the section's own
//! path, e.g. `/techdesk`, which then replaces the placeholder). Both come with their state
//! already applied (`Router<()>`), and neither may set a fallback or a route the shell owns
//! (`/`, `/healthz`, `/readyz`, `/api/openapi.json`, `/api/platform/…`, `/static/…`):
//! overlapping routes make axum panic when the router is built, i.e. in the app's first test.

mod assets;
mod error;
mod extract;
mod health;
mod metrics;
mod middleware;
mod openapi;
mod pages;

use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
use utoipa_axum::router::OpenApiRouter;

pub use assets::{AssetsProblem, REQUIRED_ASSETS, STATIC_PREFIX, check_assets};
pub use error::{
    ApiError, BoxError, ErrorBody, ErrorDetail, FieldErrors, HtmlError, error_response_for_path,
    is_api_path,
};
pub use extract::{Json, Path, Query};
pub use health::{AlwaysReady, ProbeStatus, ReadinessCheck};
pub use metrics::{
    HTTP_REQUEST_DURATION_SECONDS, HTTP_REQUESTS_TOTAL, install_metrics_recorder, metrics_router,
    serve_metrics,
};
pub use middleware::{CONTENT_SECURITY_POLICY, REQUEST_ID_HEADER, RequestId, current_request_id};
pub use openapi::{AppInfo, OPENAPI_PATH, PlatformInfo, api_prefix};
pub use pages::{NavItem, PageChrome, Section, UserChrome, VERSION, render};

/// Settings of the web shell. The binary fills it from `platform::config`.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Largest accepted request body, in bytes (413 above).
    pub body_limit_bytes: usize,
    /// Longest time a handler may take to produce its response head (503 after).
    pub request_timeout: Duration,
    /// Folder served at `/static/` (jsmkit's `web/static`).
    pub assets_dir: PathBuf,
    /// URL users reach jsmkit at, if known; `https://` turns on HSTS and secure cookies.
    pub public_url: Option<url::Url>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            body_limit_bytes: 2 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            assets_dir: PathBuf::from("web/static"),
            public_url: None,
        }
    }
}

impl WebConfig {
    /// True when users reach jsmkit over https: cookies get `Secure`, responses HSTS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|url| url.scheme() == "https")
    }
}

/// What one app contributes to the shell; see "Adding an app" in the module docs.
///
/// ```
/// use axum::{Router, routing::get};
/// use platform::web::{AppRoutes, Section};
/// use utoipa_axum::router::OpenApiRouter;
///
/// let techdesk = AppRoutes::new(Section::TechDesk)
///     .api(OpenApiRouter::new()) // .routes(routes!(list_queue, get_ticket)) …
///     .pages(Router::new().route("/techdesk", get(|| async { "my queue" })));
/// ```
pub struct AppRoutes {
    section: Section,
    api: OpenApiRouter,
    pages: Router,
}

impl AppRoutes {
    /// An app for `section` with no routes yet. Passing it to [`shell_router`] marks the app
    /// enabled (home page, `/api/platform/v1/info`).
    pub fn new(section: Section) -> Self {
        Self {
            section,
            api: OpenApiRouter::default(),
            pages: Router::new(),
        }
    }

    /// The app's documented JSON routes (merged into the OpenAPI document).
    #[must_use]
    pub fn api(mut self, api: OpenApiRouter) -> Self {
        self.api = self.api.merge(api);
        self
    }

    /// The app's pages. When it has any route, the section's placeholder page is dropped and
    /// the app must serve [`Section::path`] itself.
    #[must_use]
    pub fn pages(mut self, pages: Router) -> Self {
        self.pages = self.pages.merge(pages);
        self
    }

    /// The section this app fills.
    pub fn section(&self) -> Section {
        self.section
    }
}

/// Builds the whole router: the shell's routes, every app's routes, the fallback and the
/// middleware. Logs a warning (and goes on) when the assets folder is incomplete.
pub fn shell_router(
    cfg: &WebConfig,
    readiness: Arc<dyn ReadinessCheck>,
    apps: Vec<AppRoutes>,
) -> Router {
    shell_router_with(cfg, readiness, apps, Router::new())
}

/// [`shell_router`] plus `platform_pages`: pages of the platform itself that belong to no
/// app section (sign-in, settings such as the audit log), served inside the same middleware.
pub fn shell_router_with(
    cfg: &WebConfig,
    readiness: Arc<dyn ReadinessCheck>,
    apps: Vec<AppRoutes>,
    platform_pages: Router,
) -> Router {
    if let Err(problem) = check_assets(&cfg.assets_dir) {
        tracing::warn!("{problem}");
    }

    let mut enabled: Vec<Section> = apps.iter().map(AppRoutes::section).collect();
    enabled.sort();
    enabled.dedup();
    let placeholders: Vec<Section> = Section::ALL
        .into_iter()
        .filter(|s| {
            !apps
                .iter()
                .any(|app| app.section == *s && app.pages.has_routes())
        })
        .collect();

    let state = openapi::ShellState {
        info: Arc::new(PlatformInfo::new(&enabled)),
        readiness,
    };
    let mut api = openapi::shell_api(state);
    let mut app_pages = Router::new();
    for app in apps {
        openapi::check_api_prefix(app.section, app.api.get_openapi());
        api = api.merge(app.api);
        app_pages = app_pages.merge(app.pages);
    }
    let (api_routes, doc) = api.split_for_parts();

    let hsts = cfg.secure_cookies();
    Router::new()
        .merge(api_routes)
        .merge(openapi::document_route(&doc))
        .merge(pages::shell_pages(&enabled, &placeholders))
        .merge(app_pages)
        .merge(platform_pages)
        .merge(assets::static_router(&cfg.assets_dir))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            cfg.request_timeout,
            middleware::timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            cfg.body_limit_bytes,
            middleware::body_limit,
        ))
        .layer(DefaultBodyLimit::max(cfg.body_limit_bytes))
        .layer(axum::middleware::from_fn(middleware::request_context))
        .layer(axum::middleware::from_fn_with_state(
            middleware::SecurityHeaders::new(hsts),
            middleware::security_headers,
        ))
}

/// How long [`serve`] waits, after the shutdown signal, for open requests to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` resolves; requests in flight then finish
/// (for at most [`SHUTDOWN_GRACE`]) before this returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with_grace(listener, router, shutdown, SHUTDOWN_GRACE).await
}

/// [`serve`] with a chosen grace period. Connections still open after it (long polls,
/// event streams) are dropped.
pub async fn serve_with_grace(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "listening");
    }
    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections, finishing requests in flight");
        let _ = signalled_tx.send(());
    };
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal)
    .into_future();
    let deadline = async move {
        if signalled_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still open after the grace period; stopping anyway");
            Ok(())
        }
    }
}

/// Resolves on SIGTERM (Unix) or Ctrl-C, whichever comes first.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_cookies_follow_the_public_url() {
        let mut cfg = WebConfig::default();
        assert!(!cfg.secure_cookies());
        cfg.public_url = url::Url::parse("http://desk.example.com").ok();
        assert!(!cfg.secure_cookies());
        cfg.public_url = url::Url::parse("https://desk.example.com").ok();
        assert!(cfg.secure_cookies());
    }

    #[tokio::test]
    async fn shutdown_signal_resolves_on_sigterm() {
        let mut signal = Box::pin(shutdown_signal());
        // Poll once so the handlers are registered before the signal is sent.
        assert!(
            tokio::time::timeout(Duration::ZERO, &mut signal)
                .await
                .is_err()
        );
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        tokio::time::timeout(Duration::from_secs(30), signal)
            .await
            .expect("shutdown_signal resolved");
    }
}
