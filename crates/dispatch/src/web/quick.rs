//! `POST /settings/dispatch/quick-setup`: DispatchDesk set up in one step on a fresh site.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::response::Response;
use platform::audit::{Action, Outcome};
use platform::identity::UserClient;
use platform::permissions::{AccessContext, ProjectKey};
use platform::web::{ApiError, FieldErrors, HtmlError};
use serde::Deserialize;
use serde_json::json;

use super::{DispatchState, bad_form, record, require_admin, see_other};
use crate::store::MAX_PROJECTS;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct QuickForm {
    projects: String,
    group: String,
    board_zone: String,
}

/// One-step set-up on a fresh site: projects, detected statuses mapped from their names,
/// fields, technicians from a Jira group. Refused once settings exist.
pub(crate) async fn quick_setup(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    form: Result<Form<QuickForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let mut errors = FieldErrors::new();
    let mut keys = Vec::new();
    for raw in form
        .projects
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match ProjectKey::new(raw.to_uppercase()) {
            Ok(k) => keys.push(k.as_str().to_string()),
            Err(e) => {
                errors.add("projects", e.reason);
            }
        }
    }
    if keys.is_empty() || keys.len() > MAX_PROJECTS {
        errors.add(
            "projects",
            format!("enter 1 to {MAX_PROJECTS} project keys"),
        );
    }
    let group = form.group.trim();
    if group.is_empty() || group.chars().count() > 255 || group.chars().any(char::is_control) {
        errors.add("group", "enter the Jira group of the technicians");
    }
    let zone = form.board_zone.trim();
    if jiff::tz::TimeZone::get(zone).is_err() {
        errors.add(
            "board_zone",
            "not a time zone; use an IANA name such as Europe/London",
        );
    }
    if !errors.is_empty() {
        return Err(HtmlError(ApiError::Validation { fields: errors }));
    }
    match crate::setup::quick_setup(&st.store, &ctx.site, &client, &keys, group, zone).await {
        Ok(r) => {
            record(&st, &ctx, Action::SETTINGS_CHANGE, "dispatch:quick-setup".into(), json!({"projects": keys, "statuses": r.statuses, "mapped": r.mapped, "technicians": r.technicians}), Outcome::Ok).await;
            st.cache.touch(&ctx.site).await;
            Ok(see_other("/settings/dispatch?done=detect"))
        }
        Err(crate::setup::SetupError::AlreadySetUp) => Err(HtmlError(ApiError::Conflict(
            "DispatchDesk is already set up here; change the settings below instead".into(),
        ))),
        Err(crate::setup::SetupError::Jira(e)) => Err(HtmlError(ApiError::BadRequest(format!(
            "Jira did not answer the set-up ({}); nothing was changed",
            e.status()
                .map_or("no answer".into(), |s| format!("HTTP {s}"))
        )))),
        Err(crate::setup::SetupError::Store(e)) => Err(HtmlError(ApiError::internal(e))),
    }
}
