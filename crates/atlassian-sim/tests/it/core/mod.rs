//! Tests of the simulator core: seed, JQL, HTTP routes, auth, paging, OAuth, faults.

mod api;
mod connected;
mod jql;
mod oauth_faults;
mod sla;

use atlassian_sim::{SimConfig, SimHandle, UserSummary};

/// A fixed "now": Tuesday 2026-03-10 11:30 UTC.
pub fn now() -> jiff::Timestamp {
    "2026-03-10T11:30:00Z".parse().expect("timestamp")
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub async fn sim_with(cfg: SimConfig) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    atlassian_sim::start(listener, cfg).await.expect("start")
}

pub async fn sim() -> SimHandle {
    sim_with(SimConfig {
        seed: 7,
        now: Some(now()),
        ..SimConfig::default()
    })
    .await
}

pub fn user(h: &SimHandle, role: &str) -> UserSummary {
    h.users_summary()
        .into_iter()
        .find(|u| u.role == role)
        .expect("role")
}

pub trait AuthAs {
    fn auth(self, u: &UserSummary) -> Self;
}

impl AuthAs for reqwest::RequestBuilder {
    fn auth(self, u: &UserSummary) -> Self {
        self.basic_auth(&u.email, Some(&u.api_token))
    }
}
