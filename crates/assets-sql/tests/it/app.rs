//! The app on the server: an admin creates an export through its pages, the pull endpoint
//! answers API keys (scope, ETag/304, rate limit), "Run now" pushes signed webhook batches
//! (retried after a 5xx) and loads a real PostgreSQL database, and non-admins are refused.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use assets_sql::app::{self, AssetsSqlState};
use assets_sql::dialect::Dialect;
use atlassian_sim::server::oauth::OAuthClient;
use atlassian_sim::testkit::{Browser, location};
use atlassian_sim::{SimConfig, SimHandle};
use axum::http::HeaderMap;
use platform::identity::{self, AuthContext, OAuthSettings, SiteInfo};
use platform::permissions::{platform_ns, protect_with_access};
use platform::settings::{
    CREDENTIAL_META_KEY, CREDENTIAL_SECRET_KEY, CredentialKind, CredentialMeta,
};
use platform::store::{Keyring, SiteId, Store, StoreUrl};
use platform::web::{AlwaysReady, AppRoutes, Section, WebConfig, shell_router_with};
use secrecy::SecretString;
use tokio::net::TcpListener;

use crate::harness::Scratch;

type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

struct Env {
    base: String,
    sim: SimHandle,
    store: Store,
    site: SiteId,
    hook: String,
    received: Received,
    _dir: tempfile::TempDir,
}

/// A webhook receiver on 127.0.0.1 that fails its first request with 503.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let r2 = Arc::clone(&received);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let r = Arc::clone(&r2);
            async move {
                let mut all = r.lock().unwrap();
                all.push((headers, body.to_vec()));
                if all.len() == 1 {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, received)
}

async fn start() -> Env {
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
    let site = SiteId::new(&sim.cloud_id).unwrap();
    // The service credential: the admin's API token at the site's URL.
    let admin = sim
        .users_summary()
        .into_iter()
        .find(|u| u.role == "admin")
        .unwrap();
    identity::remember_site(
        &store,
        &site,
        &SiteInfo {
            name: "Irwell".into(),
            url: sim.base_url.clone(),
        },
    )
    .await
    .unwrap();
    let kv = store.kv(&site, &platform_ns());
    kv.set_secret(
        CREDENTIAL_SECRET_KEY,
        &SecretString::from(admin.api_token.clone()),
    )
    .await
    .unwrap();
    kv.set(
        CREDENTIAL_META_KEY,
        &CredentialMeta {
            kind: CredentialKind::ApiToken,
            email: admin.email.clone(),
            set_at_ms: 0,
            set_by: "test".into(),
        },
    )
    .await
    .unwrap();
    let web = WebConfig {
        public_url: Some(public.clone()),
        ..WebConfig::default()
    };
    let sim_url = url::Url::parse(&sim.base_url).unwrap();
    let auth = AuthContext::new(
        store.clone(),
        &OAuthSettings {
            client_id: "jsmkit-test".into(),
            client_secret: SecretString::from("jsmkit-test-secret"),
            auth_base: sim_url.clone(),
            api_root: sim_url,
            redirect_uri: callback,
        },
        &web,
    )
    .unwrap();
    let mut state = AssetsSqlState::new(store.clone(), auth.clone(), None);
    state.retry = app::webhook::RetryPolicy {
        attempts: 3,
        first_wait: Duration::from_millis(20),
    };
    let pages = protect_with_access(app::pages(state.clone()), &auth).merge(app::api_router(state));
    let router = shell_router_with(
        &web,
        Arc::new(AlwaysReady),
        vec![AppRoutes::new(Section::AssetsSql).pages(pages)],
        identity::routes(&auth),
    );
    tokio::spawn(platform::web::serve(
        listener,
        router,
        std::future::pending(),
    ));
    let (hook, received) = receiver().await;
    Env {
        base: public.to_string(),
        sim,
        store,
        site,
        hook,
        received,
        _dir: dir,
    }
}

async fn signed_in(env: &Env, role: &str) -> Browser {
    let user = env
        .sim
        .users_summary()
        .into_iter()
        .find(|u| u.role == role)
        .unwrap();
    let mut b = Browser::new(&env.base).unwrap();
    assert_eq!(b.sign_in(&user.email, "/").await.unwrap().status(), 303);
    b
}

fn between<'a>(s: &'a str, a: &str, b: &str) -> &'a str {
    s.split(a)
        .nth(1)
        .and_then(|x| x.split(b).next())
        .unwrap_or_default()
}

