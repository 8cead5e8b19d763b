//! Writes from the ticket page: comment (internal or public), worklog, transition, assign
//! to me. All go through the user's own client; each is audited; on any error the page is
//! shown again with the typed text kept and the reason (Jira's own message when it gave
//! one).

use std::collections::BTreeMap;

use atlassian::adf::Doc;
use atlassian::client::{AtlassianClient, NewWorklog};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::audit::Outcome;
use platform::identity::UserClient;
use platform::permissions::AccessContext;
use platform::web::{FieldErrors, HtmlError, UserChrome};
use serde_json::json;

use super::ticket::{TicketPage, build};
use super::{
    TechDeskState, bad_form, check_issue_key, field_errors, jira_problem, render, see_other,
};
use crate::domain::duration::{check_worklog, parse_duration};
use crate::domain::form::parse_local_datetime;
use crate::domain::ticket::{transition_fields, transitions_view};

type Fields = Vec<(String, String)>;

fn get<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// A write Jira refused: recorded in the audit log (denied for a 403, else an error) and the
/// ticket shown again with Jira's message, the user's input kept by `keep`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn refused_by_jira(
    st: &TechDeskState,
    ctx: &AccessContext,
    client: &AtlassianClient,
    user: &Option<axum::Extension<UserChrome>>,
    key: &str,
    detail: serde_json::Value,
    e: &atlassian::client::Error,
    keep: impl FnOnce(&mut TicketPage),
) -> Result<Response, HtmlError> {
    let (status, message) = jira_problem(e);
    let outcome = if status == StatusCode::FORBIDDEN {
        Outcome::Denied
    } else {
        Outcome::Error
    };
    st.audit_jira(ctx, key, detail, outcome).await;
    again(
        st,
        ctx,
        client,
        user,
        key,
        status,
        Some(message),
        FieldErrors::new(),
        keep,
    )
    .await
}

/// Shows the page again with `status`, the problem and the field errors.
#[allow(clippy::too_many_arguments)]
pub(super) async fn again(
    st: &TechDeskState,
    ctx: &AccessContext,
    client: &AtlassianClient,
    user: &Option<axum::Extension<UserChrome>>,
    key: &str,
    status: StatusCode,
    problem: Option<String>,
    errors: FieldErrors,
    keep: impl FnOnce(&mut TicketPage),
) -> Result<Response, HtmlError> {
    let mut page = build(st, ctx, client, user, key).await?;
    keep(&mut page);
    page.problem = problem;
    page.errors = errors;
    render(status, &page)
}

/// The ticket page again with per-field errors (422), the user's input kept.
pub(super) async fn with_errors(
    st: &TechDeskState,
    ctx: &AccessContext,
    client: &AtlassianClient,
    user: &Option<axum::Extension<UserChrome>>,
    key: &str,
    errors: FieldErrors,
    keep: impl FnOnce(&mut TicketPage),
) -> Result<Response, HtmlError> {
    again(
        st,
        ctx,
        client,
        user,
        key,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        errors,
        keep,
    )
    .await
}

