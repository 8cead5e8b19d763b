//! Atlassian clients acting as signed-in users, kept between requests.
//!
//! Building a client per request would dial Atlassian afresh and re-read the user's tokens
//! from the store every time. Instead each (site, user) keeps one client for a while; all of
//! them share one connection pool. A client holds the user's access token in memory until it
//! expires; refreshes go through the store as before. Signing out everywhere and a revoked
//! grant drop the user's client.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use atlassian::client::{AtlassianClient, HttpPool, Timeouts};

use super::{AuthContext, CurrentUser};
use crate::store::SiteId;

/// How long a user's client is kept after it was built.
const TTL: Duration = Duration::from_secs(15 * 60);
/// Most clients kept at once; beyond it the oldest half is dropped.
const MAX_CLIENTS: usize = 5_000;

type Key = (SiteId, String);

/// The cache (inside [`AuthContext`]).
#[derive(Default)]
pub(crate) struct UserClients {
    pool: Mutex<Option<HttpPool>>,
    map: Mutex<HashMap<Key, (AtlassianClient, Instant)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl UserClients {
    fn pool(&self) -> atlassian::client::Result<HttpPool> {
        let mut slot = lock(&self.pool);
        if let Some(p) = slot.as_ref() {
            return Ok(p.clone());
        }
        let p = HttpPool::new(&Timeouts::default())?;
        *slot = Some(p.clone());
        Ok(p)
    }

    pub(crate) fn forget(&self, site: &SiteId, account_id: &str) {
        lock(&self.map).remove(&(site.clone(), account_id.to_string()));
    }
}

impl AuthContext {
    /// An Atlassian client acting as `user` with their own OAuth token (Jira's permissions
    /// apply to everything it does), reused across requests.
    pub fn client_for(&self, user: &CurrentUser) -> atlassian::client::Result<AtlassianClient> {
        let clients = &self.inner.clients;
        let key = (user.site.clone(), user.account_id.clone());
        let now = Instant::now();
        if let Some((c, at)) = lock(&clients.map).get(&key)
            && now.duration_since(*at) < TTL
        {
            return Ok(c.clone());
        }
        let client =
            AtlassianClient::oauth(self.api_root(), user.site.as_str(), self.token_source(user))?
                .pool(clients.pool()?)
                .build()?;
        let mut map = lock(&clients.map);
        if map.len() >= MAX_CLIENTS {
            let mut ages: Vec<(Key, Instant)> =
                map.iter().map(|(k, (_, t))| (k.clone(), *t)).collect();
            ages.sort_by_key(|(_, t)| *t);
            for (k, _) in ages.into_iter().take(MAX_CLIENTS / 2) {
                map.remove(&k);
            }
        }
        map.insert(key, (client.clone(), now));
        Ok(client)
    }

    /// Drops the cached client of a user (their grant ended or they signed out everywhere).
    pub fn forget_client(&self, site: &SiteId, account_id: &str) {
        self.inner.clients.forget(site, account_id);
    }
}

/// The signed-in user's Atlassian client, for handlers behind
/// [`protect_with_access`](crate::permissions::protect_with_access).
#[derive(Clone, Debug)]
pub struct UserClient(pub AtlassianClient);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for UserClient {
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<UserClient>()
            .cloned()
            .ok_or_else(|| {
                crate::web::error_response_for_path(
                    parts.uri.path(),
                    crate::web::ApiError::Unauthorized("sign in first".into()),
                )
            })
    }
}
