//! The sign-in flow (OAuth 2.0 authorization code, "3LO") and sign-out.

use std::time::Duration;

use askama::Template;
use atlassian::client::{AccessibleResource, Profile, TokenSet};
use axum::Extension;
use axum::extract::{Form, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::csrf::{check_origin, secret_eq};
use super::session::{
    NewSession, SESSION_COOKIE, clear_cookie, cookie_value, parse_session_cookie, random_string,
    set_cookie, sha256_hex,
};
use super::{AuthContext, CurrentUser, Failure, MaybeUser, SCOPES};
use crate::store::SiteId;
use crate::web::{ApiError, HtmlError, PageChrome, render};

/// Cookie binding a sign-in in progress (the OAuth `state`) to the browser.
const LOGIN_COOKIE: &str = "jsmkit_login";
/// Cookie naming a pending site choice.
const PENDING_COOKIE: &str = "jsmkit_pending";
/// How long a sign-in may take at Atlassian.
const LOGIN_TTL: Duration = Duration::from_secs(600);
/// Longest `next` kept.
const MAX_NEXT: usize = 2000;

/// Why the sign-in page is shown, carried in `?reason=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginReason {
    /// The Atlassian grant was revoked or expired.
    Expired,
    /// The user signed out.
    SignedOut,
    /// The user signed out everywhere.
    SignedOutEverywhere,
}

impl LoginReason {
    fn as_str(self) -> &'static str {
        match self {
            LoginReason::Expired => "expired",
            LoginReason::SignedOut => "signed-out",
            LoginReason::SignedOutEverywhere => "signed-out-everywhere",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            LoginReason::Expired,
            LoginReason::SignedOut,
            LoginReason::SignedOutEverywhere,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// The message shown on the sign-in page.
    pub fn message(self) -> &'static str {
        match self {
            LoginReason::Expired => "Your Atlassian sign-in expired or was revoked; sign in again.",
            LoginReason::SignedOut => "You have signed out.",
            LoginReason::SignedOutEverywhere => {
                "You have signed out of every session on this site."
            }
        }
    }
}

/// `next` when it is a same-origin relative path (`/…`, not `//…`, no backslash, no
/// control characters or spaces); `None` for anything that could leave the site.
pub fn safe_next(next: &str) -> Option<String> {
    let rest = next.strip_prefix('/')?;
    if next.len() > MAX_NEXT
        || rest.starts_with('/')
        || next.contains('\\')
        || next.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return None;
    }
    Some(next.to_owned())
}

/// `/login` with `next` (when safe) and `reason`.
pub(crate) fn login_location(next: Option<&str>, reason: Option<LoginReason>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(next) = next.and_then(safe_next).filter(|n| n != "/") {
        query.append_pair("next", &next);
    }
    if let Some(reason) = reason {
        query.append_pair("reason", reason.as_str());
    }
    let query = query.finish();
    if query.is_empty() {
        "/login".to_owned()
    } else {
        format!("/login?{query}")
    }
}

fn redirect(status: StatusCode, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (status, [(header::LOCATION, value)]).into_response(),
        Err(_) => HtmlError(ApiError::internal("redirect location")).into_response(),
    }
}

