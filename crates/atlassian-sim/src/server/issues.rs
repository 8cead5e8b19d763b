//! Issue routes: get/edit, bulk fetch, changelogs, assignee, transitions, comments, worklogs.

use std::collections::HashMap;

use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, body::Bytes};
use serde_json::{Map, Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::paging;
use super::search::list;
use crate::model::ModelError;
use crate::model::ops::parse_jira_time;
use crate::model::render::format_duration;
use crate::principal::AuthedUser;

type Q = Query<HashMap<String, String>>;

fn body_json(b: &Bytes) -> ApiResult<Value> {
    serde_json::from_slice(b).map_err(|e| {
        ApiError::bad(format!(
            "Invalid request payload. Refer to the REST API documentation and try again. ({e})"
        ))
    })
}

fn int(q: &HashMap<String, String>, k: &str) -> ApiResult<Option<i64>> {
    q.get(k)
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| ApiError::bad(format!("The value of '{k}' must be an integer.")))
        })
        .transpose()
}

pub(super) async fn get_issue(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let idx = m.visible_issue(&u.account_id, &key)?;
    let fields = list(q.get("fields"));
    let changelog = q
        .get("expand")
        .is_some_and(|e| e.split(',').any(|x| x.trim() == "changelog"));
    Ok(Json(m.issue_json(
        &m.issues[idx],
        fields.as_deref(),
        changelog,
    )))
}

pub(super) async fn edit_issue(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let v = body_json(&body)?;
    let mut fields: Map<String, Value> = v
        .get("fields")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(update) = v.get("update").and_then(Value::as_object) {
        for (k, ops) in update {
            for op in ops.as_array().into_iter().flatten() {
                if let Some(val) = op.get("set") {
                    fields.insert(k.clone(), val.clone());
                } else if k == "labels" {
                    let mut cur: Vec<Value> = {
                        let m = s.read();
                        m.issue(&key)
                            .map(|i| i.labels.iter().map(|l| json!(l)).collect())
                            .unwrap_or_default()
                    };
                    if let Some(a) = op.get("add") {
                        cur.push(a.clone());
                    }
                    if let Some(r) = op.get("remove") {
                        cur.retain(|x| x != r);
                    }
                    fields.insert(k.clone(), Value::Array(cur));
                } else {
                    return Err(ApiError::Jira {
                        status: StatusCode::BAD_REQUEST,
                        messages: vec![],
                        errors: [(k.clone(), json!("Unsupported update operation."))]
                            .into_iter()
                            .collect(),
                    });
                }
            }
        }
    }
    s.write().edit_issue(&u.account_id, &key, &fields)?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn bulkfetch(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let v = body_json(&body)?;
    let ids: Vec<String> = v
        .get("issueIdsOrKeys")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad("issueIdsOrKeys is required."))?
        .iter()
        .map(|x| x.as_str().map_or_else(|| x.to_string(), String::from))
        .collect();
    if ids.len() > 100 {
        return Err(ApiError::bad(
            "The number of issues to fetch must not exceed 100.",
        ));
    }
    let fields: Option<Vec<String>> = v.get("fields").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect()
    });
    let fields = fields.unwrap_or_else(|| vec!["*navigable".to_owned()]);
    let changelog = v
        .get("expand")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x == "changelog"));
    let m = s.read();
    let mut issues = Vec::new();
    let mut errors = Vec::new();
    for id in ids {
        match m.visible_issue(&u.account_id, &id) {
            Ok(i) => issues.push(m.issue_json(&m.issues[i], Some(&fields), changelog)),
            Err(_) => {
                errors.push(json!({"id": id, "errorMessage": crate::model::ops::ISSUE_NOT_FOUND}))
            }
        }
    }
    Ok(Json(json!({"issues": issues, "issueErrors": errors})))
}

