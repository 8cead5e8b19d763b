//! The two-site deployment of the multi-site tests: simulator, jsmkit, browsers and the
//! helpers reading pages and the store.

use std::sync::Arc;

use atlassian_sim::server::oauth::OAuthClient;
use atlassian_sim::{ExtraSite, SimConfig, SimHandle, UserSummary};
use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use platform::audit::{AuditFilter, AuditLog};
use platform::identity::{self, AuthContext, CurrentUser, OAuthSettings};
use platform::permissions::{AccessContext, AccessData};
use platform::settings::{self, SettingsState};
use platform::store::{AppNs, SiteId, Store, StoreUrl};
use platform::web::{AlwaysReady, AppRoutes, Section, WebConfig, shell_router};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::harness::{Ctx, Kind};
use crate::identity::{Browser, sign_in_from};

/// The extra site's name: it must come out escaped on the choice page.
pub const EXTRA_NAME: &str = "Mersey <Facilities> & \"Co\"";

pub struct Env {
    pub base: String,
    pub sim: SimHandle,
    pub ctx: Ctx,
    pub a: SiteId,
    pub b: SiteId,
}

impl Env {
    pub fn browser(&self) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .unwrap(),
            base: self.base.clone(),
            cookies: Default::default(),
        }
    }

    pub fn user_a(&self, role: &str) -> UserSummary {
        role_of(self.sim.users_summary(), role)
    }

    pub fn user_b(&self, role: &str) -> UserSummary {
        role_of(self.sim.extra_sites[0].users_summary(), role)
    }
}

fn role_of(users: Vec<UserSummary>, role: &str) -> UserSummary {
    users.into_iter().find(|u| u.role == role).unwrap()
}

/// Which site the request is for and what it holds, as the app code sees it.
async fn probe(
    axum::Extension(log): axum::Extension<AuditLog>,
    axum::Extension(store): axum::Extension<Store>,
    ctx: AccessContext,
    Query(_ignored): Query<std::collections::BTreeMap<String, String>>,
) -> axum::Json<Value> {
    let data = AccessData::new(&store, &ctx.site);
    let admins = data
        .allow_list(&AppNs::new("techdesk").unwrap())
        .await
        .unwrap();
    let audit = log
        .query(&ctx.site, &AuditFilter::default(), None, 500)
        .await
        .unwrap()
        .entries
        .into_iter()
        .map(|e| json!({"site": e.site, "target": e.target, "detail": e.detail}))
        .collect::<Vec<_>>();
    axum::Json(json!({"site": ctx.site.as_str(), "admins": admins, "audit": audit}))
}

async fn whoami(user: CurrentUser) -> String {
    format!("{} on {}", user.account_id, user.site)
}

/// The simulator with one extra site, jsmkit with sign-in, settings and the probe API.
pub async fn start(kind: Kind) -> Env {
    let ctx = Ctx::new(kind).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let public = url::Url::parse(&format!("http://{addr}")).unwrap();
    let callback = identity::callback_url(&public);
    let sim_cfg = SimConfig {
        oauth_clients: vec![OAuthClient {
            client_id: "jsmkit-demo".into(),
            client_secret: "jsmkit-demo-secret".into(),
            redirect_uris: vec![callback.to_string()],
        }],
        extra_sites: vec![ExtraSite::new(EXTRA_NAME, 11)],
        ..SimConfig::default()
    };
    let sim = atlassian_sim::start(TcpListener::bind("127.0.0.1:0").await.unwrap(), sim_cfg)
        .await
        .unwrap();
    let web = WebConfig {
        public_url: Some(public.clone()),
        ..WebConfig::default()
    };
    let sim_url = url::Url::parse(&sim.base_url).unwrap();
    let oauth = OAuthSettings {
        client_id: "jsmkit-demo".into(),
        client_secret: SecretString::from("jsmkit-demo-secret"),
        auth_base: sim_url.clone(),
        api_root: sim_url,
        redirect_uri: callback,
    };
    let store = ctx.store.clone();
    let auth = AuthContext::new(store.clone(), &oauth, &web)
        .unwrap()
        .with_clock(Arc::new(ctx.clock.clone()));
    let settings_state = SettingsState::new(store.clone());
    let api = Router::new()
        .route("/api/platform/v1/probe", get(probe))
        .layer(axum::Extension(settings_state.log.clone()))
        .layer(axum::Extension(store));
    let signed_in = Router::new()
        .route("/whoami", get(whoami))
        .merge(settings::router(settings_state))
        .merge(api);
    let pages =
        platform::permissions::protect_with_access(signed_in, &auth).merge(identity::routes(&auth));
    let router = shell_router(
        &web,
        Arc::new(AlwaysReady),
        vec![AppRoutes::new(Section::Settings).pages(pages)],
    );
    tokio::spawn(platform::web::serve(
        listener,
        router,
        std::future::pending(),
    ));
    let a = SiteId::new(&sim.cloud_id).unwrap();
    let b = SiteId::new(&sim.extra_sites[0].cloud_id).unwrap();
    Env {
        base: format!("http://{addr}"),
        sim,
        ctx,
        a,
        b,
    }
}

