//! The web layer: thin handlers over the domain, askama templates, one state.

mod assets;
mod feedback;
mod participants;
mod project_settings;
mod queue;
mod request;
mod settings;
pub(crate) mod ticket;
mod ticket_actions;
mod timer;

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use atlassian::client::{AtlassianClient, Field, RequestTypeFields};
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use platform::audit::{Action, Actor, AuditLog, NewEntry, Outcome};
use platform::permissions::{AccessContext, Authorizer};
use platform::store::{AppNs, Kv, Store};
use platform::web::{
    ApiError, FieldErrors, HtmlError, PageChrome, Section, UserChrome, current_request_id,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::cache::{METADATA_TTL, TtlCache};
use crate::domain::settings::{ProjectSettings, TechDeskSettings};

/// Store key of a project's own settings.
pub(crate) fn project_settings_key(project: &str) -> String {
    format!("project:{project}")
}

pub use settings::SETTINGS_PATH;

/// The app namespace in the store.
pub const APP: &str = "techdesk";

/// Key of the settings in the app's store.
const SETTINGS_KEY: &str = "settings";

/// Shared state of TechDesk's pages and API.
#[derive(Clone)]
pub struct TechDeskState {
    /// App store.
    pub store: Store,
    /// Admin checks.
    pub authorizer: Authorizer,
    /// Audit log for Jira writes and settings changes.
    pub log: AuditLog,
    caches: Arc<Caches>,
}

struct Caches {
    fields: TtlCache<Vec<Field>>,
    request_type_fields: TtlCache<RequestTypeFields>,
    attribute_names: TtlCache<HashMap<String, String>>,
    slas: TtlCache<participants::FetchedSlas>,
    participants: TtlCache<Vec<atlassian::client::User>>,
}

impl TechDeskState {
    /// State over `store` with its own authorizer, audit log and metadata caches.
    pub fn new(store: Store) -> Self {
        Self {
            authorizer: Authorizer::new(store.clone()),
            log: AuditLog::new(store.clone()),
            store,
            caches: Arc::new(Caches {
                fields: TtlCache::new(METADATA_TTL),
                request_type_fields: TtlCache::new(METADATA_TTL),
                attribute_names: TtlCache::new(METADATA_TTL),
                slas: TtlCache::new(crate::cache::TICKET_TTL),
                participants: TtlCache::new(crate::cache::TICKET_TTL),
            }),
        }
    }

    pub(crate) fn kv(&self, ctx: &AccessContext) -> Result<Kv, ApiError> {
        let ns = AppNs::new(APP).map_err(ApiError::internal)?;
        Ok(self.store.kv(&ctx.site, &ns))
    }

    pub(crate) async fn settings(&self, ctx: &AccessContext) -> Result<TechDeskSettings, ApiError> {
        Ok(self
            .kv(ctx)?
            .get::<TechDeskSettings>(SETTINGS_KEY)
            .await
            .map_err(ApiError::internal)?
            .unwrap_or_default())
    }

    /// A project's own settings (defaults when none were saved or the key is not a project key).
    pub(crate) async fn project_settings(
        &self,
        ctx: &AccessContext,
        project: &str,
    ) -> Result<ProjectSettings, ApiError> {
        if !crate::domain::settings::is_project_key(project) {
            return Ok(ProjectSettings::default());
        }
        Ok(self
            .kv(ctx)?
            .get::<ProjectSettings>(&project_settings_key(project))
            .await
            .map_err(ApiError::internal)?
            .unwrap_or_default())
    }

    /// The settings in force for a project.
    pub(crate) async fn settings_for(
        &self,
        ctx: &AccessContext,
        project: &str,
    ) -> Result<TechDeskSettings, ApiError> {
        let site = self.settings(ctx).await?;
        let own = self.project_settings(ctx, project).await?;
        Ok(crate::domain::settings::effective(&site, &own))
    }

    /// The site's fields (cached).
    pub(crate) async fn fields(
        &self,
        ctx: &AccessContext,
        client: &AtlassianClient,
    ) -> Result<Arc<Vec<Field>>, atlassian::client::Error> {
        let key = ctx.site.to_string();
        if let Some(v) = self.caches.fields.get(&key) {
            return Ok(v);
        }
        let fields = client.fields().await?;
        Ok(self.caches.fields.put(key, fields))
    }

    /// A request type's fields (cached).
    pub(crate) async fn request_type_fields(
        &self,
        ctx: &AccessContext,
        client: &AtlassianClient,
        desk: &str,
        request_type: &str,
    ) -> Result<Arc<RequestTypeFields>, atlassian::client::Error> {
        let key = format!("{}:{desk}:{request_type}", ctx.site);
        if let Some(v) = self.caches.request_type_fields.get(&key) {
            return Ok(v);
        }
        let fields = client.request_type_fields(desk, request_type).await?;
        Ok(self.caches.request_type_fields.put(key, fields))
    }

    /// Attribute id → name of an Assets object type (cached).
    pub(crate) async fn attribute_names(
        &self,
        ctx: &AccessContext,
        assets: &atlassian::client::AssetsClient,
        type_id: &str,
    ) -> Result<Arc<HashMap<String, String>>, atlassian::client::Error> {
        let key = format!("{}:{type_id}", ctx.site);
        if let Some(v) = self.caches.attribute_names.get(&key) {
            return Ok(v);
        }
        let attrs = assets.object_type_attributes(type_id).await?;
        let map = attrs
            .into_iter()
            .map(|a| (a.id, a.name.unwrap_or_default()))
            .collect();
        Ok(self.caches.attribute_names.put(key, map))
    }

    /// Records a write to Jira (or its failure) by the caller.
    pub(crate) async fn audit_jira(
        &self,
        ctx: &AccessContext,
        target: &str,
        detail: serde_json::Value,
        outcome: Outcome,
    ) {
        self.audit(ctx, Action::JIRA_WRITE, target, detail, outcome)
            .await;
    }

    pub(crate) async fn audit(
        &self,
        ctx: &AccessContext,
        action: Action,
        target: &str,
        detail: serde_json::Value,
        outcome: Outcome,
    ) {
        let entry = NewEntry {
            actor: Actor::from(&ctx.principal),
            action,
            target: target.to_owned(),
            detail,
            outcome,
            request_id: current_request_id().map(|r| r.to_string()),
        };
        if let Err(e) = self.log.record(&ctx.site, entry).await {
            tracing::error!(error = %e, "cannot record an audit entry");
        }
    }
}

/// TechDesk's pages (and its settings pages). Mount behind
/// `platform::permissions::protect_with_access`.
pub fn pages(state: TechDeskState) -> Router {
    Router::new()
        .route("/techdesk", get(queue::page))
        .route("/techdesk/views", post(queue::save_view))
        .route("/techdesk/views/delete", post(queue::delete_view))
        .route("/techdesk/tickets/{key}", get(ticket::page))
        .route(
            "/techdesk/tickets/{key}/comment",
            post(ticket_actions::comment),
        )
        .route(
            "/techdesk/tickets/{key}/worklog",
            post(ticket_actions::worklog),
        )
        .route(
            "/techdesk/tickets/{key}/transition",
            post(ticket_actions::transition),
        )
        .route(
            "/techdesk/tickets/{key}/assign",
            post(ticket_actions::assign_to_me),
        )
        .route(
            "/techdesk/tickets/{key}/participants",
            post(participants::add),
        )
        .route("/techdesk/tickets/{key}/timer/start", post(timer::start))
        .route("/techdesk/tickets/{key}/timer/stop", post(timer::stop))
        .route("/techdesk/tickets/{key}/assets/search", get(assets::search))
        .route("/techdesk/tickets/{key}/assets/link", post(assets::link))
        .route(
            "/techdesk/requests/new",
            get(request::page).post(request::create),
        )
        .route("/techdesk/feedback", post(feedback::send))
        .route(SETTINGS_PATH, get(settings::page).post(settings::save))
        .route(
            "/settings/techdesk/projects/{key}",
            get(project_settings::page).post(project_settings::save),
        )
        .route("/settings/techdesk/feedback", get(settings::feedback_list))
        .route(
            "/settings/techdesk/feedback.csv",
            get(settings::feedback_csv),
        )
        .with_state(state)
}

/// TechDesk's JSON API. Mount behind `platform::permissions::protect_with_access`.
pub fn api(state: TechDeskState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(queue::api_queue))
        .with_state(state)
}

