//! Typed errors of the Atlassian client.
//!
//! No variant ever carries a token, an `Authorization` header or a full URL:
//! operations are named by their static op name, transport errors are
//! rendered without their URL, and Atlassian's own messages are kept (capped).

use std::time::Duration;

use serde::Deserialize;

/// Result alias for client calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Most messages kept from one error body.
const MAX_MESSAGES: usize = 20;
/// Longest single message kept (characters).
const MAX_MESSAGE_CHARS: usize = 500;

/// Errors of the OAuth 2.0 token machinery.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The refresh token (or authorization code) was rejected with
    /// `invalid_grant`: the user must sign in again.
    #[error("the OAuth grant was revoked or has expired; sign in again")]
    GrantRevoked,
    /// No token set is stored yet: the user has never signed in.
    #[error("no OAuth tokens are stored; sign in first")]
    NotSignedIn,
    /// The token endpoint answered with another OAuth error.
    #[error("the OAuth token endpoint refused the request: {error}")]
    Refused {
        /// The OAuth `error` code (e.g. `invalid_client`).
        error: String,
    },
    /// The app's [`TokenStore`](super::TokenStore) failed.
    #[error("token store failed: {0}")]
    Store(String),
}

/// An error from a call to Jira, JSM or Assets.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Any other non-success status, with Atlassian's messages.
    #[error("{op}: HTTP {status}{}", fmt_messages(messages))]
    Http {
        /// HTTP status code.
        status: u16,
        /// Operation name.
        op: &'static str,
        /// Messages parsed from the error body.
        messages: Vec<String>,
    },
    /// 404.
    #[error("{op}: not found{}", fmt_messages(messages))]
    NotFound {
        /// Operation name.
        op: &'static str,
        /// Messages parsed from the error body.
        messages: Vec<String>,
    },
    /// 401: credentials missing, wrong or expired.
    #[error("{op}: unauthorized{}", fmt_messages(messages))]
    Unauthorized {
        /// Operation name.
        op: &'static str,
        /// Messages parsed from the error body.
        messages: Vec<String>,
    },
    /// 403: authenticated but not allowed.
    #[error("{op}: forbidden{}", fmt_messages(messages))]
    Forbidden {
        /// Operation name.
        op: &'static str,
        /// Messages parsed from the error body.
        messages: Vec<String>,
    },
    /// 429 that was not (or no longer) retried.
    #[error("{op}: rate limited{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// Operation name.
        op: &'static str,
        /// The server's hint, if any.
        retry_after: Option<Duration>,
    },
    /// The call exceeded its timeout.
    #[error("{op}: timed out")]
    Timeout {
        /// Operation name.
        op: &'static str,
    },
    /// Connection or protocol failure (rendered without the URL).
    #[error("{op}: transport error: {reason}")]
    Transport {
        /// Operation name.
        op: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The response body was not what the operation expects.
    #[error("{op}: could not decode the response: {reason}")]
    Decode {
        /// Operation name.
        op: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// OAuth token problems.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A paginated endpoint misbehaved (looping token, no progress, too many pages).
    #[error("{op}: paging error: {reason}")]
    Paging {
        /// Operation name.
        op: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// An argument cannot be sent (e.g. an empty or `..` path segment).
    #[error("{op}: invalid argument: {reason}")]
    InvalidArgument {
        /// Operation name.
        op: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// Client construction failed.
    #[error("client configuration: {0}")]
    Config(String),
}

impl Error {
    /// HTTP status behind this error, if it came from a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => Some(*status),
            Error::NotFound { .. } => Some(404),
            Error::Unauthorized { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// Atlassian's messages carried by this error (empty if none).
    pub fn messages(&self) -> &[String] {
        match self {
            Error::Http { messages, .. }
            | Error::NotFound { messages, .. }
            | Error::Unauthorized { messages, .. }
            | Error::Forbidden { messages, .. } => messages,
            _ => &[],
        }
    }

    /// Builds the typed error for a non-success status and its body.
    pub(crate) fn from_status(
        op: &'static str,
        status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> Self {
        let messages = parse_messages(body);
        match status {
            401 => Error::Unauthorized { op, messages },
            403 => Error::Forbidden { op, messages },
            404 => Error::NotFound { op, messages },
            429 => Error::RateLimited { op, retry_after },
            _ => Error::Http {
                status,
                op,
                messages,
            },
        }
    }

    /// A transport error from reqwest, stripped of its URL.
    pub(crate) fn from_reqwest(op: &'static str, err: reqwest::Error) -> Self {
        if err.is_timeout() {
            return Error::Timeout { op };
        }
        let err = err.without_url();
        let mut reason = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            reason.push_str(": ");
            reason.push_str(&s.to_string());
            source = s.source();
        }
        if reason.contains("timed out") || reason.contains("deadline") {
            return Error::Timeout { op };
        }
        Error::Transport {
            op,
            reason: truncate(&reason),
        }
    }

    /// Whether a retry of an idempotent call may help.
    pub(crate) fn is_transient(&self) -> bool {
        matches!(self, Error::Timeout { .. } | Error::Transport { .. })
    }
}

fn fmt_messages(messages: &[String]) -> String {
    if messages.is_empty() {
        String::new()
    } else {
        format!(": {}", messages.join("; "))
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_MESSAGE_CHARS {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(MAX_MESSAGE_CHARS).collect();
        t.push('…');
        t
    }
}

/// Jira/Assets `ErrorCollection` and JSM `ErrorResponse`, merged and tolerant.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ErrorBody {
    error_messages: Vec<serde_json::Value>,
    errors: serde_json::Map<String, serde_json::Value>,
    error_message: Option<serde_json::Value>,
    i18n_error_message: Option<I18nMessage>,
    message: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct I18nMessage {
    i18n_key: Option<String>,
}

fn as_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Null | serde_json::Value::String(_) => None,
        other => Some(other.to_string()),
    }
}

/// Extracts Atlassian's human-readable messages from an error body.
pub(crate) fn parse_messages(body: &[u8]) -> Vec<String> {
    let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    out.extend(parsed.error_messages.iter().filter_map(as_text));
    for (field, value) in &parsed.errors {
        if let Some(text) = as_text(value) {
            out.push(format!("{field}: {text}"));
        }
    }
    out.extend(parsed.error_message.as_ref().and_then(as_text));
    if let Some(key) = parsed.i18n_error_message.and_then(|m| m.i18n_key)
        && out.is_empty()
    {
        out.push(key);
    }
    if out.is_empty() {
        out.extend(parsed.message.as_ref().and_then(as_text));
    }
    out.truncate(MAX_MESSAGES);
    out.iter().map(|m| truncate(m)).collect()
}