/// The value of the first `name="{field}" value="…"` of a page.
pub fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// Signs `email` in; for an account of both sites, picks `site` on the choice page.
pub async fn sign_in(env: &Env, b: &mut Browser, email: &str, site: &SiteId) {
    let resp = sign_in_from(b, "/login/start", email).await;
    if resp.status() == 200 {
        let page = resp.text().await.unwrap();
        let csrf = field(&page, "csrf_token");
        let resp = b
            .post_form(
                "/login/site",
                &[("site", site.as_str()), ("csrf_token", &csrf)],
                &[],
            )
            .await;
        assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    } else {
        assert_eq!(resp.status(), 303);
    }
    assert_eq!(signed_in_site(env, b).await.as_ref(), Some(site));
}

/// The site of the browser's session, or `None` when it is not signed in.
pub async fn signed_in_site(env: &Env, b: &mut Browser) -> Option<SiteId> {
    let resp = b.get("/whoami").await;
    if resp.status() == 302 {
        return None;
    }
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let site = text.rsplit_once(" on ").unwrap().1.to_owned();
    assert!(site == env.a.as_str() || site == env.b.as_str(), "{text}");
    Some(SiteId::new(&site).unwrap())
}

/// Every stored row of `site` (entries and secrets), straight from the database.
pub async fn rows_of(ctx: &Ctx, site: &SiteId) -> Vec<String> {
    let entries = "SELECT app, key, value, version FROM kv_entries WHERE site = $1 \
                   ORDER BY app, key";
    let secrets = "SELECT app, key, key_id, ciphertext FROM kv_secrets WHERE site = $1 \
                   ORDER BY app, key";
    let mut rows = Vec::new();
    match &ctx.url {
        StoreUrl::Sqlite { path } => {
            let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&opts)
                .await
                .unwrap();
            let e: Vec<(String, String, String, i64)> = sqlx::query_as(entries)
                .bind(site.as_str())
                .fetch_all(&mut conn)
                .await
                .unwrap();
            let s: Vec<(String, String, String, Vec<u8>)> = sqlx::query_as(secrets)
                .bind(site.as_str())
                .fetch_all(&mut conn)
                .await
                .unwrap();
            rows.extend(e.into_iter().map(|r| format!("{r:?}")));
            rows.extend(s.into_iter().map(|r| format!("{r:?}")));
        }
        StoreUrl::Postgres { url } => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url.expose_secret())
                .await
                .unwrap();
            let e: Vec<(String, String, String, i64)> = sqlx::query_as(entries)
                .bind(site.as_str())
                .fetch_all(&mut conn)
                .await
                .unwrap();
            let s: Vec<(String, String, String, Vec<u8>)> = sqlx::query_as(secrets)
                .bind(site.as_str())
                .fetch_all(&mut conn)
                .await
                .unwrap();
            rows.extend(e.into_iter().map(|r| format!("{r:?}")));
            rows.extend(s.into_iter().map(|r| format!("{r:?}")));
        }
    }
    rows
}

/// HTML text with its character references resolved (`&lt;`, `&#60;`, `&#x3c;`, …).
pub fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find(';').unwrap();
        let entity = &tail[1..end];
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let n = entity.strip_prefix('#').unwrap();
                let code = match n.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).unwrap(),
                    None => n.parse().unwrap(),
                };
                char::from_u32(code).unwrap()
            }
        };
        out.push(c);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

pub async fn audit_of(env: &Env, site: &SiteId) -> Vec<platform::audit::AuditEntry> {
    AuditLog::new(env.ctx.store.clone())
        .query(site, &AuditFilter::default(), None, 500)
        .await
        .unwrap()
        .entries
}
