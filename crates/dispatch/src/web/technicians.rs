//! Technicians: the list and import (`/settings/dispatch/technicians`), one technician's
//! profile (`/dispatch/technicians/{id}`: themselves, their dispatchers, admins), their
//! availability, and a technician's own page (`/dispatch/me`).

use askama::Template;
use axum::Extension;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::TryStreamExt;
use jiff::Timestamp;
use platform::audit::{Action, Outcome};
use platform::identity::UserClient;
use platform::permissions::{AccessContext, ProjectKey, Requirement};
use platform::web::{ApiError, FieldErrors, HtmlError, PageChrome, Section, UserChrome};
use serde::Deserialize;
use serde_json::json;

use super::profile::{ProfileForm, apply_form};
use super::{
    DispatchState, bad_form, chrome, config, csrf_of, passes, record, render, require_admin,
    see_other,
};
use crate::store::{DispatchStore, MAX_TECHNICIANS, ns, valid_account_id};
use crate::technician::{Availability, TechSource, Technician};

/// Property holding a technician's profile in Jira (`jsmkit.profile`).
pub const PROFILE_PROPERTY: &str = "jsmkit.profile";

fn store_err(e: platform::store::StoreError) -> HtmlError {
    match e {
        platform::store::StoreError::ConditionFailed { .. } => HtmlError(ApiError::Conflict(
            "someone else changed this technician at the same time; reload and try again".into(),
        )),
        other => HtmlError(ApiError::internal(other)),
    }
}

/// Whether the caller may see and change `tech`: themselves, an admin, or a dispatcher of
/// one of their projects.
async fn may_manage(st: &DispatchState, ctx: &AccessContext, tech: &Technician) -> bool {
    if ctx.principal.id() == tech.account_id {
        return true;
    }
    may_dispatch_for(st, ctx, tech).await
}

async fn may_dispatch_for(st: &DispatchState, ctx: &AccessContext, tech: &Technician) -> bool {
    if passes(st, ctx, Requirement::AppAdmin(ns())).await {
        return true;
    }
    let projects: Vec<String> = if tech.projects.is_empty() {
        match config(st, ctx).await {
            Ok((c, _)) => c.projects,
            Err(_) => return false,
        }
    } else {
        tech.projects.iter().cloned().collect()
    };
    for p in projects {
        if let Ok(k) = ProjectKey::new(&p)
            && passes(st, ctx, Requirement::Dispatcher(k)).await
        {
            return true;
        }
    }
    false
}

