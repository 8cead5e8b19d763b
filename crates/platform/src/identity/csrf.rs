//! CSRF protection of state-changing requests (POST, PUT, PATCH, DELETE).
//!
//! Two checks, both required:
//!
//! 1. **Origin**: the `Origin` header equals jsmkit's own origin (`server.public_url`, else
//!    `http(s)://<Host>`); without `Origin`, `Sec-Fetch-Site: same-origin` is accepted.
//!    A request carrying neither is refused.
//! 2. **Token**: when the request has a session, its CSRF token must come in the
//!    `X-CSRF-Token` header (what htmx sends through `hx-headers:inherited` on `<body>`)
//!    or, for `application/x-www-form-urlencoded` bodies, in the `csrf_token` field.
//!    Requests without a session reach the handler, whose `CurrentUser` refuses them.
//!
//! Requests authenticated otherwise (API keys of machine principals, a later part) are
//! exempt: the layer that authenticates them inserts [`CsrfExempt`] into the request
//! extensions before this check runs (i.e. it is applied outside [`super::protect`]).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::AuthContext;
use super::extract::ResolvedUser;
use crate::web::{ApiError, error_response_for_path};

/// Header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// Largest form body read to find the token.
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// Marks a request as authenticated by something other than the session cookie (an API
/// key): the CSRF check skips it. Insert it in a layer outside [`super::protect`].
#[derive(Clone, Copy, Debug)]
pub struct CsrfExempt;

fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Constant-time equality of two secrets (length may leak; both are fixed-length tokens).
pub(crate) fn secret_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// `Ok` when the request comes from jsmkit's own pages; otherwise the reason.
pub(crate) fn check_origin(auth: &AuthContext, headers: &HeaderMap) -> Result<(), &'static str> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if let Some(origin) = origin {
        let own = match &auth.inner.origin {
            Some(own) => own == origin,
            None => {
                let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
                host.is_some_and(|host| {
                    origin
                        .strip_prefix("http://")
                        .or_else(|| origin.strip_prefix("https://"))
                        .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
                })
            }
        };
        return if own {
            Ok(())
        } else {
            Err("the request comes from another site (Origin does not match)")
        };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin") => Ok(()),
        Some(_) => Err("the request comes from another site (Sec-Fetch-Site)"),
        None => Err("the request has no Origin header"),
    }
}

fn forbidden(path: &str, reason: &str) -> Response {
    error_response_for_path(
        path,
        ApiError::Forbidden(format!("CSRF check failed: {reason}")),
    )
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

/// The middleware behind [`super::protect`].
pub(crate) async fn csrf_guard(
    State(auth): State<AuthContext>,
    request: Request,
    next: Next,
) -> Response {
    if !is_unsafe(request.method()) || request.extensions().get::<CsrfExempt>().is_some() {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    if let Err(reason) = check_origin(&auth, request.headers()) {
        tracing::info!(reason, "CSRF check failed");
        return forbidden(&path, reason);
    }
    let user = match auth.session_user(request.headers()).await {
        Ok(user) => user,
        Err(err) => return error_response_for_path(&path, ApiError::internal(err)),
    };
    let Some(user) = user else {
        let mut request = request;
        request.extensions_mut().insert(ResolvedUser(None));
        return next.run(request).await;
    };
    let header_token = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (mut request, sent) = match header_token {
        Some(token) => (request, Some(token)),
        None if is_form(request.headers()) => {
            let (parts, body) = request.into_parts();
            let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
                Ok(bytes) => bytes,
                Err(_) => {
                    return error_response_for_path(&path, ApiError::PayloadTooLarge);
                }
            };
            let token = url::form_urlencoded::parse(&bytes)
                .find(|(k, _)| k == CSRF_FIELD)
                .map(|(_, v)| v.into_owned());
            (Request::from_parts(parts, Body::from(bytes)), token)
        }
        None => (request, None),
    };
    match sent {
        Some(token) if secret_eq(&token, &user.csrf_token) => {
            request.extensions_mut().insert(ResolvedUser(Some(user)));
            next.run(request).await
        }
        Some(_) => {
            tracing::info!("CSRF check failed: wrong token");
            forbidden(
                &path,
                "the CSRF token is wrong; reload the page and try again",
            )
        }
        None => {
            tracing::info!("CSRF check failed: no token");
            forbidden(
                &path,
                "the CSRF token is missing (X-CSRF-Token header or csrf_token field)",
            )
        }
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_exactly() {
        assert!(secret_eq("abc", "abc"));
        assert!(!secret_eq("abc", "abd"));
        assert!(!secret_eq("abc", "abcd"));
        assert!(!secret_eq("", "a"));
    }

    #[test]
    fn only_unsafe_methods_are_checked() {
        assert!(!is_unsafe(&Method::GET));
        assert!(!is_unsafe(&Method::HEAD));
        assert!(is_unsafe(&Method::POST));
        assert!(is_unsafe(&Method::DELETE));
        assert!(is_unsafe(&Method::PATCH));
        assert!(is_unsafe(&Method::PUT));
    }

    #[test]
    fn form_content_types() {
        let mut h = HeaderMap::new();
        assert!(!is_form(&h));
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=UTF-8"
                .parse()
                .unwrap(),
        );
        assert!(is_form(&h));
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        assert!(!is_form(&h));
    }
}
