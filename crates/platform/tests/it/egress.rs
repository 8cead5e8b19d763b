//! `platform::egress` against a local axum server on 127.0.0.1: refused by default,
//! allowed when allow-listed, names resolving to private addresses refused, redirects
//! re-checked, body cap, errors without secrets; attack corpora and classic SSRF URL tricks
//! refused by URL validation; the policy stored per site.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use platform::egress::{
    BlockReason, EgressClient, EgressConfig, EgressError, EgressPolicy, EgressRequest,
    StaticLookup, load_policy, save_policy, validate_url,
};

use crate::harness::{Ctx, Kind, site};

async fn server() -> SocketAddr {
    let app = Router::new()
        .route("/ok", get(|| async { "hello" }))
        .route("/big", get(|| async { "x".repeat(64 * 1024) }))
        .route(
            "/to-metadata",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, "http://169.254.169.254/latest/meta-data/")],
                )
                    .into_response()
            }),
        )
        .route(
            "/to-metadata-name",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, "http://metadata.test/latest/meta-data/")],
                )
                    .into_response()
            }),
        )
        .route(
            "/to-file",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, "file:///etc/passwd")],
                )
                    .into_response()
            }),
        )
        .route(
            "/to-self",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/ok")]).into_response() }),
        )
        .route(
            "/loop",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]).into_response() }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

fn lookup() -> Arc<StaticLookup> {
    let lo: IpAddr = "127.0.0.1".parse().unwrap();
    Arc::new(
        StaticLookup::default()
            .with("public.example.com", &[lo])
            .with("mixed.example.com", &["93.184.216.34".parse().unwrap(), lo])
            .with("metadata.test", &["169.254.169.254".parse().unwrap()])
            .with("hooks.on-prem.test", &[lo]),
    )
}

fn client(policy: EgressPolicy) -> EgressClient {
    EgressClient::with_lookup(policy, EgressConfig::default(), lookup()).unwrap()
}

