//! `/settings/admins`: the admin allow-list of each app (account ids and Jira groups).

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::{
    ADMIN_APPS, ADMINS_PATH, SettingsState, bad_form, check_account_id, check_group, chrome,
    csrf_of, done_message, record_change, render, require_admin, see_other,
};
use crate::permissions::{AccessContext, AccessDataError};
use crate::store::AppNs;
use crate::web::{ApiError, FieldErrors, HtmlError, PageChrome, UserChrome};

/// The add and remove forms as submitted.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AdminForm {
    app: String,
    /// `user` or `group`.
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

struct AppAdmins {
    app: &'static str,
    users: Vec<String>,
    groups: Vec<String>,
}

#[derive(Template)]
#[template(path = "settings/admins.html")]
struct AdminsPage {
    chrome: PageChrome,
    csrf: String,
    apps: Vec<AppAdmins>,
    choices: [&'static str; 4],
    form: AdminForm,
    errors: FieldErrors,
    done: Option<&'static str>,
    confirm: Option<AdminForm>,
}

impl AdminsPage {
    /// The kind of an entry, as the page words it.
    fn kind_label(kind: &str) -> &'static str {
        if kind == "group" { "group" } else { "user" }
    }
}

enum Kind {
    User,
    Group,
}

struct Valid {
    app: AppNs,
    kind: Kind,
    value: String,
}

fn validate(form: &AdminForm) -> Result<Valid, FieldErrors> {
    let mut errors = FieldErrors::new();
    let app = match ADMIN_APPS.iter().find(|a| **a == form.app.trim()) {
        Some(a) => AppNs::new(*a).ok(),
        None => None,
    };
    if app.is_none() {
        errors.add("app", format!("choose one of {}", ADMIN_APPS.join(", ")));
    }
    let value = form.value.trim().to_owned();
    let kind = match form.kind.as_str() {
        "user" => {
            if let Err(e) = check_account_id(&value) {
                errors.add("value", e);
            }
            Some(Kind::User)
        }
        "group" => {
            if let Err(e) = check_group(&value) {
                errors.add("value", e);
            }
            Some(Kind::Group)
        }
        _ => {
            errors.add("kind", "choose user or group");
            None
        }
    };
    match (app, kind) {
        (Some(app), Some(kind)) if errors.is_empty() => Ok(Valid { app, kind, value }),
        _ => Err(errors),
    }
}

async fn build(
    st: &SettingsState,
    ctx: &AccessContext,
    user: Option<axum::Extension<UserChrome>>,
) -> Result<AdminsPage, HtmlError> {
    let data = st.authorizer.access_data(&ctx.site);
    let mut apps = Vec::new();
    for app in ADMIN_APPS {
        let ns = AppNs::new(app).map_err(ApiError::internal)?;
        let list = data.allow_list(&ns).await.map_err(ApiError::internal)?;
        apps.push(AppAdmins {
            app,
            users: list.users,
            groups: list.groups,
        });
    }
    let chrome = chrome("App admins", user);
    Ok(AdminsPage {
        csrf: csrf_of(&chrome),
        chrome,
        apps,
        choices: ADMIN_APPS,
        form: AdminForm {
            kind: "group".into(),
            ..AdminForm::default()
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
    form: Result<Form<AdminForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let valid = validate(&form);
    let data = st.authorizer.access_data(&ctx.site);
    let outcome = match valid {
        Ok(v) => {
            let written = match v.kind {
                Kind::User => data.allow_user(&v.app, &v.value).await,
                Kind::Group => data.allow_group(&v.app, &v.value).await,
            };
            match written {
                Ok(()) => Ok(v),
                Err(e) => Err(refused(e)?),
            }
        }
        Err(errors) => Err(errors),
    };
    match outcome {
        Ok(v) => {
            record_change(
                &st,
                &ctx,
                format!("admins of {}", v.app),
                json!({"change": "allow", "app": v.app.as_str(), "kind": form.kind, "value": v.value}),
            )
            .await?;
            Ok(see_other("/settings/admins?done=added"))
        }
        Err(errors) => {
            let mut page = build(&st, &ctx, user).await?;
            page.form = form;
            page.errors = errors;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

pub(super) async fn remove(
    State(st): State<SettingsState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    form: Result<Form<AdminForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let valid = match validate(&form) {
        Ok(v) => v,
        Err(errors) => {
            let mut page = build(&st, &ctx, user).await?;
            page.errors = errors;
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    if form.confirm != "yes" {
        let mut page = build(&st, &ctx, user).await?;
        page.confirm = Some(form);
        return render(StatusCode::OK, &page);
    }
    let data = st.authorizer.access_data(&ctx.site);
    let removed = match valid.kind {
        Kind::User => data.disallow_user(&valid.app, &valid.value).await,
        Kind::Group => data.disallow_group(&valid.app, &valid.value).await,
    };
    if let Err(e) = removed {
        let errors = refused(e)?;
        let mut page = build(&st, &ctx, user).await?;
        page.errors = errors;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    record_change(
        &st,
        &ctx,
        format!("admins of {}", valid.app),
        json!({"change": "disallow", "app": valid.app.as_str(), "kind": form.kind, "value": valid.value}),
    )
    .await?;
    Ok(see_other(&format!("{ADMINS_PATH}?done=removed")))
}
