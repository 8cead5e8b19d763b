//! Basic vs bearer headers, OAuth refresh rotation, single flight,
//! invalid_grant, 3LO helpers, typed error bodies and secret hygiene.

#![allow(clippy::unwrap_used)] // test helpers: a failed setup should panic

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use atlassian::client::{
    AtlassianClient, AuthError, Error, MemoryTokenStore, OAuthApp, TokenSet, TokenSource,
};
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::client_common::{API_TOKEN, EMAIL, base, basic_client};

const CLIENT_SECRET: &str = "client-SECRET-xyz";
const OLD_REFRESH: &str = "refresh-SECRET-old";

fn tokens(access: &str, expires_in: Duration) -> TokenSet {
    TokenSet {
        access_token: SecretString::from(access),
        refresh_token: Some(SecretString::from(OLD_REFRESH)),
        expires_at: SystemTime::now() + expires_in,
        scope: None,
    }
}

fn app(server: &MockServer) -> OAuthApp {
    let redirect = url::Url::parse("https://app.example/callback").unwrap();
    OAuthApp::new("client-1", SecretString::from(CLIENT_SECRET), redirect)
        .unwrap()
        .with_auth_base(base(server))
        .with_api_root(base(server))
}

fn oauth_client(server: &MockServer, store: Arc<MemoryTokenStore>) -> AtlassianClient {
    let source = TokenSource::new(app(server), store);
    AtlassianClient::oauth(&base(server), "cloud-1", source)
        .unwrap()
        .build()
        .unwrap()
}

const ME: &str = "/ex/jira/cloud-1/rest/api/3/myself";

fn me() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"accountId":"abc"}))
}

#[tokio::test]
async fn basic_auth_header_on_site_root() {
    let server = MockServer::start().await;
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{API_TOKEN}"));
    Mock::given(method("GET"))
        .and(path("/rest/api/3/myself"))
        .and(header(
            "authorization",
            format!("Basic {expected}").as_str(),
        ))
        .respond_with(me())
        .expect(1)
        .mount(&server)
        .await;
    basic_client(&server).myself().await.unwrap();
}

#[tokio::test]
async fn bearer_header_on_gateway_base() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ME))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(me())
        .expect(1)
        .mount(&server)
        .await;
    let store = Arc::new(MemoryTokenStore::new(Some(tokens(
        "access-1",
        Duration::from_secs(3600),
    ))));
    oauth_client(&server, store.clone()).myself().await.unwrap();
    assert_eq!(store.save_count(), 0);
}

#[tokio::test]
async fn refresh_rotates_and_stores_once_under_concurrency() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/oauth/token"))
        .and(body_partial_json(json!({"grant_type":"refresh_token","client_id":"client-1",
            "client_secret": CLIENT_SECRET, "refresh_token": OLD_REFRESH})))
        .respond_with(ResponseTemplate::new(200)
            .set_body_json(json!({"access_token":"access-2","refresh_token":"refresh-new","expires_in":3600,"token_type":"Bearer"}))
            .set_delay(Duration::from_millis(200)))
        .expect(1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path(ME))
        .and(header("authorization", "Bearer access-2"))
        .respond_with(me())
        .expect(10)
        .mount(&server)
        .await;
    let store = Arc::new(MemoryTokenStore::new(Some(tokens(
        "access-1",
        Duration::from_secs(10),
    ))));
    let client = oauth_client(&server, store.clone());
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.myself().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let saved = store.current().unwrap();
    assert_eq!(saved.refresh_token.unwrap().expose_secret(), "refresh-new");
    assert_eq!(saved.access_token.expose_secret(), "access-2");
    assert_eq!(store.save_count(), 1);
}

#[tokio::test]
async fn invalid_grant_becomes_grant_revoked_without_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error":"invalid_grant","error_description":"Unknown or invalid refresh token."})))
        .expect(1).mount(&server).await;
    let store = Arc::new(MemoryTokenStore::new(Some(tokens(
        "access-1",
        Duration::ZERO,
    ))));
    let err = oauth_client(&server, store).myself().await.unwrap_err();
    assert!(
        matches!(err, Error::Auth(AuthError::GrantRevoked)),
        "{err:?}"
    );
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains(OLD_REFRESH) && !text.contains(CLIENT_SECRET),
        "{text}"
    );
}

#[tokio::test]
async fn not_signed_in_is_typed() {
    let server = MockServer::start().await;
    let err = oauth_client(&server, Arc::new(MemoryTokenStore::new(None)))
        .myself()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Auth(AuthError::NotSignedIn)),
        "{err:?}"
    );
}

