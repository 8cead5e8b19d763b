//! Users, groups, projects, statuses, fields, permissions, server info.

use std::collections::HashMap;

use axum::extract::{Extension, Path, Query, State};
use axum::{Json, body::Bytes};
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::paging;
use crate::model::{Category, Model};
use crate::principal::AuthedUser;

type Q = Query<HashMap<String, String>>;

fn int(q: &HashMap<String, String>, k: &str) -> ApiResult<Option<i64>> {
    q.get(k)
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| ApiError::bad(format!("The value of '{k}' must be an integer.")))
        })
        .transpose()
}

pub(super) async fn myself(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let user = m
        .user(&u.account_id)
        .ok_or_else(|| ApiError::not_found("User does not exist."))?;
    Ok(Json(m.user_json(user)))
}

pub(super) async fn user(State(s): State<AppState>, Query(q): Q) -> ApiResult<Json<Value>> {
    let m = s.read();
    let id = q
        .get("accountId")
        .ok_or_else(|| ApiError::bad("The accountId query parameter needs to be provided."))?;
    let user = m.user(id).ok_or_else(|| ApiError::not_found(format!("Specified user does not exist or you do not have required permissions (accountId: {id}).")))?;
    Ok(Json(m.user_json(user)))
}

fn matches_query(u: &crate::model::User, q: &str) -> bool {
    let q = q.to_lowercase();
    q.is_empty()
        || u.display_name
            .to_lowercase()
            .split(' ')
            .any(|w| w.starts_with(&q))
        || u.display_name.to_lowercase().starts_with(&q)
        || u.email.to_lowercase().starts_with(&q)
        || u.account_id == q
}

pub(super) async fn user_search(State(s): State<AppState>, Query(q): Q) -> ApiResult<Json<Value>> {
    let query = q
        .get("query")
        .or_else(|| q.get("accountId"))
        .cloned()
        .ok_or_else(|| {
            ApiError::bad("One of 'query' or 'accountId' parameters must be provided.")
        })?;
    let start = paging::start(int(&q, "startAt")?);
    let max = paging::page_size(int(&q, "maxResults")?, 50, 1000);
    let m = s.read();
    let out: Vec<Value> = m
        .users
        .iter()
        .filter(|u| matches_query(u, &query))
        .skip(start)
        .take(max)
        .map(|u| m.user_json(u))
        .collect();
    Ok(Json(Value::Array(out)))
}

pub(super) async fn assignable(
    State(s): State<AppState>,
    Extension(me): Extension<AuthedUser>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let project = if let Some(k) = q.get("issueKey").or_else(|| q.get("issueId")) {
        let idx = m.visible_issue(&me.account_id, k)?;
        m.project(&m.issues[idx].project_id).cloned()
    } else if let Some(p) = q.get("project") {
        m.project(p)
            .filter(|p| m.has_project_permission(&me.account_id, p, "BROWSE_PROJECTS"))
            .cloned()
    } else {
        return Err(ApiError::bad(
            "A project key, issue key or issue id is required.",
        ));
    };
    let project = project
        .ok_or_else(|| ApiError::not_found("No project could be found with the given key."))?;
    let query = q
        .get("query")
        .or_else(|| q.get("accountId"))
        .cloned()
        .unwrap_or_default();
    let start = paging::start(int(&q, "startAt")?);
    let max = paging::page_size(int(&q, "maxResults")?, 50, 1000);
    let out: Vec<Value> = m
        .users
        .iter()
        .filter(|u| {
            m.has_project_permission(&u.account_id, &project, "ASSIGNABLE_USER")
                && matches_query(u, &query)
        })
        .skip(start)
        .take(max)
        .map(|u| m.user_json(u))
        .collect();
    Ok(Json(Value::Array(out)))
}

pub(super) async fn user_property(
    State(s): State<AppState>,
    Path(prop): Path<String>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let id = q
        .get("accountId")
        .ok_or_else(|| ApiError::bad("The accountId query parameter needs to be provided."))?;
    let u = m
        .user(id)
        .ok_or_else(|| ApiError::not_found("The user does not exist."))?;
    match (prop.as_str(), &u.profile) {
        ("jsmkit.profile", Some(p)) => Ok(Json(json!({"key": prop, "value": p}))),
        _ => Err(ApiError::not_found(format!(
            "The property with key '{prop}' does not exist."
        ))),
    }
}

