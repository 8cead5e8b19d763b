//! `/techdesk`: my queue and the team queue, filters, search, saved views, counts; and
//! the same queue as JSON at `/api/techdesk/v1/queue`.

use std::collections::HashMap;

use askama::Template;
use atlassian::client::{AtlassianClient, SearchRequest};
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::{StreamExt, TryStreamExt};
use platform::audit::{Action, Outcome};
use platform::identity::UserClient;
use platform::permissions::AccessContext;
use platform::web::{ApiError, ErrorBody, FieldErrors, HtmlError, PageChrome, Section, UserChrome};
use serde::Deserialize;
use serde_json::json;

use super::{
    TechDeskState, bad_form, chrome, csrf_of, done_message, field_errors, jira_problem, render,
    see_other,
};
use crate::domain::queue::{
    QueueFilter, QueueItem, Sla, StatusGroup, count, filter_sla, group_by_status_with, queue_jql,
};
use crate::domain::sla::{goals, urgency};
use crate::domain::ticket::{QUEUE_FIELDS, queue_item};

/// Most tickets shown in one queue.
const MAX_ITEMS: usize = 100;

/// SLA requests of one queue in flight at once.
const SLA_CONCURRENCY: usize = 6;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct QueueParams {
    scope: String,
    q: String,
    priority: String,
    project: String,
    sla: String,
    view: String,
    done: Option<String>,
}

