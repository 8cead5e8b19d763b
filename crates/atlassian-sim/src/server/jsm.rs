//! JSM `/rest/servicedeskapi` routes.

use std::collections::HashMap;

use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, body::Bytes};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::paging;
use crate::model::jsm::JsmError;
use crate::model::render::{adf_paragraph, adf_text};
use crate::model::{Issue, Model};
use crate::principal::AuthedUser;

type Q = Query<HashMap<String, String>>;

pub(super) fn jsm_err(status: u16, msg: impl Into<String>) -> ApiError {
    ApiError::Jsm(JsmError {
        status,
        message: msg.into(),
        i18n_key: "sd.error".into(),
    })
}

fn int(q: &HashMap<String, String>, k: &str) -> ApiResult<Option<i64>> {
    q.get(k)
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| jsm_err(400, format!("The value of '{k}' must be an integer.")))
        })
        .transpose()
}

pub(super) fn paged(
    m: &Model,
    path: &str,
    all: Vec<Value>,
    q: &HashMap<String, String>,
) -> ApiResult<Value> {
    let start = paging::start(int(q, "start")?);
    let limit = paging::page_size(int(q, "limit")?, 50, 100);
    let values: Vec<Value> = all.iter().skip(start).take(limit).cloned().collect();
    let is_last = start + values.len() >= all.len();
    let base = format!("{}/rest/servicedeskapi{path}", m.site.url);
    let mut links = json!({"base": m.site.url, "context": "", "self": format!("{base}?start={start}&limit={limit}")});
    if !is_last {
        links["next"] = json!(format!("{base}?start={}&limit={limit}", start + limit));
    }
    if start > 0 {
        links["prev"] = json!(format!(
            "{base}?start={}&limit={limit}",
            start.saturating_sub(limit)
        ));
    }
    Ok(
        json!({"size": values.len(), "start": start, "limit": limit, "isLastPage": is_last, "values": values, "_links": links}),
    )
}

pub(super) fn date_dto(t: Timestamp) -> Value {
    json!({"iso8601": t.strftime("%Y-%m-%dT%H:%M:%S%z").to_string(), "jira": crate::clock::jira_time(t),
           "friendly": t.strftime("%d/%b/%y %I:%M %p").to_string(), "epochMillis": t.as_millisecond()})
}

fn can_see_desk(m: &Model, u: &str, project_id: &str) -> bool {
    m.project(project_id).is_some_and(|p| {
        m.is_agent(u, p)
            || m.in_role(p, "Customers", u)
            || m.has_project_permission(u, p, "BROWSE_PROJECTS")
    })
}

pub(super) async fn service_desks(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let all: Vec<Value> = m.service_desks.iter().filter(|d| can_see_desk(&m, &u.account_id, &d.project_id)).filter_map(|d| {
        let p = m.project(&d.project_id)?;
        Some(json!({"id": d.id, "projectId": p.id, "projectName": p.name, "projectKey": p.key, "_links": {"self": format!("{}/rest/servicedeskapi/servicedesk/{}", m.site.url, d.id)}}))
    }).collect();
    Ok(Json(paged(&m, "/servicedesk", all, &q)?))
}

fn desk<'a>(m: &'a Model, u: &str, id: &str) -> ApiResult<&'a crate::model::ServiceDesk> {
    m.service_desks
        .iter()
        .find(|d| d.id == id && can_see_desk(m, u, &d.project_id))
        .ok_or_else(|| {
            jsm_err(
                404,
                format!("The service desk with ID {id} does not exist."),
            )
        })
}

fn rt_json(m: &Model, rt: &crate::model::RequestType) -> Value {
    json!({"id": rt.id, "name": rt.name, "description": rt.description, "helpText": rt.help_text, "issueTypeId": rt.issue_type_id,
           "serviceDeskId": rt.service_desk_id, "portalId": rt.service_desk_id, "groupIds": rt.group_ids,
           "_links": {"self": format!("{}/rest/servicedeskapi/servicedesk/{}/requesttype/{}", m.site.url, rt.service_desk_id, rt.id)}})
}

