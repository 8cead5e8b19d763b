//! Tests of the web shell (`platform::web`): handler tests through `Router::oneshot`, plus a
//! few real-socket tests (graceful shutdown, metrics listener).

mod api;
mod middleware;
mod pages;
mod server;

use std::io;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use http_body_util::BodyExt;
use platform::web::{
    AlwaysReady, ApiError, AppRoutes, ErrorBody, FieldErrors, HtmlError, Json, Path, Query,
    ReadinessCheck, Section, WebConfig, shell_router,
};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

// ---------------------------------------------------------------- a test app

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
struct Echo {
    name: String,
    count: u32,
}

/// Echoes the body.
#[utoipa::path(post, path = "/api/techdesk/v1/echo", request_body = Echo,
    responses((status = 200, body = Echo), (status = 422, body = ErrorBody)))]
async fn echo(Json(body): Json<Echo>) -> Json<Echo> {
    Json(body)
}

#[derive(Debug, Deserialize)]
struct Search {
    limit: u32,
}

async fn search(Query(q): Query<Search>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "limit": q.limit }))
}

async fn item(Path(id): Path<u32>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "id": id }))
}

async fn validate() -> Result<(), ApiError> {
    FieldErrors::new()
        .with("summary", "must not be empty")
        .with("summary", "must be at most 255 characters")
        .with("priority", "must be between 1 and 5")
        .into_result()
}

async fn boom() -> Result<(), ApiError> {
    Err(ApiError::internal(io::Error::other(
        "password=hunter2 leaked from the database driver",
    )))
}

async fn explode() -> &'static str {
    panic!("the handler exploded")
}

async fn sleepy() -> &'static str {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    "too late"
}

async fn limited() -> Result<(), ApiError> {
    Err(ApiError::RateLimited {
        retry_after: Duration::from_millis(1500),
    })
}

async fn own_csp() -> impl IntoResponse {
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self' tiles.example",
        )],
        "map",
    )
}

async fn missing_ticket() -> Result<&'static str, HtmlError> {
    Err(ApiError::not_found("no such ticket").into())
}

fn test_app() -> AppRoutes {
    AppRoutes::new(Section::TechDesk)
        .api(
            OpenApiRouter::new()
                .routes(routes!(echo))
                .route("/api/techdesk/v1/search", get(search))
                .route("/api/techdesk/v1/items/{id}", get(item))
                .route("/api/techdesk/v1/validate", get(validate))
                .route("/api/techdesk/v1/boom", get(boom))
                .route("/api/techdesk/v1/panic", get(explode))
                .route("/api/techdesk/v1/slow", get(sleepy))
                .route("/api/techdesk/v1/limited", get(limited)),
        )
        .pages(
            Router::new()
                .route("/techdesk", get(|| async { "the real techdesk" }))
                .route("/techdesk/map", get(own_csp))
                .route("/techdesk/tickets/missing", get(missing_ticket))
                .route("/techdesk/slow", get(sleepy)),
        )
}

// ---------------------------------------------------------------- helpers

fn web_static_dir() -> PathBuf {
    FsPath::new(env!("CARGO_MANIFEST_DIR")).join("../../web/static")
}

fn config() -> WebConfig {
    WebConfig {
        body_limit_bytes: 256,
        request_timeout: Duration::from_secs(30),
        assets_dir: web_static_dir(),
        public_url: None,
    }
}

fn app_router(cfg: &WebConfig) -> Router {
    shell_router(cfg, Arc::new(AlwaysReady), vec![test_app()])
}

fn bare_router() -> Router {
    shell_router(&config(), Arc::new(AlwaysReady), Vec::new())
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    fn error(&self) -> ErrorBody {
        assert_eq!(self.header("content-type"), "application/json");
        serde_json::from_slice(&self.body).expect("error shape")
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ascii header"))
            .unwrap_or("")
    }
}

async fn send(router: &Router, req: Request<Body>) -> Reply {
    let response = router.clone().oneshot(req).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

async fn get_path(router: &Router, path: &str) -> Reply {
    send(
        router,
        Request::get(path).body(Body::empty()).expect("request"),
    )
    .await
}

fn post_json(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request")
}

// ---------------------------------------------------------------- probes

#[tokio::test]
async fn healthz_is_ok() {
    let reply = get_path(&bare_router(), "/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), serde_json::json!({"status": "ok"}));
}

struct Broken;

#[async_trait::async_trait]
impl ReadinessCheck for Broken {
    async fn check(&self) -> Result<(), String> {
        Err("store unreachable: connection refused".to_owned())
    }
}

#[tokio::test]
async fn readyz_follows_the_readiness_check() {
    let ready = get_path(&bare_router(), "/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json(), serde_json::json!({"status": "ready"}));

    let router = shell_router(&config(), Arc::new(Broken), Vec::new());
    let reply = get_path(&router, "/readyz").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let err = reply.error().error;
    assert_eq!(err.code, "unavailable");
    assert!(err.message.contains("store unreachable"), "{}", err.message);
}
