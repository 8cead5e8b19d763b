//! Authentication: basic (email + API token) at the site root, OAuth bearer tokens under
//! `/ex/jira/{cloudId}` (and on the Assets paths), and the gateway prefix rewrite.

use axum::extract::{Request, State};
use axum::http::{Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::AppState;
use super::error::ApiError;
use crate::principal::{AuthMethod, AuthedUser};

/// Marker extension: the request came through `api.atlassian.com/ex/jira/{cloudId}`.
#[derive(Clone, Copy, Debug)]
pub struct Gateway;

/// Strips `/ex/jira/{cloudId}` (when the cloudId is this site's) and marks the request.
pub fn rewrite_gateway(cloud_id: &str, mut req: Request) -> Request {
    let path = req.uri().path().to_owned();
    let Some(rest) = path.strip_prefix("/ex/jira/") else {
        return req;
    };
    let (cid, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let new_path = if cid == cloud_id {
        format!("/{tail}")
    } else {
        "/__sim/unknown-cloud".to_owned()
    };
    let pq = match req.uri().query() {
        Some(q) => format!("{new_path}?{q}"),
        None => new_path,
    };
    if let Ok(uri) = pq.parse::<Uri>() {
        *req.uri_mut() = uri;
    }
    req.extensions_mut().insert(Gateway);
    req
}

/// Resolves the caller or answers 401 (in JSM's `ErrorResponse` shape on the
/// `/rest/servicedeskapi` paths, Jira's `ErrorCollection` elsewhere).
pub async fn require_auth(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let jsm = req.uri().path().starts_with("/rest/servicedeskapi/");
    match authenticate(state, req, next).await {
        Err(ApiError::Unauthorized { challenge }) if jsm => {
            let mut r = ApiError::Jsm(crate::model::jsm::JsmError {
                status: 401,
                message:
                    "You are not authenticated. Authentication required to perform this operation."
                        .into(),
                i18n_key: "sd.unauthorized".into(),
            })
            .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static(challenge),
            );
            Ok(r)
        }
        other => other,
    }
}

async fn authenticate(state: AppState, mut req: Request, next: Next) -> Result<Response, ApiError> {
    let gateway = req.extensions().get::<Gateway>().is_some();
    let assets = req.uri().path().starts_with("/jsm/assets/");
    let challenge = if gateway {
        "Bearer realm=\"api.atlassian.com\""
    } else {
        "Basic realm=\"Atlassian Cloud\""
    };
    let unauthorized = ApiError::Unauthorized { challenge };
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (scheme, cred) = header.split_once(' ').unwrap_or(("", ""));
    let cloud_id = state.read().site.cloud_id.clone();
    let user = if scheme.eq_ignore_ascii_case("basic") && (!gateway || assets) {
        let decoded = STANDARD
            .decode(cred.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let (email, token) = decoded.split_once(':').unwrap_or(("", ""));
        let m = state.read();
        match m.user_by_email(email) {
            Some(u) if u.active && !token.is_empty() && u.api_token == token => AuthedUser {
                cloud_id,
                account_id: u.account_id.clone(),
                via: AuthMethod::Basic,
            },
            _ => return Err(unauthorized),
        }
    } else if scheme.eq_ignore_ascii_case("bearer") && (gateway || assets) {
        let now = state.clock.now();
        let token = state
            .oauth
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .access(cred.trim(), now)
            .cloned();
        // One account system for every site: the token is good only where its account
        // belongs (the gateway answers 401 for a cloudId the grant does not cover).
        match token {
            Some(t) if state.read().user(&t.account_id).is_some() => AuthedUser {
                cloud_id,
                account_id: t.account_id,
                via: AuthMethod::OAuth { scopes: t.scopes },
            },
            _ => return Err(unauthorized),
        }
    } else {
        return Err(unauthorized);
    };
    if let AuthMethod::OAuth { scopes } = &user.via
        && !scope_allows(scopes, req.method(), req.uri().path())
    {
        return Err(ApiError::Unauthorized {
            challenge: "Bearer realm=\"api.atlassian.com\", error=\"insufficient_scope\"",
        });
    }
    req.extensions_mut().insert(user);
    Ok(next.run(req).await)
}

/// Classic-scope check: reads need a `read:` scope of the product, writes a `write:` one.
fn scope_allows(scopes: &[String], method: &axum::http::Method, path: &str) -> bool {
    let product = if path.starts_with("/rest/servicedeskapi") {
        "servicedesk-request"
    } else if path.starts_with("/jsm/assets") {
        "cmdb"
    } else {
        "jira"
    };
    let read_only_post = [
        "/search/jql",
        "/bulkfetch",
        "/approximate-count",
        "/permissions/check",
        "/aql",
        "/totalcount",
    ]
    .iter()
    .any(|s| path.ends_with(s));
    let write = !(method == axum::http::Method::GET
        || method == axum::http::Method::HEAD
        || read_only_post);
    let prefix = if write { "write:" } else { "read:" };
    scopes.iter().any(|s| {
        s.starts_with(prefix)
            && (s.contains(product)
                || (product == "jira" && (s == "read:jira-user" || s.contains("jira"))))
    })
}
