//! `/assets-sql/keys`: API keys of the pull endpoint — issued (shown once) for chosen
//! exports, listed with their last use, revoked.

use std::collections::BTreeSet;

use askama::Template;
use axum::Extension;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use platform::apikeys::{KeyMeta, NewKey, reveal};
use platform::audit::Action;
use platform::permissions::AccessContext;
use platform::web::{ApiError, FieldErrors, HtmlError, PageChrome, UserChrome};
use serde::Deserialize;
use serde_json::json;

use super::AssetsSqlState;
use super::defs::{Defs, ExportDef};
use super::pages::{bad_form, chrome, csrf_of, internal, record, render, require_admin, see_other};

#[derive(Template)]
#[template(path = "assets_sql/keys.html")]
struct KeysPage {
    chrome: PageChrome,
    csrf: String,
    keys: Vec<KeyMeta>,
    exports: Vec<ExportDef>,
    name: String,
    chosen: BTreeSet<String>,
    errors: FieldErrors,
    issued: Option<String>,
}

impl KeysPage {
    fn when(ms: &i64) -> String {
        jiff::Timestamp::from_millisecond(*ms)
            .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    }
}

async fn keys_page(
    st: &AssetsSqlState,
    ctx: &AccessContext,
    user: Option<Extension<UserChrome>>,
    name: String,
    chosen: BTreeSet<String>,
    errors: FieldErrors,
    issued: Option<String>,
) -> Result<Response, HtmlError> {
    let keys = st.keys.list(&ctx.site).await.map_err(internal)?;
    let exports = Defs::new(&st.store, &ctx.site)
        .list()
        .await
        .map_err(internal)?;
    let c = chrome("API keys", user);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &KeysPage {
            csrf: csrf_of(&c),
            chrome: c,
            keys,
            exports,
            name,
            chosen,
            errors,
            issued,
        },
    )
}

pub(super) async fn keys(
    State(st): State<AssetsSqlState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    keys_page(
        &st,
        &ctx,
        user,
        String::new(),
        BTreeSet::new(),
        FieldErrors::new(),
        None,
    )
    .await
}

/// Issues a key (shown once, on this response only), scoped to the chosen exports.
pub(super) async fn issue_key(
    State(st): State<AssetsSqlState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(pairs) = form.map_err(bad_form)?;
    let name = pairs
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let chosen: BTreeSet<String> = pairs
        .iter()
        .filter(|(k, _)| k == "exports")
        .map(|(_, v)| v.clone())
        .collect();
    let mut errors = FieldErrors::new();
    let known: BTreeSet<String> = Defs::new(&st.store, &ctx.site)
        .list()
        .await
        .map_err(internal)?
        .into_iter()
        .map(|d| d.id)
        .collect();
    let mut scopes = BTreeSet::new();
    for c in &chosen {
        if c == "*" {
            scopes.insert("assets-sql:export:*".to_string());
        } else if known.contains(c) {
            scopes.insert(format!("assets-sql:export:{c}"));
        } else {
            errors.add("exports", "choose exports from the list");
        }
    }
    if !errors.is_empty() {
        return keys_page(&st, &ctx, user, name, chosen, errors, None).await;
    }
    match st
        .keys
        .issue(
            &ctx.site,
            NewKey {
                name: name.clone(),
                scopes: scopes.clone(),
                created_by: ctx.principal.id().to_string(),
            },
        )
        .await
    {
        Ok(k) => {
            record(
                &st,
                &ctx,
                Action::API_KEY,
                format!("API key {}", k.meta.id),
                json!({"issued": k.meta.name, "scopes": scopes}),
            )
            .await;
            let shown = reveal(&k).to_string();
            let mut resp = keys_page(
                &st,
                &ctx,
                user,
                String::new(),
                BTreeSet::new(),
                FieldErrors::new(),
                Some(shown),
            )
            .await?;
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            Ok(resp)
        }
        Err(platform::apikeys::ApiKeyError::Field { field, reason }) => {
            let errors =
                FieldErrors::new().with(if field == "scopes" { "exports" } else { field }, reason);
            keys_page(&st, &ctx, user, name, chosen, errors, None).await
        }
        Err(e) => Err(internal(e)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RevokeForm {
    id: String,
}

pub(super) async fn revoke_key(
    State(st): State<AssetsSqlState>,
    ctx: AccessContext,
    form: Result<Form<RevokeForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    if !st
        .keys
        .revoke(&ctx.site, form.id.trim())
        .await
        .map_err(internal)?
    {
        return Err(HtmlError(ApiError::Validation {
            fields: FieldErrors::new().with("id", "no such active key"),
        }));
    }
    record(
        &st,
        &ctx,
        Action::API_KEY,
        format!("API key {}", form.id.trim()),
        json!({"revoked": true}),
    )
    .await;
    Ok(see_other("/assets-sql/keys"))
}
