//! The one error type of every JSON API ([`ApiError`]), its wire shape ([`ErrorBody`]), the
//! per-field validation builder ([`FieldErrors`]) and the HTML counterpart for pages
//! ([`HtmlError`]).
//!
//! Every error a client sees has the same shape:
//!
//! ```json
//! {"error": {"code": "validation_failed",
//!            "message": "some fields are not valid",
//!            "fields": {"summary": ["must not be empty"]}}}
//! ```
//!
//! `fields` is present on validation errors only; `request_id` is present on internal errors
//! (the same id is in the `x-request-id` response header of every response). Internal causes
//! are logged with the request id and never sent.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::middleware::current_request_id;
use super::pages;

/// A boxed error cause, kept for the log and never sent to the client.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why an API request failed. Each variant maps to one HTTP status and one stable `code`.
///
/// Handlers return `Result<_, ApiError>`; the conversion to a response happens in
/// [`IntoResponse`]. Use [`ApiError::internal`] (or `?` on an error that converts into it) for
/// anything the client cannot fix: the cause is logged with the request id, the client only
/// gets a generic message that quotes the request id.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 422 `validation_failed`: the request was understood but some fields are not valid.
    #[error("validation failed: {fields}")]
    Validation {
        /// Reasons per field name.
        fields: FieldErrors,
    },
    /// 400 `bad_request`: malformed request (bad JSON syntax, bad query string, …).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 415 `unsupported_media_type`: wrong or missing `Content-Type`.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 422 `invalid_body`: well-formed JSON that does not fit the expected structure.
    #[error("invalid body: {0}")]
    InvalidBody(String),
    /// 401 `unauthorized`: no or bad credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403 `forbidden`: authenticated but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404 `not_found`.
    #[error("not found: {0}")]
    NotFound(String),
    /// 405 `method_not_allowed`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409 `conflict`: the request conflicts with the current state (version mismatch, duplicate).
    #[error("conflict: {0}")]
    Conflict(String),
    /// 413 `payload_too_large`: the body is larger than the configured limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 429 `rate_limited`, with a `Retry-After` header in whole seconds (at least 1).
    #[error("rate limited; retry after {retry_after:?}")]
    RateLimited {
        /// How long the client should wait.
        retry_after: Duration,
    },
    /// 503 `request_timeout`: the server did not finish the request in the configured time.
    #[error("request timed out")]
    Timeout,
    /// 503 `unavailable`: a dependency (store, Jira) is not available right now.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 500 `internal`: logged with the request id; the cause is never sent.
    #[error("internal error: {0}")]
    Internal(#[source] BoxError),
}

impl ApiError {
    /// An internal error with the given cause (logged, never sent).
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Self::Internal(cause.into())
    }

    /// A 404 for "no such thing".
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    /// A 422 with a single field error.
    pub fn invalid_field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Validation {
            fields: FieldErrors::new().with(field, reason),
        }
    }

    /// The HTTP status this error is sent with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation { .. } | Self::InvalidBody(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Timeout | Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable `code` of the error shape.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "validation_failed",
            Self::BadRequest(_) => "bad_request",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::InvalidBody(_) => "invalid_body",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited { .. } => "rate_limited",
            Self::Timeout => "request_timeout",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The human-readable message sent to the client. Never contains an internal cause.
    pub fn public_message(&self) -> String {
        match self {
            Self::Validation { .. } => "some fields are not valid".to_owned(),
            Self::BadRequest(m)
            | Self::UnsupportedMediaType(m)
            | Self::InvalidBody(m)
            | Self::Unauthorized(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Conflict(m)
            | Self::Unavailable(m) => m.clone(),
            Self::MethodNotAllowed => "this method is not allowed on this path".to_owned(),
            Self::PayloadTooLarge => {
                "the request body is larger than this server accepts".to_owned()
            }
            Self::RateLimited { retry_after } => format!(
                "too many requests; retry after {} s",
                retry_after_secs(*retry_after)
            ),
            Self::Timeout => "the request took too long and was stopped".to_owned(),
            Self::Internal(_) => match current_request_id() {
                Some(id) => format!("an internal error occurred (request id {id})"),
                None => "an internal error occurred".to_owned(),
            },
        }
    }

    /// The wire body of this error.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.public_message(),
                fields: match self {
                    Self::Validation { fields } => Some(fields.clone()),
                    _ => None,
                },
                request_id: match self {
                    Self::Internal(_) => current_request_id().map(|id| id.to_string()),
                    _ => None,
                },
            },
        }
    }

    /// Logs the cause of an internal error (with the request id); other errors are the
    /// client's and are not logged here (the request span records their status).
    pub(crate) fn log(&self) {
        if let Self::Internal(cause) = self {
            let request_id = current_request_id()
                .map(|id| id.to_string())
                .unwrap_or_default();
            tracing::error!(
                request_id = %request_id,
                error = %cause,
                error.chain = %ErrorChain(cause.as_ref()),
                "internal error"
            );
        }
    }

    fn extra_headers(&self, response: &mut Response) {
        if let Self::RateLimited { retry_after } = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs(*retry_after)),
            );
        }
    }
}

