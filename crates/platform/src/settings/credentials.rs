//! `/settings/credentials`: the Jira credential background jobs use — an API token (with
//! its account's email) or an OAuth refresh token. The token is kept only as an encrypted
//! secret ([`Kv::set_secret`](crate::store::Kv::set_secret)) and never shown again; the page
//! shows what kind is set, when and by whom.

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    CREDENTIALS_PATH, SettingsState, bad_form, chrome, csrf_of, done_message, record_change,
    render, require_admin, see_other,
};
use crate::permissions::{AccessContext, platform_ns};
use crate::web::{ApiError, FieldErrors, HtmlError, PageChrome, UserChrome};

/// Store key (platform namespace) of the credential's description.
pub const CREDENTIAL_META_KEY: &str = "credentials:jira";
/// Secret key (platform namespace) of the token itself.
pub const CREDENTIAL_SECRET_KEY: &str = "credentials:jira:token";
/// Longest token accepted.
const MAX_TOKEN_CHARS: usize = 4096;

/// Which kind of credential is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// An Atlassian API token with the email of its account (basic auth).
    ApiToken,
    /// An OAuth 2.0 (3LO) refresh token.
    OauthRefresh,
}

impl CredentialKind {
    fn label(self) -> &'static str {
        match self {
            CredentialKind::ApiToken => "API token",
            CredentialKind::OauthRefresh => "OAuth refresh token",
        }
    }
}

/// What is known about the stored credential (never the token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialMeta {
    /// The kind.
    pub kind: CredentialKind,
    /// The API token's account email (empty for OAuth).
    pub email: String,
    /// When it was set (Unix ms).
    pub set_at_ms: i64,
    /// Who set it (display name).
    pub set_by: String,
}

/// The form as submitted. `Debug` leaves the token out.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct CredentialForm {
    /// `api_token` or `oauth_refresh`.
    kind: String,
    email: String,
    token: String,
    /// `yes` once the removal was confirmed.
    confirm: String,
}

impl std::fmt::Debug for CredentialForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialForm")
            .field("kind", &self.kind)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    done: Option<String>,
}

/// The stored credential, as the page shows it.
struct Current {
    kind: &'static str,
    email: String,
    set_on: String,
    set_by: String,
}

#[derive(Template)]
#[template(path = "settings/credentials.html")]
struct CredentialsPage {
    chrome: PageChrome,
    csrf: String,
    current: Option<Current>,
    /// The kind and email as typed; the token is never put back.
    kind: String,
    email: String,
    errors: FieldErrors,
    done: Option<&'static str>,
    confirm_remove: bool,
    /// Outcome of "Test connection": (worked, what to say).
    tested: Option<(bool, String)>,
}

fn check_email(email: &str) -> Result<(), &'static str> {
    let bad = "enter the email address of the token's Atlassian account, like ops@example.com";
    if email.is_empty() || email.len() > 254 {
        return Err(bad);
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(bad);
    };
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '\'' | '%'))
    };
    if !plain(local) || !plain(domain) || !domain.contains('.') || domain.contains('\'') {
        return Err(bad);
    }
    Ok(())
}

fn check_token(token: &str) -> Result<(), String> {
    if token.is_empty() {
        return Err("enter the token".into());
    }
    if token.chars().count() > MAX_TOKEN_CHARS {
        return Err(format!("a token has at most {MAX_TOKEN_CHARS} characters"));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a token has no spaces or line breaks; paste it again".into());
    }
    Ok(())
}

/// The kind, the email (empty for OAuth) and the token, or per-field reasons. The reasons
/// never quote the token.
fn validate(form: &CredentialForm) -> Result<(CredentialKind, String, SecretString), FieldErrors> {
    let mut errors = FieldErrors::new();
    let email = form.email.trim().to_owned();
    let kind = match form.kind.as_str() {
        "api_token" => {
            if let Err(e) = check_email(&email) {
                errors.add("email", e);
            }
            Some(CredentialKind::ApiToken)
        }
        "oauth_refresh" => Some(CredentialKind::OauthRefresh),
        _ => {
            errors.add("kind", "choose an API token or an OAuth refresh token");
            None
        }
    };
    let token = form.token.trim();
    if let Err(e) = check_token(token) {
        errors.add("token", e);
    }
    match kind {
        Some(kind) if errors.is_empty() => {
            let email = if kind == CredentialKind::ApiToken {
                email
            } else {
                String::new()
            };
            Ok((kind, email, SecretString::from(token.to_owned())))
        }
        _ => Err(errors),
    }
}

