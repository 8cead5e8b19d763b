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
mod jsm_sla;
mod paging;
mod retry;
mod roles;

pub use assets::*;
pub use auth::{
    AccessibleResource, Auth, MemoryTokenStore, OAuthApp, Profile, TokenSet, TokenSource,
    TokenStore,
};
pub use error::{AuthError, Error, Result};
pub use http::{AtlassianClient, ClientBuilder, HttpPool, Timeouts, install_crypto_provider};
pub use jira::*;
pub use jira_meta::*;
pub use jsm::*;
pub use jsm_sla::*;
pub use paging::Paged;
pub use retry::RetryPolicy;
pub use roles::*;

/// One REST operation the client can call: its metrics/tracing name, HTTP method and path
/// template exactly as in Atlassian's OpenAPI document (Assets paths are relative to
/// `/jsm/assets/workspace/{workspaceId}/v1`). For contract tests and documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationInfo {
    /// Name used in metrics and tracing spans, e.g. `jira.issue_get`.
    pub name: &'static str,
    /// Upper-case HTTP method.
    pub method: &'static str,
    /// Path template, e.g. `/rest/api/3/issue/{issueIdOrKey}`.
    pub path: &'static str,
    /// Whether the path is relative to the Assets workspace base.
    pub assets: bool,
    /// Whether the client retries the call automatically.
    pub idempotent: bool,
}

/// Every REST operation [`AtlassianClient`] and [`AssetsClient`] offer (the OAuth 2.0
/// endpoints of [`OAuthApp`] are not REST operations and are not listed).
pub fn operations() -> Vec<OperationInfo> {
    let plain = jira::OPS
        .iter()
        .chain(jira_meta::OPS)
        .chain(roles::OPS)
        .chain(jsm::OPS)
        .chain(jsm_sla::OPS);
    let info = |op: &&http::Op, assets: bool| OperationInfo {
        name: op.name,
        method: op.verb.as_str(),
        path: op.path,
        assets,
        idempotent: op.idempotent,
    };
    plain
        .map(|op| info(op, false))
        .chain(assets::OPS.iter().map(|op| info(op, true)))
        .collect()
}
