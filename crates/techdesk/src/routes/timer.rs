//! The start/stop timer of a ticket: kept in the store per user and ticket (so it
//! survives reloads and other devices); stopping it logs the time under the admin's rules.

use atlassian::adf::Doc;
use atlassian::client::NewWorklog;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use platform::audit::Outcome;
use platform::identity::UserClient;
use platform::permissions::AccessContext;
use platform::web::{ApiError, HtmlError, UserChrome};
use serde::Deserialize;
use serde_json::json;

use super::ticket_actions::refused_by_jira;
use super::ticket_actions::with_errors;
use super::{TechDeskState, bad_form, check_issue_key, field_errors, see_other};
use crate::domain::duration::check_worklog;
use crate::domain::timer::{Timer, timer_key};

fn key_for(ctx: &AccessContext, issue: &str) -> Result<String, HtmlError> {
    timer_key(ctx.principal.id(), issue)
        .ok_or_else(|| HtmlError(ApiError::Forbidden("timers need a user account".into())))
}

pub(super) async fn start(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    Path(key): Path<String>,
) -> Result<Response, HtmlError> {
    check_issue_key(&key)?;
    let k = key_for(&ctx, &key)?;
    let kv = st.kv(&ctx)?;
    // Starting a running timer keeps its original start.
    if kv
        .get::<Timer>(&k)
        .await
        .map_err(ApiError::internal)?
        .is_none()
    {
        kv.set(&k, &Timer::start(&key, jiff::Timestamp::now()))
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(see_other(&format!(
        "/techdesk/tickets/{key}?done=timer#time"
    )))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct StopForm {
    timer_comment: String,
    /// `discard` drops the timer without logging.
    action: String,
}

pub(super) async fn stop(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<axum::Extension<UserChrome>>,
    Path(key): Path<String>,
    form: Result<Form<StopForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    check_issue_key(&key)?;
    let Form(form) = form.map_err(bad_form)?;
    let k = key_for(&ctx, &key)?;
    let kv = st.kv(&ctx)?;
    let Some(timer) = kv.get::<Timer>(&k).await.map_err(ApiError::internal)? else {
        return Ok(see_other(&format!("/techdesk/tickets/{key}#time")));
    };
    if form.action == "discard" {
        kv.delete(&k).await.map_err(ApiError::internal)?;
        return Ok(see_other(&format!("/techdesk/tickets/{key}#time")));
    }
    let settings = st
        .settings_for(&ctx, key.split('-').next().unwrap_or_default())
        .await?;
    let stopped = timer.stop(jiff::Timestamp::now());
    let comment = form.timer_comment.clone();
    let keep = |p: &mut crate::routes::ticket::TicketPage| {
        p.forms.worklog_comment = comment.clone();
    };
    let seconds = match check_worklog(stopped.seconds, &form.timer_comment, &settings.time) {
        Ok(s) => s,
        Err(problems) => {
            let errors = field_errors(problems.into_iter().map(|(f, r)| {
                (
                    if f == "comment" {
                        "timer_comment"
                    } else {
                        "timer"
                    },
                    r,
                )
            }));
            return with_errors(&st, &ctx, &client, &user, &key, errors, keep).await;
        }
    };
    let log = NewWorklog {
        time_spent_seconds: seconds,
        started: stopped.started,
        comment: (!form.timer_comment.trim().is_empty())
            .then(|| Doc::from_plain_text(form.timer_comment.trim())),
    };
    let detail = json!({"op": "worklog", "seconds": seconds, "timer": true});
    match client.add_worklog(&key, &log).await {
        Ok(_) => {
            kv.delete(&k).await.map_err(ApiError::internal)?;
            st.audit_jira(&ctx, &key, detail, Outcome::Ok).await;
            Ok(see_other(&format!(
                "/techdesk/tickets/{key}?done=worklog#time"
            )))
        }
        // The timer keeps running so no time is lost.
        Err(e) => refused_by_jira(&st, &ctx, &client, &user, &key, detail, &e, keep).await,
    }
}
