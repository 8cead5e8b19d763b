//! JSM request SLAs and request participants (`/rest/servicedeskapi/request/{key}/sla`,
//! `…/participant`), following `jsm-servicedesk.openapi.json`.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiResult;
use super::jsm::{date_dto, jsm_err, paged, visible_request};
use crate::model::Model;
use crate::model::sla::{CompletedCycle, OngoingCycle, SlaRecord};
use crate::principal::AuthedUser;

type Q = Query<HashMap<String, String>>;

/// `DurationDTO`: milliseconds and `2h 5m` (negative: `-1h 23m`).
fn duration_dto(ms: i64) -> Value {
    let sign = if ms < 0 { "-" } else { "" };
    let mins = ms.unsigned_abs() / 60_000;
    json!({"millis": ms, "friendly": format!("{sign}{}h {}m", mins / 60, mins % 60)})
}

fn at(t: Timestamp, ms: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_millis(ms)).unwrap_or(t)
}

fn completed_dto(c: &CompletedCycle) -> Value {
    json!({
        "startTime": date_dto(c.start), "stopTime": date_dto(c.stop),
        "breachTime": date_dto(at(c.stop, c.goal_ms - c.elapsed_ms)),
        "breached": c.breached(), "goalDuration": duration_dto(c.goal_ms),
        "elapsedTime": duration_dto(c.elapsed_ms), "remainingTime": duration_dto(c.goal_ms - c.elapsed_ms),
    })
}

fn ongoing_dto(o: &OngoingCycle, now: Timestamp) -> Value {
    let mut v = json!({
        "startTime": date_dto(o.start), "breached": o.breached(), "paused": o.paused,
        "withinCalendarHours": true, "goalDuration": duration_dto(o.goal_ms),
        "elapsedTime": duration_dto(o.elapsed_ms), "remainingTime": duration_dto(o.remaining_ms()),
    });
    if !o.paused {
        v["breachTime"] = date_dto(at(now, o.remaining_ms()));
    }
    v
}

fn sla_dto(m: &Model, issue_id: &str, s: &SlaRecord, now: Timestamp) -> Value {
    let mut v = json!({
        "id": s.id, "name": s.name, "slaDisplayFormat": "NEW_SLA_FORMAT",
        "completedCycles": s.completed.iter().map(completed_dto).collect::<Vec<_>>(),
        "_links": {"self": format!("{}/rest/servicedeskapi/request/{issue_id}/sla/{}", m.site.url, s.id)},
    });
    if let Some(o) = &s.ongoing {
        v["ongoingCycle"] = ongoing_dto(o, now);
    }
    v
}

/// `GET /rest/servicedeskapi/request/{issueIdOrKey}/sla`: agents of the service desk only.
pub(super) async fn slas(
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
    if !agent {
        return Err(jsm_err(
            403,
            "You do not have permission to view the SLAs of this request.",
        ));
    }
    let now = m.clock.now();
    let all: Vec<Value> = m
        .slas(issue, now)
        .iter()
        .map(|r| sla_dto(&m, &issue.id, r, now))
        .collect();
    Ok(Json(paged(&m, &format!("/request/{key}/sla"), all, &q)?))
}

fn participants_page(
    m: &Model,
    key: &str,
    issue_id: &str,
    q: &HashMap<String, String>,
) -> ApiResult<Value> {
    let all: Vec<Value> = m
        .participants
        .get(issue_id)
        .map(|ids| ids.iter().map(|a| m.user_dto(a)).collect())
        .unwrap_or_default();
    paged(m, &format!("/request/{key}/participant"), all, q)
}

fn is_participant(m: &Model, issue_id: &str, account_id: &str) -> bool {
    m.participants
        .get(issue_id)
        .is_some_and(|p| p.iter().any(|a| a == account_id))
}

/// The request if visible to the caller: agents and browsers, its reporter and its
/// participants.
fn request_for(m: &Model, u: &str, key: &str) -> ApiResult<usize> {
    visible_request(m, u, key).or_else(|e| {
        m.issue_index(key)
            .filter(|&i| {
                m.issues
                    .get(i)
                    .is_some_and(|is| is.request_type.is_some() && is_participant(m, &is.id, u))
            })
            .ok_or(e)
    })
}

/// `GET /rest/servicedeskapi/request/{issueIdOrKey}/participant`.
pub(super) async fn participants(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let idx = request_for(&m, &u.account_id, &key)?;
    let id = m.issues[idx].id.clone();
    Ok(Json(participants_page(&m, &key, &id, &q)?))
}

/// `POST /rest/servicedeskapi/request/{issueIdOrKey}/participant` with
/// `{"accountIds": [...]}`: agents and the reporter may add; every account must exist.
pub(super) async fn add_participants(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| jsm_err(400, format!("Invalid request payload: {e}")))?;
    let ids: Vec<String> = match v.get("accountIds") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| jsm_err(400, "accountIds must be strings."))
            })
            .collect::<ApiResult<_>>()?,
        Some(_) => return Err(jsm_err(400, "accountIds must be an array.")),
    };
    let mut m = s.write();
    let idx = request_for(&m, &u.account_id, &key)?;
    let (issue_id, reporter, project_id) = {
        let i = &m.issues[idx];
        (i.id.clone(), i.reporter.clone(), i.project_id.clone())
    };
    let agent = m
        .project(&project_id)
        .is_some_and(|p| m.is_agent(&u.account_id, p));
    if !agent && reporter != u.account_id {
        return Err(jsm_err(
            403,
            "You do not have permission to manage the participants of this request.",
        ));
    }
    if let Some(bad) = ids.iter().find(|a| !m.user(a).is_some_and(|x| x.active)) {
        return Err(jsm_err(
            400,
            format!("The user with account ID '{bad}' does not exist."),
        ));
    }
    let now = m.clock.now();
    let list = m.participants.entry(issue_id.clone()).or_default();
    let mut changed = false;
    for a in ids {
        if a != reporter && !list.contains(&a) {
            list.push(a);
            changed = true;
        }
    }
    if changed && let Some(issue) = m.issues.get_mut(idx) {
        issue.updated = issue.updated.max(now);
    }
    Ok(Json(participants_page(
        &m,
        &key,
        &issue_id,
        &HashMap::new(),
    )?))
}
