//! OAuth 2.0 (3LO) as served by `auth.atlassian.com` / `api.atlassian.com`: the consent
//! page, authorization codes, access tokens (3600 s on the sim clock) and rotating
//! refresh tokens (reusing an old one is `403 invalid_grant`).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use crate::rng::Rng;

/// A registered OAuth client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
    /// Allowed redirect URIs; empty means any `http://127.0.0.1…`/`http://localhost…` URI.
    pub redirect_uris: Vec<String>,
}

impl OAuthClient {
    /// The demo client: `jsmkit-demo` / `jsmkit-demo-secret`, any loopback redirect.
    pub fn demo() -> Self {
        OAuthClient {
            client_id: "jsmkit-demo".into(),
            client_secret: "jsmkit-demo-secret".into(),
            redirect_uris: Vec::new(),
        }
    }
    fn allows(&self, uri: &str) -> bool {
        if self.redirect_uris.is_empty() {
            ["http://127.0.0.1", "http://localhost", "http://[::1]"]
                .iter()
                .any(|p| uri.starts_with(p))
        } else {
            self.redirect_uris.iter().any(|u| u == uri)
        }
    }
}

/// An issued access token.
#[derive(Clone, Debug)]
pub struct AccessToken {
    /// Owner.
    pub account_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Expiry.
    pub expires: Timestamp,
}

#[derive(Clone, Debug)]
struct Grant {
    client_id: String,
    account_id: String,
    scopes: Vec<String>,
    redirect_uri: String,
}

/// Codes, tokens and clients.
#[derive(Debug)]
pub struct OAuthState {
    clients: Vec<OAuthClient>,
    rng: Rng,
    codes: HashMap<String, Grant>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, Grant>,
}

impl OAuthState {
    /// State with the given clients.
    pub fn new(clients: Vec<OAuthClient>, seed: u64) -> Self {
        OAuthState {
            clients,
            rng: Rng::derive(seed, "oauth"),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
        }
    }
    /// A valid (unexpired) access token.
    pub fn access(&self, token: &str, now: Timestamp) -> Option<&AccessToken> {
        self.access.get(token).filter(|t| t.expires > now)
    }
    fn issue(&mut self, g: &Grant, now: Timestamp) -> serde_json::Value {
        let access = format!("eyJsim.{}", self.rng.hex(24));
        self.access.insert(
            access.clone(),
            AccessToken {
                account_id: g.account_id.clone(),
                scopes: g.scopes.clone(),
                expires: now + SignedDuration::from_secs(3600),
            },
        );
        let mut body = json!({"access_token": access, "token_type": "Bearer", "expires_in": 3600, "scope": g.scopes.join(" ")});
        if g.scopes.iter().any(|s| s == "offline_access") {
            let refresh = format!("sim-refresh-{}", self.rng.hex(24));
            self.refresh.insert(refresh.clone(), g.clone());
            body["refresh_token"] = json!(refresh);
        }
        body
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn oauth_error(status: StatusCode, error: &str, desc: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": desc})),
    )
        .into_response()
}

/// `GET /authorize`: the consent page listing the site's licensed users.
pub async fn authorize_page(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let client_ok = {
        let o = state
            .oauth
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        o.clients
            .iter()
            .any(|c| c.client_id == get("client_id") && c.allows(&get("redirect_uri")))
    };
    if !client_ok || get("response_type") != "code" {
        return (
            StatusCode::BAD_REQUEST,
            Html("<h1>Invalid client_id, redirect_uri or response_type</h1>".to_owned()),
        )
            .into_response();
    }
    let site_name = state.read().site.name.clone();
    let mut html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Authorize {}</title></head><body><h1>Sign in to {}</h1><p>The app <b>{}</b> wants: {}</p><ul>",
        esc(&get("client_id")),
        esc(&site_name),
        esc(&get("client_id")),
        esc(&get("scope"))
    );
    // One account system: every licensed account of every site, each once.
    let mut seen = std::collections::BTreeSet::new();
    let accounts: Vec<crate::model::User> = state
        .all_sites()
        .flat_map(|s| {
            s.read()
                .users
                .iter()
                .filter(|u| u.account_type == crate::model::AccountType::Atlassian)
                .cloned()
                .collect::<Vec<_>>()
        })
        .filter(|u| seen.insert(u.account_id.clone()))
        .collect();
    for u in &accounts {
        html.push_str("<li><form method=\"post\" action=\"/authorize\">");
        for k in [
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "response_type",
            "prompt",
            "audience",
        ] {
            html.push_str(&format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                esc(&get(k))
            ));
        }
        html.push_str(&format!("<input type=\"hidden\" name=\"account_id\" value=\"{}\"><button type=\"submit\" data-email=\"{}\">Accept as {} ({}, {})</button></form></li>",
            esc(&u.account_id), esc(&u.email), esc(&u.display_name), esc(&u.email), u.role.as_str()));
    }
    html.push_str("</ul></body></html>");
    Html(html).into_response()
}