pub(super) async fn group_member(State(s): State<AppState>, Query(q): Q) -> ApiResult<Json<Value>> {
    let m = s.read();
    let g = match (q.get("groupname"), q.get("groupId")) {
        (Some(n), _) => m.groups.get(n),
        (None, Some(id)) => m.groups.values().find(|g| &g.group_id == id),
        _ => {
            return Err(ApiError::bad(
                "Either a group name or a group id must be provided.",
            ));
        }
    };
    let g = g.ok_or_else(|| ApiError::not_found("Specified group does not exist."))?;
    let start = paging::start(int(&q, "startAt")?);
    let max = paging::page_size(int(&q, "maxResults")?, 50, 50);
    let inactive = q.get("includeInactiveUsers").is_some_and(|v| v == "true");
    let members: Vec<&crate::model::User> = g
        .members
        .iter()
        .filter_map(|a| m.user(a))
        .filter(|u| inactive || u.active)
        .collect();
    let values: Vec<Value> = members
        .iter()
        .skip(start)
        .take(max)
        .map(|u| m.user_details(&u.account_id))
        .collect();
    let is_last = start + values.len() >= members.len();
    let base = format!(
        "{}/rest/api/3/group/member?groupname={}",
        m.site.url, g.name
    );
    let mut out = json!({"self": format!("{base}&startAt={start}&maxResults={max}"), "maxResults": max, "startAt": start, "total": members.len(), "isLast": is_last, "values": values});
    if !is_last {
        out["nextPage"] = json!(format!("{base}&startAt={}&maxResults={max}", start + max));
    }
    Ok(Json(out))
}

pub(super) async fn project_search(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let start = paging::start(int(&q, "startAt")?);
    let max = paging::page_size(int(&q, "maxResults")?, 50, 100);
    let query = q.get("query").map(|s| s.to_lowercase()).unwrap_or_default();
    let list: Vec<&crate::model::Project> = m
        .projects
        .iter()
        .filter(|p| m.has_project_permission(&u.account_id, p, "BROWSE_PROJECTS"))
        .filter(|p| {
            query.is_empty()
                || p.key.to_lowercase().contains(&query)
                || p.name.to_lowercase().contains(&query)
        })
        .collect();
    let values: Vec<Value> = list
        .iter()
        .skip(start)
        .take(max)
        .map(|p| m.project_json(p))
        .collect();
    let is_last = start + values.len() >= list.len();
    let base = format!("{}/rest/api/3/project/search", m.site.url);
    let mut out = json!({"self": format!("{base}?startAt={start}&maxResults={max}"), "maxResults": max, "startAt": start, "total": list.len(), "isLast": is_last, "values": values});
    if !is_last {
        out["nextPage"] = json!(format!("{base}?startAt={}&maxResults={max}", start + max));
    }
    Ok(Json(out))
}

/// `GET /rest/api/3/project` (deprecated in favour of `project/search`, still served): every
/// project the caller may browse, unpaged, ordered by name. `recent=N` keeps the first `N`
/// (at most 20); the model records no project views, so "recent" is the same order.
pub(super) async fn projects(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let recent = int(&q, "recent")?;
    let m = s.read();
    let mut list: Vec<&crate::model::Project> = m
        .projects
        .iter()
        .filter(|p| m.has_project_permission(&u.account_id, p, "BROWSE_PROJECTS"))
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(n) = recent {
        list.truncate(usize::try_from(n.clamp(0, 20)).unwrap_or(0));
    }
    Ok(Json(Value::Array(
        list.into_iter().map(|p| m.project_json(p)).collect(),
    )))
}

fn visible_project<'a>(
    m: &'a Model,
    u: &AuthedUser,
    key: &str,
) -> ApiResult<&'a crate::model::Project> {
    m.project(key)
        .filter(|p| m.has_project_permission(&u.account_id, p, "BROWSE_PROJECTS"))
        .ok_or_else(|| ApiError::not_found(format!("No project could be found with key '{key}'.")))
}

pub(super) async fn project(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let p = visible_project(&m, &u, &key)?;
    Ok(Json(m.project_json(p)))
}

pub(super) async fn project_statuses(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let p = visible_project(&m, &u, &key)?;
    let statuses: Vec<Value> = m
        .workflows
        .get(&p.workflow)
        .map(|w| {
            w.statuses
                .iter()
                .filter_map(|id| m.statuses.get(id))
                .map(|st| m.status_json(st))
                .collect()
        })
        .unwrap_or_default();
    let out: Vec<Value> = p.issue_types.iter().map(|t| json!({
        "self": format!("{}/rest/api/3/issuetype/{t}", m.site.url), "id": t,
        "name": m.issue_types.get(t).map(|x| x.name.clone()).unwrap_or_default(), "subtask": false, "statuses": statuses,
    })).collect();
    Ok(Json(Value::Array(out)))
}

