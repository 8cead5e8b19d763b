//! jsmkit's shell with TechDesk on 127.0.0.1:0, a fresh SQLite store, the simulator
//! in-process, and a cookie-keeping browser that signs in through the simulator's consent
//! page.

use std::collections::BTreeMap;
use std::sync::Arc;

use atlassian::client::AtlassianClient;
use atlassian_sim::server::oauth::OAuthClient;
use atlassian_sim::{SimConfig, SimHandle, UserSummary};
use platform::identity::{self, AuthContext, OAuthSettings};
use platform::permissions::protect_with_access;
use platform::store::{Keyring, Store, StoreUrl};
use platform::web::{AlwaysReady, AppRoutes, Section, WebConfig, shell_router};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use secrecy::SecretString;
use techdesk::TechDeskState;
use tokio::net::TcpListener;

pub struct Env {
    pub base: String,
    pub sim: SimHandle,
    pub state: TechDeskState,
    _dir: tempfile::TempDir,
}

pub async fn start() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let public = url::Url::parse(&format!("http://{addr}")).unwrap();
    let callback = identity::callback_url(&public);
    let sim_cfg = SimConfig {
        oauth_clients: vec![OAuthClient {
            client_id: "jsmkit-test".into(),
            client_secret: "jsmkit-test-secret".into(),
            redirect_uris: vec![callback.to_string()],
        }],
        ..SimConfig::default()
    };
    let sim = atlassian_sim::start(TcpListener::bind("127.0.0.1:0").await.unwrap(), sim_cfg)
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
        assets_dir: std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../web/static"
        )),
        ..WebConfig::default()
    };
    let sim_url = url::Url::parse(&sim.base_url).unwrap();
    let settings = OAuthSettings {
        client_id: "jsmkit-test".into(),
        client_secret: SecretString::from("jsmkit-test-secret"),
        auth_base: sim_url.clone(),
        api_root: sim_url,
        redirect_uri: callback,
    };
    let auth = AuthContext::new(store.clone(), &settings, &web).unwrap();
    let state = TechDeskState::new(store.clone());
    let app = AppRoutes::new(Section::TechDesk)
        .pages(
            protect_with_access(techdesk::pages(state.clone()), &auth)
                .merge(identity::routes(&auth)),
        )
        .api(techdesk::api_with(state.clone(), |r| {
            protect_with_access(r, &auth)
        }));
    let router = shell_router(&web, Arc::new(AlwaysReady), vec![app]);
    tokio::spawn(platform::web::serve(
        listener,
        router,
        std::future::pending(),
    ));
    Env {
        base: format!("http://{addr}"),
        sim,
        state,
        _dir: dir,
    }
}

impl Env {
    pub fn user(&self, role: &str) -> UserSummary {
        self.sim
            .users_summary()
            .into_iter()
            .find(|u| u.role == role)
            .unwrap_or_else(|| panic!("no {role} in the demo site"))
    }

    /// A basic-auth client of the simulated site for a demo user (to set up data through
    /// the REST API and read it back).
    pub fn client(&self, role: &str) -> AtlassianClient {
        let u = self.user(role);
        AtlassianClient::basic(
            url::Url::parse(&self.sim.base_url).unwrap(),
            u.email,
            SecretString::from(u.api_token),
        )
        .unwrap()
        .assets_root(url::Url::parse(&format!("{}/jsm/assets", self.sim.base_url)).unwrap())
        .build()
        .unwrap()
    }

    /// A browser signed in as the first demo user with `role`.
    pub async fn signed_in(&self, role: &str) -> Browser {
        let mut b = Browser::new(&self.base);
        let email = self.user(role).email;
        let resp = b.get("/login/start?next=%2Ftechdesk").await;
        assert_eq!(resp.status(), 303, "start of the sign-in");
        let authorize = location(&resp);
        let page = b.get(&authorize).await.text().await.unwrap();
        let form = consent_form(&page, &email);
        let authorize_base = authorize.split('?').next().unwrap().to_owned();
        let fields: Vec<(&str, &str)> =
            form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let resp = b.post_raw(&authorize_base, &fields).await;
        assert_eq!(resp.status(), 303, "consent");
        let callback = location(&resp);
        let resp = b.get(&callback).await;
        assert_eq!(resp.status(), 303, "callback");
        let page = b.text("/techdesk").await;
        b.csrf = attr_after(&page, "name=\"csrf_token\" value=\"").unwrap_or_default();
        assert!(!b.csrf.is_empty(), "a CSRF token on the queue page");
        b
    }

    /// Keys of open issues assigned to the account.
    pub fn open_issues_of(&self, account_id: &str) -> Vec<String> {
        let m = self.sim.state.read();
        m.issues
            .iter()
            .filter(|i| i.assignee.as_deref() == Some(account_id) && i.resolution.is_none())
            .map(|i| i.key.clone())
            .collect()
    }
}

/// A browser: keeps jsmkit's cookies, follows nothing by itself.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
    pub csrf: String,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookies: BTreeMap::new(),
            csrf: String::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn absorb(&mut self, url: &str, headers: &HeaderMap) {
        if !url.starts_with(&self.base) {
            return;
        }
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn url(&self, target: &str) -> String {
        if target.starts_with('/') {
            format!("{}{target}", self.base)
        } else {
            target.to_owned()
        }
    }

    pub async fn get(&mut self, target: &str) -> reqwest::Response {
        let url = self.url(target);
        let mut req = self.http.get(&url);
        if url.starts_with(&self.base) && !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        let resp = req.send().await.unwrap();
        self.absorb(&url, resp.headers());
        resp
    }

    /// GET expecting 200; the body.
    pub async fn text(&mut self, target: &str) -> String {
        let resp = self.get(target).await;
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert_eq!(status, 200, "GET {target}: {body}");
        body
    }

    async fn post_raw(&mut self, target: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let url = self.url(target);
        let mut req = self.http.post(&url).form(form);
        if url.starts_with(&self.base) {
            req = req.header("origin", &self.base);
            if !self.cookies.is_empty() {
                req = req.header("cookie", self.cookie_header());
            }
        }
        let resp = req.send().await.unwrap();
        self.absorb(&url, resp.headers());
        resp
    }

    /// A same-origin form POST with the session's CSRF token.
    pub async fn post(&mut self, target: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf.clone();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(form);
        self.post_raw(target, &all).await
    }
}

pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no Location on {}", resp.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

pub fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The (unescaped) attribute value that follows `marker`.
pub fn attr_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(unescape(&html[start..end]))
}

fn consent_form(html: &str, email: &str) -> Vec<(String, String)> {
    let form = html
        .split("<form")
        .find(|f| f.contains(&format!("data-email=\"{email}\"")))
        .unwrap_or_else(|| panic!("no consent form for {email}"));
    form.split("<input")
        .skip(1)
        .map(|input| {
            let attr = |name: &str| attr_after(input, &format!("{name}=\"")).unwrap();
            (attr("name"), attr("value"))
        })
        .collect()
}