async fn build(
    st: &SettingsState,
    ctx: &AccessContext,
    user: Option<axum::Extension<UserChrome>>,
) -> Result<CredentialsPage, HtmlError> {
    let kv = st.store.kv(&ctx.site, &platform_ns());
    let meta: Option<CredentialMeta> = kv
        .get(CREDENTIAL_META_KEY)
        .await
        .map_err(ApiError::internal)?;
    let current = meta.map(|m| Current {
        kind: m.kind.label(),
        email: m.email,
        set_on: jiff::Timestamp::from_millisecond(m.set_at_ms)
            .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default(),
        set_by: m.set_by,
    });
    let chrome = chrome("Service credentials", user);
    Ok(CredentialsPage {
        csrf: csrf_of(&chrome),
        chrome,
        current,
        kind: "api_token".into(),
        email: String::new(),
        errors: FieldErrors::new(),
        done: None,
        confirm_remove: false,
        tested: None,
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

pub(super) async fn save(
    State(st): State<SettingsState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    form: Result<Form<CredentialForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let (kind, email, token) = match validate(&form) {
        Ok(v) => v,
        Err(errors) => {
            let mut page = build(&st, &ctx, user).await?;
            page.kind = form.kind;
            page.email = form.email;
            page.errors = errors;
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let kv = st.store.kv(&ctx.site, &platform_ns());
    kv.set_secret(CREDENTIAL_SECRET_KEY, &token)
        .await
        .map_err(ApiError::internal)?;
    let meta = CredentialMeta {
        kind,
        email: email.clone(),
        set_at_ms: jiff::Timestamp::now().as_millisecond(),
        set_by: ctx.principal.display(),
    };
    kv.set(CREDENTIAL_META_KEY, &meta)
        .await
        .map_err(ApiError::internal)?;
    record_change(
        &st,
        &ctx,
        "service credential".into(),
        json!({"change": "set", "kind": kind.label(), "email": email}),
    )
    .await?;
    Ok(see_other(&format!("{CREDENTIALS_PATH}?done=saved")))
}

pub(super) async fn remove(
    State(st): State<SettingsState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    form: Result<Form<CredentialForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    if form.confirm != "yes" {
        let mut page = build(&st, &ctx, user).await?;
        page.confirm_remove = page.current.is_some();
        return render(StatusCode::OK, &page);
    }
    let kv = st.store.kv(&ctx.site, &platform_ns());
    kv.delete_secret(CREDENTIAL_SECRET_KEY)
        .await
        .map_err(ApiError::internal)?;
    let existed = kv
        .delete(CREDENTIAL_META_KEY)
        .await
        .map_err(ApiError::internal)?;
    if existed {
        record_change(
            &st,
            &ctx,
            "service credential".into(),
            json!({"change": "remove"}),
        )
        .await?;
    }
    Ok(see_other(&format!("{CREDENTIALS_PATH}?done=removed")))
}

/// Calls Jira with the stored credential (`/myself`) and says who it is, or why it failed.
/// Nothing is changed; the answer never holds the token.
pub(super) async fn test(
    State(st): State<SettingsState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    axum::Extension(auth): axum::Extension<crate::identity::AuthContext>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let outcome = match auth.service_client(&ctx.site).await {
        Err(e) => (false, e.to_string()),
        Ok(client) => match client.myself().await {
            Ok(me) => (
                true,
                format!(
                    "Connected: Jira answered as {} (account {}).",
                    me.display_name.clone().unwrap_or_else(|| me.account_id.clone()),
                    me.account_id
                ),
            ),
            Err(e) => (
                false,
                match e.status() {
                    Some(401) => "Jira refused the credential (HTTP 401): the token is wrong, revoked or expired.".to_string(),
                    Some(403) => "Jira accepted the credential but refused the call (HTTP 403).".to_string(),
                    Some(s) => format!("Jira answered HTTP {s}."),
                    None => "Jira could not be reached.".to_string(),
                },
            ),
        },
    };
    let mut page = build(&st, &ctx, user).await?;
    page.tested = Some(outcome);
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_tokens_are_checked_without_quoting_the_token() {
        assert!(check_email("ops@example.com").is_ok());
        assert!(check_email("ops@localhost").is_err());
        assert!(check_email("<b>@x.y").is_err());
        let err = check_token("abc def-SECRET").unwrap_err();
        assert!(!err.contains("SECRET"));
        assert!(check_token("ATATT3xFfGF0").is_ok());
    }

    #[test]
    fn debug_of_the_form_hides_the_token() {
        let form = CredentialForm {
            token: "SECRET-VALUE".into(),
            ..CredentialForm::default()
        };
        assert!(!format!("{form:?}").contains("SECRET"));
    }
}