impl QueueParams {
    fn filter(&self) -> QueueFilter {
        QueueFilter {
            scope: self.scope.clone(),
            q: self.q.clone(),
            priority: self.priority.clone(),
            project: self.project.clone(),
            sla: self.sla.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "techdesk/queue.html")]
struct QueuePage {
    chrome: PageChrome,
    csrf: String,
    path: String,
    filter: QueueFilter,
    groups: Vec<StatusGroup>,
    total: usize,
    other_count: Option<u64>,
    views: Vec<String>,
    errors: FieldErrors,
    done: Option<&'static str>,
    problem: Option<String>,
    priorities: [&'static str; 5],
}

/// Loads a queue: its groups, or a Jira problem.
#[tracing::instrument(name = "techdesk.queue", skip_all, fields(scope = %filter.scope))]
pub(crate) async fn load(
    st: &TechDeskState,
    ctx: &AccessContext,
    client: &AtlassianClient,
    filter: &QueueFilter,
    projects: &[String],
) -> Result<Vec<StatusGroup>, atlassian::client::Error> {
    let jql =
        queue_jql(filter, projects).map_err(|e| atlassian::client::Error::InvalidArgument {
            op: "techdesk.queue",
            reason: e.to_string(),
        })?;
    let mut req = SearchRequest::new(jql).fields(QUEUE_FIELDS);
    req.page_size = MAX_ITEMS as u32;
    let issues: Vec<_> = client.search(req).take(MAX_ITEMS).try_collect().await?;
    let items: Vec<QueueItem> = issues.iter().map(queue_item).collect();
    let now = jiff::Timestamp::now();
    let jsm = jsm_urgencies(st, ctx, client, &items, now).await;
    let groups = group_by_status_with(items, now, &jsm);
    Ok(filter_sla(groups, &filter.sla))
}

/// JSM's SLA urgency of every request in the queue (plain Jira issues have none and use
/// the priority table). One SLA call per request, a few at a time, through the per-user
/// cache the ticket view shares.
async fn jsm_urgencies(
    st: &TechDeskState,
    ctx: &AccessContext,
    client: &AtlassianClient,
    items: &[QueueItem],
    now: jiff::Timestamp,
) -> HashMap<String, Sla> {
    let keys: Vec<&str> = items
        .iter()
        .filter(|i| i.request_type.is_some())
        .map(|i| i.key.as_str())
        .collect();
    let mut out = HashMap::new();
    for chunk in keys.chunks(SLA_CONCURRENCY) {
        let got = futures_util::future::join_all(
            chunk
                .iter()
                .map(|key| urgency_of(st, ctx, client, key, now)),
        )
        .await;
        out.extend(got.into_iter().flatten());
    }
    out
}

async fn urgency_of(
    st: &TechDeskState,
    ctx: &AccessContext,
    client: &AtlassianClient,
    key: &str,
    now: jiff::Timestamp,
) -> Option<(String, Sla)> {
    let fetched = st.request_slas(ctx, client, key).await?;
    let since = now.as_second().saturating_sub(fetched.at.as_second());
    urgency(&goals(&fetched.slas, since)).map(|u| (key.to_owned(), u))
}

fn view_prefix(account: &str) -> String {
    format!("view:{account}:")
}

fn check_view_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err("a view name has 1 to 40 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
    {
        return Err("use letters, digits, spaces, '-', '_' and '.'".into());
    }
    Ok(name.to_owned())
}

fn account_ok(account: &str) -> bool {
    !account.is_empty()
        && account.len() <= 128
        && account
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'))
}

async fn saved_views(st: &TechDeskState, ctx: &AccessContext) -> Result<Vec<String>, ApiError> {
    let account = ctx.principal.id();
    if !account_ok(account) {
        return Ok(Vec::new());
    }
    let prefix = view_prefix(account);
    let page = st
        .kv(ctx)?
        .query()
        .begins_with(prefix.clone())
        .limit(100)
        .fetch()
        .await
        .map_err(ApiError::internal)?;
    Ok(page
        .entries
        .into_iter()
        .filter_map(|e| e.key.strip_prefix(&prefix).map(str::to_owned))
        .collect())
}

pub(super) async fn page(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<axum::Extension<UserChrome>>,
    uri: axum::http::Uri,
    params: Result<Query<QueueParams>, QueryRejection>,
) -> Result<Response, HtmlError> {
    let Query(params) = params.map_err(ApiError::from)?;
    let mut filter = params.filter();
    if !params.view.is_empty()
        && account_ok(ctx.principal.id())
        && let Ok(name) = check_view_name(&params.view)
    {
        {
            let key = format!("{}{name}", view_prefix(ctx.principal.id()));
            if let Some(saved) = st
                .kv(&ctx)?
                .get::<QueueFilter>(&key)
                .await
                .map_err(ApiError::internal)?
            {
                filter = saved;
            }
        }
    }
    let settings = st.settings(&ctx).await?;
    let chrome = chrome("My work", &user, Section::TechDesk);
    let problems = filter.check();
    let mut page = QueuePage {
        csrf: csrf_of(&chrome),
        chrome,
        path: uri
            .path_and_query()
            .map_or("/techdesk".into(), |p| p.as_str().to_owned()),
        filter: filter.clone(),
        groups: Vec::new(),
        total: 0,
        other_count: None,
        views: saved_views(&st, &ctx).await?,
        errors: FieldErrors::new(),
        done: done_message(params.done.as_deref()),
        problem: None,
        priorities: ["Highest", "High", "Medium", "Low", "Lowest"],
    };
    if !problems.is_empty() {
        page.errors = field_errors(problems);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    match load(&st, &ctx, &client, &filter, &settings.projects).await {
        Ok(groups) => {
            page.total = count(&groups);
            page.groups = groups;
        }
        Err(e) => {
            let (status, message) = jira_problem(&e);
            page.problem = Some(message);
            return render(status, &page);
        }
    }
    // The size of the other queue, for its tab (best effort).
    let other = QueueFilter {
        scope: if filter.is_team() { "mine" } else { "team" }.into(),
        project: filter.project.clone(),
        ..QueueFilter::default()
    };
    if let Ok(jql) = queue_jql(&other, &settings.projects) {
        page.other_count = client.approximate_count(&jql).await.ok();
    }
    render(StatusCode::OK, &page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ViewForm {
    name: String,
    scope: String,
    q: String,
    priority: String,
    project: String,
    sla: String,
}

pub(super) async fn save_view(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    form: Result<Form<ViewForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    let Form(form) = form.map_err(bad_form)?;
    let name =
        check_view_name(&form.name).map_err(|r| HtmlError(ApiError::invalid_field("name", r)))?;
    let filter = QueueFilter {
        scope: form.scope,
        q: form.q,
        priority: form.priority,
        project: form.project,
        sla: form.sla,
    };
    let problems = filter.check();
    if !problems.is_empty() {
        return Err(HtmlError(ApiError::Validation {
            fields: field_errors(problems),
        }));
    }
    let account = ctx.principal.id();
    if !account_ok(account) {
        return Err(HtmlError(ApiError::Forbidden(
            "views need a user account".into(),
        )));
    }
    let key = format!("{}{name}", view_prefix(account));
    st.kv(&ctx)?
        .set(&key, &filter)
        .await
        .map_err(ApiError::internal)?;
    st.audit(
        &ctx,
        Action::SETTINGS_CHANGE,
        "techdesk saved view",
        json!({"view": name}),
        Outcome::Ok,
    )
    .await;
    let location = format!("/techdesk?view={}&done=view", urlencode(&name));
    Ok(see_other(&location))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DeleteViewForm {
    name: String,
}

pub(super) async fn delete_view(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    form: Result<Form<DeleteViewForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    let Form(form) = form.map_err(bad_form)?;
    let name =
        check_view_name(&form.name).map_err(|r| HtmlError(ApiError::invalid_field("name", r)))?;
    let account = ctx.principal.id();
    if account_ok(account) {
        let key = format!("{}{name}", view_prefix(account));
        st.kv(&ctx)?
            .delete(&key)
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(see_other("/techdesk?done=view-deleted"))
}

pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The caller's queue as JSON: status groups, most urgent first.
#[utoipa::path(
    get,
    path = "/api/techdesk/v1/queue",
    tag = "techdesk",
    operation_id = "techdesk_queue",
    params(
        ("scope" = Option<String>, Query, description = "`mine` (default) or `team`"),
        ("q" = Option<String>, Query, description = "Text search"),
        ("priority" = Option<String>, Query, description = "Priority name"),
        ("project" = Option<String>, Query, description = "Project key"),
        ("sla" = Option<String>, Query, description = "`breached`, `at-risk` or `ok`")
    ),
    responses(
        (status = 200, description = "Status groups with tickets and their SLA"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid filter", body = ErrorBody),
        (status = 502, description = "Jira failed", body = ErrorBody)
    )
)]
pub(super) async fn api_queue(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    params: Result<Query<QueueParams>, QueryRejection>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let Query(params) = params?;
    let filter = params.filter();
    let problems = filter.check();
    if !problems.is_empty() {
        return Err(ApiError::Validation {
            fields: field_errors(problems),
        });
    }
    let settings = st.settings(&ctx).await?;
    let groups = load(&st, &ctx, &client, &filter, &settings.projects)
        .await
        .map_err(|e| {
            let (status, message) = jira_problem(&e);
            match status {
                StatusCode::FORBIDDEN => ApiError::Forbidden(message),
                StatusCode::UNAUTHORIZED => ApiError::Unauthorized(message),
                StatusCode::UNPROCESSABLE_ENTITY => ApiError::BadRequest(message),
                _ => ApiError::internal(message),
            }
        })?;
    Ok(axum::Json(
        json!({ "total": count(&groups), "groups": groups }),
    ))
}
