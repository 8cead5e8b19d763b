//! HTTP client for Jira Cloud, Jira Service Management and Assets.
//!
//! One [`AtlassianClient`] per site, built once and cloned freely. Two base
//! shapes are supported: the site root with basic auth
//! ([`AtlassianClient::basic`]) and the API gateway
//! (`https://api.atlassian.com/ex/jira/{cloudId}`) with OAuth 2.0 bearer
//! tokens ([`AtlassianClient::oauth`]). Every call goes through a per-site
//! concurrency limit, timeouts, a response-size cap, automatic retries for
//! idempotent operations only (see [`RetryPolicy`]), metrics and a tracing
//! span named after the operation. Paginated endpoints return [`Paged`]
//! streams. Queries are built only with [`crate::jql`] and [`crate::aql`].

mod assets;
mod auth;
mod error;
mod http;
mod jira;
mod jira_meta;
mod jsm;
mod paging;
mod retry;

pub use assets::*;
pub use auth::{
    AccessibleResource, Auth, MemoryTokenStore, OAuthApp, Profile, TokenSet, TokenSource,
    TokenStore,
};
pub use error::{AuthError, Error, Result};
pub use http::{AtlassianClient, ClientBuilder, Timeouts, install_crypto_provider};
pub use jira::*;
pub use jira_meta::*;
pub use jsm::*;
pub use paging::Paged;
pub use retry::RetryPolicy;