async fn pull(env: &Env, path: &str, key: Option<&str>, etag: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("{}{path}", env.base.trim_end_matches('/')));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(t) = etag {
        req = req.header("if-none-match", t);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn export_pull_push_and_load_through_the_pages() {
    let env = start().await;
    let target = Scratch::new(Dialect::Postgres).await;
    let mut admin = signed_in(&env, "admin").await;
    let new_page = admin
        .get("/assets-sql/exports/new")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        new_page.contains("(schema <code>"),
        "the page lists the schemas to choose from"
    );
    let csrf = admin.csrf_token("/assets-sql/exports/new").await.unwrap();
    let form = |target: &str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("version", "0".into()),
            ("name", "CMDB <b>to</b> BI".into()),
            ("dialects", "postgres".into()),
            ("dialects", "sqlite".into()),
            ("pull", "on".into()),
            ("webhook_url", env.hook.clone()),
            ("target", target.into()),
            ("zone", "UTC".into()),
        ]
    };
    // The target database is on loopback: refused until an admin allow-lists it.
    let f = form(&target.url);
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = admin
        .post_form("/assets-sql/exports", &pairs, &[])
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"target-error\""), "{body}");
    assert!(
        !body.contains(&target.url),
        "the database URL is never echoed"
    );
    platform::egress::save_policy(
        &env.store,
        &env.site,
        &platform::egress::EgressPolicy::with_allowed(["127.0.0.1"]).unwrap(),
    )
    .await
    .unwrap();
    let r = admin
        .post_form("/assets-sql/exports", &pairs, &[])
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let detail = location(&r).unwrap();
    assert!(detail.ends_with("?secret=new"));
    let id = between(&detail, "/assets-sql/exports/", "?").to_string();
    let page = admin.get(&detail).await.unwrap().text().await.unwrap();
    let secret = between(&page, "<code id=\"webhook-secret\">", "</code>").to_string();
    assert!(secret.starts_with("whsec_"), "{page}");
    assert!(!page.contains("<b>to</b>"), "names are escaped");
    let again = admin
        .get(&format!("/assets-sql/exports/{id}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains(&secret), "the secret is shown once");

    // An API key for this export, shown once.
    let csrf_k = admin.csrf_token("/assets-sql/keys").await.unwrap();
    let r = admin
        .post_form(
            "/assets-sql/keys",
            &[("csrf_token", &csrf_k), ("name", "BI"), ("exports", &id)],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let key = between(&page, "<code id=\"issued-key\">", "</code>").to_string();
    assert!(key.starts_with("jsmk."), "{page}");

    // Pull: keys only, the right scope and dialect, ETag and 304.
    assert_eq!(
        pull(
            &env,
            &format!("/api/assets-sql/v1/exports/{id}/sql?dialect=postgres"),
            None,
            None
        )
        .await
        .status(),
        401
    );
    let bad = pull(
        &env,
        &format!("/api/assets-sql/v1/exports/{id}/sql?dialect=mssql"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(bad.status(), 422, "dialect not offered");
    let ok = pull(
        &env,
        &format!("/api/assets-sql/v1/exports/{id}/sql?dialect=postgres"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(ok.status(), 200);
    let tag = ok
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let script = ok.text().await.unwrap();
    assert!(
        script.contains("CREATE TABLE") && script.trim_end().ends_with("COMMIT;"),
        "{}",
        &script[script.len().saturating_sub(300)..]
    );
    let same = pull(
        &env,
        &format!("/api/assets-sql/v1/exports/{id}/sql?dialect=postgres"),
        Some(&key),
        Some(&tag),
    )
    .await;
    assert_eq!(same.status(), 304, "unchanged export");
    let lines = pull(
        &env,
        &format!("/api/assets-sql/v1/exports/{id}/json"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(lines.status(), 200);
    let text = lines.text().await.unwrap();
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );
    assert!(text.lines().last().unwrap_or_default().contains("\"end\""));
    // The rate limit answers 429 with Retry-After once the burst is spent.
    let mut limited = None;
    for _ in 0..12 {
        let r = pull(
            &env,
            "/api/assets-sql/v1/exports/exp-00000000/json",
            Some(&key),
            None,
        )
        .await;
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("429 after the burst");
    assert!(limited.headers().get("retry-after").is_some());

    // Run now: webhook push (first attempt answered 503, retried) and a load into PostgreSQL.
    let csrf = admin
        .csrf_token(&format!("/assets-sql/exports/{id}"))
        .await
        .unwrap();
    let r = admin
        .post_form(
            &format!("/assets-sql/exports/{id}/run"),
            &[("csrf_token", &csrf)],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let mut status = String::new();
    for _ in 0..600 {
        let frag = admin
            .get(&format!("/assets-sql/exports/{id}/runs"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        status = between(&frag, "class=\"run-status\">", "<").to_string();
        if status == "succeeded" || status == "failed" {
            assert_eq!(status, "succeeded", "{frag}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "succeeded");
    let received = env.received.lock().unwrap().clone();
    assert!(
        received.len() >= 4,
        "started, rows…, finished, plus the retried 503"
    );
    assert_eq!(
        received[0].0.get("webhook-id"),
        received[1].0.get("webhook-id"),
        "the retry is the same message"
    );
    let secret = SecretString::from(secret);
    for (h, body) in &received {
        let id = h.get("webhook-id").unwrap().to_str().unwrap();
        let ts: i64 = h
            .get("webhook-timestamp")
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let expected = app::webhook::sign(&[&secret], id, ts, body).unwrap();
        assert_eq!(
            h.get("webhook-signature").unwrap().to_str().unwrap(),
            expected
        );
    }
    let mut db = target.connect().await;
    let runs = db
        .count("SELECT * FROM assets_sql_runs WHERE status = 'succeeded'")
        .await;
    assert_eq!(runs, 1);
    assert!(db.count("SELECT * FROM assets_sql_catalog").await > 10);
    drop(db);
    target.drop().await;
}

#[tokio::test]
async fn only_app_admins_reach_the_pages() {
    let env = start().await;
    let mut tech = signed_in(&env, "technician").await;
    assert_eq!(tech.get("/assets-sql").await.unwrap().status(), 403);
    let csrf = tech.csrf_token("/").await.unwrap_or_default();
    let r = tech
        .post_form(
            "/assets-sql/exports",
            &[
                ("csrf_token", &csrf),
                ("name", "x"),
                ("pull", "on"),
                ("dialects", "postgres"),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        app::defs::Defs::new(&env.store, &env.site)
            .list()
            .await
            .unwrap()
            .is_empty(),
        "nothing created"
    );
}
