//! SSRF-safe outbound HTTP for webhook pushes and connection tests.
//!
//! [`EgressClient`] is a reqwest client on rustls/ring that only reaches globally routable
//! unicast addresses ([`classify`]):
//!
//! - host names are resolved by our own resolver, which refuses the whole answer when any
//!   address is loopback, private, link-local (cloud metadata), CGNAT, documentation,
//!   benchmarking, multicast, reserved, or an IPv6 form embedding one of those;
//! - IP-literal hosts never reach a resolver, so they are checked before sending;
//! - every redirect hop is checked again (scheme, credentials, IP literal, host), at most
//!   [`EgressConfig::max_redirects`] hops;
//! - no proxy (a system proxy would bypass the checks), http and https only, short
//!   timeouts, a response body cap;
//! - an admin allow-list per site ([`EgressPolicy`], `host` or `host:port`) lets on-premises
//!   targets through.
//!
//! Errors ([`EgressError`]) name the host at most: never the path, query or credentials.
//!
//! ```text
//! let policy = egress::load_policy(&store, &site).await?;
//! let client = EgressClient::new(policy, EgressConfig::default())?;
//! let resp = client.send(EgressRequest::post("https://hooks.example.com/x", body)).await?;
//! ```

mod classify;
mod client;
mod policy;

pub use classify::{BlockReason, classify, classify_v4, classify_v6, is_public};
pub use client::{
    EgressClient, EgressConfig, EgressRequest, EgressResponse, Lookup, LookupFuture, StaticLookup,
    SystemLookup, validate_url,
};
pub use policy::{
    AllowEntry, EgressPolicy, MAX_ALLOW_ENTRIES, POLICY_KEY, load_policy, save_policy,
};

use crate::store::StoreError;

/// Why an outbound request was refused or failed. Never holds a URL's path, query or
/// credentials.
#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    /// The URL could not be parsed or has no host.
    #[error("the URL is not valid: {0}")]
    InvalidUrl(&'static str),
    /// A scheme other than http or https.
    #[error("the scheme {0:?} is not allowed; use http or https")]
    Scheme(String),
    /// The URL carries a user name or password.
    #[error("the URL must not contain a user name or password")]
    Credentials,
    /// The target address may not be reached.
    #[error("{host} may not be reached: {reason}")]
    Blocked {
        /// Host as in the URL.
        host: String,
        /// Why.
        reason: BlockReason,
    },
    /// The host is allow-listed, but only on other ports.
    #[error("{host} is allow-listed only on other ports")]
    PortNotAllowed {
        /// Host as in the URL.
        host: String,
    },
    /// The host name did not resolve.
    #[error("{host} could not be resolved")]
    Resolve {
        /// Host name.
        host: String,
    },
    /// Too many redirects.
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    /// The request timed out.
    #[error("{host}: the request timed out")]
    Timeout {
        /// Host.
        host: String,
    },
    /// No connection could be made.
    #[error("{host}: could not connect")]
    Connect {
        /// Host.
        host: String,
    },
    /// The response body exceeded the cap.
    #[error("the response body is larger than {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// Another transport failure (the reason holds no URL).
    #[error("{host}: the request failed: {reason}")]
    Http {
        /// Host.
        host: String,
        /// What failed.
        reason: String,
    },
    /// A header name or value that cannot be sent.
    #[error("header {0:?} is not valid")]
    InvalidHeader(String),
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Build(String),
    /// An allow-list entry that is not `host[:port]`.
    #[error("allow-list entry {0}")]
    InvalidAllowEntry(String),
    /// The store failed (loading or saving the policy).
    #[error(transparent)]
    Store(#[from] StoreError),
}
