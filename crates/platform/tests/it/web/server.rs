//! Real-socket tests: graceful shutdown of `serve`, and the metrics listener.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use platform::web::{
    AlwaysReady, AppRoutes, Section, install_metrics_recorder, metrics_router, serve,
    serve_metrics, shell_router,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tower::ServiceExt;

use super::{app_router, config, get_path};

/// Sends one `GET path` with `Connection: close` and returns the raw response text.
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    Ok(String::from_utf8_lossy(&response).into_owned())
}

#[tokio::test]
async fn graceful_shutdown_lets_a_request_in_flight_finish() {
    let started = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let slow = {
        let started = Arc::clone(&started);
        let release = Arc::clone(&release);
        move || async move {
            started.notify_one();
            release.notified().await;
            "finished after shutdown began"
        }
    };
    let app =
        AppRoutes::new(Section::Dispatch).pages(Router::new().route("/dispatch/slow", get(slow)));
    let router = shell_router(&config(), Arc::new(AlwaysReady), vec![app]);

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, router, async move {
        let _ = stop_rx.await;
    }));

    let in_flight = tokio::spawn(async move { raw_get(addr, "/dispatch/slow").await });
    started.notified().await;

    stop_tx.send(()).expect("server still running");
    // Wait (bounded) until the server stops accepting new connections.
    let mut refused = false;
    for _ in 0..500 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "the listener should close once shutdown starts");
    assert!(
        !server.is_finished(),
        "serve must wait for the request in flight"
    );

    release.notify_one();
    let response = in_flight.await.expect("join").expect("response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains("finished after shutdown began"),
        "{response}"
    );
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("serve returned")
        .expect("join")
        .expect("serve ok");
}

#[tokio::test]
async fn requests_show_up_in_metrics() {
    let handle = install_metrics_recorder();
    // Installing again is harmless and gives the same recorder.
    let again = install_metrics_recorder();

    let router = app_router(&config());
    assert_eq!(
        get_path(&router, "/api/platform/v1/info").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get_path(&router, "/no/such/page").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_path(&router, "/static/app/app.css").await.status,
        StatusCode::OK
    );

    let text = again.render();
    assert!(
        text.contains(
            r#"http_requests_total{method="GET",route="/api/platform/v1/info",status="200"}"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/static/*",status="200"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_request_duration_seconds_bucket{method="GET",route="/api/platform/v1/info",status="200",le="#),
        "{text}"
    );

    let reply = metrics_router(handle)
        .oneshot(
            Request::get("/metrics")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(
        reply.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain; version=0.0.4")
    );
}

#[tokio::test]
async fn metrics_listener_serves_the_exposition() {
    let handle = install_metrics_recorder();
    let router = app_router(&config());
    assert_eq!(get_path(&router, "/healthz").await.status, StatusCode::OK);

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(serve_metrics(listener, handle, async move {
        let _ = stop_rx.await;
    }));

    let response = raw_get(addr, "/metrics").await.expect("response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"}"#),
        "{response}"
    );
    let other = raw_get(addr, "/").await.expect("response");
    assert!(other.starts_with("HTTP/1.1 404"), "{other}");

    stop_tx.send(()).expect("running");
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("stopped")
        .expect("join")
        .expect("ok");
}
