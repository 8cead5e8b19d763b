//! Helpers for the client tests: clients pointed at a wiremock server.

#![allow(clippy::unwrap_used)] // test helpers: a failed setup should panic

use std::time::Duration;

use atlassian::client::{AtlassianClient, Auth, ClientBuilder, RetryPolicy, Timeouts};
use secrecy::SecretString;
use url::Url;
use wiremock::MockServer;

pub const EMAIL: &str = "agent@example.com";
pub const API_TOKEN: &str = "api-token-SECRET-1234";

/// Fast retries so tests do not sleep long.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_total_delay: Duration::from_secs(10),
    }
}

pub fn base(server: &MockServer) -> Url {
    Url::parse(&server.uri()).unwrap()
}

/// Basic-auth client on the site-root shape; Assets under `/jsm/assets`.
pub fn basic(server: &MockServer) -> ClientBuilder {
    let root = base(server);
    AtlassianClient::with_base(
        root.clone(),
        root.join("jsm/assets").unwrap(),
        Auth::basic(EMAIL, SecretString::from(API_TOKEN)),
    )
    .retry(fast_retry())
    .timeouts(Timeouts {
        connect: Duration::from_secs(2),
        total: Duration::from_secs(5),
    })
}

pub fn basic_client(server: &MockServer) -> AtlassianClient {
    basic(server).build().unwrap()
}
