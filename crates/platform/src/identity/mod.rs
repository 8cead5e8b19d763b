//! Signing in with Atlassian (OAuth 2.0 3LO), sessions and CSRF protection.
//!
//! # What it serves
//!
//! [`routes`] gives the pages of the sign-in flow: `GET /login` (the "Sign in with Atlassian"
//! page, `?next=` kept when it is a same-origin relative path), `GET /login/start` (random
//! `state`, then off to Atlassian's consent page), `GET /oauth/callback` (state checked and
//! used once, code exchanged, sites listed, `/me` read, session created, tokens stored),
//! `POST /login/site` (the choice when the user can reach several sites), `POST /logout` and
//! `POST /logout/everywhere` (all of the user's sessions on that site).
//!
//! # How apps use it
//!
//! The binary builds one [`AuthContext`] (store, OAuth settings, clock) and hands a clone to
//! every app. An app wraps its routers with [`protect`], which (1) puts the context into the
//! request extensions, where the [`CurrentUser`] and [`MaybeUser`] extractors find it, and
//! (2) checks every state-changing request for CSRF (see [`csrf`]). Handlers then just take
//! a `CurrentUser`:
//!
//! ```text
//! async fn queue(user: CurrentUser) -> Result<Html<String>, HtmlError> { … }
//! let pages = identity::protect(Router::new().route("/techdesk", get(queue)), &auth);
//! ```
//!
//! A page without a session is redirected (302) to `/login?next=<its path>`; an `/api/…`
//! request gets 401 in the [`ApiError`](crate::web::ApiError) shape. To call Atlassian as
//! the user, use [`AuthContext::token_source`]; when that fails with a revoked grant, answer
//! with [`AuthContext::sign_in_expired`], which ends the user's sessions on that site and
//! sends them to `/login` with a message.
//!
//! # Storage
//!
//! Everything lives in the store (nothing in memory), so several instances sharing
//! PostgreSQL see the same sessions. Per site, app namespace `platform`:
//! `session:<sha256 hex>` (the session; the token itself is never stored),
//! `user-session:<accountId>:<sha256 hex>` (index for "sign out everywhere"), and the
//! encrypted secret `oauth-tokens:<accountId>` (the user's token set). Sign-ins in progress
//! are not bound to a site yet; they live under the reserved site id [`LOGIN_SITE`] with a
//! 10-minute TTL.

mod clients;
mod csrf;
mod extract;
mod flow;
mod service;
mod session;
mod tokens;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use secrecy::SecretString;
use url::Url;

use crate::config::Config;
use crate::store::{AppNs, Clock, SiteId, Store, SystemClock};
use crate::web::{UserChrome, WebConfig};

pub use clients::UserClient;
pub use csrf::{CSRF_FIELD, CSRF_HEADER, CsrfExempt};
pub use flow::{LoginReason, safe_next};
pub use service::{SITE_INFO_KEY, ServiceClientError, SiteInfo, remember_site, site_info};
pub use session::{SESSION_COOKIE, SessionId};
pub use tokens::{StoreTokenStore, is_grant_revoked};

/// The scopes jsmkit asks for: Jira and JSM work, configuration, Assets, and
/// `offline_access` for refresh tokens.
pub const SCOPES: &[&str] = &[
    "read:jira-work",
    "write:jira-work",
    "read:jira-user",
    "read:servicedesk-request",
    "write:servicedesk-request",
    "manage:jira-configuration",
    "manage:jira-project",
    "read:cmdb-object:jira",
    "read:cmdb-schema:jira",
    "read:cmdb-type:jira",
    "read:cmdb-attribute:jira",
    "offline_access",
];

/// The store namespace of sessions and tokens.
pub const NAMESPACE: &str = "platform";

/// Reserved site id under which sign-ins in progress (not bound to a site yet) are kept.
pub const LOGIN_SITE: &str = "jsmkit-sign-in";

/// Why the identity module could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A setting is missing or wrong (the message names it).
    #[error("{0}")]
    Config(String),
}