pub(super) async fn request_types(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(id): Path<String>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let d = desk(&m, &u.account_id, &id)?;
    let search = q
        .get("searchQuery")
        .map(|x| x.to_lowercase())
        .unwrap_or_default();
    let all: Vec<Value> = m
        .request_types
        .iter()
        .filter(|r| {
            r.service_desk_id == d.id
                && (search.is_empty() || r.name.to_lowercase().contains(&search))
        })
        .map(|r| rt_json(&m, r))
        .collect();
    Ok(Json(paged(
        &m,
        &format!("/servicedesk/{id}/requesttype"),
        all,
        &q,
    )?))
}

pub(super) async fn request_type_fields(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path((id, rt)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let d = desk(&m, &u.account_id, &id)?;
    let rt = m
        .request_types
        .iter()
        .find(|r| r.id == rt && r.service_desk_id == d.id)
        .ok_or_else(|| {
            jsm_err(
                404,
                format!("The request type with ID {rt} does not exist."),
            )
        })?;
    let fields: Vec<Value> = rt.fields.iter().map(|f| {
        let schema = m.field(&f.field_id).map(|d| d.schema.clone()).unwrap_or(json!({"type": "string"}));
        json!({"fieldId": f.field_id, "name": f.name, "description": f.description, "required": f.required, "visible": true,
               "jiraSchema": schema, "defaultValues": [], "presetValues": [],
               "validValues": f.valid_values.iter().map(|(v, l)| json!({"value": v, "label": l, "children": []})).collect::<Vec<_>>()})
    }).collect();
    let project = m.project(&d.project_id);
    let agent = project.is_some_and(|p| m.is_agent(&u.account_id, p));
    Ok(Json(
        json!({"requestTypeFields": fields, "canRaiseOnBehalfOf": agent, "canAddRequestParticipants": agent}),
    ))
}

fn request_json(m: &Model, i: &Issue) -> Value {
    let status = m.statuses.get(&i.status);
    let rt = i
        .request_type
        .as_deref()
        .and_then(|r| m.request_types.iter().find(|x| x.id == r));
    let status_date = i
        .changelog
        .iter()
        .rev()
        .find(|h| h.items.iter().any(|it| it.field_id == "status"))
        .map_or(i.created, |h| h.created);
    let mut values = Vec::new();
    for f in rt.map(|r| r.fields.as_slice()).unwrap_or_default() {
        if let Some(v) = m.field_value(i, &f.field_id).filter(|v| !v.is_null()) {
            let v = if f.field_id == "description" {
                json!(adf_text(&v).trim())
            } else {
                v
            };
            values.push(json!({"fieldId": f.field_id, "label": f.name, "value": v}));
        }
    }
    json!({
        "issueId": i.id, "issueKey": i.key, "summary": i.summary,
        "requestTypeId": rt.map(|r| r.id.clone()).unwrap_or_default(),
        "serviceDeskId": m.service_desk_of(&i.project_id).map(|d| d.id.clone()).unwrap_or_default(),
        "createdDate": date_dto(i.created),
        "reporter": m.user_dto(&i.reporter),
        "requestFieldValues": values,
        "currentStatus": {"status": status.map(|s| s.name.clone()).unwrap_or_default(),
                          "statusCategory": status.map(|s| match s.category { crate::model::Category::New => "NEW", crate::model::Category::Indeterminate => "INDETERMINATE", crate::model::Category::Done => "DONE" }).unwrap_or("NEW"),
                          "statusDate": date_dto(status_date)},
        "_links": {"jiraRest": format!("{}/rest/api/2/issue/{}", m.site.url, i.id), "self": format!("{}/rest/servicedeskapi/request/{}", m.site.url, i.id),
                   "web": format!("{}/servicedesk/customer/portal/{}/{}", m.site.url, m.service_desk_of(&i.project_id).map(|d| d.id.clone()).unwrap_or_default(), i.key),
                   "agent": format!("{}/browse/{}", m.site.url, i.key)},
    })
}

pub(super) async fn create_request(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    body: Bytes,
) -> ApiResult<Response> {
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| jsm_err(400, format!("Invalid request payload: {e}")))?;
    let desk_id = v
        .get("serviceDeskId")
        .and_then(|x| {
            x.as_str()
                .map(String::from)
                .or_else(|| x.as_i64().map(|n| n.to_string()))
        })
        .ok_or_else(|| jsm_err(400, "The serviceDeskId is required."))?;
    let rt_id = v
        .get("requestTypeId")
        .and_then(|x| {
            x.as_str()
                .map(String::from)
                .or_else(|| x.as_i64().map(|n| n.to_string()))
        })
        .ok_or_else(|| jsm_err(400, "The requestTypeId is required."))?;
    let values = v
        .get("requestFieldValues")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let adf = v
        .get("isAdfRequest")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut m = s.write();
    let idx = m.create_request(
        &u.account_id,
        &desk_id,
        &rt_id,
        &values,
        v.get("raiseOnBehalfOf").and_then(Value::as_str),
        adf,
    )?;
    Ok((StatusCode::CREATED, Json(request_json(&m, &m.issues[idx]))).into_response())
}

