//! Sessions after sign-in: idle and absolute expiry, sign-out (here and everywhere), CSRF,
//! refresh-token rotation, revoked grants, and site isolation.

use std::time::Duration;

use platform::identity::{self, StoreTokenStore};
use platform::store::SiteId;
use secrecy::ExposeSecret;

use super::identity::{Browser, Env, location, sign_in, start, technician};

async fn signed_in() -> (Env, Browser) {
    let env = start(false).await;
    let mut b = Browser::new(&env);
    let resp = sign_in(&env, &mut b, None).await;
    assert_eq!(resp.status(), 303);
    (env, b)
}

async fn csrf_token(b: &mut Browser) -> String {
    let page = b.get("/login").await.text().await.unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    page[start..end].to_owned()
}

#[tokio::test]
async fn idle_sessions_end_and_active_ones_last_until_the_absolute_limit() {
    let (env, mut b) = signed_in().await;
    // Active every 90 minutes: never idle for 2 h, so it lives until 12 h.
    for _ in 0..7 {
        env.clock.advance(Duration::from_secs(90 * 60));
        assert_eq!(b.get("/techdesk").await.status(), 200);
    }
    env.clock.advance(Duration::from_secs(90 * 60)); // 12 h since sign-in
    assert_eq!(b.get("/techdesk").await.status(), 302, "absolute expiry");

    let mut b = Browser::new(&env);
    sign_in(&env, &mut b, None).await;
    env.clock.advance(Duration::from_secs(2 * 3600 + 1));
    let resp = b.get("/techdesk").await;
    assert_eq!(resp.status(), 302, "idle timeout");
    assert_eq!(location(&resp), "/login?next=%2Ftechdesk");
}

#[tokio::test]
async fn logout_ends_this_session_and_everywhere_ends_all() {
    let (env, mut first) = signed_in().await;
    let mut second = Browser::new(&env);
    sign_in(&env, &mut second, None).await;
    let mut third = Browser::new(&env);
    sign_in(&env, &mut third, None).await;

    let token = csrf_token(&mut first).await;
    let resp = first
        .post_form("/logout", &[("csrf_token", &token)], &[])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/login?reason=signed-out");
    assert!(!first.cookies.contains_key(identity::SESSION_COOKIE));
    assert_eq!(first.get("/techdesk").await.status(), 302);
    assert_eq!(second.get("/techdesk").await.status(), 200);

    let token = csrf_token(&mut second).await;
    let resp = second
        .post_form("/logout/everywhere", &[("csrf_token", &token)], &[])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(second.get("/techdesk").await.status(), 302);
    assert_eq!(
        third.get("/techdesk").await.status(),
        302,
        "other session ended too"
    );
    let page = second
        .get("/login?reason=signed-out-everywhere")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("signed out of every session"), "{page}");
}

#[tokio::test]
async fn csrf_needs_same_origin_and_the_session_token() {
    let (env, mut b) = signed_in().await;
    let token = csrf_token(&mut b).await;

    // Missing and wrong tokens.
    let resp = b.post_form("/techdesk/action", &[], &[]).await;
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("CSRF token is missing"));
    let resp = b
        .post_form("/techdesk/action", &[("csrf_token", "nope")], &[])
        .await;
    assert_eq!(resp.status(), 403);
    let resp = b
        .post_form("/techdesk/action", &[], &[("x-csrf-token", "nope")])
        .await;
    assert_eq!(resp.status(), 403);

    // Cross-origin, even with the right token.
    let cookie = format!(
        "{}={}",
        identity::SESSION_COOKIE,
        b.cookies[identity::SESSION_COOKIE]
    );
    let cross = b
        .http
        .post(format!("{}/techdesk/action", env.base))
        .header("origin", "https://evil.example")
        .header("cookie", &cookie)
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let no_origin = b
        .http
        .post(format!("{}/techdesk/action", env.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(no_origin.status(), 403);
    let fetch_meta = b
        .http
        .post(format!("{}/techdesk/action", env.base))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", &cookie)
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_meta.status(), 200);

    // The API answers 403 in the JSON shape.
    let resp = b.post_form("/api/techdesk/v1/action", &[], &[]).await;
    assert_eq!(resp.status(), 403);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");

    // Same origin with the token: form field or header.
    let resp = b
        .post_form("/techdesk/action", &[("csrf_token", &token)], &[])
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().starts_with("done for "));
    let resp = b
        .post_form("/api/techdesk/v1/action", &[], &[("x-csrf-token", &token)])
        .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn anonymous_api_requests_get_401_json() {
    let env = start(false).await;
    let mut b = Browser::new(&env);
    let resp = b.post_form("/api/techdesk/v1/action", &[], &[]).await;
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
}

