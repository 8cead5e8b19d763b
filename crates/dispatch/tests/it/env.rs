//! A jsmkit web server with identity, the settings pages and DispatchDesk, and the simulator.

use std::sync::Arc;
use std::time::Duration;

use atlassian_sim::server::oauth::OAuthClient;
use atlassian_sim::testkit::Browser;
use atlassian_sim::{SimConfig, SimHandle, UserSummary};
use dispatch::web::{DispatchState, router};
use platform::identity::{self, AuthContext, OAuthSettings};
use platform::permissions::protect_with_access;
use platform::settings::{self, SettingsState};
use platform::store::{Keyring, Store, StoreUrl};
use platform::web::{AlwaysReady, AppRoutes, Section, WebConfig, shell_router_with};
use secrecy::SecretString;
use tokio::net::TcpListener;

pub struct Env {
    pub base: String,
    pub sim: SimHandle,
    pub store: Store,
    /// Where the app schedules automatic dispatch (ticked by the tests themselves).
    pub scheduler: platform::scheduler::Scheduler,
    _dir: tempfile::TempDir,
}

pub async fn start() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = url::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let callback = identity::callback_url(&public);
    let sim = atlassian_sim::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        SimConfig {
            oauth_clients: vec![OAuthClient {
                client_id: "jsmkit-test".into(),
                client_secret: "jsmkit-test-secret".into(),
                redirect_uris: vec![callback.to_string()],
            }],
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    let store = Store::open_and_migrate(
        &StoreUrl::Sqlite {
            path: dir.path().join("store.db"),
        },
        Keyring::ephemeral().unwrap(),
    )
    .await
    .unwrap();
    let web = WebConfig {
        public_url: Some(public.clone()),
        ..WebConfig::default()
    };
    let sim_url = url::Url::parse(&sim.base_url).unwrap();
    let oauth = OAuthSettings {
        client_id: "jsmkit-test".into(),
        client_secret: SecretString::from("jsmkit-test-secret"),
        auth_base: sim_url.clone(),
        api_root: sim_url,
        redirect_uri: callback,
    };
    let auth = AuthContext::new(store.clone(), &oauth, &web).unwrap();
    let scheduler = platform::scheduler::Scheduler::new(
        store.clone(),
        platform::scheduler::SchedulerConfig::default(),
    );
    let mut state = DispatchState::new(store.clone()).with_jobs(auth.clone(), scheduler.clone());
    // Every request refreshes from Jira: tests see changes without waiting.
    state.cache = dispatch::cache::BoardCache::new(Duration::ZERO);
    let apps = vec![
        AppRoutes::new(Section::Settings).pages(protect_with_access(
            settings::router(SettingsState::new(store.clone())),
            &auth,
        )),
        AppRoutes::new(Section::Dispatch).pages(protect_with_access(router(state), &auth)),
    ];
    let app = shell_router_with(&web, Arc::new(AlwaysReady), apps, identity::routes(&auth));
    tokio::spawn(platform::web::serve(listener, app, std::future::pending()));
    Env {
        base: public.to_string(),
        sim,
        store,
        scheduler,
        _dir: dir,
    }
}

impl Env {
    pub fn user(&self, role: &str, nth: usize) -> UserSummary {
        self.sim
            .users_summary()
            .into_iter()
            .filter(|u| u.role == role)
            .nth(nth)
            .unwrap_or_else(|| panic!("no {role} #{nth} in the demo site"))
    }

    pub async fn browser_as(&self, role: &str, nth: usize) -> (Browser, UserSummary) {
        let user = self.user(role, nth);
        let mut b = Browser::new(&self.base).unwrap();
        let resp = b.sign_in(&user.email, "/").await.unwrap();
        assert_eq!(resp.status(), 303, "sign-in of {}", user.email);
        (b, user)
    }

    /// (status id, assignee) of an issue in the simulator.
    pub fn issue(&self, key: &str) -> (String, Option<String>) {
        let m = self.sim.state.read();
        let i = m.issue(key).unwrap();
        (i.status.clone(), i.assignee.clone())
    }

    /// Keys of issues of `project` in `status`, with their assignee.
    pub fn issues_in(&self, project_key: &str, status: &str) -> Vec<(String, Option<String>)> {
        let m = self.sim.state.read();
        m.issues
            .iter()
            .filter(|i| i.key.starts_with(&format!("{project_key}-")) && i.status == status)
            .map(|i| (i.key.clone(), i.assignee.clone()))
            .collect()
    }
}

pub async fn text(resp: reqwest::Response) -> String {
    resp.text().await.unwrap()
}
