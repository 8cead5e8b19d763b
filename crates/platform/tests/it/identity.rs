//! Signing in (`platform::identity`) for real: jsmkit on 127.0.0.1:0 with a fresh SQLite
//! store, the Atlassian simulator in-process, and a small cookie-keeping "browser" on
//! reqwest (redirects followed by hand, so every hop and `Set-Cookie` can be checked).

use std::collections::BTreeMap;
use std::sync::Arc;

use atlassian_sim::server::oauth::OAuthClient;
use atlassian_sim::{SimConfig, SimHandle};
use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use platform::identity::{self, AuthContext, CurrentUser, OAuthSettings};
use platform::store::{Keyring, ManualClock, Store, StoreUrl};
use platform::web::{AlwaysReady, AppRoutes, Section, WebConfig, shell_router};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use secrecy::SecretString;
use tokio::net::TcpListener;

pub struct Env {
    pub base: String,
    pub sim: SimHandle,
    pub clock: ManualClock,
    pub auth: AuthContext,
    pub db: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn whoami(user: CurrentUser) -> String {
    format!(
        "hello {} ({}) on {} session {}",
        user.display_name, user.account_id, user.site, user.session_id
    )
}

async fn action(user: CurrentUser) -> String {
    format!("done for {}", user.account_id)
}

async fn api_action(user: CurrentUser) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"account": user.account_id}))
}