#[derive(Template)]
#[template(path = "dispatch/technicians.html")]
struct ListPage {
    chrome: PageChrome,
    csrf: String,
    techs: Vec<Technician>,
    kind: String,
    value: String,
    name: String,
    errors: FieldErrors,
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DoneQuery {
    done: Option<String>,
    n: Option<u32>,
}

pub(crate) async fn list(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let techs = DispatchStore::new(&st.store, &ctx.site)
        .technicians()
        .await
        .map_err(store_err)?;
    let done = match q.done.as_deref() {
        Some("added") => Some(format!("{} technicians added.", q.n.unwrap_or(0))),
        Some("removed") => Some("Technician removed.".to_string()),
        _ => None,
    };
    let chrome = chrome("Technicians", Section::Settings, user);
    render(
        StatusCode::OK,
        &ListPage {
            csrf: csrf_of(&chrome),
            chrome,
            techs,
            kind: "group".into(),
            value: String::new(),
            name: String::new(),
            errors: FieldErrors::new(),
            done,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AddForm {
    /// `group` or `user`.
    kind: String,
    /// Group name or account id.
    value: String,
    /// Display name (users added by hand).
    name: String,
}

/// Adds technicians from a Jira group or one by account id, importing each one's
/// `jsmkit.profile` property (home base, skills, hours, zone) when Jira has it.
pub(crate) async fn add(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<Extension<UserChrome>>,
    form: Result<Form<AddForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let store = DispatchStore::new(&st.store, &ctx.site);
    let (c, _) = config(&st, &ctx).await?;
    let mut errors = FieldErrors::new();
    let value = form.value.trim().to_string();
    let mut people: Vec<(String, String, TechSource)> = Vec::new();
    match form.kind.as_str() {
        "group" => {
            if value.is_empty()
                || value.chars().count() > 255
                || value.chars().any(char::is_control)
            {
                errors.add("value", "enter a Jira group name");
            } else {
                let members: Result<Vec<_>, _> = client
                    .group_members(atlassian::client::GroupRef::Name(value.clone()), false)
                    .try_collect()
                    .await;
                match members {
                    Ok(m) if m.is_empty() => {
                        errors.add("value", "that group has no active members");
                    }
                    Ok(m) => {
                        for u in m {
                            let name = u
                                .display_name
                                .clone()
                                .unwrap_or_else(|| u.account_id.clone());
                            people.push((u.account_id, name, TechSource::Group(value.clone())));
                        }
                    }
                    Err(atlassian::client::Error::NotFound { .. }) => {
                        errors.add("value", "Jira has no group by that name");
                    }
                    Err(e) => {
                        errors.add(
                            "value",
                            format!(
                                "Jira did not list the group ({})",
                                e.status()
                                    .map_or("no answer".into(), |s| format!("HTTP {s}"))
                            ),
                        );
                    }
                }
            }
        }
        "role" => match value.split_once(':') {
            Some((project, role))
                if ProjectKey::new(project.trim().to_uppercase()).is_ok()
                    && !role.trim().is_empty()
                    && role.chars().count() <= 255 =>
            {
                let project = project.trim().to_uppercase();
                match role_members(&client, &project, role.trim()).await {
                    Ok(m) if m.is_empty() => {
                        errors.add("value", "that project role has no members");
                    }
                    Ok(m) => {
                        let source = TechSource::ProjectRole(format!("{project}:{}", role.trim()));
                        people.extend(m.into_iter().map(|(id, name)| (id, name, source.clone())));
                    }
                    Err(reason) => {
                        errors.add("value", reason);
                    }
                }
            }
            _ => {
                errors.add(
                    "value",
                    "enter the project key and the role name, like FS:Technicians",
                );
            }
        },
        "user" => {
            if !valid_account_id(&value) {
                errors.add(
                    "value",
                    "enter an Atlassian account id (letters, digits, ':', '-', '_')",
                );
            }
            let name = form.name.trim();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                errors.add("name", "enter the name to show (1 to 100 characters)");
            }
            if errors.is_empty() {
                people.push((value.clone(), name.to_string(), TechSource::Manual));
            }
        }
        _ => {
            errors.add("kind", "choose a Jira group, a project role or a user");
        }
    }
    let existing = store.technicians().await.map_err(store_err)?;
    if existing.len() + people.len() > MAX_TECHNICIANS {
        errors.add("value", format!("at most {MAX_TECHNICIANS} technicians"));
    }
    if !errors.is_empty() {
        let chrome = chrome("Technicians", Section::Settings, user);
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ListPage {
                csrf: csrf_of(&chrome),
                chrome,
                techs: existing,
                kind: form.kind,
                value: form.value,
                name: form.name,
                errors,
                done: None,
            },
        );
    }
    let mut added = 0u32;
    for (id, name, source) in people {
        if !valid_account_id(&id) || existing.iter().any(|t| t.account_id == id) {
            continue;
        }
        let mut t = Technician::new(&id, &name, source);
        t.projects = c.projects.iter().cloned().collect();
        if let Ok(Some(profile)) = client.user_property(&id, PROFILE_PROPERTY).await {
            crate::jira::apply_profile(&mut t, &profile);
        }
        match store.save_technician(&t, 0).await {
            Ok(()) => added += 1,
            Err(platform::store::StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(store_err(e)),
        }
    }
    record(
        &st,
        &ctx,
        Action::SETTINGS_CHANGE,
        "dispatch:technicians".into(),
        json!({"added": added, "kind": form.kind, "from": value}),
        Outcome::Ok,
    )
    .await;
    st.cache.touch(&ctx.site).await;
    Ok(see_other(&format!(
        "/settings/dispatch/technicians?done=added&n={added}"
    )))
}

/// The users of a project role: its user actors and the members of its group actors.
async fn role_members(
    client: &atlassian::client::AtlassianClient,
    project: &str,
    role: &str,
) -> Result<Vec<(String, String)>, String> {
    let jira = |e: atlassian::client::Error| match e {
        atlassian::client::Error::NotFound { .. } => {
            format!(
                "Jira has no project {project}, or does not let you read its roles (that needs Administer Projects)"
            )
        }
        other => format!(
            "Jira did not list the project roles ({})",
            other
                .status()
                .map_or("no answer".into(), |s| format!("HTTP {s}"))
        ),
    };
    let roles = client.project_roles(project).await.map_err(jira)?;
    let Some((_, id)) = roles.iter().find(|(n, _)| n.eq_ignore_ascii_case(role)) else {
        let names: Vec<&str> = roles.iter().map(|(n, _)| n.as_str()).collect();
        return Err(format!(
            "{project} has no role by that name; its roles: {}",
            names.join(", ")
        ));
    };
    let detail = client.project_role(project, *id).await.map_err(jira)?;
    let mut out: Vec<(String, String)> = Vec::new();
    for a in detail.actors {
        if let Some(u) = &a.actor_user {
            let name = a
                .display_name
                .clone()
                .unwrap_or_else(|| u.account_id.clone());
            out.push((u.account_id.clone(), name));
        } else if let Some(g) = &a.actor_group {
            let group = match (&g.group_id, &g.name) {
                (Some(id), _) => atlassian::client::GroupRef::Id(id.clone()),
                (None, Some(n)) => atlassian::client::GroupRef::Name(n.clone()),
                _ => continue,
            };
            let members: Vec<_> = client
                .group_members(group, false)
                .try_collect()
                .await
                .map_err(jira)?;
            for u in members {
                let name = u
                    .display_name
                    .clone()
                    .unwrap_or_else(|| u.account_id.clone());
                out.push((u.account_id, name));
            }
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    Ok(out)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RemoveForm {
    account_id: String,
}

pub(crate) async fn remove(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    form: Result<Form<RemoveForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let gone = DispatchStore::new(&st.store, &ctx.site)
        .delete_technician(form.account_id.trim())
        .await
        .map_err(store_err)?;
    if !gone {
        return Err(HtmlError(ApiError::NotFound("no such technician".into())));
    }
    record(
        &st,
        &ctx,
        Action::SETTINGS_CHANGE,
        format!("dispatch:technician:{}", form.account_id.trim()),
        json!({"removed": true}),
        Outcome::Ok,
    )
    .await;
    Ok(see_other("/settings/dispatch/technicians?done=removed"))
}

#[derive(Template)]
#[template(path = "dispatch/technician.html")]
struct EditPage {
    chrome: PageChrome,
    csrf: String,
    tech: Technician,
    form: ProfileForm,
    errors: FieldErrors,
    saved: bool,
    statuses: Vec<Availability>,
    own: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SavedQuery {
    saved: Option<String>,
}

async fn load_managed(
    st: &DispatchState,
    ctx: &AccessContext,
    account_id: &str,
) -> Result<(Technician, i64), HtmlError> {
    let found = DispatchStore::new(&st.store, &ctx.site)
        .technician(account_id)
        .await
        .map_err(store_err)?;
    let Some((tech, version)) = found else {
        return Err(HtmlError(ApiError::NotFound("no such technician".into())));
    };
    if !may_manage(st, ctx, &tech).await {
        return Err(HtmlError(ApiError::Forbidden(
            "technicians see and edit only their own profile".into(),
        )));
    }
    Ok((tech, version))
}

pub(crate) async fn edit_page(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
    Path(account_id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, HtmlError> {
    let (tech, version) = load_managed(&st, &ctx, &account_id).await?;
    let chrome = chrome(&tech.display_name, Section::Dispatch, user);
    render(
        StatusCode::OK,
        &EditPage {
            csrf: csrf_of(&chrome),
            chrome,
            form: ProfileForm::of(&tech, version),
            own: ctx.principal.id() == tech.account_id,
            tech,
            errors: FieldErrors::new(),
            saved: q.saved.is_some(),
            statuses: Availability::ALL.to_vec(),
        },
    )
}

pub(crate) async fn save(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
    Path(account_id): Path<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    let Form(pairs) = form.map_err(bad_form)?;
    let (mut tech, version) = load_managed(&st, &ctx, &account_id).await?;
    let admin = passes(&st, &ctx, Requirement::AppAdmin(ns())).await;
    let (form, mut errors) = apply_form(&mut tech, &pairs, admin);
    if form.version != version {
        errors.add("version", "someone else changed this profile since you opened it; your input is kept, reload to see theirs");
    }
    if !errors.is_empty() {
        let chrome = chrome(&tech.display_name, Section::Dispatch, user);
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &EditPage {
                csrf: csrf_of(&chrome),
                chrome,
                own: ctx.principal.id() == tech.account_id,
                tech,
                form,
                errors,
                saved: false,
                statuses: Availability::ALL.to_vec(),
            },
        );
    }
    DispatchStore::new(&st.store, &ctx.site)
        .save_technician(&tech, version)
        .await
        .map_err(store_err)?;
    record(
        &st,
        &ctx,
        Action::SETTINGS_CHANGE,
        format!("dispatch:technician:{}", tech.account_id),
        json!({"profile": "saved"}),
        Outcome::Ok,
    )
    .await;
    Ok(see_other(&format!(
        "/dispatch/technicians/{}?saved=1",
        tech.account_id
    )))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AvailabilityForm {
    status: String,
    note: String,
    /// Where to go back to (`me` or the profile).
    back: String,
}

/// Sets a technician's availability (themselves or their dispatcher), with its history.
pub(crate) async fn availability(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    Path(account_id): Path<String>,
    form: Result<Form<AvailabilityForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    let Form(form) = form.map_err(bad_form)?;
    let status: Availability = form.status.parse().map_err(|reason: String| {
        HtmlError(ApiError::Validation {
            fields: FieldErrors::new().with("status", reason),
        })
    })?;
    let store = DispatchStore::new(&st.store, &ctx.site);
    for _ in 0..3 {
        let (mut tech, version) = load_managed(&st, &ctx, &account_id).await?;
        tech.set_availability(status, ctx.principal.id(), &form.note, Timestamp::now())
            .map_err(|e| {
                HtmlError(ApiError::Validation {
                    fields: FieldErrors::new().with(e.field, e.reason),
                })
            })?;
        match store.save_technician(&tech, version).await {
            Ok(()) => {
                record(
                    &st,
                    &ctx,
                    Action::SETTINGS_CHANGE,
                    format!("dispatch:availability:{}", tech.account_id),
                    json!({"status": status.id()}),
                    Outcome::Ok,
                )
                .await;
                let back = if form.back == "me" {
                    "/dispatch/me".to_string()
                } else {
                    format!("/dispatch/technicians/{}?saved=1", tech.account_id)
                };
                return Ok(see_other(&back));
            }
            Err(platform::store::StoreError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(store_err(e)),
        }
    }
    Err(HtmlError(ApiError::Conflict(
        "the profile kept changing; try again".into(),
    )))
}

#[derive(Template)]
#[template(path = "dispatch/me.html")]
struct MePage {
    chrome: PageChrome,
    csrf: String,
    tech: Technician,
    statuses: Vec<Availability>,
    history: Vec<crate::technician::AvailabilityChange>,
}

/// A technician's own page: availability, profile link, schedule link.
pub(crate) async fn me(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
) -> Result<Response, HtmlError> {
    let found = DispatchStore::new(&st.store, &ctx.site)
        .technician(ctx.principal.id())
        .await
        .map_err(store_err)?;
    let Some((tech, _)) = found else {
        return Err(HtmlError(ApiError::Forbidden(
            "This page is for DispatchDesk technicians; you are not one on this site. Ask an admin to add you.".into(),
        )));
    };
    let history = tech.history.iter().rev().take(20).cloned().collect();
    let chrome = chrome("My day", Section::Dispatch, user);
    render(
        StatusCode::OK,
        &MePage {
            csrf: csrf_of(&chrome),
            chrome,
            tech,
            statuses: Availability::ALL.to_vec(),
            history,
        },
    )
}
