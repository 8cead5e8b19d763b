//! `/settings/roles`: dispatchers and technicians per project, each a user, a Jira group or
//! everyone holding a Jira project permission.

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::{
    ROLES_PATH, SettingsState, bad_form, check_account_id, check_group, chrome, csrf_of,
    done_message, record_change, render, require_admin, see_other,
};
use crate::permissions::{
    AccessContext, AccessDataError, ProjectKey, ProjectRole, RoleAssignments, RoleSource,
    platform_ns, validate_permission_key,
};
use crate::web::{ApiError, FieldErrors, HtmlError, PageChrome, UserChrome};

/// Most projects listed on the page.
const MAX_PROJECTS: u32 = 100;

/// The add and remove forms as submitted.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RoleForm {
    project: String,
    /// `dispatcher` or `technician`.
    role: String,
    /// `user`, `group` or `permission`.
    kind: String,
    value: String,
    /// `yes` once the removal was confirmed.
    confirm: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    done: Option<String>,
}

/// One assignment as a table row.
struct Row {
    role: &'static str,
    kind: &'static str,
    value: String,
}

struct ProjectRoles {
    project: String,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "settings/roles.html")]
struct RolesPage {
    chrome: PageChrome,
    csrf: String,
    projects: Vec<ProjectRoles>,
    form: RoleForm,
    errors: FieldErrors,
    done: Option<&'static str>,
    confirm: Option<RoleForm>,
}

fn parts(source: &RoleSource) -> (&'static str, String) {
    match source {
        RoleSource::User { account_id } => ("user", account_id.clone()),
        RoleSource::Group { name } => ("group", name.clone()),
        RoleSource::JiraPermission { key } => ("permission", key.clone()),
    }
}

fn rows(a: &RoleAssignments) -> Vec<Row> {
    let mut out = Vec::new();
    for role in [ProjectRole::Dispatcher, ProjectRole::Technician] {
        for s in a.of(role) {
            let (kind, value) = parts(s);
            out.push(Row {
                role: role.as_str(),
                kind,
                value,
            });
        }
    }
    out
}

struct Valid {
    project: ProjectKey,
    role: ProjectRole,
    source: RoleSource,
}

fn validate(form: &RoleForm) -> Result<Valid, FieldErrors> {
    let mut errors = FieldErrors::new();
    let project = match ProjectKey::new(form.project.trim()) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.add("project", e.reason);
            None
        }
    };
    let role = match form.role.as_str() {
        "dispatcher" => Some(ProjectRole::Dispatcher),
        "technician" => Some(ProjectRole::Technician),
        _ => {
            errors.add("role", "choose dispatcher or technician");
            None
        }
    };
    let value = form.value.trim().to_owned();
    let source = match form.kind.as_str() {
        "user" => check_account_id(&value)
            .map(|()| RoleSource::User { account_id: value })
            .map_err(str::to_owned),
        "group" => check_group(&value)
            .map(|()| RoleSource::Group { name: value })
            .map_err(str::to_owned),
        "permission" => {
            if value.is_empty() {
                Err("enter a Jira permission key such as ASSIGN_ISSUES".to_owned())
            } else {
                validate_permission_key(&value)
                    .map(|()| RoleSource::JiraPermission { key: value })
                    .map_err(|e| e.reason)
            }
        }
        _ => {
            errors.add("kind", "choose user, group or Jira permission");
            Err(String::new())
        }
    };
    let source = match source {
        Ok(s) => Some(s),
        Err(reason) => {
            if !reason.is_empty() {
                errors.add("value", reason);
            }
            None
        }
    };
    match (project, role, source) {
        (Some(project), Some(role), Some(source)) if errors.is_empty() => Ok(Valid {
            project,
            role,
            source,
        }),
        _ => Err(errors),
    }
}

async fn build(
    st: &SettingsState,
    ctx: &AccessContext,
    user: Option<axum::Extension<UserChrome>>,
) -> Result<RolesPage, HtmlError> {
    let found = st
        .store
        .kv(&ctx.site, &platform_ns())
        .query()
        .begins_with("roles:")
        .limit(MAX_PROJECTS)
        .fetch_as::<RoleAssignments>()
        .await
        .map_err(ApiError::internal)?;
    let projects = found
        .entries
        .into_iter()
        .map(|e| ProjectRoles {
            project: e.key.trim_start_matches("roles:").to_owned(),
            rows: rows(&e.value),
        })
        .filter(|p| !p.rows.is_empty())
        .collect();
    let chrome = chrome("Project roles", user);
    Ok(RolesPage {
        csrf: csrf_of(&chrome),
        chrome,
        projects,
        form: RoleForm {
            role: "technician".into(),
            kind: "group".into(),
            ..RoleForm::default()
        },
        errors: FieldErrors::new(),
        done: None,
        confirm: None,
    })
}

pub(super) async fn page(
    State(st): State<SettingsState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    query: Result<Query<Done>, QueryRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Query(done) = query.map_err(ApiError::from)?;
    let mut page = build(&st, &ctx, user).await?;
    page.done = done_message(done.done.as_deref());
    render(StatusCode::OK, &page)
}

fn audit_detail(change: &str, v: &Valid) -> serde_json::Value {
    let (kind, value) = parts(&v.source);
    json!({
        "change": change,
        "project": v.project.as_str(),
        "role": v.role.as_str(),
        "kind": kind,
        "value": value,
    })
}

async fn rerender(
    st: &SettingsState,
    ctx: &AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    form: RoleForm,
    errors: FieldErrors,
) -> Result<Response, HtmlError> {
    let mut page = build(st, ctx, user).await?;
    page.form = form;
    page.errors = errors;
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

fn refused(e: AccessDataError) -> Result<FieldErrors, HtmlError> {
    match e {
        AccessDataError::Invalid(reason) => Ok(FieldErrors::new().with("value", reason)),
        AccessDataError::Store(e) => Err(ApiError::internal(e).into()),
    }
}

pub(super) async fn add(
    State(st): State<SettingsState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    form: Result<Form<RoleForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let v = match validate(&form) {
        Ok(v) => v,
        Err(errors) => return rerender(&st, &ctx, user, form, errors).await,
    };
    let data = st.authorizer.access_data(&ctx.site);
    if let Err(e) = data.assign(&v.project, v.role, v.source.clone()).await {
        let errors = refused(e)?;
        return rerender(&st, &ctx, user, form, errors).await;
    }
    let detail = audit_detail("assign", &v);
    record_change(&st, &ctx, format!("roles of {}", v.project), detail).await?;
    Ok(see_other(&format!("{ROLES_PATH}?done=added")))
}

pub(super) async fn remove(
    State(st): State<SettingsState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    form: Result<Form<RoleForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let v = match validate(&form) {
        Ok(v) => v,
        Err(errors) => return rerender(&st, &ctx, user, RoleForm::default(), errors).await,
    };
    if form.confirm != "yes" {
        let mut page = build(&st, &ctx, user).await?;
        page.confirm = Some(form);
        return render(StatusCode::OK, &page);
    }
    let data = st.authorizer.access_data(&ctx.site);
    if let Err(e) = data.unassign(&v.project, v.role, &v.source).await {
        let errors = refused(e)?;
        return rerender(&st, &ctx, user, RoleForm::default(), errors).await;
    }
    let detail = audit_detail("unassign", &v);
    record_change(&st, &ctx, format!("roles of {}", v.project), detail).await?;
    Ok(see_other(&format!("{ROLES_PATH}?done=removed")))
}