async fn call_atlassian(
    axum::Extension(auth): axum::Extension<AuthContext>,
    user: CurrentUser,
) -> Response {
    match auth.token_source(&user).access_token().await {
        Ok(_) => "token ok".into_response(),
        Err(e) if identity::is_grant_revoked(&e) => {
            auth.sign_in_expired(&user, "/techdesk/jira").await
        }
        Err(e) => (axum::http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

/// jsmkit + simulator; `https` makes the public URL https (the test still speaks http).
pub async fn start(https: bool) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let scheme = if https { "https" } else { "http" };
    let public = url::Url::parse(&format!("{scheme}://{addr}")).unwrap();
    let callback = identity::callback_url(&public);
    let sim_cfg = SimConfig {
        oauth_clients: vec![OAuthClient {
            client_id: "jsmkit-demo".into(),
            client_secret: "jsmkit-demo-secret".into(),
            redirect_uris: vec![callback.to_string()],
        }],
        ..SimConfig::default()
    };
    let sim = atlassian_sim::start(TcpListener::bind("127.0.0.1:0").await.unwrap(), sim_cfg)
        .await
        .unwrap();
    let db = dir.path().join("store.db");
    let clock = ManualClock::starting_now();
    let store = Store::open_and_migrate(
        &StoreUrl::Sqlite { path: db.clone() },
        Keyring::ephemeral().unwrap(),
    )
    .await
    .unwrap()
    .with_clock(Arc::new(clock.clone()));
    let web = WebConfig {
        public_url: Some(public.clone()),
        ..WebConfig::default()
    };
    let sim_url = url::Url::parse(&sim.base_url).unwrap();
    let settings = OAuthSettings {
        client_id: "jsmkit-demo".into(),
        client_secret: SecretString::from("jsmkit-demo-secret"),
        auth_base: sim_url.clone(),
        api_root: sim_url,
        redirect_uri: callback,
    };
    let auth = AuthContext::new(store, &settings, &web)
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    let pages = identity::protect(
        Router::new()
            .route("/techdesk", get(whoami))
            .route("/techdesk/action", post(action))
            .route("/techdesk/jira", get(call_atlassian))
            .route("/api/techdesk/v1/action", post(api_action)),
        &auth,
    )
    .merge(identity::routes(&auth));
    let app = AppRoutes::new(Section::TechDesk).pages(pages);
    let router = shell_router(&web, Arc::new(AlwaysReady), vec![app]);
    tokio::spawn(platform::web::serve(
        listener,
        router,
        std::future::pending(),
    ));
    Env {
        base: format!("http://{addr}"),
        sim,
        clock,
        auth,
        db,
        _dir: dir,
    }
}

/// A browser: keeps jsmkit's cookies, follows nothing by itself.
#[derive(Clone)]
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new(env: &Env) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .unwrap(),
            base: env.base.clone(),
            cookies: BTreeMap::new(),
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

    /// Absolute URL for a path on jsmkit; https URLs of jsmkit (public_url) map to http.
    pub fn url(&self, target: &str) -> String {
        if target.starts_with('/') {
            format!("{}{target}", self.base)
        } else {
            target.replacen("https://", "http://", 1)
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

    /// A same-origin form POST (with `Origin`), plus extra headers.
    pub async fn post_form(
        &mut self,
        target: &str,
        form: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let url = self.url(target);
        let mut req = self.http.post(&url).form(form);
        if url.starts_with(&self.base) {
            req = req.header("origin", &self.base);
            if !self.cookies.is_empty() {
                req = req.header("cookie", self.cookie_header());
            }
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        self.absorb(&url, resp.headers());
        resp
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

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden fields of the simulator's consent form for the user with `email`.
fn consent_form(html: &str, email: &str) -> Vec<(String, String)> {
    let form = html
        .split("<form")
        .find(|f| f.contains(&format!("data-email=\"{email}\"")))
        .unwrap_or_else(|| panic!("no consent form for {email}"));
    form.split("<input")
        .skip(1)
        .map(|input| {
            let attr = |name: &str| {
                let start = input.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                let end = input[start..].find('"').unwrap() + start;
                unescape(&input[start..end])
            };
            (attr("name"), attr("value"))
        })
        .collect()
}

/// A demo technician of the simulated site.
pub fn technician(env: &Env) -> atlassian_sim::UserSummary {
    env.sim
        .users_summary()
        .into_iter()
        .find(|u| u.role == "technician")
        .unwrap()
}

/// Walks the sign-in from `start` (a jsmkit URL that leads to Atlassian) up to the
/// callback; returns the callback's response.
pub async fn sign_in_from(b: &mut Browser, start: &str, email: &str) -> reqwest::Response {
    let resp = b.get(start).await;
    assert_eq!(resp.status(), 303, "start of the sign-in");
    let authorize = location(&resp);
    let page = b.get(&authorize).await;
    assert_eq!(page.status(), 200);
    let form = consent_form(&page.text().await.unwrap(), email);
    let authorize_base = authorize.split('?').next().unwrap().to_owned();
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let resp = b.post_form(&authorize_base, &fields, &[]).await;
    assert_eq!(resp.status(), 303, "consent");
    let callback = location(&resp);
    b.get(&callback).await
}

/// Signs in as the demo technician; returns the callback's response (303 to `next`).
pub async fn sign_in(env: &Env, b: &mut Browser, next: Option<&str>) -> reqwest::Response {
    let start = match next {
        Some(n) => format!("/login/start?next={}", urlencode(n)),
        None => "/login/start".to_owned(),
    };
    sign_in_from(b, &start, &technician(env).email).await
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ------------------------------------------------------------------------------ tests

#[tokio::test]
async fn whole_sign_in_flow_leads_back_to_next_and_shows_the_user() {
    let env = start(false).await;
    let mut b = Browser::new(&env);
    let tech = technician(&env);

    // Anonymous: the page sends to /login with next.
    let resp = b.get("/techdesk?tab=mine").await;
    assert_eq!(resp.status(), 302);
    let login = location(&resp);
    assert_eq!(login, "/login?next=%2Ftechdesk%3Ftab%3Dmine");

    // The sign-in page keeps next in its button.
    let page = b.get(&login).await.text().await.unwrap();
    assert!(page.contains("Sign in with Atlassian"), "{page}");
    let start = "/login/start?next=%2Ftechdesk%3Ftab%3Dmine";
    assert!(page.contains(&start.replace('&', "&amp;")), "{page}");

    let resp = sign_in_from(&mut b, start, &tech.email).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/techdesk?tab=mine");
    assert!(b.cookies.contains_key(identity::SESSION_COOKIE));
    assert!(
        !b.cookies.contains_key("jsmkit_login"),
        "state cookie cleared"
    );

    let text = b.get("/techdesk?tab=mine").await.text().await.unwrap();
    assert!(
        text.contains(&format!(
            "hello {} ({})",
            tech.display_name, tech.account_id
        )),
        "{text}"
    );
    assert!(text.contains(&env.sim.cloud_id), "{text}");

    // The layout shows the user, the sign-out form and htmx's CSRF header.
    let page = b.get("/login").await.text().await.unwrap();
    assert!(page.contains("class=\"user-name\""), "{page}");
    assert!(page.contains(&tech.display_name), "{page}");
    assert!(page.contains("action=\"/logout\""), "{page}");
    assert!(
        page.contains("hx-headers:inherited=\"{&#34;X-CSRF-Token&#34;:&#34;")
            || page.contains("hx-headers:inherited=\"{&quot;X-CSRF-Token&quot;:&quot;"),
        "{page}"
    );
}

#[tokio::test]
async fn open_redirects_are_refused() {
    let env = start(false).await;
    for evil in [
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example",
        "javascript:alert(1)",
    ] {
        let mut b = Browser::new(&env);
        let page = b
            .get(&format!("/login?next={}", urlencode(evil)))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("href=\"/login/start\""), "{evil}: {page}");
        let resp = sign_in(&env, &mut b, Some(evil)).await;
        assert_eq!(resp.status(), 303);
        assert_eq!(location(&resp), "/", "{evil}");
    }
}

#[tokio::test]
async fn bad_missing_and_reused_state_are_refused() {
    let env = start(false).await;
    let tech = technician(&env);
    let mut b = Browser::new(&env);
    let resp = b.get("/login/start").await;
    let authorize = location(&resp);
    let html = b.get(&authorize).await.text().await.unwrap();
    let form = consent_form(&html, &tech.email);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let resp = b
        .post_form(authorize.split('?').next().unwrap(), &fields, &[])
        .await;
    let callback = location(&resp);
    let url = url::Url::parse(&callback).unwrap();
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();

    // Missing state, wrong state, and the right state from a browser without the cookie.
    let resp = b.get(&format!("/oauth/callback?code={code}")).await;
    assert_eq!(resp.status(), 400);
    let resp = b
        .get(&format!("/oauth/callback?code={code}&state=forged"))
        .await;
    assert_eq!(resp.status(), 400);
    let mut stranger = Browser::new(&env);
    assert_eq!(stranger.get(&callback).await.status(), 400);
    assert!(!stranger.cookies.contains_key(identity::SESSION_COOKIE));

    // The real one works once; replaying it (even with the state cookie) fails.
    let saved = b.cookies.clone();
    assert_eq!(b.get(&callback).await.status(), 303);
    let mut replay = b.clone();
    replay.cookies = saved;
    let resp = replay.get(&callback).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("already used"));
}

fn set_cookies(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn cookies_are_httponly_lax_and_secure_only_over_https() {
    for https in [false, true] {
        let env = start(https).await;
        let mut b = Browser::new(&env);
        let resp = sign_in(&env, &mut b, None).await;
        let session = set_cookies(&resp)
            .into_iter()
            .find(|c| c.starts_with("jsmkit_session="))
            .unwrap();
        assert!(session.contains("; HttpOnly"), "{session}");
        assert!(session.contains("; SameSite=Lax"), "{session}");
        assert!(session.contains("; Path=/"), "{session}");
        assert_eq!(session.contains("; Secure"), https, "{session}");
        let value = session
            .split(';')
            .next()
            .unwrap()
            .trim_start_matches("jsmkit_session=");
        assert!(
            value.starts_with(&format!("{}.", env.sim.cloud_id)),
            "{session}"
        );
    }
}

#[tokio::test]
async fn the_store_holds_only_the_hash_of_the_session_token() {
    let env = start(false).await;
    let mut b = Browser::new(&env);
    sign_in(&env, &mut b, None).await;
    let cookie = b.cookies[identity::SESSION_COOKIE].clone();
    let token = cookie.split_once('.').unwrap().1.to_owned();
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(&env.db);
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&opts)
        .await
        .unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM kv_entries")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let secrets: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT key, ciphertext FROM kv_secrets")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert!(rows.iter().any(|(k, _)| k.starts_with("session:")));
    assert!(secrets.iter().any(|(k, _)| k.starts_with("oauth-tokens:")));
    for (k, v) in &rows {
        assert!(
            !k.contains(&token) && !v.contains(&token),
            "raw token stored at {k}"
        );
    }
    for (k, v) in &secrets {
        assert!(!k.contains(&token), "{k}");
        assert!(
            !String::from_utf8_lossy(v).contains("sim-refresh-"),
            "tokens stored in clear"
        );
    }
    // The session is under the sha256 of the token.
    let raw = base64_decode(&token);
    let hash = hex_sha256(&raw);
    assert!(rows.iter().any(|(k, _)| *k == format!("session:{hash}")));
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

fn hex_sha256(b: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(b))
}
