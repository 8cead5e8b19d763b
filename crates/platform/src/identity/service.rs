//! The service credential's Atlassian client, for background jobs (schedules, exports): they
//! never borrow a user's session. The credential is the one an admin stored on
//! `/settings/credentials`: an API token (basic auth at the site's URL) or an OAuth refresh
//! token (through the API gateway, rotated and saved back on every refresh).
//!
//! The site's URL and name are remembered when someone signs in (from Atlassian's
//! accessible-resources answer), so an API token needs nothing more.

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use atlassian::client::{AtlassianClient, AuthError, TokenSet, TokenSource, TokenStore};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::AuthContext;
use crate::permissions::platform_ns;
use crate::settings::{CREDENTIAL_META_KEY, CREDENTIAL_SECRET_KEY, CredentialKind, CredentialMeta};
use crate::store::{Kv, SiteId, Store, StoreError};

/// Store key (platform namespace) of what is known about the site.
pub const SITE_INFO_KEY: &str = "site:info";

/// A site as Atlassian described it at sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    /// Site name.
    pub name: String,
    /// Site URL, e.g. `https://example.atlassian.net`.
    pub url: String,
}

/// Why there is no service client.
#[derive(Debug, thiserror::Error)]
pub enum ServiceClientError {
    /// No credential is stored.
    #[error("no service credential is set; an admin sets one on Settings → Service credentials")]
    NotConfigured,
    /// An API token needs the site's URL, learnt when somebody signs in.
    #[error("the site's URL is not known yet; sign in to jsmkit once so it is remembered")]
    NoSiteUrl,
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The client could not be built.
    #[error("Atlassian client: {0}")]
    Client(#[from] atlassian::client::Error),
}

/// Remembers the site's name and URL (done at every sign-in; also by `jsmkit demo`).
pub async fn remember_site(
    store: &Store,
    site: &SiteId,
    info: &SiteInfo,
) -> Result<(), StoreError> {
    let kv = store.kv(site, &platform_ns());
    if kv.get::<SiteInfo>(SITE_INFO_KEY).await?.as_ref() != Some(info) {
        kv.set(SITE_INFO_KEY, info).await?;
    }
    Ok(())
}

/// The site's name and URL, if somebody signed in to it.
pub async fn site_info(store: &Store, site: &SiteId) -> Result<Option<SiteInfo>, StoreError> {
    store.kv(site, &platform_ns()).get(SITE_INFO_KEY).await
}

/// Keeps the OAuth refresh token of the service credential; every rotation is saved back.
struct ServiceTokens {
    kv: Kv,
}

#[async_trait]
impl TokenStore for ServiceTokens {
    async fn load(&self) -> Result<Option<TokenSet>, AuthError> {
        let secret = self
            .kv
            .get_secret(CREDENTIAL_SECRET_KEY)
            .await
            .map_err(|e| AuthError::Store(format!("service credential: {e}")))?;
        Ok(secret.map(|refresh| TokenSet {
            // No access token yet: the first call refreshes.
            access_token: SecretString::from(String::new()),
            refresh_token: Some(refresh),
            expires_at: SystemTime::UNIX_EPOCH,
            scope: None,
        }))
    }

    async fn save(&self, tokens: &TokenSet) -> Result<(), AuthError> {
        if let Some(r) = &tokens.refresh_token {
            self.kv
                .set_secret(
                    CREDENTIAL_SECRET_KEY,
                    &SecretString::from(r.expose_secret().to_owned()),
                )
                .await
                .map_err(|e| AuthError::Store(format!("service credential: {e}")))?;
        }
        Ok(())
    }
}

impl AuthContext {
    /// The Atlassian client of `site`'s service credential.
    pub async fn service_client(
        &self,
        site: &SiteId,
    ) -> Result<AtlassianClient, ServiceClientError> {
        let kv = self.store().kv(site, &platform_ns());
        let meta: CredentialMeta = kv
            .get(CREDENTIAL_META_KEY)
            .await?
            .ok_or(ServiceClientError::NotConfigured)?;
        let api_root = self.api_root().clone();
        let assets_root = api_root
            .join("jsm/assets")
            .map_err(|e| atlassian::client::Error::Config(format!("Assets root: {e}")))?;
        let builder = match meta.kind {
            CredentialKind::ApiToken => {
                let token = kv
                    .get_secret(CREDENTIAL_SECRET_KEY)
                    .await?
                    .ok_or(ServiceClientError::NotConfigured)?;
                let info = site_info(self.store(), site)
                    .await?
                    .ok_or(ServiceClientError::NoSiteUrl)?;
                let url = url::Url::parse(&info.url).map_err(|_| ServiceClientError::NoSiteUrl)?;
                AtlassianClient::basic(url, meta.email.clone(), token)?.assets_root(assets_root)
            }
            CredentialKind::OauthRefresh => {
                let source = TokenSource::new(
                    self.inner.oauth.clone(),
                    Arc::new(ServiceTokens { kv: kv.clone() }),
                );
                AtlassianClient::oauth(&api_root, site.as_str(), source)?
            }
        };
        Ok(builder.build()?)
    }
}
