//! The OpenAPI document and the shell's own API routes.
//!
//! Every JSON route is registered through a [`utoipa_axum::router::OpenApiRouter`] with
//! `routes!(handler)`, so the route and its documentation come from the same
//! `#[utoipa::path]` attribute and cannot drift. The shell merges the apps' routers into its
//! own and serves the combined document at `GET /api/openapi.json`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, ErrorDetail, FieldErrors};
use super::extract::Json;
use super::health::{self, ReadinessCheck};
use super::pages::{Section, VERSION};

/// Path of the OpenAPI document.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

/// State of the shell's own handlers.
#[derive(Clone)]
pub(crate) struct ShellState {
    pub(crate) info: Arc<PlatformInfo>,
    pub(crate) readiness: Arc<dyn ReadinessCheck>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "jsmkit",
        description = "JSON APIs of jsmkit's apps. Every API lives under `/api/<app>/v1/`; \
                       every error has the shape of `ErrorBody`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(ErrorBody, ErrorDetail, FieldErrors)),
    tags((name = "platform", description = "The shell: version, enabled apps, probes"))
)]
struct ShellApiDoc;

/// One app as listed by `/api/platform/v1/info`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppInfo {
    /// Stable id, e.g. `techdesk`.
    pub id: String,
    /// Display name, e.g. `TechDesk`.
    pub name: String,
    /// Path of its main page.
    pub path: String,
    /// Prefix of its JSON API.
    pub api_prefix: String,
    /// True when the app is part of this build and running.
    pub enabled: bool,
}

/// Body of `GET /api/platform/v1/info`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlatformInfo {
    /// Always `jsmkit`.
    pub name: String,
    /// jsmkit's version.
    #[schema(example = "0.1.0")]
    pub version: String,
    /// The three apps, enabled or not.
    pub apps: Vec<AppInfo>,
}

impl PlatformInfo {
    /// The info for a build where `enabled` apps run.
    pub fn new(enabled: &[Section]) -> Self {
        Self {
            name: "jsmkit".to_owned(),
            version: VERSION.to_owned(),
            apps: Section::APPS
                .iter()
                .map(|s| AppInfo {
                    id: s.id().to_owned(),
                    name: s.title().to_owned(),
                    path: s.path().to_owned(),
                    api_prefix: api_prefix(*s),
                    enabled: enabled.contains(s),
                })
                .collect(),
        }
    }
}

/// `/api/<id>/v1`, the prefix of a section's JSON API.
pub fn api_prefix(section: Section) -> String {
    format!("/api/{}/v1", section.id())
}

/// Version of jsmkit and which apps this build runs.
#[utoipa::path(
    get,
    path = "/api/platform/v1/info",
    tag = "platform",
    operation_id = "platform_info",
    responses(
        (status = 200, description = "Version and apps", body = PlatformInfo),
        (status = 500, description = "Internal error", body = ErrorBody)
    )
)]
async fn info(State(state): State<ShellState>) -> Json<PlatformInfo> {
    Json(state.info.as_ref().clone())
}

/// The shell's own documented routes (info and probes), state applied.
pub(crate) fn shell_api(state: ShellState) -> OpenApiRouter {
    OpenApiRouter::with_openapi(ShellApiDoc::openapi())
        .routes(routes!(info))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .with_state(state)
}

/// Serialises the document once; the route serves the same bytes on every request.
pub(crate) fn document_route(doc: &utoipa::openapi::OpenApi) -> axum::Router {
    let body: Arc<str> = match doc.to_json() {
        Ok(json) => json.into(),
        Err(err) => {
            tracing::error!(error = %err, "cannot serialise the OpenAPI document");
            r#"{"error":{"code":"internal","message":"the OpenAPI document is unavailable"}}"#
                .into()
        }
    };
    axum::Router::new().route(
        OPENAPI_PATH,
        axum::routing::get(move || {
            let body = Arc::clone(&body);
            async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    body.to_string(),
                )
                    .into_response()
            }
        }),
    )
}

/// Warns about documented paths of `section`'s API outside `/api/<id>/v1/`.
pub(crate) fn check_api_prefix(section: Section, doc: &utoipa::openapi::OpenApi) {
    let prefix = format!("{}/", api_prefix(section));
    for path in doc.paths.paths.keys() {
        if !path.starts_with(&prefix) {
            tracing::warn!(
                app = section.id(),
                %path,
                expected_prefix = %prefix,
                "API route outside the app's prefix"
            );
        }
    }
}