/// [`api`] with `protect` (e.g. `protect_with_access`) applied to its routes while the
/// OpenAPI description is kept.
pub fn api_with(state: TechDeskState, protect: impl FnOnce(Router) -> Router) -> OpenApiRouter {
    let (routes, doc) = api(state).split_for_parts();
    OpenApiRouter::with_openapi(doc).merge(OpenApiRouter::from(protect(routes)))
}

/// The layout of a TechDesk page.
pub(crate) fn chrome(
    title: &str,
    user: &Option<axum::Extension<UserChrome>>,
    section: Section,
) -> PageChrome {
    PageChrome::new(title, Some(section))
        .with_user(user.as_ref().map(|axum::Extension(u)| u.clone()))
}

/// The CSRF token of the page's forms.
pub(crate) fn csrf_of(chrome: &PageChrome) -> String {
    chrome
        .user
        .as_ref()
        .map(|u| u.csrf_token.clone())
        .unwrap_or_default()
}

/// Renders `page` with `status`.
pub(crate) fn render(status: StatusCode, page: &impl Template) -> Result<Response, HtmlError> {
    Ok((status, Html(page.render()?)).into_response())
}

/// 303 to `location`.
pub(crate) fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

/// A form body that could not be read: 400 without echoing it.
pub(crate) fn bad_form<E>(_: E) -> HtmlError {
    HtmlError(ApiError::BadRequest(
        "the form could not be read; reload the page and try again".into(),
    ))
}