pub(super) async fn statuses_search(
    State(s): State<AppState>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let start = paging::start(int(&q, "startAt")?);
    let max = paging::page_size(int(&q, "maxResults")?, 200, 200);
    let search = q
        .get("searchString")
        .map(|s| s.to_lowercase())
        .unwrap_or_default();
    let project_statuses: Option<Vec<String>> = q.get("projectId").map(|p| {
        m.workflow_of(p)
            .map(|w| w.statuses.clone())
            .unwrap_or_default()
    });
    let list: Vec<&crate::model::Status> = m
        .statuses
        .values()
        .filter(|st| {
            project_statuses
                .as_ref()
                .is_none_or(|ids| ids.contains(&st.id))
        })
        .filter(|st| search.is_empty() || st.name.to_lowercase().contains(&search))
        .collect();
    let values: Vec<Value> = list.iter().skip(start).take(max).map(|st| json!({
        "id": st.id, "name": st.name, "description": st.description,
        "statusCategory": match st.category { Category::New => "TODO", Category::Indeterminate => "IN_PROGRESS", Category::Done => "DONE" },
        "scope": {"type": "GLOBAL"},
    })).collect();
    let is_last = start + values.len() >= list.len();
    let base = format!("{}/rest/api/3/statuses/search", m.site.url);
    let mut out = json!({"self": format!("{base}?startAt={start}&maxResults={max}"), "maxResults": max, "startAt": start, "total": list.len(), "isLast": is_last, "values": values});
    if !is_last {
        out["nextPage"] = json!(format!("{base}?startAt={}&maxResults={max}", start + max));
    }
    Ok(Json(out))
}

pub(super) async fn fields(State(s): State<AppState>) -> Json<Value> {
    let m = s.read();
    Json(Value::Array(
        m.fields.iter().map(|f| m.field_json(f)).collect(),
    ))
}

pub(super) async fn my_permissions(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let wanted: Vec<String> = q
        .get("permissions")
        .map(|p| {
            p.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .ok_or_else(|| ApiError::bad("The 'permissions' query parameter is required."))?;
    let issue = match q.get("issueKey").or_else(|| q.get("issueId")) {
        Some(k) => Some(m.visible_issue(&u.account_id, k)?),
        None => None,
    };
    let project = match q.get("projectKey").or_else(|| q.get("projectId")) {
        Some(k) => Some(m.project(k).ok_or_else(|| {
            ApiError::not_found(format!("No project could be found with key '{k}'."))
        })?),
        None => None,
    };
    let mut out = serde_json::Map::new();
    for key in &wanted {
        let def = crate::model::perm::permission_def(key).ok_or_else(|| {
            ApiError::bad(format!("Permission '{key}' is not a valid permission key."))
        })?;
        let have = if def.kind == "GLOBAL" {
            m.is_admin(&u.account_id)
        } else if let Some(i) = issue {
            m.has_issue_permission(&u.account_id, &m.issues[i], key)
        } else if let Some(p) = project {
            m.has_project_permission(&u.account_id, p, key)
        } else {
            m.projects
                .iter()
                .any(|p| m.has_project_permission(&u.account_id, p, key))
        };
        out.insert(key.clone(), json!({"id": def.id, "key": def.key, "name": def.name, "type": def.kind, "description": def.description, "havePermission": have}));
    }
    Ok(Json(json!({"permissions": out})))
}

pub(super) async fn permissions_check(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let v: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::bad("Invalid request payload."))?;
    let m = s.read();
    let who = v
        .get("accountId")
        .and_then(Value::as_str)
        .unwrap_or(&u.account_id)
        .to_owned();
    if who != u.account_id && !m.is_admin(&u.account_id) {
        return Err(ApiError::status(
            axum::http::StatusCode::FORBIDDEN,
            "Only administrators can check permissions of other users.",
        ));
    }
    let global: Vec<Value> = v
        .get("globalPermissions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|k| *k == "ADMINISTER" && m.is_admin(&who))
        .map(|k| json!(k))
        .collect();
    let mut project_grants = Vec::new();
    for req in v
        .get("projectPermissions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let projects: Vec<i64> = req
            .get("projects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64)
            .collect();
        let issues: Vec<i64> = req
            .get("issues")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64)
            .collect();
        for perm in req
            .get("permissions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if crate::model::perm::permission_def(perm).is_none() {
                return Err(ApiError::bad(format!(
                    "Permission '{perm}' is not a valid permission key."
                )));
            }
            let ok_projects: Vec<i64> = projects
                .iter()
                .copied()
                .filter(|p| {
                    m.project(&p.to_string())
                        .is_some_and(|pr| m.has_project_permission(&who, pr, perm))
                })
                .collect();
            let ok_issues: Vec<i64> = issues
                .iter()
                .copied()
                .filter(|i| {
                    m.issue(&i.to_string())
                        .is_some_and(|is| m.has_issue_permission(&who, is, perm))
                })
                .collect();
            project_grants
                .push(json!({"permission": perm, "projects": ok_projects, "issues": ok_issues}));
        }
    }
    Ok(Json(
        json!({"globalPermissions": global, "projectPermissions": project_grants}),
    ))
}

pub(super) async fn server_info(State(s): State<AppState>) -> Json<Value> {
    let m = s.read();
    Json(json!({
        "baseUrl": m.site.url, "displayUrl": m.site.url, "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0],
        "deploymentType": "Cloud", "buildNumber": 100_280, "buildDate": "2025-01-01T00:00:00.000+0000",
        "serverTime": crate::clock::jira_time(s.clock.now()), "scmInfo": "atlassian-sim", "serverTitle": "Jira",
        "serverTimeZone": m.site.time_zone,
    }))
}