fn add_cookie(response: &mut Response, cookie: Option<HeaderValue>) {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

fn internal(e: impl Into<Failure>) -> HtmlError {
    HtmlError(ApiError::internal(e.into()))
}

fn bad_request(message: &str) -> HtmlError {
    HtmlError(ApiError::BadRequest(message.to_owned()))
}

#[derive(Template)]
#[template(path = "identity/login.html")]
struct LoginPage {
    chrome: PageChrome,
    message: Option<&'static str>,
    signed_in_as: Option<String>,
    start_href: String,
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    reason: Option<String>,
}

/// `GET /login`: the "Sign in with Atlassian" page.
pub(crate) async fn login_page(
    MaybeUser(user): MaybeUser,
    Query(q): Query<LoginQuery>,
) -> Result<Response, HtmlError> {
    let mut start = url::form_urlencoded::Serializer::new(String::new());
    if let Some(next) = q.next.as_deref().and_then(safe_next) {
        start.append_pair("next", &next);
    }
    let start = start.finish();
    let page = LoginPage {
        chrome: PageChrome::new("Sign in", None).with_user(user.as_ref().map(|u| u.chrome())),
        message: q
            .reason
            .as_deref()
            .and_then(LoginReason::parse)
            .map(LoginReason::message),
        signed_in_as: user.map(|u| u.display_name),
        start_href: if start.is_empty() {
            "/login/start".to_owned()
        } else {
            format!("/login/start?{start}")
        },
    };
    Ok(render(&page)?.into_response())
}

#[derive(Serialize, Deserialize)]
struct LoginRecord {
    next: String,
}

#[derive(Deserialize)]
pub(crate) struct StartQuery {
    next: Option<String>,
}

/// `GET /login/start`: a fresh `state`, bound to the browser by an HttpOnly cookie and kept
/// server-side for 10 minutes, then off to Atlassian's consent page.
pub(crate) async fn login_start(
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<StartQuery>,
) -> Result<Response, HtmlError> {
    let next = q
        .next
        .as_deref()
        .and_then(safe_next)
        .unwrap_or_else(|| "/".to_owned());
    let state = random_string().map_err(internal)?;
    auth.kv(&auth.inner.login_site)
        .set_with_ttl(
            &format!("login:{}", sha256_hex(state.as_bytes())),
            &LoginRecord { next },
            LOGIN_TTL,
        )
        .await
        .map_err(internal)?;
    let target = auth.inner.oauth.authorize_url(SCOPES, &state);
    let mut response = redirect(StatusCode::SEE_OTHER, target.as_str());
    add_cookie(
        &mut response,
        set_cookie(
            LOGIN_COOKIE,
            &state,
            Some(LOGIN_TTL),
            auth.inner.secure_cookies,
        ),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

const BAD_STATE: &str =
    "This sign-in link is invalid, expired or already used. Start again from the sign-in page.";

/// `GET /oauth/callback`: checks and uses up the `state`, exchanges the code, then binds
/// the one site (or asks which one) and opens the session.
pub(crate) async fn callback(
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, HtmlError> {
    let cookie_state = cookie_value(&headers, LOGIN_COOKIE).filter(|s| !s.is_empty());
    let state = q.state.as_deref().filter(|s| !s.is_empty());
    let (Some(state), Some(cookie_state)) = (state, cookie_state) else {
        return Err(bad_request(BAD_STATE));
    };
    if !secret_eq(state, cookie_state) {
        return Err(bad_request(BAD_STATE));
    }
    let login_kv = auth.kv(&auth.inner.login_site);
    let key = format!("login:{}", sha256_hex(state.as_bytes()));
    let Some(record) = login_kv.get::<LoginRecord>(&key).await.map_err(internal)? else {
        return Err(bad_request(BAD_STATE));
    };
    // Used once: whoever deletes it first continues.
    if !login_kv.delete(&key).await.map_err(internal)? {
        return Err(bad_request(BAD_STATE));
    }
    if q.error.is_some() {
        return Err(HtmlError(ApiError::Forbidden(
            "The sign-in was cancelled or refused at Atlassian.".into(),
        )));
    }
    let code = q.code.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| {
        bad_request("Atlassian sent no authorization code. Start again from the sign-in page.")
    })?;
    let unavailable = |what: &str, e: atlassian::client::Error| {
        tracing::warn!(error = %e, "sign-in: {what} failed");
        HtmlError(ApiError::Unavailable(
            "Atlassian did not accept the sign-in. Start again from the sign-in page.".into(),
        ))
    };
    let tokens = auth
        .inner
        .oauth
        .exchange_code(code)
        .await
        .map_err(|e| unavailable("code exchange", e))?;
    let resources = auth
        .inner
        .oauth
        .accessible_resources(&tokens.access_token)
        .await
        .map_err(|e| unavailable("accessible resources", e))?;
    let profile = auth
        .inner
        .oauth
        .me(&tokens.access_token)
        .await
        .map_err(|e| unavailable("profile", e))?;
    let sites: Vec<SiteChoice> = resources
        .iter()
        .filter_map(SiteChoice::from_resource)
        .collect();
    let mut response = match sites.as_slice() {
        [] => {
            return Err(HtmlError(ApiError::Forbidden(
                "Your Atlassian account gave jsmkit access to no Jira site.".into(),
            )));
        }
        [only] => {
            let site = SiteId::new(&only.id).map_err(internal)?;
            remember(&auth, &site, only).await;
            complete(&auth, &headers, &site, &profile, &tokens, &record.next).await?
        }
        _ => pending_choice(&auth, sites, &profile, &tokens, record.next).await?,
    };
    add_cookie(
        &mut response,
        clear_cookie(LOGIN_COOKIE, auth.inner.secure_cookies),
    );
    Ok(response)
}

/// Stores the tokens, opens the session (ending the browser's previous one) and redirects
/// to `next`.
async fn complete(
    auth: &AuthContext,
    headers: &HeaderMap,
    site: &SiteId,
    profile: &Profile,
    tokens: &TokenSet,
    next: &str,
) -> Result<Response, HtmlError> {
    if crate::store::validate_key(&super::tokens::tokens_key(&profile.account_id)).is_err() {
        return Err(HtmlError(ApiError::Forbidden(
            "Atlassian returned an account id jsmkit cannot store.".into(),
        )));
    }
    auth.save_tokens(site, &profile.account_id, tokens)
        .await
        .map_err(|e| HtmlError(ApiError::internal(e)))?;
    if let Some((old_site, old_id)) =
        cookie_value(headers, SESSION_COOKIE).and_then(parse_session_cookie)
    {
        let old = auth
            .kv(&old_site)
            .get::<super::session::SessionRecord>(&format!("session:{old_id}"))
            .await;
        if let Ok(Some(old)) = old {
            auth.end_session(&old_site, &old.account_id, &old_id)
                .await
                .map_err(internal)?;
        }
    }
    let display_name = profile
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| profile.email.clone())
        .unwrap_or_else(|| profile.account_id.clone());
    let (user, cookie) = auth
        .create_session(NewSession {
            site,
            account_id: &profile.account_id,
            display_name: &display_name,
            email: profile.email.as_deref(),
        })
        .await
        .map_err(internal)?;
    tracing::info!(site = %user.site, session = %user.session_id, "signed in");
    record(auth, &user, crate::audit::Action::SIGN_IN).await;
    let next = safe_next(next).unwrap_or_else(|| "/".to_owned());
    let mut response = redirect(StatusCode::SEE_OTHER, &next);
    add_cookie(
        &mut response,
        set_cookie(
            SESSION_COOKIE,
            &cookie,
            Some(auth.inner.limits.absolute),
            auth.inner.secure_cookies,
        ),
    );
    Ok(response)
}

/// Remembers the site's name and URL for the service credential (a failure is logged: the
/// sign-in goes on).
async fn remember(auth: &AuthContext, site: &SiteId, choice: &SiteChoice) {
    if choice.url.is_empty() {
        return;
    }
    let info = super::service::SiteInfo {
        name: choice.name.clone(),
        url: choice.url.clone(),
    };
    if let Err(e) = super::service::remember_site(auth.store(), site, &info).await {
        tracing::warn!(error = %e, "could not remember the site's URL");
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct SiteChoice {
    id: String,
    name: String,
    url: String,
}

impl SiteChoice {
    fn from_resource(r: &AccessibleResource) -> Option<SiteChoice> {
        SiteId::new(&r.id).ok()?;
        Some(SiteChoice {
            id: r.id.clone(),
            name: r.name.clone().unwrap_or_else(|| r.id.clone()),
            url: r.url.clone().unwrap_or_default(),
        })
    }
}

/// A sign-in waiting for the user's choice of site. The token set is encrypted under the
/// store's keyring (bound to this entry's key) and expires with the entry.
#[derive(Serialize, Deserialize)]
struct PendingRecord {
    next: String,
    account_id: String,
    name: Option<String>,
    email: Option<String>,
    sites: Vec<SiteChoice>,
    csrf_token: String,
    tokens: String,
}

#[derive(Template)]
#[template(path = "identity/select_site.html")]
struct SelectSitePage {
    chrome: PageChrome,
    sites: Vec<SiteChoice>,
    csrf_token: String,
}

#[derive(Serialize, Deserialize)]
struct PlainTokens {
    access_token: String,
    refresh_token: Option<String>,
    expires_at_ms: i64,
    scope: Option<String>,
}

async fn pending_choice(
    auth: &AuthContext,
    sites: Vec<SiteChoice>,
    profile: &Profile,
    tokens: &TokenSet,
    next: String,
) -> Result<Response, HtmlError> {
    let id = random_string().map_err(internal)?;
    let key = format!("pending:{}", sha256_hex(id.as_bytes()));
    let plain = PlainTokens {
        access_token: tokens.access_token.expose_secret().to_owned(),
        refresh_token: tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        expires_at_ms: tokens
            .expires_at
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        scope: tokens.scope.clone(),
    };
    let plain = serde_json::to_vec(&plain).map_err(|e| HtmlError(ApiError::internal(e)))?;
    let (_, blob) = auth
        .store()
        .keyring()
        .encrypt(super::LOGIN_SITE, super::NAMESPACE, &key, &plain)
        .map_err(|e| HtmlError(ApiError::internal(e)))?;
    let csrf_token = random_string().map_err(internal)?;
    let record = PendingRecord {
        next,
        account_id: profile.account_id.clone(),
        name: profile.name.clone(),
        email: profile.email.clone(),
        sites: sites.clone(),
        csrf_token: csrf_token.clone(),
        tokens: STANDARD.encode(blob),
    };
    auth.kv(&auth.inner.login_site)
        .set_with_ttl(&key, &record, LOGIN_TTL)
        .await
        .map_err(internal)?;
    let page = SelectSitePage {
        chrome: PageChrome::new("Choose a site", None),
        sites,
        csrf_token,
    };
    let mut response = render(&page)?.into_response();
    add_cookie(
        &mut response,
        set_cookie(
            PENDING_COOKIE,
            &id,
            Some(LOGIN_TTL),
            auth.inner.secure_cookies,
        ),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct SiteForm {
    site: String,
    csrf_token: String,
}

/// `POST /login/site`: the user's choice among several sites.
pub(crate) async fn choose_site(
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
    Form(form): Form<SiteForm>,
) -> Result<Response, HtmlError> {
    if let Err(reason) = check_origin(&auth, &headers) {
        return Err(HtmlError(ApiError::Forbidden(format!(
            "CSRF check failed: {reason}"
        ))));
    }
    let id = cookie_value(&headers, PENDING_COOKIE)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad_request(BAD_STATE))?;
    let key = format!("pending:{}", sha256_hex(id.as_bytes()));
    let kv = auth.kv(&auth.inner.login_site);
    let record = kv
        .get::<PendingRecord>(&key)
        .await
        .map_err(internal)?
        .ok_or_else(|| bad_request(BAD_STATE))?;
    if !secret_eq(&form.csrf_token, &record.csrf_token) {
        return Err(HtmlError(ApiError::Forbidden(
            "CSRF check failed: the form's token is wrong".into(),
        )));
    }
    let choice = record
        .sites
        .iter()
        .find(|s| s.id == form.site)
        .ok_or_else(|| bad_request("That site is not one your Atlassian account can reach."))?;
    let site = SiteId::new(&choice.id).map_err(internal)?;
    if !kv.delete(&key).await.map_err(internal)? {
        return Err(bad_request(BAD_STATE));
    }
    let blob = STANDARD
        .decode(&record.tokens)
        .map_err(|e| HtmlError(ApiError::internal(e)))?;
    let plain = auth
        .store()
        .keyring()
        .decrypt(super::LOGIN_SITE, super::NAMESPACE, &key, &blob)
        .map_err(|_| HtmlError(ApiError::internal("pending sign-in cannot be decrypted")))?;
    let plain: PlainTokens = serde_json::from_slice(plain.expose_secret())
        .map_err(|_| HtmlError(ApiError::internal("pending sign-in is damaged")))?;
    let tokens = TokenSet {
        access_token: plain.access_token.into(),
        refresh_token: plain.refresh_token.map(Into::into),
        expires_at: std::time::UNIX_EPOCH
            + Duration::from_millis(u64::try_from(plain.expires_at_ms).unwrap_or(0)),
        scope: plain.scope,
    };
    let profile = Profile {
        account_id: record.account_id,
        email: record.email,
        name: record.name,
    };
    remember(&auth, &site, choice).await;
    let mut response = complete(&auth, &headers, &site, &profile, &tokens, &record.next).await?;
    add_cookie(
        &mut response,
        clear_cookie(PENDING_COOKIE, auth.inner.secure_cookies),
    );
    Ok(response)
}

fn signed_out(auth: &AuthContext, reason: LoginReason) -> Response {
    let mut response = redirect(StatusCode::SEE_OTHER, &login_location(None, Some(reason)));
    add_cookie(
        &mut response,
        clear_cookie(SESSION_COOKIE, auth.inner.secure_cookies),
    );
    response
}

/// `POST /logout`: ends this session.
pub(crate) async fn logout(
    Extension(auth): Extension<AuthContext>,
    MaybeUser(user): MaybeUser,
) -> Result<Response, HtmlError> {
    if let Some(user) = user {
        auth.end_session(&user.site, &user.account_id, &user.session_id)
            .await
            .map_err(internal)?;
        tracing::info!(site = %user.site, session = %user.session_id, "signed out");
        record(&auth, &user, crate::audit::Action::SIGN_OUT).await;
    }
    Ok(signed_out(&auth, LoginReason::SignedOut))
}

/// `POST /logout/everywhere`: ends every session of the user on this site.
pub(crate) async fn logout_everywhere(
    Extension(auth): Extension<AuthContext>,
    MaybeUser(user): MaybeUser,
) -> Result<Response, HtmlError> {
    if let Some(user) = user {
        auth.forget_client(&user.site, &user.account_id);
        let n = auth
            .end_all_sessions(&user.site, &user.account_id)
            .await
            .map_err(internal)?;
        tracing::info!(site = %user.site, sessions = n, "signed out everywhere");
        record(&auth, &user, crate::audit::Action::SIGN_OUT).await;
    }
    Ok(signed_out(&auth, LoginReason::SignedOutEverywhere))
}

/// Records a sign-in or sign-out in the site's audit log. A failure to record is logged and
/// does not stop the user (the session change already happened).
async fn record(auth: &AuthContext, user: &CurrentUser, action: crate::audit::Action) {
    let entry = crate::audit::NewEntry {
        actor: crate::audit::Actor {
            kind: crate::audit::ActorKind::User,
            id: user.account_id.clone(),
            display: user.display_name.clone(),
        },
        action,
        target: "session".to_owned(),
        detail: serde_json::Value::Null,
        outcome: crate::audit::Outcome::Ok,
        request_id: crate::web::current_request_id().map(|r| r.as_str().to_owned()),
    };
    let log = crate::audit::AuditLog::new(auth.store().clone());
    if let Err(e) = log.record(&user.site, entry).await {
        tracing::warn!(site = %user.site, error = %e, "could not record the sign-in in the audit log");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_this_site() {
        for ok in ["/", "/techdesk", "/techdesk?q=1&r=%2F%2Fx", "/a/b#c"] {
            assert_eq!(safe_next(ok).as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil",
            "https://evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/\tevil",
            "/a b",
            "/a\nb",
            "/a\\b",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(3000))), None);
    }

    #[test]
    fn login_locations_keep_safe_next_only() {
        assert_eq!(login_location(None, None), "/login");
        assert_eq!(
            login_location(Some("/techdesk?x=1"), None),
            "/login?next=%2Ftechdesk%3Fx%3D1"
        );
        assert_eq!(login_location(Some("//evil"), None), "/login");
        assert_eq!(
            login_location(None, Some(LoginReason::Expired)),
            "/login?reason=expired"
        );
    }
}
