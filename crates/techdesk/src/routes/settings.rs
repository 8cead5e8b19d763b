//! `/settings/techdesk`: TechDesk's settings (TechDesk admins and site admins) and the
//! feedback users sent (list with filters, CSV export).

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::audit::{Action, Outcome};
use platform::permissions::{AccessContext, Requirement};
use platform::store::AppNs;
use platform::web::{ApiError, FieldErrors, HtmlError, PageChrome, Section, UserChrome};
use serde::Deserialize;

use super::{
    APP, SETTINGS_KEY, TechDeskState, bad_form, chrome, csrf_of, done_message, field_errors,
    render, see_other,
};
use crate::domain::feedback::{Feedback, FeedbackFilter, to_csv};
use crate::domain::settings::{SettingsForm, parse_settings};

/// Path of the settings page.
pub const SETTINGS_PATH: &str = "/settings/techdesk";

/// Most feedback entries listed or exported.
const MAX_FEEDBACK: usize = 5000;

async fn require_admin(st: &TechDeskState, ctx: &AccessContext) -> Result<(), HtmlError> {
    let ns = AppNs::new(APP).map_err(ApiError::internal)?;
    ctx.require(&st.authorizer, &Requirement::AppAdmin(ns))
        .await?;
    Ok(())
}

#[derive(Template)]
#[template(path = "techdesk/settings.html")]
struct SettingsPage {
    chrome: PageChrome,
    csrf: String,
    path: String,
    form: SettingsForm,
    projects: Vec<String>,
    errors: FieldErrors,
    done: Option<&'static str>,
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
    query: Result<Query<Done>, QueryRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Query(done) = query.map_err(ApiError::from)?;
    let settings = st.settings(&ctx).await?;
    let chrome = chrome("TechDesk settings", &user, Section::Settings);
    render(
        StatusCode::OK,
        &SettingsPage {
            csrf: csrf_of(&chrome),
            chrome,
            path: SETTINGS_PATH.into(),
            form: SettingsForm::from_settings(&settings),
            projects: settings.projects.clone(),
            errors: FieldErrors::new(),
            done: done_message(done.done.as_deref()),
        },
    )
}

pub(super) async fn save(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    form: Result<Form<SettingsForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    match parse_settings(&form) {
        Ok(settings) => {
            st.kv(&ctx)?
                .set(SETTINGS_KEY, &settings)
                .await
                .map_err(ApiError::internal)?;
            let detail = serde_json::to_value(&settings).unwrap_or_default();
            st.audit(
                &ctx,
                Action::SETTINGS_CHANGE,
                "techdesk settings",
                detail,
                Outcome::Ok,
            )
            .await;
            Ok(see_other(&format!("{SETTINGS_PATH}?done=saved")))
        }
        Err(problems) => {
            let chrome = chrome("TechDesk settings", &user, Section::Settings);
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SettingsPage {
                    csrf: csrf_of(&chrome),
                    chrome,
                    path: SETTINGS_PATH.into(),
                    form,
                    projects: Vec::new(),
                    errors: field_errors(problems),
                    done: None,
                },
            )
        }
    }
}

async fn all_feedback(st: &TechDeskState, ctx: &AccessContext) -> Result<Vec<Feedback>, ApiError> {
    let kv = st.kv(ctx)?;
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = kv.query().begins_with("feedback:").limit(100);
        if let Some(c) = cursor.take() {
            q = q.cursor(c);
        }
        let page = q.fetch_as::<Feedback>().await.map_err(ApiError::internal)?;
        out.extend(page.entries.into_iter().map(|e| e.value));
        match page.cursor {
            Some(c) if out.len() < MAX_FEEDBACK => cursor = Some(c),
            _ => break,
        }
    }
    out.reverse();
    Ok(out)
}

#[derive(Template)]
#[template(path = "techdesk/feedback.html")]
struct FeedbackPage {
    chrome: PageChrome,
    csrf: String,
    path: String,
    filter: FeedbackFilter,
    items: Vec<Feedback>,
    total: usize,
    export: String,
}

pub(super) async fn feedback_list(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    filter: Result<Query<FeedbackFilter>, QueryRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Query(filter) = filter.map_err(ApiError::from)?;
    let all = all_feedback(&st, &ctx).await?;
    let total = all.len();
    let items: Vec<Feedback> = all.into_iter().filter(|f| filter.matches(f)).collect();
    let export = format!(
        "/settings/techdesk/feedback.csv?rating={}&q={}",
        super::queue::urlencode(&filter.rating),
        super::queue::urlencode(&filter.q)
    );
    let chrome = chrome("TechDesk feedback", &user, Section::Settings);
    render(
        StatusCode::OK,
        &FeedbackPage {
            csrf: csrf_of(&chrome),
            chrome,
            path: "/settings/techdesk/feedback".into(),
            filter,
            items,
            total,
            export,
        },
    )
}

pub(super) async fn feedback_csv(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    filter: Result<Query<FeedbackFilter>, QueryRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Query(filter) = filter.map_err(ApiError::from)?;
    let items: Vec<Feedback> = all_feedback(&st, &ctx)
        .await?
        .into_iter()
        .filter(|f| filter.matches(f))
        .collect();
    st.audit(
        &ctx,
        Action::AUDIT_EXPORT,
        "techdesk feedback",
        serde_json::json!({"rows": items.len()}),
        Outcome::Ok,
    )
    .await;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"techdesk-feedback.csv\"",
            ),
        ],
        to_csv(&items),
    )
        .into_response())
}
