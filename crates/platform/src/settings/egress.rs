//! `/settings/egress`: hosts outside the public internet that outbound HTTP of this site (e.g.
//! webhook pushes to an on-premises target) may reach. Everything else private, loopback,
//! link-local (cloud metadata included) stays refused.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::{
    SettingsState, bad_form, chrome, csrf_of, done_message, record_change, render, require_admin,
    see_other,
};
use crate::egress::{self, AllowEntry, EgressPolicy};
use crate::permissions::AccessContext;
use crate::web::{ApiError, FieldErrors, HtmlError, PageChrome, UserChrome};

/// Path of the page.
pub const EGRESS_PATH: &str = "/settings/egress";

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct EntryForm {
    entry: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "settings/egress.html")]
struct EgressPage {
    chrome: PageChrome,
    csrf: String,
    entries: Vec<String>,
    form: EntryForm,
    errors: FieldErrors,
    done: Option<&'static str>,
}

async fn policy(st: &SettingsState, ctx: &AccessContext) -> Result<EgressPolicy, HtmlError> {
    egress::load_policy(&st.store, &ctx.site)
        .await
        .map_err(|e| HtmlError(ApiError::internal(e)))
}

fn page_of(
    p: &EgressPolicy,
    chrome: PageChrome,
    form: EntryForm,
    errors: FieldErrors,
    done: Option<&'static str>,
) -> EgressPage {
    EgressPage {
        csrf: csrf_of(&chrome),
        chrome,
        entries: p.allowed().iter().map(ToString::to_string).collect(),
        form,
        errors,
        done,
    }
}

pub(super) async fn page(
    State(st): State<SettingsState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    Query(q): Query<Done>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let p = policy(&st, &ctx).await?;
    let chrome = chrome("Outbound connections", user);
    render(
        StatusCode::OK,
        &page_of(
            &p,
            chrome,
            EntryForm::default(),
            FieldErrors::new(),
            done_message(q.done.as_deref()),
        ),
    )
}

pub(super) async fn add(
    State(st): State<SettingsState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    form: Result<Form<EntryForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let p = policy(&st, &ctx).await?;
    let mut entries: Vec<String> = p.allowed().iter().map(ToString::to_string).collect();
    let parsed = AllowEntry::parse(&form.entry);
    let next = parsed.and_then(|e| {
        entries.push(e.to_string());
        EgressPolicy::with_allowed(&entries)
    });
    let next = match next {
        Ok(n) => n,
        Err(e) => {
            let errors = FieldErrors::new().with("entry", e.to_string());
            let chrome = chrome("Outbound connections", user);
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page_of(&p, chrome, form, errors, None),
            );
        }
    };
    egress::save_policy(&st.store, &ctx.site, &next)
        .await
        .map_err(|e| HtmlError(ApiError::internal(e)))?;
    record_change(
        &st,
        &ctx,
        "egress allow-list".into(),
        json!({"added": form.entry.trim()}),
    )
    .await?;
    Ok(see_other(&format!("{EGRESS_PATH}?done=added")))
}

pub(super) async fn remove(
    State(st): State<SettingsState>,
    ctx: AccessContext,
    form: Result<Form<EntryForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let p = policy(&st, &ctx).await?;
    let before: Vec<String> = p.allowed().iter().map(ToString::to_string).collect();
    let kept: Vec<&String> = before.iter().filter(|e| **e != form.entry.trim()).collect();
    if kept.len() == before.len() {
        return Err(HtmlError(ApiError::NotFound(
            "that host is not on the list".into(),
        )));
    }
    let next = EgressPolicy::with_allowed(kept).map_err(|e| HtmlError(ApiError::internal(e)))?;
    egress::save_policy(&st.store, &ctx.site, &next)
        .await
        .map_err(|e| HtmlError(ApiError::internal(e)))?;
    record_change(
        &st,
        &ctx,
        "egress allow-list".into(),
        json!({"removed": form.entry.trim()}),
    )
    .await?;
    Ok(see_other(&format!("{EGRESS_PATH}?done=removed")))
}
