//! The users' OAuth token sets, kept as encrypted secrets per site and account, and what
//! happens when Atlassian revokes a grant.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use atlassian::client::{AuthError, TokenSet, TokenSource, TokenStore};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::session::{SESSION_COOKIE, clear_cookie};
use super::{AuthContext, CurrentUser, flow};
use crate::store::{Kv, SiteId, StoreError};
use crate::web::{ApiError, is_api_path};

pub(crate) fn tokens_key(account_id: &str) -> String {
    format!("oauth-tokens:{account_id}")
}

#[derive(Serialize, Deserialize)]
struct StoredTokens {
    access_token: String,
    refresh_token: Option<String>,
    expires_at_ms: i64,
    scope: Option<String>,
}

fn to_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn from_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// A [`TokenStore`] on the app store: one encrypted secret per (site, account), replaced
/// in one write, so a rotated refresh token is saved atomically.
#[derive(Clone, Debug)]
pub struct StoreTokenStore {
    kv: Kv,
    key: String,
}

impl StoreTokenStore {
    /// The token set of `account_id` on `site` (namespace `platform`).
    pub fn new(auth: &AuthContext, site: &SiteId, account_id: &str) -> Self {
        StoreTokenStore {
            kv: auth.kv(site),
            key: tokens_key(account_id),
        }
    }

    pub(crate) async fn delete(&self) -> Result<bool, StoreError> {
        self.kv.delete_secret(&self.key).await
    }
}

fn store_error(e: &StoreError) -> AuthError {
    AuthError::Store(format!("token store: {e}"))
}

#[async_trait]
impl TokenStore for StoreTokenStore {
    async fn load(&self) -> Result<Option<TokenSet>, AuthError> {
        let Some(secret) = self
            .kv
            .get_secret(&self.key)
            .await
            .map_err(|e| store_error(&e))?
        else {
            return Ok(None);
        };
        let stored: StoredTokens = serde_json::from_str(secret.expose_secret())
            .map_err(|_| AuthError::Store("stored token set is damaged".into()))?;
        Ok(Some(TokenSet {
            access_token: SecretString::from(stored.access_token),
            refresh_token: stored.refresh_token.map(SecretString::from),
            expires_at: from_ms(stored.expires_at_ms),
            scope: stored.scope,
        }))
    }

    async fn save(&self, tokens: &TokenSet) -> Result<(), AuthError> {
        let stored = StoredTokens {
            access_token: tokens.access_token.expose_secret().to_owned(),
            refresh_token: tokens
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            expires_at_ms: to_ms(tokens.expires_at),
            scope: tokens.scope.clone(),
        };
        let json = serde_json::to_string(&stored)
            .map_err(|_| AuthError::Store("cannot encode the token set".into()))?;
        self.kv
            .set_secret(&self.key, &SecretString::from(json))
            .await
            .map_err(|e| store_error(&e))
    }
}

/// True when `err` means the user's grant is gone (refresh refused with `invalid_grant`, or
/// no tokens stored): they must sign in again.
pub fn is_grant_revoked(err: &atlassian::client::Error) -> bool {
    matches!(
        err,
        atlassian::client::Error::Auth(AuthError::GrantRevoked | AuthError::NotSignedIn)
    )
}

impl AuthContext {
    /// Access tokens for calling Atlassian as `user` (refreshed and rotated through the
    /// store). Build an `AtlassianClient::oauth(api_root, user.site, source)` on it.
    pub fn token_source(&self, user: &CurrentUser) -> TokenSource {
        TokenSource::new(
            self.inner.oauth.clone(),
            Arc::new(StoreTokenStore::new(self, &user.site, &user.account_id)),
        )
    }

    /// The API gateway root the token source's tokens are for.
    pub fn api_root(&self) -> &url::Url {
        self.inner.oauth.api_root()
    }

    /// Stores the token set of a user who just signed in.
    pub(crate) async fn save_tokens(
        &self,
        site: &SiteId,
        account_id: &str,
        tokens: &TokenSet,
    ) -> Result<(), AuthError> {
        StoreTokenStore::new(self, site, account_id)
            .save(tokens)
            .await
    }

    /// The answer when Atlassian revoked `user`'s grant (see [`is_grant_revoked`]): ends
    /// all their sessions on that site, forgets the tokens, clears the cookie and sends them
    /// to `/login` with "Your Atlassian sign-in expired or was revoked" (pages; htmx gets
    /// `HX-Redirect`) or answers 401 (`path` under `/api/`).
    pub async fn sign_in_expired(&self, user: &CurrentUser, path: &str) -> Response {
        self.forget_client(&user.site, &user.account_id);
        let ended = self.end_all_sessions(&user.site, &user.account_id).await;
        let forgotten = StoreTokenStore::new(self, &user.site, &user.account_id)
            .delete()
            .await;
        if let Err(e) = ended {
            tracing::error!(error = %e, "cannot end the sessions of a revoked grant");
        }
        if let Err(e) = forgotten {
            tracing::error!(error = %e, "cannot forget the tokens of a revoked grant");
        }
        tracing::info!(site = %user.site, "Atlassian grant revoked or expired; sessions ended");
        let mut response = if is_api_path(path) {
            ApiError::Unauthorized(flow::LoginReason::Expired.message().into()).into_response()
        } else {
            let location = flow::login_location(None, Some(flow::LoginReason::Expired));
            match HeaderValue::from_str(&location) {
                Ok(location) => (
                    StatusCode::SEE_OTHER,
                    [
                        (header::LOCATION, location.clone()),
                        (header::HeaderName::from_static("hx-redirect"), location),
                    ],
                )
                    .into_response(),
                Err(_) => ApiError::internal("login location").into_response(),
            }
        };
        if let Some(cookie) = clear_cookie(SESSION_COOKIE, self.inner.secure_cookies) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        response
    }
}
