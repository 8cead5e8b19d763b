//! The JSON API conventions: one error shape, extractor rejections, unknown routes, the
//! OpenAPI document and the info route.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use platform::web::{ErrorBody, FieldErrors, PlatformInfo};

use super::{app_router, bare_router, config, get_path, post_json, send};

#[tokio::test]
async fn json_extractor_accepts_good_bodies() {
    let router = app_router(&config());
    let reply = send(
        &router,
        post_json("/api/techdesk/v1/echo", r#"{"name": "a", "count": 2}"#),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), serde_json::json!({"name": "a", "count": 2}));
}

#[tokio::test]
async fn json_rejections_use_the_error_shape() {
    let router = app_router(&config());

    let syntax = send(&router, post_json("/api/techdesk/v1/echo", "{not json")).await;
    assert_eq!(syntax.status, StatusCode::BAD_REQUEST);
    let err = syntax.error().error;
    assert_eq!(err.code, "bad_request");
    assert!(err.message.contains("JSON"), "{}", err.message);

    let no_type = send(
        &router,
        Request::post("/api/techdesk/v1/echo")
            .body(Body::from(r#"{"name": "a", "count": 2}"#))
            .expect("request"),
    )
    .await;
    assert_eq!(no_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let err = no_type.error().error;
    assert_eq!(err.code, "unsupported_media_type");
    assert!(err.message.contains("application/json"), "{}", err.message);

    let wrong_type = send(
        &router,
        Request::post("/api/techdesk/v1/echo")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(r#"{"name": "a", "count": 2}"#))
            .expect("request"),
    )
    .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let shape = send(
        &router,
        post_json("/api/techdesk/v1/echo", r#"{"name": "a", "count": "two"}"#),
    )
    .await;
    assert_eq!(shape.status, StatusCode::UNPROCESSABLE_ENTITY);
    let err = shape.error().error;
    assert_eq!(err.code, "invalid_body");
    assert!(err.message.contains("count"), "{}", err.message);

    let missing = send(
        &router,
        post_json("/api/techdesk/v1/echo", r#"{"name": "a"}"#),
    )
    .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.error().error.message.contains("count"));
}

#[tokio::test]
async fn query_and_path_rejections_use_the_error_shape() {
    let router = app_router(&config());
    let ok = get_path(&router, "/api/techdesk/v1/search?limit=5").await;
    assert_eq!(ok.json(), serde_json::json!({"limit": 5}));

    let bad_query = get_path(&router, "/api/techdesk/v1/search?limit=many").await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_query.error().error.code, "bad_request");

    let bad_path = get_path(&router, "/api/techdesk/v1/items/seven").await;
    assert_eq!(bad_path.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_path.error().error.code, "bad_request");
}

#[tokio::test]
async fn validation_errors_list_reasons_per_field() {
    let reply = get_path(&app_router(&config()), "/api/techdesk/v1/validate").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.json(),
        serde_json::json!({"error": {
            "code": "validation_failed",
            "message": "some fields are not valid",
            "fields": {
                "priority": ["must be between 1 and 5"],
                "summary": ["must not be empty", "must be at most 255 characters"]
            }
        }})
    );
}

#[test]
fn field_errors_builder() {
    let mut errors = FieldErrors::new();
    assert!(errors.is_empty());
    assert!(errors.clone().into_result().is_ok());
    errors.add("a", "one").add("a", "two").add("b", "three");
    assert_eq!(errors.get("a"), ["one", "two"]);
    assert!(errors.get("zzz").is_empty());
    assert_eq!(errors.to_string(), "a: one; a: two; b: three");
    assert_eq!(errors.iter().count(), 2);
    assert!(errors.into_result().is_err());
}

#[tokio::test]
async fn internal_errors_hide_the_cause_and_quote_the_request_id() {
    let router = app_router(&config());
    let reply = get_path(&router, "/api/techdesk/v1/boom").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    let text = reply.text();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains("database"), "{text}");
    let id = reply.header("x-request-id").to_owned();
    let err = reply.error().error;
    assert_eq!(err.code, "internal");
    assert_eq!(err.request_id.as_deref(), Some(id.as_str()));
    assert!(err.message.contains(&id), "{}", err.message);
    assert!(err.fields.is_none());
}

#[tokio::test]
async fn panics_become_internal_errors() {
    let reply = get_path(&app_router(&config()), "/api/techdesk/v1/panic").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    let err = reply.error().error;
    assert_eq!(err.code, "internal");
    assert!(!err.message.contains("exploded"));
}

#[tokio::test]
async fn rate_limited_errors_carry_retry_after() {
    let reply = get_path(&app_router(&config()), "/api/techdesk/v1/limited").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header("retry-after"), "2");
    assert_eq!(reply.error().error.code, "rate_limited");
}

#[tokio::test]
async fn unknown_api_routes_and_methods_use_the_error_shape() {
    let router = app_router(&config());
    let reply = get_path(&router, "/api/techdesk/v1/nothing-here").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let err = reply.error().error;
    assert_eq!(err.code, "not_found");
    assert!(err.message.contains("/api/techdesk/v1/nothing-here"));

    let reply = get_path(&router, "/api").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.error().error.code, "not_found");

    let reply = send(
        &router,
        Request::delete("/api/platform/v1/info")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(reply.header("allow").contains("GET"), "{:?}", reply.headers);
    assert_eq!(reply.error().error.code, "method_not_allowed");
}

#[tokio::test]
async fn error_body_round_trips() {
    let reply = get_path(&bare_router(), "/api/x").await;
    let body: ErrorBody = serde_json::from_slice(&reply.body).expect("shape");
    assert_eq!(
        serde_json::to_value(&body).expect("serialise"),
        reply.json()
    );
}

#[tokio::test]
async fn openapi_document_lists_shell_and_app_routes() {
    let reply = get_path(&app_router(&config()), "/api/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), "application/json");
    let doc = reply.json();
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3."), "{version}");
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/api/platform/v1/info",
        "/api/techdesk/v1/echo",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(path), "{path} missing: {paths:?}");
    }
    assert!(paths["/api/platform/v1/info"]["get"].is_object());
    assert!(paths["/api/techdesk/v1/echo"]["post"].is_object());
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for schema in [
        "ErrorBody",
        "ErrorDetail",
        "FieldErrors",
        "PlatformInfo",
        "Echo",
    ] {
        assert!(schemas.contains_key(schema), "{schema} missing");
    }
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn info_reports_version_and_enabled_apps() {
    let reply = get_path(&app_router(&config()), "/api/platform/v1/info").await;
    assert_eq!(reply.status, StatusCode::OK);
    let info: PlatformInfo = serde_json::from_slice(&reply.body).expect("info");
    assert_eq!(info.name, "jsmkit");
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    let enabled: Vec<(&str, bool)> = info
        .apps
        .iter()
        .map(|a| (a.id.as_str(), a.enabled))
        .collect();
    assert_eq!(
        enabled,
        [
            ("techdesk", true),
            ("dispatch", false),
            ("assets-sql", false)
        ]
    );
    assert_eq!(info.apps[0].api_prefix, "/api/techdesk/v1");

    let bare = get_path(&bare_router(), "/api/platform/v1/info").await;
    let info: PlatformInfo = serde_json::from_slice(&bare.body).expect("info");
    assert!(info.apps.iter().all(|a| !a.enabled));
}
