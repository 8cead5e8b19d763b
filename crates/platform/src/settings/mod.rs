//! The Settings section: `/settings` (index), `/settings/admins` (app admin allow-lists),
//! `/settings/roles` (dispatchers and technicians per project), `/settings/credentials`
//! (the service credential of background jobs) and the audit log pages.
//!
//! Admins only ([`Requirement::AppAdmin`] of `platform`, which site admins pass). Every form
//! is validated on the server with per-field errors (422, the input kept — except secrets),
//! carries the session's CSRF token (checked by the identity layer), and every change is
//! recorded in the audit log as `settings_change` without secret values.
//!
//! Mount with [`router`] behind `permissions::protect_with_access`, which inserts the
//! [`AccessContext`] and the user's [`UserChrome`].

mod admins;
mod credentials;
mod egress;
mod roles;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use crate::audit::{self, Action, Actor, AuditLog, NewEntry, Outcome};
use crate::permissions::{AccessContext, Authorizer, Requirement, platform_ns};
use crate::store::Store;
use crate::web::{ApiError, HtmlError, PageChrome, Section, UserChrome, current_request_id};

pub use credentials::{CREDENTIAL_META_KEY, CREDENTIAL_SECRET_KEY, CredentialKind, CredentialMeta};

/// Path of the index page.
pub const SETTINGS_PATH: &str = "/settings";
/// Path of the allow-list page.
pub const ADMINS_PATH: &str = "/settings/admins";
/// Path of the role assignments page.
pub const ROLES_PATH: &str = "/settings/roles";
/// Path of the credentials page.
pub const CREDENTIALS_PATH: &str = "/settings/credentials";

/// The apps that have an admin allow-list, as shown and accepted by the forms.
pub const ADMIN_APPS: [&str; 4] = ["techdesk", "dispatch", "assets-sql", "platform"];

/// State of the settings pages.
#[derive(Clone, Debug)]
pub struct SettingsState {
    /// Where the credentials live.
    pub store: Store,
    /// Who may change settings, and the access data.
    pub authorizer: Authorizer,
    /// Where changes are recorded.
    pub log: AuditLog,
}

impl SettingsState {
    /// State over `store` with a fresh authorizer and audit log.
    pub fn new(store: Store) -> Self {
        Self {
            authorizer: Authorizer::new(store.clone()),
            log: AuditLog::new(store.clone()),
            store,
        }
    }
}

/// The Settings section's pages (index, admins, roles, credentials and the audit log).
/// Requests need an [`AccessContext`] extension, or they answer 401.
pub fn router(state: SettingsState) -> Router {
    let audit_pages = audit::router(audit::AuditState {
        log: state.log.clone(),
        authorizer: state.authorizer.clone(),
    });
    Router::new()
        .route(SETTINGS_PATH, get(index))
        .route(ADMINS_PATH, get(admins::page))
        .route("/settings/admins/add", post(admins::add))
        .route("/settings/admins/remove", post(admins::remove))
        .route(ROLES_PATH, get(roles::page))
        .route("/settings/roles/add", post(roles::add))
        .route("/settings/roles/remove", post(roles::remove))
        .route(CREDENTIALS_PATH, get(credentials::page))
        .route("/settings/credentials", post(credentials::save))
        .route("/settings/credentials/remove", post(credentials::remove))
        .route("/settings/credentials/test", post(credentials::test))
        .route(egress::EGRESS_PATH, get(egress::page))
        .route("/settings/egress/add", post(egress::add))
        .route("/settings/egress/remove", post(egress::remove))
        .with_state(state)
        .merge(audit_pages)
}

/// Refuses callers who are not admins of the `platform` app (or site admins).
async fn require_admin(st: &SettingsState, ctx: &AccessContext) -> Result<(), HtmlError> {
    ctx.require(&st.authorizer, &Requirement::AppAdmin(platform_ns()))
        .await?;
    Ok(())
}

/// The layout of a settings page.
fn chrome(title: &str, user: Option<axum::Extension<UserChrome>>) -> PageChrome {
    PageChrome::new(title, Some(Section::Settings)).with_user(user.map(|axum::Extension(u)| u))
}

/// The CSRF token for the page's forms (empty without a session, which the layer refuses).
fn csrf_of(chrome: &PageChrome) -> String {
    chrome
        .user
        .as_ref()
        .map(|u| u.csrf_token.clone())
        .unwrap_or_default()
}

/// Renders `page` with `status`.
fn render(status: StatusCode, page: &impl Template) -> Result<Response, HtmlError> {
    Ok((status, Html(page.render()?)).into_response())
}

