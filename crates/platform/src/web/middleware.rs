//! The shell's request middleware: request ids, the request span, metrics, panic capture,
//! error-shape normalisation, body limit, timeout and security headers.
//!
//! Order, outermost first (see `shell_router`): security headers → request context (id,
//! span, metrics, panics, error shape) → body limit → timeout → handler.

use std::any::Any;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use tracing::Instrument;
use tracing::field::Empty;

use super::error::{ApiError, error_response_for_path};
use super::metrics::record_request;

/// The request-id header, read from the request when valid and always set on the response.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-supplied request id that is kept (longer ones are replaced).
const MAX_REQUEST_ID_LEN: usize = 128;

tokio::task_local! {
    static CURRENT_REQUEST_ID: RequestId;
}

/// The id of one request: the client's `x-request-id` when it is 1–128 characters of
/// `[A-Za-z0-9._:-]`, otherwise a fresh UUID v4. It is echoed in the response header, recorded
/// in the request span, quoted in internal errors, and available to handlers as an extractor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// A fresh random (UUID v4) id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string().into())
    }

    /// Accepts a client-supplied id if it is short and made of safe characters.
    pub fn from_client(value: &str) -> Option<Self> {
        let ok = !value.is_empty()
            && value.len() <= MAX_REQUEST_ID_LEN
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        ok.then(|| Self(value.into()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .or_else(current_request_id)
            .unwrap_or_else(RequestId::generate))
    }
}

/// The id of the request being handled by the current task, if any.
pub fn current_request_id() -> Option<RequestId> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok()
}

/// Label used for routes that matched nothing (the fallback), to keep metric labels bounded.
const UNMATCHED_ROUTE: &str = "unmatched";

/// The route template for spans and metrics. Static files (a nested service, which has no
/// template) share `/static/*`; requests no route matched share [`UNMATCHED_ROUTE`].
fn route_label(matched: Option<&MatchedPath>, path: &str) -> String {
    if path.starts_with("/static/") {
        return "/static/*".to_owned();
    }
    match matched {
        Some(template) => template.as_str().to_owned(),
        None => UNMATCHED_ROUTE.to_owned(),
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.as_str()
    } else {
        "non-string panic payload"
    }
}

/// Request id, span, metrics, panic capture and error-shape normalisation for every request.
pub(crate) async fn request_context(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(RequestId::from_client)
        .unwrap_or_else(RequestId::generate);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let route = route_label(req.extensions().get::<MatchedPath>(), &path);
    req.extensions_mut().insert(id.clone());

    let span = tracing::info_span!(
        "http_request",
        method = %method,
        route = %route,
        request_id = %id,
        status = Empty,
        latency_ms = Empty,
    );

    let task_id = id.clone();
    let work = async move {
        let outcome = AssertUnwindSafe(next.run(req)).catch_unwind().await;
        let response = match outcome {
            Ok(response) => response,
            Err(panic) => {
                let message = panic_message(panic.as_ref()).to_owned();
                error_response_for_path(
                    &path,
                    ApiError::internal(format!("handler panicked: {message}")),
                )
            }
        };
        normalise_error_shape(&path, response)
    };
    let mut response = CURRENT_REQUEST_ID
        .scope(task_id, work)
        .instrument(span.clone())
        .await;

    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let status = response.status();
    let elapsed = start.elapsed();
    // Milliseconds with microsecond precision.
    let latency_ms = elapsed.as_micros() as f64 / 1000.0;
    span.record("status", status.as_u16());
    span.record("latency_ms", latency_ms);
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!("request failed");
        } else if route == "/healthz" || route == "/readyz" {
            tracing::debug!("request finished");
        } else {
            tracing::info!("request finished");
        }
    });
    record_request(method.as_str(), &route, status.as_u16(), elapsed);
    response
}

/// Gives error responses that arrive without a body type (axum's bare 405, a service's bare
/// 404, …) the shell's error shape: JSON under `/api/`, the HTML error page elsewhere.
/// Responses that already have a `Content-Type` are left alone.
fn normalise_error_shape(path: &str, response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let err = match status {
        StatusCode::BAD_REQUEST => ApiError::BadRequest("the request is not valid".to_owned()),
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized("authentication required".to_owned()),
        StatusCode::FORBIDDEN => ApiError::Forbidden("not allowed".to_owned()),
        StatusCode::NOT_FOUND => ApiError::NotFound(format!("nothing at {path}")),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::CONFLICT => ApiError::Conflict("conflict".to_owned()),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("unsupported content type".to_owned())
        }
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::InvalidBody("invalid body".to_owned()),
        StatusCode::SERVICE_UNAVAILABLE => {
            ApiError::Unavailable("the service is unavailable".to_owned())
        }
        StatusCode::INTERNAL_SERVER_ERROR => {
            ApiError::internal("a handler returned an empty 500 response")
        }
        _ => return response,
    };
    let (parts, _) = response.into_parts();
    let mut shaped = error_response_for_path(path, err);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_LENGTH && !shaped.headers().contains_key(name) {
            shaped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    shaped
}

/// Rejects bodies over `limit` bytes with 413 in the error shape: at once when
/// `Content-Length` says so, otherwise when the body is read (extractors then reject with 413).
pub(crate) async fn body_limit(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared
        && len > limit as u64
    {
        return error_response_for_path(req.uri().path(), ApiError::PayloadTooLarge);
    }
    let req = req.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
    next.run(req).await
}

/// Stops handlers that take longer than the configured time with 503 `request_timeout`.
/// Only the time to produce the response head counts, so streamed bodies (SSE) are not cut.
pub(crate) async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
            error_response_for_path(&path, ApiError::Timeout)
        }
    }
}

/// The Content-Security-Policy of every page: no inline script or style, nothing from other
/// origins. A handler that needs more (a map's tile server) sets its own header, which wins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'; object-src 'none'";

/// Response headers added to every response unless the handler set them itself.
#[derive(Clone, Debug)]
pub(crate) struct SecurityHeaders(Arc<Vec<(HeaderName, HeaderValue)>>);

impl SecurityHeaders {
    /// The fixed set, plus HSTS when the public URL is `https://`.
    pub(crate) fn new(hsts: bool) -> Self {
        let mut headers = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                // `same-origin`, not `no-referrer`: under no-referrer browsers send
                // `Origin: null` on form POSTs, which would defeat the CSRF origin check.
                HeaderValue::from_static("same-origin"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ),
            (
                HeaderName::from_static("permissions-policy"),
                HeaderValue::from_static(
                    "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
                ),
            ),
            // Dynamic responses may carry per-user data; static files set their own policy.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ];
        if hsts {
            headers.push((
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000"),
            ));
        }
        Self(Arc::new(headers))
    }
}

/// Adds [`SecurityHeaders`] to the response where absent.
pub(crate) async fn security_headers(
    State(set): State<SecurityHeaders>,
    req: Request,
    next: Next,
) -> Response {
    let mut response = next.run(req).await.into_response();
    for (name, value) in set.0.iter() {
        if !response.headers().contains_key(name) {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    response
}