/// An internal failure of the sign-in machinery (logged, never shown).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("no randomness: {0}")]
    Random(String),
}

/// The Atlassian OAuth 2.0 (3LO) app users sign in with.
#[derive(Clone)]
pub struct OAuthSettings {
    pub client_id: String,
    pub client_secret: SecretString,
    /// `https://auth.atlassian.com` (or the simulator).
    pub auth_base: Url,
    /// `https://api.atlassian.com` (or the simulator).
    pub api_root: Url,
    /// jsmkit's `/oauth/callback`, as registered with the app.
    pub redirect_uri: Url,
}

impl fmt::Debug for OAuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthSettings")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("auth_base", &self.auth_base.as_str())
            .field("api_root", &self.api_root.as_str())
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish()
    }
}

impl OAuthSettings {
    /// The settings from `config`: `None` when `oauth.client_id` or `oauth.client_secret` is
    /// not set. `public_url` is the URL users reach jsmkit at (`server.public_url`, or one
    /// derived from the listen address); the callback is `<public_url>/oauth/callback`.
    pub fn from_config(config: &Config, public_url: &Url) -> Option<OAuthSettings> {
        let client_id = config.oauth.client_id.clone()?;
        let client_secret = config.oauth.client_secret.clone()?;
        Some(OAuthSettings {
            client_id,
            client_secret,
            auth_base: config.oauth.auth_base.clone(),
            api_root: config.oauth.api_root.clone(),
            redirect_uri: callback_url(public_url),
        })
    }
}

/// `<public_url>/oauth/callback` (any path of `public_url` is kept as a prefix).
pub fn callback_url(public_url: &Url) -> Url {
    let mut url = public_url.clone();
    let path = format!("{}/oauth/callback", public_url.path().trim_end_matches('/'));
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// How long sessions live.
#[derive(Clone, Copy, Debug)]
pub struct SessionLimits {
    /// Absolute lifetime from sign-in (the store entry's TTL).
    pub absolute: Duration,
    /// A session unused this long ends.
    pub idle: Duration,
    /// `last_seen` is written at most this often.
    pub touch_every: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            absolute: Duration::from_secs(12 * 3600),
            idle: Duration::from_secs(2 * 3600),
            touch_every: Duration::from_secs(60),
        }
    }
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) oauth: atlassian::client::OAuthApp,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) limits: SessionLimits,
    /// `scheme://host[:port]` of `public_url`, if configured.
    pub(crate) origin: Option<String>,
    pub(crate) secure_cookies: bool,
    pub(crate) namespace: AppNs,
    pub(crate) login_site: SiteId,
    /// Atlassian clients of signed-in users, shared by every rebuild of the context.
    pub(crate) clients: Arc<clients::UserClients>,
}

/// What the sign-in routes, the CSRF layer and the extractors need: the store, the OAuth
/// app, the clock and the cookie policy. Cheap to clone (an `Arc`).
///
/// Apps receive it from the binary and apply it with [`protect`] (which installs it as an
/// axum `Extension`); handlers never need it unless they call Atlassian as the user.
#[derive(Clone)]
pub struct AuthContext {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthContext")
            .field("oauth", &self.inner.oauth)
            .field("limits", &self.inner.limits)
            .field("origin", &self.inner.origin)
            .finish_non_exhaustive()
    }
}

