//! Rate limits, faults, timeouts and the per-site concurrency limit.

#![allow(clippy::unwrap_used)] // test helpers: a failed setup should panic

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use atlassian::adf::{Doc, Node};
use atlassian::client::{AtlassianClient, Auth, Error, NewRequest, Timeouts};
use secrecy::SecretString;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::client_common::{basic, basic_client};

const MYSELF: &str = "/rest/api/3/myself";

fn me() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"accountId":"abc","displayName":"Ann"}))
}

#[tokio::test]
async fn rate_limit_honours_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MYSELF))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MYSELF))
        .respond_with(me())
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let user = basic_client(&server).myself().await.unwrap();
    assert_eq!(user.account_id, "abc");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn rate_limit_reset_header_is_honoured() {
    let server = MockServer::start().await;
    let reset = jiff::Timestamp::now() + jiff::SignedDuration::from_millis(400);
    Mock::given(method("GET"))
        .and(path(MYSELF))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-RateLimit-Reset", reset.to_string().as_str()),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MYSELF))
        .respond_with(me())
        .mount(&server)
        .await;
    let started = Instant::now();
    basic_client(&server).myself().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn service_unavailable_is_retried_for_get() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MYSELF))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MYSELF))
        .respond_with(me())
        .expect(1)
        .mount(&server)
        .await;
    basic_client(&server).myself().await.unwrap();
}

#[tokio::test]
async fn gives_up_after_max_attempts_with_typed_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MYSELF))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .expect(3)
        .mount(&server)
        .await;
    let err = basic_client(&server).myself().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::RateLimited {
                retry_after: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn non_idempotent_posts_are_not_retried_on_503() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/SD-1/comment"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/servicedeskapi/request"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let client = basic_client(&server);
    let doc = Doc::new(vec![Node::paragraph(vec![Node::text("hi")])]);
    let err = client.add_comment("SD-1", &doc).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    let req = NewRequest {
        service_desk_id: "1".into(),
        request_type_id: "2".into(),
        request_field_values: serde_json::Map::new(),
        raise_on_behalf_of: Some("cust-1".into()),
    };
    let err = client.create_request(&req).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
}

fn short_timeout(server: &MockServer) -> AtlassianClient {
    basic(server)
        .timeouts(Timeouts {
            connect: Duration::from_secs(1),
            total: Duration::from_millis(300),
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn timeout_is_retried_for_get() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MYSELF))
        .respond_with(me().set_delay(Duration::from_secs(2)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MYSELF))
        .respond_with(me())
        .expect(1)
        .mount(&server)
        .await;
    short_timeout(&server).myself().await.unwrap();
}

#[tokio::test]
async fn timeout_is_surfaced_for_post() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/servicedeskapi/request/SD-1/comment"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id":"1"}))
                .set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = short_timeout(&server)
        .add_request_comment("SD-1", "hello", true)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

/// A tiny HTTP server counting requests in flight.
async fn counting_server(now: Arc<AtomicUsize>, peak: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (now, peak) = (now.clone(), peak.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let current = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(current, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                let body = r#"{"accountId":"abc"}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/")
}

#[tokio::test]
async fn per_site_concurrency_limit_holds() {
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let root = url::Url::parse(&counting_server(now, peak.clone()).await).unwrap();
    let client = AtlassianClient::with_base(
        root.clone(),
        root,
        Auth::basic("a@b.c", SecretString::from("t")),
    )
    .max_concurrency(2)
    .build()
    .unwrap();
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.myself().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}
