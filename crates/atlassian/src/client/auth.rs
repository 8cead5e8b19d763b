//! Authentication: basic (email + API token) and OAuth 2.0 (3LO) bearer
//! tokens with rotating refresh tokens.
//!
//! [`TokenSource`] hands out access tokens, refreshing them shortly before
//! they expire. Refreshes are single-flight (concurrent callers share one
//! `POST /oauth/token`), and the rotated refresh token is saved through the
//! app's [`TokenStore`] before the new access token is used. Secrets are
//! [`SecretString`]s and never appear in `Debug` output, logs or errors.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::error::{AuthError, Error, Result};
use super::http::{Timeouts, build_reqwest, read_capped};

/// Refresh this long before the access token expires.
const REFRESH_SKEW: Duration = Duration::from_secs(60);
/// Largest token-endpoint body read.
const MAX_AUTH_BODY: usize = 256 * 1024;

/// How a client authenticates.
#[derive(Clone)]
pub enum Auth {
    /// Basic auth with an Atlassian account email and API token (site-root base).
    Basic {
        /// Account email.
        email: String,
        /// API token.
        token: SecretString,
    },
    /// OAuth 2.0 bearer tokens (`api.atlassian.com/ex/jira/{cloudId}` base).
    OAuth(TokenSource),
}

impl Auth {
    /// Basic auth from an email and API token.
    pub fn basic(email: impl Into<String>, token: SecretString) -> Self {
        Auth::Basic {
            email: email.into(),
            token,
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Basic { email, .. } => f
                .debug_struct("Basic")
                .field("email", email)
                .field("token", &"[REDACTED]")
                .finish(),
            Auth::OAuth(_) => f.write_str("OAuth([REDACTED])"),
        }
    }
}

/// One OAuth token set as issued by the token endpoint.
#[derive(Clone, Debug)]
pub struct TokenSet {
    /// The bearer access token.
    pub access_token: SecretString,
    /// The refresh token (rotates on every refresh); `None` without `offline_access`.
    pub refresh_token: Option<SecretString>,
    /// When the access token stops working.
    pub expires_at: SystemTime,
    /// Granted scopes, space separated.
    pub scope: Option<String>,
}

impl TokenSet {
    fn needs_refresh(&self, now: SystemTime) -> bool {
        now + REFRESH_SKEW >= self.expires_at
    }
}

/// Where the app keeps the current [`TokenSet`]. `save` must replace the
/// stored set atomically: the old refresh token stops working once a refresh
/// succeeded, so losing the new one means the user has to sign in again.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The stored token set, if the user has signed in.
    async fn load(&self) -> Result<Option<TokenSet>, AuthError>;
    /// Atomically replaces the stored token set.
    async fn save(&self, tokens: &TokenSet) -> Result<(), AuthError>;
}

/// In-memory [`TokenStore`] for tests and short-lived tools.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    inner: std::sync::Mutex<Option<TokenSet>>,
    saves: std::sync::atomic::AtomicUsize,
}

impl MemoryTokenStore {
    /// A store holding `tokens`.
    pub fn new(tokens: Option<TokenSet>) -> Self {
        MemoryTokenStore {
            inner: std::sync::Mutex::new(tokens),
            saves: std::sync::atomic::AtomicUsize::new(0),
        }
    }
    /// The currently stored set.
    pub fn current(&self) -> Option<TokenSet> {
        self.inner
            .lock()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }
    /// How many times `save` was called.
    pub fn save_count(&self) -> usize {
        self.saves.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self) -> Result<Option<TokenSet>, AuthError> {
        Ok(self.current())
    }
    async fn save(&self, tokens: &TokenSet) -> Result<(), AuthError> {
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| AuthError::Store("poisoned lock".into()))?;
        *guard = Some(tokens.clone());
        self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

/// An OAuth 2.0 (3LO) app registration plus the endpoints it talks to.
#[derive(Clone)]
pub struct OAuthApp {
    client_id: String,
    client_secret: SecretString,
    redirect_uri: Url,
    auth_base: Url,
    api_root: Url,
    http: reqwest::Client,
}

impl fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("auth_base", &self.auth_base.as_str())
            .finish()
    }
}