pub(super) async fn changelog(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let idx = m.visible_issue(&u.account_id, &key)?;
    let issue = &m.issues[idx];
    let start = paging::start(int(&q, "startAt")?);
    let max = paging::page_size(int(&q, "maxResults")?, 100, 100);
    let values: Vec<Value> = issue
        .changelog
        .iter()
        .skip(start)
        .take(max)
        .map(|h| m.history_json(h))
        .collect();
    let total = issue.changelog.len();
    let is_last = start + values.len() >= total;
    let base = format!("{}/rest/api/3/issue/{}/changelog", m.site.url, issue.key);
    let mut out = json!({"self": format!("{base}?maxResults={max}&startAt={start}"), "maxResults": max, "startAt": start, "total": total, "isLast": is_last, "values": values});
    if !is_last {
        out["nextPage"] = json!(format!("{base}?maxResults={max}&startAt={}", start + max));
    }
    Ok(Json(out))
}

pub(super) async fn changelog_bulk(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let v = body_json(&body)?;
    let ids: Vec<String> = v
        .get("issueIdsOrKeys")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad("issueIdsOrKeys is required."))?
        .iter()
        .map(|x| x.as_str().map_or_else(|| x.to_string(), String::from))
        .collect();
    if ids.is_empty() || ids.len() > 1000 {
        return Err(ApiError::bad(
            "Provide between 1 and 1000 issue ids or keys.",
        ));
    }
    let field_ids: Vec<String> = v
        .get("fieldIds")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let max = paging::page_size(v.get("maxResults").and_then(Value::as_i64), 1000, 10_000).max(1);
    let m = s.read();
    let mut visible = Vec::new();
    for id in &ids {
        visible.push(m.visible_issue(&u.account_id, id)?);
    }
    let scope = format!(
        "chlog|{}|{}|{}",
        u.account_id,
        ids.join(","),
        field_ids.join(",")
    );
    let offset = match v.get("nextPageToken").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => paging::decode(&s.secret[..], &scope, t)?,
        _ => 0,
    };
    let mut flat: Vec<(usize, &crate::model::History)> = Vec::new();
    for &i in &visible {
        for h in &m.issues[i].changelog {
            if field_ids.is_empty() || h.items.iter().any(|it| field_ids.contains(&it.field_id)) {
                flat.push((i, h));
            }
        }
    }
    let page: Vec<_> = flat.iter().skip(offset).take(max).collect();
    let mut groups: Vec<(usize, Vec<Value>)> = Vec::new();
    for (i, h) in &page {
        let mut hj = m.history_json(h);
        if !field_ids.is_empty()
            && let Some(items) = hj.get_mut("items").and_then(Value::as_array_mut)
        {
            items.retain(|it| {
                it.get("fieldId")
                    .and_then(Value::as_str)
                    .is_some_and(|f| field_ids.iter().any(|x| x == f))
            });
        }
        match groups.last_mut() {
            Some((gi, list)) if gi == i => list.push(hj),
            _ => groups.push((*i, vec![hj])),
        }
    }
    let logs: Vec<Value> = groups
        .into_iter()
        .map(|(i, hs)| json!({"issueId": m.issues[i].id, "changeHistories": hs}))
        .collect();
    let mut out = json!({"issueChangeLogs": logs});
    let end = offset + page.len();
    if end < flat.len() {
        out["nextPageToken"] = json!(paging::encode(&s.secret[..], &scope, end));
    }
    Ok(Json(out))
}

