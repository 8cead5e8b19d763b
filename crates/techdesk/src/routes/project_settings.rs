//! `/settings/techdesk/projects/{key}`: a project's own TechDesk settings (default comment
//! visibility, hidden fields, Assets attributes), for that project's admins (Jira
//! `ADMINISTER_PROJECTS`) and site admins; audited.

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::audit::{Action, Outcome};
use platform::permissions::{AccessContext, ProjectKey, Requirement};
use platform::web::{ApiError, FieldErrors, HtmlError, PageChrome, Section, UserChrome};
use serde::Deserialize;

use super::{
    TechDeskState, bad_form, chrome, csrf_of, done_message, field_errors, project_settings_key,
    render, see_other,
};
use crate::domain::settings::{ProjectSettingsForm, is_project_key, parse_project_settings};

#[derive(Template)]
#[template(path = "techdesk/project_settings.html")]
struct ProjectSettingsPage {
    chrome: PageChrome,
    csrf: String,
    path: String,
    project: String,
    form: ProjectSettingsForm,
    errors: FieldErrors,
    done: Option<&'static str>,
}

/// The project's key if the caller administers it.
async fn require_project_admin(
    st: &TechDeskState,
    ctx: &AccessContext,
    key: &str,
) -> Result<String, HtmlError> {
    if !is_project_key(key) {
        return Err(HtmlError(ApiError::NotFound("no such project".into())));
    }
    let project = ProjectKey::new(key)
        .map_err(|_| HtmlError(ApiError::NotFound("no such project".into())))?;
    ctx.require(&st.authorizer, &Requirement::ProjectAdmin(project))
        .await?;
    Ok(key.to_owned())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    done: Option<String>,
}

pub(super) async fn page(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    Path(key): Path<String>,
    query: Result<Query<Done>, QueryRejection>,
) -> Result<Response, HtmlError> {
    let project = require_project_admin(&st, &ctx, &key).await?;
    let Query(done) = query.map_err(ApiError::from)?;
    let saved = st.project_settings(&ctx, &project).await?;
    let chrome = chrome(
        &format!("TechDesk settings for {project}"),
        &user,
        Section::Settings,
    );
    render(
        StatusCode::OK,
        &ProjectSettingsPage {
            csrf: csrf_of(&chrome),
            chrome,
            path: format!("/settings/techdesk/projects/{project}"),
            form: ProjectSettingsForm::from_settings(&saved),
            project,
            errors: FieldErrors::new(),
            done: done_message(done.done.as_deref()),
        },
    )
}

pub(super) async fn save(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    Path(key): Path<String>,
    form: Result<Form<ProjectSettingsForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    let project = require_project_admin(&st, &ctx, &key).await?;
    let Form(form) = form.map_err(bad_form)?;
    match parse_project_settings(&form) {
        Ok(settings) => {
            st.kv(&ctx)?
                .set(&project_settings_key(&project), &settings)
                .await
                .map_err(ApiError::internal)?;
            let detail = serde_json::to_value(&settings).unwrap_or_default();
            st.audit(
                &ctx,
                Action::SETTINGS_CHANGE,
                &format!("techdesk settings of {project}"),
                detail,
                Outcome::Ok,
            )
            .await;
            Ok(see_other(&format!(
                "/settings/techdesk/projects/{project}?done=saved"
            )))
        }
        Err(problems) => {
            let chrome = chrome(
                &format!("TechDesk settings for {project}"),
                &user,
                Section::Settings,
            );
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ProjectSettingsPage {
                    csrf: csrf_of(&chrome),
                    chrome,
                    path: format!("/settings/techdesk/projects/{project}"),
                    project,
                    form,
                    errors: field_errors(problems),
                    done: None,
                },
            )
        }
    }
}