/// A site the token grants access to (`/oauth/token/accessible-resources`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessibleResource {
    /// The cloud id used in `api.atlassian.com/ex/jira/{cloudId}`.
    pub id: String,
    /// Site name.
    pub name: Option<String>,
    /// Site URL.
    pub url: Option<String>,
    /// Granted scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// The signed-in user's profile (`GET /me`).
#[derive(Debug, Clone, Deserialize)]
pub struct Profile {
    /// Atlassian account id.
    pub account_id: String,
    /// Email, if the scope allows.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
    scope: Option<String>,
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
}

impl OAuthApp {
    /// An app with Atlassian's production endpoints
    /// (`https://auth.atlassian.com`, `https://api.atlassian.com`).
    pub fn new(
        client_id: impl Into<String>,
        client_secret: SecretString,
        redirect_uri: Url,
    ) -> Result<Self> {
        let auth_base =
            Url::parse("https://auth.atlassian.com").map_err(|e| Error::Config(e.to_string()))?;
        let api_root =
            Url::parse("https://api.atlassian.com").map_err(|e| Error::Config(e.to_string()))?;
        Ok(OAuthApp {
            client_id: client_id.into(),
            client_secret,
            redirect_uri,
            auth_base,
            api_root,
            http: build_reqwest(&Timeouts::default())?,
        })
    }

    /// Overrides the authorization server base (tests, simulator).
    pub fn with_auth_base(mut self, auth_base: Url) -> Self {
        self.auth_base = auth_base;
        self
    }

    /// Overrides the API gateway root (tests, simulator).
    pub fn with_api_root(mut self, api_root: Url) -> Self {
        self.api_root = api_root;
        self
    }

    /// The API gateway root (`https://api.atlassian.com` by default).
    pub fn api_root(&self) -> &Url {
        &self.api_root
    }

    /// The URL to send the user to for consent.
    pub fn authorize_url(&self, scopes: &[&str], state: &str) -> Url {
        let mut url = join(&self.auth_base, "authorize");
        url.query_pairs_mut()
            .append_pair("audience", "api.atlassian.com")
            .append_pair("client_id", &self.client_id)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("redirect_uri", self.redirect_uri.as_str())
            .append_pair("state", state)
            .append_pair("response_type", "code")
            .append_pair("prompt", "consent");
        url
    }

    /// Exchanges an authorization code for a token set.
    pub async fn exchange_code(&self, code: &str) -> Result<TokenSet> {
        let body = serde_json::json!({
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose_secret(),
            "code": code,
            "redirect_uri": self.redirect_uri.as_str(),
        });
        self.token_request(body, None).await
    }