/// The request if the caller is an agent/browser of it or its reporter.
pub(super) fn visible_request(m: &Model, u: &str, key: &str) -> ApiResult<usize> {
    let idx = m.issue_index(key).filter(|&i| {
        m.issues.get(i).is_some_and(|is| {
            is.request_type.is_some() && (m.can_browse(u, is) || is.reporter == u)
        })
    });
    idx.ok_or_else(|| {
        jsm_err(
            404,
            "The request does not exist or you do not have permission to see it.",
        )
    })
}

pub(super) async fn get_request(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let idx = visible_request(&m, &u.account_id, &key)?;
    Ok(Json(request_json(&m, &m.issues[idx])))
}

fn comment_dto(m: &Model, i: &Issue, c: &crate::model::Comment) -> Value {
    json!({"id": c.id, "body": adf_text(&c.body).trim(), "public": c.public, "author": m.user_dto(&c.author), "created": date_dto(c.created),
           "_links": {"self": format!("{}/rest/servicedeskapi/request/{}/comment/{}", m.site.url, i.id, c.id)}})
}

pub(super) async fn comments(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let idx = visible_request(&m, &u.account_id, &key)?;
    let issue = &m.issues[idx];
    let agent = m
        .project(&issue.project_id)
        .is_some_and(|p| m.is_agent(&u.account_id, p));
    let want_public = q.get("public").is_none_or(|v| v != "false");
    let want_internal = agent && q.get("internal").is_none_or(|v| v != "false");
    let all: Vec<Value> = issue
        .comments
        .iter()
        .filter(|c| (c.public && want_public) || (!c.public && want_internal))
        .map(|c| comment_dto(&m, issue, c))
        .collect();
    Ok(Json(paged(
        &m,
        &format!("/request/{key}/comment"),
        all,
        &q,
    )?))
}

pub(super) async fn add_comment(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| jsm_err(400, format!("Invalid request payload: {e}")))?;
    let text = v
        .get("body")
        .and_then(Value::as_str)
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| jsm_err(400, "The comment body is required."))?
        .to_owned();
    let public = v.get("public").and_then(Value::as_bool).unwrap_or(true);
    let mut m = s.write();
    let idx = visible_request(&m, &u.account_id, &key)?;
    let agent = m
        .project(&m.issues[idx].project_id)
        .is_some_and(|p| m.is_agent(&u.account_id, p));
    if !public && !agent {
        return Err(jsm_err(403, "Only agents can add internal comments."));
    }
    let c = m.push_comment(idx, &u.account_id, adf_paragraph(&text), public);
    Ok((
        StatusCode::CREATED,
        Json(comment_dto(&m, &m.issues[idx], &c)),
    )
        .into_response())
}

pub(super) async fn assets_workspace(
    State(s): State<AppState>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let all = vec![json!({"workspaceId": m.site.assets_workspace_id})];
    Ok(Json(paged(&m, "/assets/workspace", all, &q)?))
}