pub(super) async fn assign(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let v = body_json(&body)?;
    let who = match v.get("accountId") {
        Some(Value::String(a)) if a == "-1" => {
            return Err(ApiError::bad(
                "Automatic assignment is not supported by the simulator.",
            ));
        }
        Some(Value::String(a)) => Some(a.clone()),
        Some(Value::Null) | None => None,
        Some(_) => return Err(ApiError::bad("accountId must be a string or null.")),
    };
    s.write().assign(&u.account_id, &key, who.as_deref())?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn transitions(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let list = m.transitions_for(&u.account_id, &key)?;
    let out: Vec<Value> = list.iter().map(|t| {
        let to = m.statuses.get(&t.to).map(|st| m.status_json(st)).unwrap_or(Value::Null);
        let fields: Map<String, Value> = t.required_fields.iter().filter_map(|f| m.field(f)).map(|f| (f.id.clone(), json!({
            "required": true, "schema": f.schema, "name": f.name, "key": f.id, "hasDefaultValue": false, "operations": ["set"],
            "allowedValues": if f.id == "resolution" { m.resolutions.iter().map(|r| json!({"id": r.id, "name": r.name, "self": format!("{}/rest/api/3/resolution/{}", m.site.url, r.id)})).collect::<Vec<_>>() } else { Vec::new() },
        }))).collect();
        json!({"id": t.id, "name": t.name, "to": to, "hasScreen": !t.required_fields.is_empty(), "isGlobal": t.from.is_empty(),
               "isInitial": false, "isAvailable": true, "isConditional": false, "looped": false, "fields": fields})
    }).collect();
    Ok(Json(json!({"expand": "transitions", "transitions": out})))
}

pub(super) async fn do_transition(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let v = body_json(&body)?;
    let id = v
        .pointer("/transition/id")
        .and_then(|x| {
            x.as_str()
                .map(String::from)
                .or_else(|| x.as_i64().map(|n| n.to_string()))
        })
        .ok_or_else(|| ApiError::bad("Missing 'transition' identifier"))?;
    let fields = v.get("fields").and_then(Value::as_object).cloned();
    s.write()
        .transition(&u.account_id, &key, &id, fields.as_ref())
        .map_err(forbidden_is_bad_request)?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn comments(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let idx = m.visible_issue(&u.account_id, &key)?;
    let issue = &m.issues[idx];
    let start = paging::start(int(&q, "startAt")?);
    let max = paging::page_size(int(&q, "maxResults")?, 5000, 5000);
    let mut list: Vec<&crate::model::Comment> = issue.comments.iter().collect();
    if q.get("orderBy").is_some_and(|o| o.starts_with('-')) {
        list.reverse();
    }
    let page: Vec<Value> = list
        .iter()
        .skip(start)
        .take(max)
        .map(|c| m.comment_json(issue, c))
        .collect();
    Ok(Json(
        json!({"startAt": start, "maxResults": max, "total": list.len(), "comments": page}),
    ))
}

pub(super) async fn add_comment(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let v = body_json(&body)?;
    let doc = v.get("body").cloned().unwrap_or(Value::Null);
    if doc.get("type").and_then(Value::as_str) != Some("doc") {
        return Err(ApiError::Jira {
            status: StatusCode::BAD_REQUEST,
            messages: vec![],
            errors: [(
                "comment".to_owned(),
                json!("Comment body must be an Atlassian Document Format document."),
            )]
            .into_iter()
            .collect(),
        });
    }
    let internal = v
        .get("properties")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|p| {
            p.get("key").and_then(Value::as_str) == Some("sd.public.comment")
                && p.pointer("/value/internal").and_then(Value::as_bool) == Some(true)
        });
    let mut m = s.write();
    let c = m
        .add_comment(&u.account_id, &key, doc, !internal)
        .map_err(forbidden_is_bad_request)?;
    let idx = m.visible_issue(&u.account_id, &key)?;
    Ok((
        StatusCode::CREATED,
        Json(m.comment_json(&m.issues[idx], &c)),
    )
        .into_response())
}

pub(super) async fn worklogs(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let idx = m.visible_issue(&u.account_id, &key)?;
    let issue = &m.issues[idx];
    let start = paging::start(int(&q, "startAt")?);
    let max = paging::page_size(int(&q, "maxResults")?, 5000, 5000);
    let page: Vec<Value> = issue
        .worklogs
        .iter()
        .skip(start)
        .take(max)
        .map(|w| m.worklog_json(issue, w))
        .collect();
    Ok(Json(
        json!({"startAt": start, "maxResults": max, "total": issue.worklogs.len(), "worklogs": page}),
    ))
}

fn parse_time_spent(s: &str) -> Option<i64> {
    let mut total = 0i64;
    for part in s.split_whitespace() {
        let (num, unit) = part.split_at(part.find(|c: char| !c.is_ascii_digit())?);
        let n: i64 = num.parse().ok()?;
        total += n * match unit {
            "w" => 5 * 8 * 3600,
            "d" => 8 * 3600,
            "h" => 3600,
            "m" => 60,
            _ => return None,
        };
    }
    (total > 0).then_some(total)
}

fn field_error(field: &str, message: &str) -> ApiError {
    ApiError::Jira {
        status: StatusCode::BAD_REQUEST,
        messages: vec![],
        errors: [(field.to_owned(), json!(message))].into_iter().collect(),
    }
}

/// The documented query parameters of adding a worklog, checked as Jira checks them. The
/// model keeps no remaining estimate, so a valid `adjustEstimate` changes nothing else.
fn check_worklog_params(q: &HashMap<String, String>) -> ApiResult<()> {
    for flag in ["notifyUsers", "overrideEditableFlag"] {
        if q.get(flag).is_some_and(|v| v != "true" && v != "false") {
            return Err(ApiError::bad(format!("'{flag}' must be true or false.")));
        }
    }
    let duration = |k: &str, message: &str| match q.get(k).map(|v| parse_time_spent(v)) {
        Some(Some(_)) => Ok(()),
        _ => Err(field_error(k, message)),
    };
    match q.get("adjustEstimate").map_or("auto", String::as_str) {
        "auto" | "leave" => Ok(()),
        "new" => duration("newEstimate", "You must supply a valid new estimate."),
        "manual" => duration("reduceBy", "You must supply a valid amount to reduce by."),
        other => Err(ApiError::bad(format!(
            "Invalid value '{other}' for adjustEstimate: use new, leave, manual or auto."
        ))),
    }
}

pub(super) async fn add_worklog(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
    Query(q): Q,
    body: Bytes,
) -> ApiResult<Response> {
    check_worklog_params(&q)?;
    let v = body_json(&body)?;
    let secs = v
        .get("timeSpentSeconds")
        .and_then(Value::as_i64)
        .or_else(|| {
            v.get("timeSpent")
                .and_then(Value::as_str)
                .and_then(parse_time_spent)
        })
        .ok_or_else(|| ApiError::Jira {
            status: StatusCode::BAD_REQUEST,
            messages: vec![],
            errors: [(
                "timeLogged".to_owned(),
                json!("You must indicate the time spent working."),
            )]
            .into_iter()
            .collect(),
        })?;
    let started = match v.get("started").and_then(Value::as_str) {
        Some(t) => parse_jira_time(t).ok_or_else(|| ApiError::Jira {
            status: StatusCode::BAD_REQUEST,
            messages: vec![],
            errors: [("started".to_owned(), json!("Invalid date format."))]
                .into_iter()
                .collect(),
        })?,
        None => s.clock.now(),
    };
    let comment = v.get("comment").cloned();
    let mut m = s.write();
    let w = m
        .add_worklog(&u.account_id, &key, secs, started, comment)
        .map_err(forbidden_is_bad_request)?;
    let idx = m.visible_issue(&u.account_id, &key)?;
    let mut out = m.worklog_json(&m.issues[idx], &w);
    out["timeSpent"] = json!(format_duration(secs));
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// Adding comments and worklogs and transitioning answer a missing project permission with
/// 400 (their documented responses are 400 "the request is invalid" / "the user does not
/// have permission to transition the issue"; 403 is not among them), unlike edit and assign.
fn forbidden_is_bad_request(e: ModelError) -> ApiError {
    match e {
        ModelError::Forbidden(m) => ApiError::bad(m),
        other => other.into(),
    }
}