    /// Uses a refresh token; the answer carries a new (rotated) refresh token.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet> {
        let body = serde_json::json!({
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose_secret(),
            "refresh_token": refresh_token.expose_secret(),
        });
        self.token_request(body, Some(refresh_token)).await
    }

    async fn token_request(
        &self,
        body: serde_json::Value,
        previous_refresh: Option<&SecretString>,
    ) -> Result<TokenSet> {
        const OP: &str = "oauth.token";
        let url = join(&self.auth_base, "oauth/token");
        let resp = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|e| Error::from_reqwest(OP, e))?;
        let status = resp.status().as_u16();
        let bytes = read_capped(OP, resp, MAX_AUTH_BODY).await?;
        if !(200..300).contains(&status) {
            if let Ok(err) = serde_json::from_slice::<OAuthErrorBody>(&bytes) {
                if err.error == "invalid_grant" {
                    return Err(AuthError::GrantRevoked.into());
                }
                return Err(AuthError::Refused {
                    error: err.error.chars().take(100).collect(),
                }
                .into());
            }
            return Err(Error::from_status(OP, status, &bytes, None));
        }
        let parsed: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
            op: OP,
            reason: format!("token response: {}", e.classify_name()),
        })?;
        let expires_in = Duration::from_secs(parsed.expires_in.unwrap_or(3600));
        Ok(TokenSet {
            access_token: SecretString::from(parsed.access_token),
            refresh_token: parsed
                .refresh_token
                .map(SecretString::from)
                .or_else(|| previous_refresh.cloned()),
            expires_at: SystemTime::now() + expires_in,
            scope: parsed.scope,
        })
    }

    /// Sites the access token may call (`GET /oauth/token/accessible-resources`).
    pub async fn accessible_resources(
        &self,
        access_token: &SecretString,
    ) -> Result<Vec<AccessibleResource>> {
        self.api_get(
            "oauth.accessible_resources",
            "oauth/token/accessible-resources",
            access_token,
        )
        .await
    }

    /// The signed-in user's profile (`GET /me`).
    pub async fn me(&self, access_token: &SecretString) -> Result<Profile> {
        self.api_get("oauth.me", "me", access_token).await
    }

    async fn api_get<T: serde::de::DeserializeOwned>(
        &self,
        op: &'static str,
        path: &str,
        access_token: &SecretString,
    ) -> Result<T> {
        let resp = self
            .http
            .get(join(&self.api_root, path))
            .bearer_auth(access_token.expose_secret())
            .send()
            .await
            .map_err(|e| Error::from_reqwest(op, e))?;
        let status = resp.status().as_u16();
        let bytes = read_capped(op, resp, MAX_AUTH_BODY).await?;
        if !(200..300).contains(&status) {
            return Err(Error::from_status(op, status, &bytes, None));
        }
        serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
            op,
            reason: e.to_string(),
        })
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    /// Token bodies may contain secrets: report only the kind of failure.
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "io error",
            serde_json::error::Category::Syntax => "invalid JSON",
            serde_json::error::Category::Data => "unexpected shape",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}

/// Appends a relative path to a base URL, keeping the base's own path.
pub(crate) fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    if let Ok(mut segs) = url.path_segments_mut() {
        segs.pop_if_empty();
        segs.extend(path.split('/'));
    }
    url
}

/// Hands out fresh access tokens, refreshing single-flight through the store.
#[derive(Clone)]
pub struct TokenSource {
    inner: Arc<TokenSourceInner>,
}

struct TokenSourceInner {
    app: OAuthApp,
    store: Arc<dyn TokenStore>,
    cached: tokio::sync::Mutex<Option<TokenSet>>,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("app", &self.inner.app)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A token source for `app`, persisting token sets in `store`.
    pub fn new(app: OAuthApp, store: Arc<dyn TokenStore>) -> Self {
        TokenSource {
            inner: Arc::new(TokenSourceInner {
                app,
                store,
                cached: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// The app this source refreshes through.
    pub fn app(&self) -> &OAuthApp {
        &self.inner.app
    }

    /// A valid access token, refreshing (once, for all waiting callers) if
    /// it expires within a minute.
    pub async fn access_token(&self) -> Result<SecretString> {
        let mut cached = self.inner.cached.lock().await;
        if cached.is_none() {
            *cached = self.inner.store.load().await?;
        }
        let current = cached.as_ref().ok_or(AuthError::NotSignedIn)?;
        if !current.needs_refresh(SystemTime::now()) {
            return Ok(current.access_token.clone());
        }
        let refresh_token = current
            .refresh_token
            .clone()
            .ok_or(AuthError::GrantRevoked)?;
        let fresh = self.inner.app.refresh(&refresh_token).await?;
        self.inner.store.save(&fresh).await?;
        let token = fresh.access_token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Forgets the cached access token so the next call refreshes (after a 401).
    pub async fn invalidate(&self) {
        let mut cached = self.inner.cached.lock().await;
        if let Some(set) = cached.as_mut() {
            set.expires_at = SystemTime::UNIX_EPOCH;
        }
    }
}
