//! `POST /dispatch/assign`: assignment by drag-and-drop and by the "Assign to…" menu, made in
//! Jira as the signed-in user, refused with 409 when the assignee is locked by the ticket's
//! phase (admins may override, audited) or changed since the board was loaded.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use platform::audit::{Action, Outcome};
use platform::identity::UserClient;
use platform::permissions::{AccessContext, ProjectKey, Requirement};
use platform::web::{ApiError, HtmlError};
use serde::Deserialize;
use serde_json::json;

use super::board::{url_encode, valid_key};
use super::{DispatchState, bad_form, config, passes, record, see_other};
use crate::phase::Phase;
use crate::store::{Config, DispatchStore, ns};
use crate::technician::Technician;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AssignForm {
    key: String,
    /// Target technician; empty moves the ticket back to the queue (unassigned).
    account_id: String,
    /// The assignee the dispatcher saw (empty: unassigned).
    expected: String,
    /// `yes`: an admin overrides the assignee lock.
    #[serde(rename = "override")]
    override_lock: String,
    /// Day to return to (no-script flow).
    day: String,
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// Assigns a ticket as the signed-in user (Jira's permissions apply), refusing with 409 when
/// the assignee is locked by the ticket's phase or changed since the board was loaded.
pub(crate) async fn assign(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    headers: HeaderMap,
    form: Result<Form<AssignForm>, FormRejection>,
) -> Result<Response, Response> {
    let json_reply = wants_json(&headers);
    let Form(form) = form.map_err(|e| bad_form(e).into_response())?;
    let back = |code: &str, ok: bool| {
        let day = if form.day.parse::<Date>().is_ok() {
            form.day.as_str()
        } else {
            ""
        };
        let kind = if ok { "notice" } else { "error" };
        see_other(&format!(
            "/dispatch?day={day}&{kind}={code}&key={}",
            url_encode(&form.key)
        ))
    };
    let fail = |e: ApiError, code: &str| {
        if json_reply {
            e.into_response()
        } else {
            back(code, false)
        }
    };
    let outcome = do_assign(&st, &ctx, &client, &form).await;
    match outcome {
        Ok(message) => {
            if json_reply {
                Ok(axum::Json(json!({"ok": true, "message": message})).into_response())
            } else {
                Ok(back(
                    if form.account_id.is_empty() {
                        "unassigned"
                    } else {
                        "assigned"
                    },
                    true,
                ))
            }
        }
        Err(AssignError::Locked(m)) => Err(fail(ApiError::Conflict(m), "locked")),
        Err(AssignError::Changed(m)) => Err(fail(ApiError::Conflict(m), "changed")),
        Err(AssignError::Refused(e)) => Err(fail(e, "refused")),
        Err(AssignError::Denied(e)) | Err(AssignError::Invalid(e)) => Err(if json_reply {
            e.into_response()
        } else {
            HtmlError(e).into_response()
        }),
    }
}

enum AssignError {
    Locked(String),
    Changed(String),
    Refused(ApiError),
    /// The caller may not dispatch this ticket (403 in both flows).
    Denied(ApiError),
    Invalid(ApiError),
}

async fn do_assign(
    st: &DispatchState,
    ctx: &AccessContext,
    client: &atlassian::client::AtlassianClient,
    form: &AssignForm,
) -> Result<String, AssignError> {
    let invalid = |field: &str, reason: &str| {
        AssignError::Invalid(ApiError::Validation {
            fields: platform::web::FieldErrors::new().with(field, reason),
        })
    };
    let key = form.key.trim();
    if !valid_key(key) {
        return Err(invalid("key", "not an issue key such as FS-12"));
    }
    let (config, _) = config(st, ctx).await.map_err(AssignError::Invalid)?;
    let project = key
        .split_once('-')
        .map(|(p, _)| p.to_string())
        .unwrap_or_default();
    if !config.projects.contains(&project) {
        return Err(invalid("key", "this ticket's project is not dispatched"));
    }
    let pkey = ProjectKey::new(&project).map_err(|_| invalid("key", "not an issue key"))?;
    let is_admin = passes(st, ctx, Requirement::AppAdmin(ns())).await;
    if !is_admin {
        ctx.require(&st.authorizer, &Requirement::Dispatcher(pkey.clone()))
            .await
            .map_err(|d| AssignError::Denied(d.into()))?;
    }
    let target = form.account_id.trim();
    let store = DispatchStore::new(&st.store, &ctx.site);
    let tech = if target.is_empty() {
        None
    } else {
        match store
            .technician(target)
            .await
            .map_err(|e| AssignError::Invalid(ApiError::internal(e)))?
        {
            Some((t, _)) => Some(t),
            None => return Err(invalid("account_id", "not a technician of DispatchDesk")),
        }
    };
    // The ticket as Jira has it now.
    let issue = client
        .issue(key, &issue_fields(&config), None)
        .await
        .map_err(|e| AssignError::Refused(jira_error(&e, key)))?;
    let current = issue
        .fields
        .get("assignee")
        .and_then(|a| a.get("accountId"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_string();
    let current_name = issue
        .fields
        .get("assignee")
        .and_then(|a| a.get("displayName"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("nobody")
        .to_string();
    if current == target {
        return Ok(format!(
            "{key} is already {}.",
            if target.is_empty() {
                "unassigned"
            } else {
                "assigned to them"
            }
        ));
    }
    if current != form.expected.trim() {
        return Err(AssignError::Changed(format!(
            "{key} was assigned to {current_name} by someone else since you loaded the board; it was not changed. Reload to see the current board."
        )));
    }
    let status = issue
        .fields
        .get("status")
        .and_then(|s| s.get("id"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_string();
    let phase = config.mapping.phase(&status);
    let locked = config.mapping.lock_phases.contains(&phase);
    let overriding = locked && form.override_lock == "yes";
    if locked {
        let may_override =
            is_admin || passes(st, ctx, Requirement::AdminOf(ns(), pkey.clone())).await;
        if !overriding || !may_override {
            let hint = if may_override {
                " As an admin you can override the lock."
            } else {
                " An admin can override the lock."
            };
            record(
                st,
                ctx,
                Action::JIRA_WRITE,
                key.into(),
                json!({"assign": target, "refused": "assignee locked", "phase": phase.id()}),
                Outcome::Denied,
            )
            .await;
            return Err(AssignError::Locked(format!(
                "{key} is {}: its assignee cannot be changed in this phase.{hint}",
                phase.label()
            )));
        }
    }
    let assigned = client
        .assign(key, (!target.is_empty()).then_some(target))
        .await;
    if let Err(e) = assigned {
        record(
            st,
            ctx,
            Action::JIRA_WRITE,
            key.into(),
            json!({"assign": target, "error": e.status()}),
            Outcome::Error,
        )
        .await;
        return Err(AssignError::Refused(jira_error(&e, key)));
    }
    let mut note = String::new();
    if let (Some(to), Some(_)) = (&config.assign_status, &tech)
        && phase == Phase::Planned
        && let Err(why) = crate::writes::transition_to(client, key, to).await
    {
        let mut chars = why.chars();
        let first: String = chars
            .next()
            .into_iter()
            .flat_map(char::to_uppercase)
            .collect();
        note = format!(" {first}{}.", chars.as_str());
    }
    if let Some(t) = &tech
        && let Ok(day) = form.day.trim().parse::<Date>()
        && let Some(n) = reschedule(client, &config, key, &issue, t, day).await
    {
        note.push_str(&n);
    }
    let action = if overriding {
        Action::ADMIN_OVERRIDE
    } else {
        Action::JIRA_WRITE
    };
    record(
        st,
        ctx,
        action,
        key.into(),
        json!({"assign": target, "from": current, "phase": phase.id(), "override": overriding}),
        Outcome::Ok,
    )
    .await;
    // Show the change at once on every board of the site.
    if let Ok(fresh) = client
        .issue(
            key,
            &config
                .fields
                .search_fields()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            None,
        )
        .await
        && let Some(t) = crate::jira::ticket(&fresh, &config.fields)
    {
        st.cache.upsert(&ctx.site, &t).await;
    }
    st.cache.touch(&ctx.site).await;
    Ok(match tech {
        Some(t) => format!("{key} assigned to {}.{note}", t.display_name),
        None => format!("{key} moved back to the queue.{note}"),
    })
}

/// The fields the assignment reads: status, assignee, and the schedule fields.
fn issue_fields(config: &Config) -> Vec<&str> {
    let mut f = vec!["status", "assignee", "project"];
    f.extend(config.fields.scheduled_start.as_deref());
    f.extend(config.fields.scheduled_end.as_deref());
    f
}

/// Dropping a ticket on a lane of `day` plans it for that day: when its scheduled start is
/// on another day (or unset), it moves to `day`, keeping its time of day (else the start of
/// the technician's shift, else 09:00) and its length (else one hour). Returns a note when
/// Jira refused; `None` when nothing needed doing or it worked.
async fn reschedule(
    client: &atlassian::client::AtlassianClient,
    config: &Config,
    key: &str,
    issue: &atlassian::client::Issue,
    tech: &Technician,
    day: Date,
) -> Option<String> {
    let start_field = config.fields.scheduled_start.as_deref()?;
    let zone = TimeZone::get(&config.board_zone).unwrap_or(TimeZone::UTC);
    let read = |f: Option<&str>| {
        f.and_then(|f| issue.fields.get(f))
            .and_then(serde_json::Value::as_str)
            .and_then(crate::jira::parse_time)
    };
    let start = read(Some(start_field));
    let end = read(config.fields.scheduled_end.as_deref());
    if start.is_some_and(|s| s.to_zoned_datetime(zone.clone()).date() == day) {
        return None;
    }
    let today = Timestamp::now().to_zoned_datetime(zone.clone()).date();
    if day < today {
        return Some(" It stays scheduled as it was: the board shows a past day.".into());
    }
    let time = start
        .map(|s| s.to_zoned_datetime(zone.clone()).time())
        .or_else(|| tech.shift_on(day).map(|s| s.start))
        .unwrap_or(jiff::civil::Time::constant(9, 0, 0, 0));
    let new_start = day
        .to_datetime(time)
        .to_zoned_datetime(zone)
        .ok()?
        .timestamp();
    let length = match (start, end) {
        (Some(s), Some(e)) if e > s => e.as_second() - s.as_second(),
        _ => 3600,
    };
    let new_end = Timestamp::from_second(new_start.as_second() + length).ok()?;
    write_schedule(client, config, key, new_start, new_end)
        .await
        .err()
        .map(|status| format!(" Jira did not move its schedule to {day} ({status})."))
}

/// Sets a ticket's scheduled start and end in Jira (see [`crate::writes::write_schedule`]).
pub(super) async fn write_schedule(
    client: &atlassian::client::AtlassianClient,
    config: &Config,
    key: &str,
    start: Timestamp,
    end: Timestamp,
) -> Result<(), String> {
    crate::writes::write_schedule(client, &config.fields, key, start, end).await
}

/// Assigns `key` to `account_id` as the caller, exactly like the board does (role checks,
/// assignee lock, no double-booking against `expected`, the Assigned transition), without
/// moving its schedule. The message says what happened or why not.
pub(super) async fn assign_to(
    st: &DispatchState,
    ctx: &AccessContext,
    client: &atlassian::client::AtlassianClient,
    key: &str,
    account_id: &str,
    expected: &str,
) -> Result<String, String> {
    let form = AssignForm {
        key: key.to_string(),
        account_id: account_id.to_string(),
        expected: expected.to_string(),
        override_lock: String::new(),
        day: String::new(),
    };
    do_assign(st, ctx, client, &form)
        .await
        .map_err(|e| match e {
            AssignError::Locked(m) | AssignError::Changed(m) => m,
            AssignError::Refused(e) | AssignError::Denied(e) | AssignError::Invalid(e) => {
                e.to_string()
            }
        })
}

fn jira_error(e: &atlassian::client::Error, key: &str) -> ApiError {
    use atlassian::client::Error as E;
    match e {
        E::NotFound { .. } => {
            ApiError::NotFound(format!("{key} does not exist or you cannot see it in Jira"))
        }
        E::Forbidden { .. } => ApiError::Forbidden(format!("Jira does not let you assign {key}")),
        E::Http {
            status: 400,
            messages,
            ..
        } => ApiError::BadRequest(format!("Jira refused: {}", messages.join("; "))),
        other => ApiError::BadRequest(format!(
            "Jira did not answer ({}); nothing was changed",
            other
                .status()
                .map_or("no answer".into(), |s| format!("HTTP {s}"))
        )),
    }
}

#[derive(askama::Template)]
#[template(path = "dispatch/assign.html")]
struct AssignPage {
    chrome: platform::web::PageChrome,
    csrf: String,
    ticket: crate::board::Ticket,
    phase: Phase,
    locked: bool,
    day: String,
    technicians: Vec<(String, String)>,
    suggestions: crate::suggest::Suggestions,
    names: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AssignQuery {
    day: String,
}

/// `GET /dispatch/assign/{key}`: the "Assign to…" page of one ticket: who has it, the ranked
/// suggestions with their reasons, and the form (works without scripts).
pub(crate) async fn page(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<axum::Extension<platform::web::UserChrome>>,
    axum::extract::Path(key): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<AssignQuery>,
) -> Result<Response, HtmlError> {
    if !valid_key(&key) {
        return Err(HtmlError(ApiError::NotFound("not an issue key".into())));
    }
    let (config, _) = config(&st, &ctx).await?;
    let mine = super::dispatchable(&st, &ctx, &config).await;
    let project = key
        .split_once('-')
        .map(|(p, _)| p.to_string())
        .unwrap_or_default();
    if !mine.contains(&project) {
        return Err(HtmlError(ApiError::Forbidden(
            "you are not a dispatcher of this ticket's project".into(),
        )));
    }
    let scoped = Config {
        projects: mine,
        ..config.clone()
    };
    let tickets = st
        .cache
        .tickets(&ctx.site, ctx.principal.id(), &client, &scoped)
        .await
        .map_err(ApiError::internal)?;
    let ticket = match tickets.tickets.iter().find(|t| t.key == key) {
        Some(t) => t.clone(),
        None => {
            let fields = config.fields.search_fields();
            let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
            let issue = client
                .issue(&key, &refs, None)
                .await
                .map_err(|e| jira_error(&e, &key))?;
            crate::jira::ticket(&issue, &config.fields).ok_or_else(|| {
                HtmlError(ApiError::NotFound("Jira returned no usable ticket".into()))
            })?
        }
    };
    let techs = DispatchStore::new(&st.store, &ctx.site)
        .technicians()
        .await
        .map_err(ApiError::internal)?;
    let phase = config.mapping.phase(&ticket.status_id);
    let suggestions =
        super::board::rank_for(&ticket, &tickets.tickets, &techs, &config, Timestamp::now());
    let chrome = super::chrome(
        &format!("Assign {key}"),
        platform::web::Section::Dispatch,
        user,
    );
    let day = if q.day.parse::<Date>().is_ok() {
        q.day
    } else {
        String::new()
    };
    super::render(
        axum::http::StatusCode::OK,
        &AssignPage {
            csrf: super::csrf_of(&chrome),
            chrome,
            locked: config.mapping.lock_phases.contains(&phase),
            phase,
            ticket,
            day,
            technicians: techs
                .iter()
                .map(|t| (t.account_id.clone(), t.display_name.clone()))
                .collect(),
            names: techs
                .iter()
                .map(|t| (t.account_id.clone(), t.display_name.clone()))
                .collect(),
            suggestions,
        },
    )
}
