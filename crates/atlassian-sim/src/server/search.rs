//! `/rest/api/3/search/jql` (token paging) and `/search/approximate-count`.

use std::collections::HashMap;

use axum::extract::{Extension, Query, State};
use axum::{Json, body::Bytes};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::paging;
use crate::principal::AuthedUser;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct SearchBody {
    #[serde(default)]
    jql: Option<String>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    max_results: Option<i64>,
    #[serde(default)]
    fields: Option<Vec<String>>,
    #[serde(default)]
    expand: Option<String>,
}

/// Parses a comma list.
pub(super) fn list(s: Option<&String>) -> Option<Vec<String>> {
    s.map(|s| {
        s.split(',')
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect()
    })
}

pub(super) async fn search_get(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let max = match q.get("maxResults") {
        Some(v) => Some(
            v.parse::<i64>()
                .map_err(|_| ApiError::bad("The value of maxResults must be an integer."))?,
        ),
        None => None,
    };
    let body = SearchBody {
        jql: q.get("jql").cloned(),
        next_page_token: q.get("nextPageToken").cloned(),
        max_results: max,
        fields: list(q.get("fields")),
        expand: q.get("expand").cloned(),
    };
    run(&s, &u, body)
}

pub(super) async fn search_post(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body: SearchBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad(format!(
            "Invalid request payload. Refer to the REST API documentation and try again. {e}"
        ))
    })?;
    run(&s, &u, body)
}

fn run(s: &AppState, u: &AuthedUser, body: SearchBody) -> ApiResult<Json<Value>> {
    let jql = body.jql.unwrap_or_default();
    let fields = body.fields.unwrap_or_else(|| vec!["id".to_owned()]);
    let ids_only = fields.iter().all(|f| f == "id" || f == "key");
    let cap = if ids_only { 5000 } else { 100 };
    let max = paging::page_size(body.max_results, 50, cap).max(1);
    let changelog = body
        .expand
        .as_deref()
        .is_some_and(|e| e.split(',').any(|x| x.trim() == "changelog"));
    let m = s.read();
    let now = s.clock.now();
    let compiled = crate::jql::prepare(&m, &jql, &u.account_id, now).map_err(ApiError::bad)?;
    if !compiled.is_bounded() {
        return Err(ApiError::bad(
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
        ));
    }
    let scope = format!("search|{}|{jql}", u.account_id);
    let offset = match body.next_page_token.as_deref() {
        Some(t) if !t.is_empty() => paging::decode(&s.secret[..], &scope, t)?,
        _ => 0,
    };
    let hits = compiled.run(&m);
    let page: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(max)
        .filter_map(|&i| m.issues.get(i))
        .map(|i| {
            let wanted: Vec<String> = fields
                .iter()
                .filter(|f| f.as_str() != "id" && f.as_str() != "key")
                .cloned()
                .collect();
            m.issue_json(i, Some(&wanted), changelog)
        })
        .collect();
    let end = offset + page.len();
    let is_last = end >= hits.len();
    let mut out = json!({"issues": page, "isLast": is_last});
    if !is_last {
        out["nextPageToken"] = json!(paging::encode(&s.secret[..], &scope, end));
    }
    Ok(Json(out))
}

pub(super) async fn approximate_count(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let v: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::bad("Invalid request payload."))?;
    let jql = v
        .get("jql")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad("The 'jql' field is required."))?;
    let m = s.read();
    let compiled =
        crate::jql::prepare(&m, jql, &u.account_id, s.clock.now()).map_err(ApiError::bad)?;
    Ok(Json(json!({"count": compiled.run(&m).len()})))
}