impl AuthContext {
    /// A context over `store` with the OAuth app `settings` and the web shell's cookie
    /// policy (`Secure` cookies and the own origin come from `web.public_url`).
    pub fn new(
        store: Store,
        settings: &OAuthSettings,
        web: &WebConfig,
    ) -> Result<AuthContext, IdentityError> {
        let oauth = atlassian::client::OAuthApp::new(
            settings.client_id.clone(),
            settings.client_secret.clone(),
            settings.redirect_uri.clone(),
        )
        .map_err(|e| IdentityError::Config(format!("oauth: {e}")))?
        .with_auth_base(settings.auth_base.clone())
        .with_api_root(settings.api_root.clone());
        let namespace =
            AppNs::new(NAMESPACE).map_err(|e| IdentityError::Config(format!("namespace: {e}")))?;
        let login_site = SiteId::new(LOGIN_SITE)
            .map_err(|e| IdentityError::Config(format!("login site: {e}")))?;
        Ok(AuthContext {
            inner: Arc::new(Inner {
                store,
                oauth,
                clock: Arc::new(SystemClock),
                limits: SessionLimits::default(),
                origin: web
                    .public_url
                    .as_ref()
                    .map(|u| u.origin().ascii_serialization()),
                secure_cookies: web.secure_cookies(),
                namespace,
                login_site,
                clients: Arc::default(),
            }),
        })
    }

    fn rebuild(&self, f: impl FnOnce(&mut Inner)) -> AuthContext {
        let mut inner = Inner {
            store: self.inner.store.clone(),
            oauth: self.inner.oauth.clone(),
            clock: Arc::clone(&self.inner.clock),
            limits: self.inner.limits,
            origin: self.inner.origin.clone(),
            secure_cookies: self.inner.secure_cookies,
            namespace: self.inner.namespace.clone(),
            login_site: self.inner.login_site.clone(),
            clients: Arc::clone(&self.inner.clients),
        };
        f(&mut inner);
        AuthContext {
            inner: Arc::new(inner),
        }
    }

    /// The same context reading time from `clock` (tests: give the store the same clock).
    #[must_use]
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> AuthContext {
        self.rebuild(|i| i.clock = clock)
    }

    /// The same context with other session lifetimes.
    #[must_use]
    pub fn with_limits(&self, limits: SessionLimits) -> AuthContext {
        self.rebuild(|i| i.limits = limits)
    }

    /// The store this context keeps sessions in.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }
}

/// The signed-in user of a request, from the session cookie.
///
/// As an extractor it answers 302 to `/login?next=…` on pages and 401 (JSON error shape) on
/// `/api/…` when there is no valid session.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    /// The site the session is bound to.
    pub site: SiteId,
    /// Atlassian account id.
    pub account_id: String,
    pub display_name: String,
    pub email: Option<String>,
    /// The session's id: the SHA-256 of its token, never the token.
    pub session_id: SessionId,
    /// The session's CSRF token, for forms (`csrf_token`) and `X-CSRF-Token`.
    pub csrf_token: String,
}

impl CurrentUser {
    /// What the base layout shows: pass it to [`PageChrome::with_user`](crate::web::PageChrome::with_user).
    pub fn chrome(&self) -> UserChrome {
        UserChrome {
            display_name: self.display_name.clone(),
            csrf_token: self.csrf_token.clone(),
        }
    }
}

/// The signed-in user if there is one; never rejects.
#[derive(Clone, Debug)]
pub struct MaybeUser(pub Option<CurrentUser>);

/// The sign-in routes (see the module docs), with the context applied. Mount them beside
/// the apps' pages, inside the shell's middleware.
pub fn routes(auth: &AuthContext) -> Router {
    let guarded = Router::new()
        .route("/logout", post(flow::logout))
        .route("/logout/everywhere", post(flow::logout_everywhere));
    // The site choice happens before a session exists; it checks the origin and the
    // pending sign-in's own token itself.
    let open = Router::new()
        .route("/login", get(flow::login_page))
        .route("/login/start", get(flow::login_start))
        .route("/login/site", post(flow::choose_site))
        .route("/oauth/callback", get(flow::callback))
        .layer(axum::Extension(auth.clone()));
    protect(guarded, auth).merge(open)
}

/// Applies `auth` to an app's router: installs it for the extractors and checks CSRF on
/// every POST/PUT/PATCH/DELETE (403 with a reason otherwise).
pub fn protect<S>(router: Router<S>, auth: &AuthContext) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router
        .layer(axum::middleware::from_fn_with_state(
            auth.clone(),
            csrf::csrf_guard,
        ))
        .layer(axum::Extension(auth.clone()))
}