fn retry_after_secs(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

/// Displays an error and its `source()` chain as `a: b: c`.
struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = (self.status(), axum::Json(self.to_body())).into_response();
        self.extra_headers(&mut response);
        response
    }
}

impl From<askama::Error> for ApiError {
    fn from(err: askama::Error) -> Self {
        Self::internal(err)
    }
}

/// The JSON body of every error response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The `error` object of [`ErrorBody`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`, `internal`.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// Human-readable explanation; safe to show to a user.
    pub message: String,
    /// Reasons per field; present on validation errors only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<FieldErrors>,
    /// The request id; present on internal errors (it is also in the `x-request-id` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Validation reasons per field, built up by a handler and turned into
/// [`ApiError::Validation`].
///
/// ```
/// use platform::web::{ApiError, FieldErrors};
///
/// fn check(summary: &str, priority: u8) -> Result<(), ApiError> {
///     let mut errors = FieldErrors::new();
///     if summary.trim().is_empty() {
///         errors.add("summary", "must not be empty");
///     }
///     if priority > 5 {
///         errors.add("priority", "must be between 1 and 5");
///     }
///     errors.into_result()
/// }
/// assert!(check("printer on fire", 2).is_ok());
/// assert!(check("", 9).is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = BTreeMap<String, Vec<String>>, example = json!({"summary": ["must not be empty"]}))]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a reason for `field` (a field may have several).
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) -> &mut Self {
        self.0.entry(field.into()).or_default().push(reason.into());
        self
    }

    /// Builder form of [`FieldErrors::add`].
    #[must_use]
    pub fn with(mut self, field: impl Into<String>, reason: impl Into<String>) -> Self {
        self.add(field, reason);
        self
    }

    /// True when no reason was added.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The reasons recorded for `field`.
    pub fn get(&self, field: &str) -> &[String] {
        self.0.get(field).map(Vec::as_slice).unwrap_or_default()
    }

    /// Iterates over `(field, reasons)` in field order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// `Ok(())` when empty, otherwise `Err(ApiError::Validation)` with these fields.
    pub fn into_result(self) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation { fields: self })
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (field, reasons) in &self.0 {
            for reason in reasons {
                if !first {
                    f.write_str("; ")?;
                }
                first = false;
                write!(f, "{field}: {reason}")?;
            }
        }
        Ok(())
    }
}

/// An error on an HTML page: the same cases as [`ApiError`], rendered as an error page inside
/// the base layout instead of JSON. Page handlers return `Result<_, HtmlError>` and can use
/// `?` on anything that converts into [`ApiError`].
#[derive(Debug)]
pub struct HtmlError(pub ApiError);

impl From<ApiError> for HtmlError {
    fn from(err: ApiError) -> Self {
        Self(err)
    }
}

impl From<askama::Error> for HtmlError {
    fn from(err: askama::Error) -> Self {
        Self(ApiError::internal(err))
    }
}

impl fmt::Display for HtmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl IntoResponse for HtmlError {
    fn into_response(self) -> Response {
        let err = self.0;
        err.log();
        let mut response = pages::error_page(err.status(), &err.public_message(), None);
        err.extra_headers(&mut response);
        response
    }
}

/// Renders `err` the way the client at `path` expects it: JSON under `/api/`, an HTML error
/// page elsewhere. Used by the middleware and the fallback, which serve both kinds of route.
pub fn error_response_for_path(path: &str, err: ApiError) -> Response {
    if is_api_path(path) {
        err.into_response()
    } else {
        HtmlError(err).into_response()
    }
}

/// True for `/api` and everything under `/api/`.
pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}
