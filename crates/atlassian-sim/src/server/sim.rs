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

/// The Jira side of Assets' connected tickets: issues whose Assets field
/// (`customfield_10060`) links an object, filtered by what the caller may browse.
#[derive(Debug)]
pub(super) struct JiraConnectedTickets(pub(super) std::sync::Arc<std::sync::RwLock<Model>>);

impl assets::ConnectedTickets for JiraConnectedTickets {
    fn tickets(
        &self,
        account_id: &str,
        workspace_id: &str,
        object_id: u64,
    ) -> Vec<(String, serde_json::Value)> {
        let m = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Jira Cloud renders the object id as a string ("objectId": "88").
        let object_id = object_id.to_string();
        let links = |value: &serde_json::Value| {
            value.as_array().is_some_and(|refs| {
                refs.iter().any(|r| {
                    r["workspaceId"].as_str() == Some(workspace_id)
                        && r["objectId"].as_str() == Some(object_id.as_str())
                })
            })
        };
        let base = m.site.url.trim_end_matches('/').to_owned();
        let mut found: Vec<(String, serde_json::Value)> = m
            .issues
            .iter()
            .filter(|i| i.custom.get("customfield_10060").is_some_and(links))
            .filter(|i| m.can_browse(account_id, i))
            .map(|i| {
                let status = m.statuses.get(&i.status);
                let (_, _, color, _) = status.map_or(
                    crate::model::Category::New.parts(),
                    |s| s.category.parts(),
                );
                let kind = m.issue_types.get(&i.issue_type);
                let priority = m.priorities.iter().find(|p| p.id == i.priority);
                let ticket = json!({
                    "workspaceId": workspace_id,
                    "globalId": format!("ari:cloud:jira:{}:issue/{}", m.site.cloud_id, i.id),
                    "key": i.key,
                    "id": i.id,
                    "reporter": m.user(&i.reporter).map_or(i.reporter.as_str(), |u| u.display_name.as_str()),
                    "created": i.created.to_string(),
                    "updated": i.updated.to_string(),
                    "title": i.summary,
                    "status": {
                        "name": status.map_or("", |s| s.name.as_str()),
                        "description": status.map_or("", |s| s.description.as_str()),
                        "colorName": color,
                    },
                    "type": {
                        "name": kind.map_or("", |t| t.name.as_str()),
                        "description": kind.map_or("", |t| t.description.as_str()),
                        "iconUrl": format!("{base}/images/icons/issuetypes/{}.svg", i.issue_type),
                    },
                    "priority": {
                        "name": priority.map_or("", |p| p.name.as_str()),
                        "iconUrl": format!("{base}/images/icons/priorities/{}.svg", i.priority),
                    },
                });
                (i.key.clone(), ticket)
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }
}
