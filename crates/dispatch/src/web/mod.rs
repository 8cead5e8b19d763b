//! DispatchDesk's pages: the board (`/dispatch`), the map (`/dispatch/map`), the schedule
//! (`/dispatch/schedule`), a technician's own page (`/dispatch/me`), insights, and the
//! settings under `/settings/dispatch/…` (statuses and phases, map tiles, technicians,
//! diagnostics).
//!
//! Mount [`router`] behind `platform::permissions::protect_with_access`: every request is
//! signed in, CSRF-checked on writes, and carries the user's own Atlassian client, so Jira's
//! permissions apply to everything the board reads and writes.

mod assign;
mod auto;
mod board;
mod diagnostics;
mod map;
mod plan;
mod planning;
mod profile;
mod quick;
mod routes_all;
mod schedule;
mod settings;
mod technicians;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use platform::audit::{Action, Actor, AuditLog, NewEntry, Outcome};
use platform::permissions::{AccessContext, Authorizer, ProjectKey, Requirement};
use platform::store::Store;
use platform::web::{ApiError, HtmlError, PageChrome, Section, UserChrome, current_request_id};

pub use technicians::PROFILE_PROPERTY;

use crate::cache::BoardCache;
use crate::store::{Config, DispatchStore, ns};

/// Path of the board.
pub const DISPATCH_BOARD_PATH: &str = "/dispatch";
/// Path of the settings.
pub const DISPATCH_SETTINGS_PATH: &str = "/settings/dispatch";

/// What the pages share.
#[derive(Clone, Debug)]
pub struct DispatchState {
    /// The app store.
    pub store: Store,
    /// Role checks.
    pub authorizer: Authorizer,
    /// Where writes are recorded.
    pub log: AuditLog,
    /// Board tickets per user.
    pub cache: BoardCache,
    /// Rendered board lanes, reused while nothing changed.
    pub rendered: crate::cache::RenderCache,
    /// Where automatic dispatch is scheduled (absent in tests that run it themselves).
    pub jobs: Option<(
        platform::identity::AuthContext,
        platform::scheduler::Scheduler,
    )>,
}

impl DispatchState {
    /// State over `store` with a fresh authorizer, audit log and cache.
    pub fn new(store: Store) -> Self {
        Self {
            authorizer: Authorizer::new(store.clone()),
            log: AuditLog::new(store.clone()),
            cache: BoardCache::default(),
            rendered: crate::cache::RenderCache::default(),
            jobs: None,
            store,
        }
    }

    /// The same, scheduling automatic dispatch runs on `scheduler` with `auth`'s service
    /// credentials.
    pub fn with_jobs(
        mut self,
        auth: platform::identity::AuthContext,
        scheduler: platform::scheduler::Scheduler,
    ) -> Self {
        self.jobs = Some((auth, scheduler));
        self
    }
}

/// Every DispatchDesk route (pages and their form/JSON endpoints).
pub fn router(state: DispatchState) -> Router {
    Router::new()
        .route(DISPATCH_BOARD_PATH, get(board::page))
        .route("/dispatch/board/lanes", get(board::lanes))
        .route("/dispatch/assign", post(assign::assign))
        .route("/dispatch/assign/{key}", get(assign::page))
        .route("/dispatch/suggest", get(board::suggest))
        .route("/dispatch/map", get(map::page))
        .route("/dispatch/map/data", get(map::data))
        .route("/dispatch/schedule", get(schedule::page))
        .route(
            "/dispatch/route",
            get(plan::route_page).post(plan::route_apply),
        )
        .route(
            "/dispatch/routes",
            get(routes_all::page).post(routes_all::apply),
        )
        .route(
            "/dispatch/auto",
            get(auto::auto_page).post(auto::auto_apply),
        )
        .route("/dispatch/insights", get(schedule::insights))
        .route("/dispatch/me", get(technicians::me))
        .route(
            "/dispatch/technicians/{account_id}",
            get(technicians::edit_page).post(technicians::save),
        )
        .route(
            "/dispatch/technicians/{account_id}/availability",
            post(technicians::availability),
        )
        .route(DISPATCH_SETTINGS_PATH, get(settings::page))
        .route("/settings/dispatch/projects", post(settings::save_projects))
        .route("/settings/dispatch/detect", post(settings::detect))
        .route("/settings/dispatch/quick-setup", post(quick::quick_setup))
        .route("/settings/dispatch/mapping", post(settings::save_mapping))
        .route("/settings/dispatch/map", post(map::save_tiles))
        .route("/settings/dispatch/planning", post(planning::save))
        .route(
            "/settings/dispatch/technicians",
            get(technicians::list).post(technicians::add),
        )
        .route(
            "/settings/dispatch/technicians/remove",
            post(technicians::remove),
        )
        .route(
            "/settings/dispatch/diagnostics",
            get(diagnostics::diagnostics),
        )
        .with_state(state)
}

/// The layout of a DispatchDesk page.
pub(crate) fn chrome(
    title: &str,
    section: Section,
    user: Option<axum::Extension<UserChrome>>,
) -> PageChrome {
    PageChrome::new(title, Some(section)).with_user(user.map(|axum::Extension(u)| u))
}

/// The CSRF token for the page's forms.
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

/// A form that could not be read.
pub(crate) fn bad_form(_: axum::extract::rejection::FormRejection) -> HtmlError {
    HtmlError(ApiError::BadRequest(
        "the form could not be read; reload the page and try again".into(),
    ))
}

/// The site's settings.
pub(crate) async fn config(
    st: &DispatchState,
    ctx: &AccessContext,
) -> Result<(Config, i64), ApiError> {
    DispatchStore::new(&st.store, &ctx.site)
        .config()
        .await
        .map_err(ApiError::internal)
}

/// Site admin or on DispatchDesk's allow-list.
pub(crate) async fn require_admin(
    st: &DispatchState,
    ctx: &AccessContext,
) -> Result<(), HtmlError> {
    ctx.require(&st.authorizer, &Requirement::AppAdmin(ns()))
        .await?;
    Ok(())
}

/// Whether the caller passes `r` (errors from Jira count as no).
pub(crate) async fn passes(st: &DispatchState, ctx: &AccessContext, r: Requirement) -> bool {
    ctx.allows(&st.authorizer, &r).await
}

/// The dispatched projects the caller dispatches (admins: all of them).
pub(crate) async fn dispatchable(
    st: &DispatchState,
    ctx: &AccessContext,
    config: &Config,
) -> Vec<String> {
    if passes(st, ctx, Requirement::AppAdmin(ns())).await {
        return config.projects.clone();
    }
    let mut out = Vec::new();
    for p in &config.projects {
        if let Ok(key) = ProjectKey::new(p)
            && passes(st, ctx, Requirement::Dispatcher(key)).await
        {
            out.push(p.clone());
        }
    }
    out
}

/// Records a write by the caller. `detail` must hold no secret values.
pub(crate) async fn record(
    st: &DispatchState,
    ctx: &AccessContext,
    action: Action,
    target: String,
    detail: serde_json::Value,
    outcome: Outcome,
) {
    let entry = NewEntry {
        actor: Actor::from(&ctx.principal),
        action,
        target,
        detail,
        outcome,
        request_id: current_request_id().map(|r| r.to_string()),
    };
    if let Err(e) = st.log.record(&ctx.site, entry).await {
        tracing::error!(error = %e, "could not record a DispatchDesk write in the audit log");
    }
}