fn blocked(r: Result<impl std::fmt::Debug, EgressError>) -> (String, BlockReason) {
    match r {
        Err(EgressError::Blocked { host, reason }) => (host, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn loopback_is_refused_by_default_and_allowed_when_listed() {
    let addr = server().await;
    let url = format!("http://{addr}/ok");
    let (host, reason) = blocked(
        client(EgressPolicy::public_only())
            .send(EgressRequest::get(&url))
            .await,
    );
    assert_eq!(host, "127.0.0.1");
    assert_eq!(reason, BlockReason::Loopback);

    // Listed on another port: still refused.
    let other_port =
        EgressPolicy::with_allowed([format!("127.0.0.1:{}", addr.port() ^ 1)]).unwrap();
    blocked(client(other_port).send(EgressRequest::get(&url)).await);

    for entry in [
        format!("127.0.0.1:{}", addr.port()),
        "127.0.0.1".to_string(),
    ] {
        let c = client(EgressPolicy::with_allowed([entry]).unwrap());
        let resp = c.send(EgressRequest::get(&url)).await.unwrap();
        assert_eq!(resp.status, StatusCode::OK);
        assert_eq!(&resp.body[..], b"hello");
    }
}

#[tokio::test]
async fn names_resolving_to_private_addresses_are_refused() {
    let addr = server().await;
    let port = addr.port();
    let c = client(EgressPolicy::public_only());
    for name in ["public.example.com", "mixed.example.com", "metadata.test"] {
        let (host, _) = blocked(
            c.send(EgressRequest::get(format!("http://{name}:{port}/ok")))
                .await,
        );
        assert_eq!(host, name);
    }
    // The system resolver's `localhost` too.
    let sys = EgressClient::new(EgressPolicy::public_only(), EgressConfig::default()).unwrap();
    let (_, reason) = blocked(
        sys.send(EgressRequest::get(format!("http://localhost:{port}/ok")))
            .await,
    );
    assert_eq!(reason, BlockReason::Loopback);
    // Unknown names fail to resolve (nothing is reached).
    assert!(matches!(
        c.send(EgressRequest::get(format!("http://nowhere.test:{port}/ok")))
            .await,
        Err(EgressError::Resolve { .. })
    ));

    // An allow-listed on-premises name may resolve privately, on its port only.
    let listed =
        client(EgressPolicy::with_allowed([format!("hooks.on-prem.test:{port}")]).unwrap());
    let resp = listed
        .send(EgressRequest::get(format!(
            "http://hooks.on-prem.test:{port}/ok"
        )))
        .await
        .unwrap();
    assert_eq!(&resp.body[..], b"hello");
    assert!(matches!(
        listed
            .send(EgressRequest::get(format!(
                "http://hooks.on-prem.test:{}/ok",
                port ^ 1
            )))
            .await,
        Err(EgressError::PortNotAllowed { .. })
    ));
    // ... and other names are still checked.
    blocked(
        listed
            .send(EgressRequest::get(format!(
                "http://public.example.com:{port}/ok"
            )))
            .await,
    );
}

#[tokio::test]
async fn every_redirect_hop_is_checked() {
    let addr = server().await;
    let c = client(EgressPolicy::with_allowed([addr.to_string()]).unwrap());
    // A same-host redirect is followed.
    let resp = c
        .send(EgressRequest::get(format!("http://{addr}/to-self")))
        .await
        .unwrap();
    assert_eq!(&resp.body[..], b"hello");
    // From an allowed host to the metadata service: refused, by IP literal and by name.
    let (host, reason) = blocked(
        c.send(EgressRequest::get(format!("http://{addr}/to-metadata")))
            .await,
    );
    assert_eq!(host, "169.254.169.254");
    assert_eq!(reason, BlockReason::LinkLocal);
    let (host, _) = blocked(
        c.send(EgressRequest::get(format!(
            "http://{addr}/to-metadata-name"
        )))
        .await,
    );
    assert_eq!(host, "metadata.test");
    // A redirect to another scheme is refused, or at least not followed.
    let to_file = c
        .send(EgressRequest::get(format!("http://{addr}/to-file")))
        .await;
    assert!(
        matches!(&to_file, Err(EgressError::Scheme(s)) if s == "file")
            || matches!(&to_file, Ok(r) if r.status == StatusCode::FOUND),
        "{to_file:?}"
    );
    assert!(matches!(
        c.send(EgressRequest::get(format!("http://{addr}/loop")))
            .await,
        Err(EgressError::TooManyRedirects(3))
    ));
    // Redirects disabled: the first one is an error.
    let none = EgressClient::with_lookup(
        EgressPolicy::with_allowed([addr.to_string()]).unwrap(),
        EgressConfig {
            max_redirects: 0,
            ..EgressConfig::default()
        },
        lookup(),
    )
    .unwrap();
    assert!(matches!(
        none.send(EgressRequest::get(format!("http://{addr}/to-self")))
            .await,
        Err(EgressError::TooManyRedirects(0))
    ));
}

#[tokio::test]
async fn bodies_are_capped_and_errors_hold_no_secrets() {
    let addr = server().await;
    let c = EgressClient::with_lookup(
        EgressPolicy::with_allowed([addr.to_string()]).unwrap(),
        EgressConfig {
            max_body_bytes: 1000,
            ..EgressConfig::default()
        },
        lookup(),
    )
    .unwrap();
    assert!(matches!(
        c.send(EgressRequest::get(format!("http://{addr}/big")))
            .await,
        Err(EgressError::TooLarge { limit: 1000 })
    ));
    let strict = client(EgressPolicy::public_only());
    for url in [
        format!("http://{addr}/ok?token=s3cr3t-QUERY"),
        format!("http://user:s3cr3t-PASS@{addr}/ok"),
        format!(
            "http://public.example.com:{}/s3cr3t-PATH?k=s3cr3t-QUERY",
            addr.port()
        ),
        "gopher://s3cr3t-HOST/".to_string(),
    ] {
        let err = strict.send(EgressRequest::get(&url)).await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("s3cr3t"), "{text}");
    }
    assert!(matches!(
        strict
            .send(EgressRequest::get(format!("http://u:p@{addr}/")))
            .await,
        Err(EgressError::Credentials)
    ));
}

#[test]
fn ssrf_url_tricks_are_refused() {
    let policy = EgressPolicy::public_only();
    for url in [
        "http://127.0.0.1/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://0/",
        "http://0.0.0.0:8080/",
        "http://[::1]/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[0:0:0:0:0:ffff:a9fe:a9fe]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:a9fe:a9fe::1]/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1%25eth0]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.170.2/v2/credentials",
        "http://100.100.100.200/latest/meta-data/",
        "http://192.168.0.1/",
        "http://10.0.0.1:6379/",
        "http://172.17.0.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "https://198.18.0.1/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "dict://127.0.0.1:11211/stat",
        "ftp://example.com/",
        "ldap://example.com/",
        "javascript:alert(1)",
        "data:text/plain,hi",
        "http://user:pass@example.com/",
        "http://[::1/",
        "not a url",
        "",
    ] {
        assert!(validate_url(url, &policy).is_err(), "{url} must be refused");
    }
    for url in [
        "https://example.com/hook",
        "http://93.184.216.34/",
        "https://[2606:4700::1]/",
    ] {
        assert!(validate_url(url, &policy).is_ok(), "{url} must be allowed");
    }
}

#[test]
fn attack_corpora_lines_are_refused() {
    // The shared corpora hold no SSRF list; their lines (XSS and SQL injection payloads,
    // some embedding URLs) must be refused as webhook targets, except a plain https URL to
    // a public name.
    let policy = EgressPolicy::public_only();
    let mut checked = 0;
    let mut accepted = Vec::new();
    for file in ["fuzzdb-xss-other.txt", "fuzzdb-sqli-xplatform.txt"] {
        let path = atlassian_sim::testkit::shared_dir()
            .join("data/payloads")
            .join(file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{file}: {e}; the shared corpora must be beside the repository")
        });
        let text = String::from_utf8_lossy(&bytes);
        for line in text.lines() {
            checked += 1;
            let Ok(url) = validate_url(line, &policy) else {
                continue;
            };
            // Only a plain http(s) URL naming a public host by name may pass (its
            // addresses are checked when resolved).
            assert!(
                matches!(url.scheme(), "http" | "https")
                    && matches!(url.host(), Some(url::Host::Domain(_)))
                    && line.trim().starts_with(url.scheme()),
                "{file}: {line:?} accepted"
            );
            accepted.push(line.to_owned());
        }
    }
    assert!(checked > 300, "corpora look truncated: {checked} lines");
    assert!(accepted.len() <= 3, "{accepted:?}");
}

#[tokio::test]
async fn policy_is_stored_per_site() {
    let ctx = Ctx::new(Kind::Sqlite).await;
    let a = site("cloud-a");
    let b = site("cloud-b");
    assert_eq!(
        load_policy(&ctx.store, &a).await.unwrap(),
        EgressPolicy::public_only()
    );
    let p = EgressPolicy::with_allowed(["jira.corp.local:8443", "10.1.2.3"]).unwrap();
    save_policy(&ctx.store, &a, &p).await.unwrap();
    assert_eq!(load_policy(&ctx.store, &a).await.unwrap(), p);
    assert_eq!(
        load_policy(&ctx.store, &b).await.unwrap(),
        EgressPolicy::public_only()
    );
}
