//! Sim-only endpoints (`/sim/*`) and the Assets integration point.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{AppState, SimConfig};
use crate::assets;
use crate::faults::FaultConfig;
use crate::model::{DemoRole, Model};
use crate::seed::{LinkTarget, Scale};

/// Seeds the Assets workspace for the site's staff and returns the objects tickets may link
/// to plus the Assets routes' state. Sets `site.assets_workspace_id`.
pub fn assets_integration(
    m: &mut Model,
    cfg: &SimConfig,
) -> (Vec<LinkTarget>, Option<assets::AssetsState>) {
    let people: Vec<assets::SeedPerson> = m
        .users
        .iter()
        .filter(|u| u.role != DemoRole::Customer)
        .map(|u| assets::SeedPerson {
            account_id: u.account_id.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
        })
        .collect();
    let scale = match cfg.scale {
        Scale::Small => assets::Scale::Small,
        Scale::Large => assets::Scale::Large,
    };
    let ws = assets::seed(cfg.seed, scale, &people);
    m.site.assets_workspace_id = ws.workspace_id.clone();
    let links = ws
        .linkable_objects()
        .into_iter()
        .map(|o| LinkTarget {
            workspace_id: o.workspace_id,
            object_id: o.id,
        })
        .collect();
    let state = assets::AssetsState::new(ws, m.site.cloud_id.clone(), m.site.url.clone());
    (links, Some(state))
}

fn is_admin(state: &AppState, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == &*state.admin_token)
}

/// `POST /sim/faults` (admin token): replaces the fault configuration.
pub async fn set_faults(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !is_admin(&state, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "admin token required"})),
        )
            .into_response();
    }
    match serde_json::from_slice::<FaultConfig>(&body) {
        Ok(cfg) => {
            state.faults.set(cfg.clone());
            Json(json!({"faults": cfg})).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

/// `GET /sim/users` (admin token): the demo users with credentials.
pub async fn users(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !is_admin(&state, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "admin token required"})),
        )
            .into_response();
    }
    Json(crate::seed::users_summary(&state.read())).into_response()
}

/// `GET /sim/technicians`: technicians' home bases, skills and working hours (no secrets).
pub async fn technicians(State(state): State<AppState>) -> Response {
    let m = state.read();
    let list: Vec<_> = m
        .users
        .iter()
        .filter(|u| u.role == DemoRole::Technician)
        .map(|u| json!({"accountId": u.account_id, "displayName": u.display_name, "email": u.email, "profile": u.profile}))
        .collect();
    Json(list).into_response()
}

/// `GET /sim/clock`: the simulator's current time.
pub async fn clock(State(state): State<AppState>) -> Response {
    Json(json!({"now": crate::clock::jira_time(state.clock.now())})).into_response()
}
