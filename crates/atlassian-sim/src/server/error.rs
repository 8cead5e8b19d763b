//! HTTP errors in Jira's and JSM's JSON shapes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::model::ModelError;
use crate::model::jsm::JsmError;

/// An error response.
#[derive(Debug)]
pub enum ApiError {
    /// Jira `ErrorCollection` with a status.
    Jira {
        /// Status code.
        status: StatusCode,
        /// `errorMessages`.
        messages: Vec<String>,
        /// `errors`.
        errors: serde_json::Map<String, serde_json::Value>,
    },
    /// JSM `ErrorResponse`.
    Jsm(JsmError),
    /// 401 with `WWW-Authenticate`.
    Unauthorized {
        /// Challenge header value.
        challenge: &'static str,
    },
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A Jira error with one message.
    pub fn status(status: StatusCode, msg: impl Into<String>) -> Self {
        ApiError::Jira {
            status,
            messages: vec![msg.into()],
            errors: Default::default(),
        }
    }
    /// 400 with one message.
    pub fn bad(msg: impl Into<String>) -> Self {
        Self::status(StatusCode::BAD_REQUEST, msg)
    }
    /// 404 with one message.
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::status(StatusCode::NOT_FOUND, msg)
    }
}

impl From<ModelError> for ApiError {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::NotFound(m) => ApiError::not_found(m),
            ModelError::Forbidden(m) => ApiError::status(StatusCode::FORBIDDEN, m),
            ModelError::Invalid { messages, errors } => ApiError::Jira {
                status: StatusCode::BAD_REQUEST,
                messages,
                errors: errors.into_iter().map(|(k, v)| (k, json!(v))).collect(),
            },
        }
    }
}

impl From<JsmError> for ApiError {
    fn from(e: JsmError) -> Self {
        ApiError::Jsm(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Jira {
                status,
                messages,
                errors,
            } => (
                status,
                axum::Json(json!({"errorMessages": messages, "errors": errors})),
            )
                .into_response(),
            ApiError::Jsm(e) => {
                let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
                (status, axum::Json(json!({"errorMessage": e.message, "i18nErrorMessage": {"i18nKey": e.i18n_key, "parameters": []}}))).into_response()
            }
            ApiError::Unauthorized { challenge } => {
                let mut r = (StatusCode::UNAUTHORIZED, axum::Json(json!({
                    "errorMessages": ["You are not authenticated. Authentication required to perform this operation."],
                    "errors": {}
                }))).into_response();
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(challenge),
                );
                r
            }
        }
    }
}