pub(super) async fn comment(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<axum::Extension<UserChrome>>,
    Path(key): Path<String>,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, HtmlError> {
    check_issue_key(&key)?;
    let Form(form) = form.map_err(bad_form)?;
    let text = get(&form, "comment").to_owned();
    let public = get(&form, "visibility") == "public";
    let keep = |text: String| {
        move |p: &mut TicketPage| {
            p.forms.comment = text;
            p.forms.public = public;
        }
    };
    let mut errors = FieldErrors::new();
    if text.trim().is_empty() {
        errors.add("comment", "write a comment");
    } else if text.chars().count() > 32 * 1024 {
        errors.add("comment", "at most 32768 characters");
    }
    if !matches!(get(&form, "visibility"), "public" | "internal") {
        errors.add("visibility", "choose internal or public");
    }
    if !errors.is_empty() {
        return with_errors(&st, &ctx, &client, &user, &key, errors, keep(text)).await;
    }
    // JSM's request comment carries the public flag; a plain Jira issue (not a request)
    // takes an ordinary comment.
    let result = match client.add_request_comment(&key, &text, public).await {
        Err(atlassian::client::Error::NotFound { .. }) => client
            .add_comment(&key, &Doc::from_plain_text(&text))
            .await
            .map(|_| ()),
        other => other.map(|_| ()),
    };
    let detail = json!({"op": "comment", "public": public});
    match result {
        Ok(()) => {
            st.audit_jira(&ctx, &key, detail, Outcome::Ok).await;
            st.forget_ticket(&ctx, &key);
            Ok(see_other(&format!(
                "/techdesk/tickets/{key}?done=comment#comments"
            )))
        }
        Err(e) => refused_by_jira(&st, &ctx, &client, &user, &key, detail, &e, keep(text)).await,
    }
}

pub(super) async fn worklog(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<axum::Extension<UserChrome>>,
    Path(key): Path<String>,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, HtmlError> {
    check_issue_key(&key)?;
    let Form(form) = form.map_err(bad_form)?;
    let duration = get(&form, "duration").to_owned();
    let started = get(&form, "started").to_owned();
    let comment = get(&form, "worklog_comment").to_owned();
    let settings = st
        .settings_for(&ctx, key.split('-').next().unwrap_or_default())
        .await?;
    let now = jiff::Timestamp::now();
    let mut problems: Vec<(&str, String)> = Vec::new();
    let mut seconds = 0;
    match parse_duration(&duration) {
        Ok(s) => match check_worklog(s, &comment, &settings.time) {
            Ok(rounded) => seconds = rounded,
            Err(p) => problems.extend(p),
        },
        Err(e) => {
            problems.push(("duration", e.to_string()));
            if let Err(p) = check_worklog(60, &comment, &settings.time) {
                problems.extend(p.into_iter().filter(|(f, _)| *f == "comment"));
            }
        }
    }
    let start = if started.trim().is_empty() {
        now.checked_sub(jiff::SignedDuration::from_secs(
            i64::try_from(seconds).unwrap_or(0),
        ))
        .unwrap_or(now)
    } else {
        match parse_local_datetime(started.trim()) {
            Some(t) if t <= now => t,
            Some(_) => {
                problems.push(("started", "the start cannot be in the future".into()));
                now
            }
            None => {
                problems.push((
                    "started",
                    "enter a date and time as YYYY-MM-DDTHH:MM (UTC)".into(),
                ));
                now
            }
        }
    };
    let keep = |p: &mut TicketPage| {
        p.forms.duration = duration.clone();
        p.forms.started = started.clone();
        p.forms.worklog_comment = comment.clone();
    };
    if !problems.is_empty() {
        return with_errors(
            &st,
            &ctx,
            &client,
            &user,
            &key,
            field_errors(problems),
            keep,
        )
        .await;
    }
    let log = NewWorklog {
        time_spent_seconds: seconds,
        started: start,
        comment: (!comment.trim().is_empty()).then(|| Doc::from_plain_text(comment.trim())),
    };
    let detail = json!({"op": "worklog", "seconds": seconds});
    match client.add_worklog(&key, &log).await {
        Ok(_) => {
            st.audit_jira(&ctx, &key, detail, Outcome::Ok).await;
            Ok(see_other(&format!(
                "/techdesk/tickets/{key}?done=worklog#time"
            )))
        }
        Err(e) => refused_by_jira(&st, &ctx, &client, &user, &key, detail, &e, keep).await,
    }
}

pub(super) async fn transition(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<axum::Extension<UserChrome>>,
    Path(key): Path<String>,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, HtmlError> {
    check_issue_key(&key)?;
    let Form(form) = form.map_err(bad_form)?;
    let id = get(&form, "transition").to_owned();
    let values: BTreeMap<String, String> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("field_").map(|f| (f.to_owned(), v.clone())))
        .collect();
    let keep = |p: &mut TicketPage| {
        p.forms.transition = id.clone();
        p.forms.transition_values = values.clone();
    };
    let offered = match client.transitions(&key).await {
        Ok(t) => transitions_view(&t),
        Err(e) => {
            let (status, message) = jira_problem(&e);
            return again(
                &st,
                &ctx,
                &client,
                &user,
                &key,
                status,
                Some(message),
                FieldErrors::new(),
                keep,
            )
            .await;
        }
    };
    let Some(chosen) = offered.iter().find(|t| t.id == id) else {
        let errors =
            FieldErrors::new().with("transition", "Jira does not offer this transition now");
        return with_errors(&st, &ctx, &client, &user, &key, errors, keep).await;
    };
    let fields = match transition_fields(chosen, &values) {
        Ok(f) => f,
        Err(problems) => {
            let errors = field_errors(problems.into_iter().map(|(f, r)| (format!("field_{f}"), r)));
            return with_errors(&st, &ctx, &client, &user, &key, errors, keep).await;
        }
    };
    let detail = json!({"op": "transition", "transition": chosen.id, "to": chosen.to});
    match client.do_transition(&key, &chosen.id, fields).await {
        Ok(()) => {
            st.audit_jira(&ctx, &key, detail, Outcome::Ok).await;
            st.forget_ticket(&ctx, &key);
            Ok(see_other(&format!(
                "/techdesk/tickets/{key}?done=transition"
            )))
        }
        Err(e) => refused_by_jira(&st, &ctx, &client, &user, &key, detail, &e, keep).await,
    }
}

pub(super) async fn assign_to_me(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<axum::Extension<UserChrome>>,
    Path(key): Path<String>,
) -> Result<Response, HtmlError> {
    check_issue_key(&key)?;
    let me = ctx.principal.id().to_owned();
    let detail = json!({"op": "assign", "assignee": me});
    match client.assign(&key, Some(&me)).await {
        Ok(()) => {
            st.audit_jira(&ctx, &key, detail, Outcome::Ok).await;
            Ok(see_other(&format!("/techdesk/tickets/{key}?done=assigned")))
        }
        Err(e) => refused_by_jira(&st, &ctx, &client, &user, &key, detail, &e, |_| {}).await,
    }
}