/// Makes the stored access token look expired so the next use refreshes.
async fn expire_access_token(env: &Env, refresh: Option<&str>) -> String {
    use atlassian::client::TokenStore as _;
    let tech = technician(env);
    let site = SiteId::new(env.sim.cloud_id.clone()).unwrap();
    let store = StoreTokenStore::new(&env.auth, &site, &tech.account_id);
    let mut tokens = store.load().await.unwrap().unwrap();
    let old = tokens
        .refresh_token
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_owned();
    tokens.expires_at = std::time::UNIX_EPOCH;
    if let Some(r) = refresh {
        tokens.refresh_token = Some(r.to_owned().into());
    }
    store.save(&tokens).await.unwrap();
    old
}

async fn stored_refresh_token(env: &Env) -> String {
    use atlassian::client::TokenStore as _;
    let tech = technician(env);
    let site = SiteId::new(env.sim.cloud_id.clone()).unwrap();
    let store = StoreTokenStore::new(&env.auth, &site, &tech.account_id);
    let tokens = store.load().await.unwrap().unwrap();
    tokens.refresh_token.unwrap().expose_secret().to_owned()
}

#[tokio::test]
async fn refresh_rotation_is_persisted() {
    let (env, mut b) = signed_in().await;
    assert_eq!(
        b.get("/techdesk/jira").await.text().await.unwrap(),
        "token ok"
    );
    let old = expire_access_token(&env, None).await;
    assert_eq!(
        b.get("/techdesk/jira").await.text().await.unwrap(),
        "token ok"
    );
    let new = stored_refresh_token(&env).await;
    assert_ne!(old, new, "the rotated refresh token is stored");
    // The old one is spent at Atlassian; the stored one still works.
    let sim = url::Url::parse(&env.sim.base_url).unwrap();
    let app = atlassian::client::OAuthApp::new(
        "jsmkit-demo",
        "jsmkit-demo-secret".to_owned().into(),
        url::Url::parse("http://127.0.0.1/oauth/callback").unwrap(),
    )
    .unwrap()
    .with_auth_base(sim.clone())
    .with_api_root(sim);
    let reused = app.refresh(&old.into()).await.unwrap_err();
    assert!(
        identity::is_grant_revoked(&reused),
        "reusing the old refresh token is refused"
    );
    expire_access_token(&env, None).await;
    assert_eq!(
        b.get("/techdesk/jira").await.text().await.unwrap(),
        "token ok"
    );
}

#[tokio::test]
async fn a_revoked_grant_sends_the_user_to_sign_in_again() {
    let (env, mut b) = signed_in().await;
    let mut other = Browser::new(&env);
    sign_in(&env, &mut other, None).await;
    expire_access_token(&env, Some("sim-refresh-revoked")).await;
    let resp = b.get("/techdesk/jira").await;
    assert_eq!(resp.status(), 303);
    let login = location(&resp);
    assert_eq!(login, "/login?reason=expired");
    assert!(!b.cookies.contains_key(identity::SESSION_COOKIE));
    let page = b.get(&login).await.text().await.unwrap();
    assert!(
        page.contains("Your Atlassian sign-in expired or was revoked; sign in again"),
        "{page}"
    );
    assert_eq!(
        other.get("/techdesk").await.status(),
        302,
        "the grant's other sessions end too"
    );
}

#[tokio::test]
async fn a_session_of_one_site_cannot_read_another() {
    let (_env, mut b) = signed_in().await;
    let cookie = b.cookies[identity::SESSION_COOKIE].clone();
    let (_, token) = cookie.split_once('.').unwrap();
    for site in ["other-cloud-id", "jsmkit-sign-in", "bad_site!"] {
        let mut tampered = b.clone();
        tampered
            .cookies
            .insert(identity::SESSION_COOKIE.into(), format!("{site}.{token}"));
        let resp = tampered.get("/techdesk").await;
        assert_eq!(resp.status(), 302, "{site}");
        assert!(location(&resp).starts_with("/login"));
    }
    assert_eq!(b.get("/techdesk").await.status(), 200);
}