/// A form body that could not be read (wrong content type, undecodable): 400, without
/// echoing the body.
fn bad_form(_: axum::extract::rejection::FormRejection) -> HtmlError {
    HtmlError(ApiError::BadRequest(
        "the form could not be read; reload the page and try again".into(),
    ))
}

/// 303 to `location` (post/redirect/get).
fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

/// Records a settings change by the caller. `detail` must hold no secret values.
async fn record_change(
    st: &SettingsState,
    ctx: &AccessContext,
    target: String,
    detail: serde_json::Value,
) -> Result<(), HtmlError> {
    st.log
        .record(
            &ctx.site,
            NewEntry {
                actor: Actor::from(&ctx.principal),
                action: Action::SETTINGS_CHANGE,
                target,
                detail,
                outcome: Outcome::Ok,
                request_id: current_request_id().map(|r| r.to_string()),
            },
        )
        .await
        .map_err(|e| HtmlError(ApiError::internal(e)))?;
    Ok(())
}

/// A confirmation message shown after a change (`?done=…`), from a fixed set.
fn done_message(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "added" => Some("Added."),
        "removed" => Some("Removed."),
        "saved" => Some("Saved."),
        _ => None,
    }
}

/// Checks an Atlassian account id's format (e.g. `5b10ac8d82e05b22cc7d4ef5` or
/// `557058:f58131cb-b67d-43c7-b30d-6b58d40bd077`); it is not looked up in Jira.
fn check_account_id(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("enter an account id");
    }
    if value.len() > 128 {
        return Err("an account id has at most 128 characters");
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'))
    {
        return Err("an account id has only letters, digits, ':', '-' and '_'");
    }
    Ok(())
}

/// Checks a Jira group name: 1–255 characters, no control characters.
fn check_group(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("enter a group name");
    }
    if value.chars().count() > 255 {
        return Err("a group name has at most 255 characters");
    }
    if value.chars().any(char::is_control) {
        return Err("a group name has no control characters");
    }
    Ok(())
}

struct Link {
    title: &'static str,
    path: &'static str,
    summary: &'static str,
}

#[derive(Template)]
#[template(path = "settings/index.html")]
struct IndexPage {
    chrome: PageChrome,
    links: Vec<Link>,
}

async fn index(
    State(st): State<SettingsState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let page = IndexPage {
        chrome: chrome("Settings", user),
        links: vec![
            Link {
                title: "App admins",
                path: ADMINS_PATH,
                summary: "Who administers each app: users and Jira groups.",
            },
            Link {
                title: "Project roles",
                path: ROLES_PATH,
                summary: "Dispatchers and technicians of each project.",
            },
            Link {
                title: "Service credentials",
                path: CREDENTIALS_PATH,
                summary: "The Jira credential background jobs use.",
            },
            Link {
                title: "Outbound connections",
                path: egress::EGRESS_PATH,
                summary: "On-premises hosts outbound requests may reach (public internet only otherwise).",
            },
            Link {
                title: "TechDesk",
                path: "/settings/techdesk",
                summary: "Projects, request types and fields, Assets display, comments, time logging, feedback.",
            },
            Link {
                title: "DispatchDesk",
                path: "/settings/dispatch",
                summary: "Dispatched projects, status phases, technicians, diagnostics.",
            },
            Link {
                title: "Assets to SQL",
                path: "/assets-sql",
                summary: "Exports of Assets as SQL, their schedules, webhooks and API keys.",
            },
            Link {
                title: "Audit log",
                path: audit::AUDIT_PATH,
                summary: "Who changed what, with filters and CSV download.",
            },
        ],
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_checked_for_format() {
        assert!(check_account_id("557058:f58131cb-b67d-43c7-b30d-6b58d40bd077").is_ok());
        assert!(check_account_id("5b10ac8d82e05b22cc7d4ef5").is_ok());
        assert!(check_account_id("").is_err());
        assert!(check_account_id("<script>").is_err());
        assert!(check_account_id(&"a".repeat(129)).is_err());
    }

    #[test]
    fn group_names_allow_spaces_but_not_control_characters() {
        assert!(check_group("field techs").is_ok());
        assert!(check_group("").is_err());
        assert!(check_group("a\u{7}b").is_err());
        assert!(check_group(&"g".repeat(256)).is_err());
    }

    #[test]
    fn only_known_done_messages_are_shown() {
        assert_eq!(done_message(Some("added")), Some("Added."));
        assert_eq!(done_message(Some("<b>")), None);
        assert_eq!(done_message(None), None);
    }
}