/// Form fields of the consent page.
#[derive(Deserialize)]
pub struct AuthorizeForm {
    client_id: String,
    redirect_uri: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    state: String,
    account_id: String,
}

/// `POST /authorize`: issues a code and redirects.
pub async fn authorize_submit(
    State(state): State<AppState>,
    axum::Form(f): axum::Form<AuthorizeForm>,
) -> Response {
    if find_user(&state, &f.account_id).is_none() {
        return (StatusCode::BAD_REQUEST, "unknown account").into_response();
    }
    let mut o = state
        .oauth
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !o
        .clients
        .iter()
        .any(|c| c.client_id == f.client_id && c.allows(&f.redirect_uri))
    {
        return (StatusCode::BAD_REQUEST, "invalid client").into_response();
    }
    let code = format!("sim-code-{}", o.rng.hex(16));
    let scopes = f.scope.split_whitespace().map(String::from).collect();
    o.codes.insert(
        code.clone(),
        Grant {
            client_id: f.client_id,
            account_id: f.account_id,
            scopes,
            redirect_uri: f.redirect_uri.clone(),
        },
    );
    let sep = if f.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    Redirect::to(&format!(
        "{}{sep}code={}&state={}",
        f.redirect_uri,
        enc(&code),
        enc(&f.state)
    ))
    .into_response()
}

/// `POST /oauth/token` body.
#[derive(Deserialize)]
pub struct TokenRequest {
    grant_type: String,
    client_id: String,
    client_secret: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// `POST /oauth/token`.
pub async fn token(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<TokenRequest>(&body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Request body must be JSON with grant_type, client_id and client_secret.",
        );
    };
    let now = state.clock.now();
    let mut o = state
        .oauth
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !o
        .clients
        .iter()
        .any(|c| c.client_id == req.client_id && c.client_secret == req.client_secret)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
    }
    match req.grant_type.as_str() {
        "authorization_code" => {
            let Some(g) = req.code.as_deref().and_then(|c| o.codes.remove(c)) else {
                return oauth_error(
                    StatusCode::FORBIDDEN,
                    "invalid_grant",
                    "Invalid authorization code",
                );
            };
            if g.client_id != req.client_id
                || req.redirect_uri.as_deref() != Some(g.redirect_uri.as_str())
            {
                return oauth_error(
                    StatusCode::FORBIDDEN,
                    "invalid_grant",
                    "Invalid authorization code",
                );
            }
            Json(o.issue(&g, now)).into_response()
        }
        "refresh_token" => {
            let Some(g) = req
                .refresh_token
                .as_deref()
                .and_then(|r| o.refresh.remove(r))
            else {
                return oauth_error(
                    StatusCode::FORBIDDEN,
                    "invalid_grant",
                    "Unknown or invalid refresh token.",
                );
            };
            if g.client_id != req.client_id {
                return oauth_error(
                    StatusCode::FORBIDDEN,
                    "invalid_grant",
                    "Unknown or invalid refresh token.",
                );
            }
            Json(o.issue(&g, now)).into_response()
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant type",
        ),
    }
}

fn bearer(state: &AppState, headers: &axum::http::HeaderMap) -> Option<AccessToken> {
    let h = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = h.strip_prefix("Bearer ")?;
    let o = state
        .oauth
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    o.access(t.trim(), state.clock.now()).cloned()
}

fn unauthorized() -> Response {
    let mut r = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"code": 401, "message": "Unauthorized"})),
    )
        .into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer realm=\"api.atlassian.com\""),
    );
    r
}

/// `GET /oauth/token/accessible-resources`.
pub async fn accessible_resources(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some(t) = bearer(&state, &headers) else {
        return unauthorized();
    };
    let sites: Vec<serde_json::Value> = state
        .all_sites()
        .filter_map(|s| {
            let m = s.read();
            m.user(&t.account_id)?;
            Some(json!({"id": m.site.cloud_id, "url": m.site.url, "name": m.site.name, "scopes": t.scopes,
                        "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png"}))
        })
        .collect();
    Json(serde_json::Value::Array(sites)).into_response()
}

/// The account `account_id` in whichever site has it first (the primary site first).
fn find_user(state: &AppState, account_id: &str) -> Option<crate::model::User> {
    state
        .all_sites()
        .find_map(|s| s.read().user(account_id).cloned())
}

/// `GET /me` (identity API).
pub async fn me(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let Some(t) = bearer(&state, &headers) else {
        return unauthorized();
    };
    let Some(u) = find_user(&state, &t.account_id) else {
        return unauthorized();
    };
    Json(json!({"account_type": u.account_type.as_str(), "account_id": u.account_id, "email": u.email, "email_verified": true,
                "name": u.display_name, "picture": format!("https://avatar-management.example/initials/{}/128", u.account_id),
                "account_status": "active", "nickname": u.display_name.split(' ').next().unwrap_or(""),
                "zoneinfo": u.time_zone, "locale": "en-GB", "extended_profile": {}})).into_response()
}