#[tokio::test]
async fn three_legged_helpers() {
    let server = MockServer::start().await;
    let app = app(&server);
    let url = app.authorize_url(&["read:jira-work", "offline_access"], "st-1");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(url.path(), "/authorize");
    assert_eq!(q["audience"], "api.atlassian.com");
    assert_eq!(q["client_id"], "client-1");
    assert_eq!(q["scope"], "read:jira-work offline_access");
    assert_eq!(q["redirect_uri"], "https://app.example/callback");
    assert_eq!(
        (
            q["state"].as_str(),
            q["response_type"].as_str(),
            q["prompt"].as_str()
        ),
        ("st-1", "code", "consent")
    );
    assert!(!url.as_str().contains(CLIENT_SECRET));

    Mock::given(method("POST")).and(path("/oauth/token"))
        .and(body_partial_json(json!({"grant_type":"authorization_code","code":"code-1","redirect_uri":"https://app.example/callback"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"access_token":"a","refresh_token":"r","expires_in":3600})))
        .expect(1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/oauth/token/accessible-resources"))
        .and(header("authorization", "Bearer a"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!([{"id":"cloud-1","name":"x","url":"https://x.atlassian.net","scopes":[]}]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .and(header("authorization", "Bearer a"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"account_id":"acc","email":"a@b.c"})),
        )
        .mount(&server)
        .await;
    let set = app.exchange_code("code-1").await.unwrap();
    assert_eq!(set.refresh_token.as_ref().unwrap().expose_secret(), "r");
    let sites = app.accessible_resources(&set.access_token).await.unwrap();
    assert_eq!(sites[0].id, "cloud-1");
    assert_eq!(app.me(&set.access_token).await.unwrap().account_id, "acc");
    let dbg = format!("{set:?} {app:?}");
    assert!(
        !dbg.contains(CLIENT_SECRET) && !dbg.contains("\"r\""),
        "{dbg}"
    );
}

#[tokio::test]
async fn error_bodies_become_typed_errors_with_messages() {
    let server = MockServer::start().await;
    Mock::given(method("PUT")).and(path("/rest/api/3/issue/SD-1/assignee"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"errorMessages":["Bad assignee"],"errors":{"assignee":"User cannot be assigned"}})))
        .mount(&server).await;
    Mock::given(method("GET")).and(path("/rest/servicedeskapi/servicedesk/9/requesttype/1/field"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"errorMessage":"Service desk 9 does not exist","i18nErrorMessage":{"i18nKey":"sd.missing","parameters":[]}})))
        .mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/project/X"))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(json!({"errorMessages":["No access"]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/field"))
        .respond_with(ResponseTemplate::new(401).set_body_string("nope"))
        .mount(&server)
        .await;
    let client = basic_client(&server);
    let err = client.assign("SD-1", Some("acc")).await.unwrap_err();
    assert!(matches!(&err, Error::Http { status: 400, .. }), "{err:?}");
    assert_eq!(
        err.messages(),
        ["Bad assignee", "assignee: User cannot be assigned"]
    );
    assert!(err.to_string().contains("User cannot be assigned"));
    let err = client.request_type_fields("9", "1").await.unwrap_err();
    assert!(matches!(&err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(err.messages(), ["Service desk 9 does not exist"]);
    let err = client.project("X").await.unwrap_err();
    assert!(
        matches!(&err, Error::Forbidden { .. }) && err.messages() == ["No access"],
        "{err:?}"
    );
    let err = client.fields().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    let text = format!("{err} {err:?} {client:?}");
    assert!(!text.contains(API_TOKEN), "{text}");
}

#[tokio::test]
async fn transport_errors_hide_url_and_secrets() {
    // Bind then drop a listener: the port refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let root = url::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let client = AtlassianClient::basic(root, EMAIL, SecretString::from(API_TOKEN))
        .unwrap()
        .retry(atlassian::client::RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.user_search("secret-query-text").try_next_err().await;
    let text = format!("{err} {err:?}");
    assert!(
        matches!(err, Error::Transport { .. } | Error::Timeout { .. }),
        "{text}"
    );
    for needle in [API_TOKEN, "secret-query-text", "127.0.0.1"] {
        assert!(!text.contains(needle), "{needle} leaked: {text}");
    }
}

#[tokio::test]
async fn path_arguments_are_single_encoded_segments() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/project/A%2FB%3Fx"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id":"1","key":"AB"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = basic_client(&server);
    client.project("A/B?x").await.unwrap();
    assert!(matches!(
        client.project("..").await,
        Err(Error::InvalidArgument { .. })
    ));
}

trait FirstErr {
    async fn try_next_err(self) -> Error;
}

impl FirstErr for atlassian::client::Paged<atlassian::client::User> {
    async fn try_next_err(mut self) -> Error {
        use futures_util::StreamExt;
        match self.next().await {
            Some(Err(e)) => e,
            other => panic!(
                "expected an error, got {:?}",
                other.map(|r| r.map(|u| u.account_id))
            ),
        }
    }
}