/// Field errors from (field, reason) pairs.
pub(crate) fn field_errors<F: AsRef<str>>(
    pairs: impl IntoIterator<Item = (F, String)>,
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for (f, r) in pairs {
        errors.add(f.as_ref(), r);
    }
    errors
}

/// A Jira error as a message for the page (Atlassian's own messages when it sent any; never
/// URLs or tokens), and the status the page answers with.
pub(crate) fn jira_problem(e: &atlassian::client::Error) -> (StatusCode, String) {
    use atlassian::client::Error as E;
    let messages = e.messages().join(" ");
    let with = |prefix: &str| {
        if messages.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}: {messages}")
        }
    };
    match e {
        E::Forbidden { .. } => (
            StatusCode::FORBIDDEN,
            with("Jira refused this for your account"),
        ),
        E::NotFound { .. } => (
            StatusCode::NOT_FOUND,
            with("Jira does not show you this item"),
        ),
        E::Unauthorized { .. } | E::Auth(_) => (
            StatusCode::UNAUTHORIZED,
            "Your Atlassian sign-in has expired; sign in again".to_owned(),
        ),
        E::Http { status, .. } if (400..500).contains(status) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            with("Jira did not accept this"),
        ),
        E::RateLimited { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Jira is busy; try again in a moment".to_owned(),
        ),
        _ => {
            tracing::warn!(error = %e, "Jira call failed");
            (
                StatusCode::BAD_GATEWAY,
                "Jira could not be reached; try again".to_owned(),
            )
        }
    }
}

/// A Jira error for pages that have nothing to re-render.
pub(crate) fn jira_html_error(e: &atlassian::client::Error) -> HtmlError {
    let (status, message) = jira_problem(e);
    HtmlError(match status {
        StatusCode::FORBIDDEN => ApiError::Forbidden(message),
        StatusCode::NOT_FOUND => ApiError::NotFound(message),
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized(message),
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::BadRequest(message),
        _ => ApiError::internal(message),
    })
}

/// An issue key from the path: `ABC-123`.
pub(crate) fn check_issue_key(key: &str) -> Result<(), HtmlError> {
    let ok = key.split_once('-').is_some_and(|(p, n)| {
        crate::domain::settings::is_project_key(p)
            && !n.is_empty()
            && n.len() <= 12
            && n.chars().all(|c| c.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(HtmlError(ApiError::NotFound("no such ticket".into())))
    }
}

/// Messages shown after a redirect (`?done=…`), from a fixed set.
pub(crate) fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "comment" => "Comment added.",
        "worklog" => "Time logged.",
        "transition" => "Status changed.",
        "assigned" => "Assigned to you.",
        "timer" => "Timer started.",
        "linked" => "Assets object linked.",
        "participant" => "Participant added.",
        "created" => "Request created.",
        "saved" => "Saved.",
        "view" => "View saved.",
        "view-deleted" => "View deleted.",
        "feedback" => "Thank you for your feedback.",
        _ => return None,
    })
}
