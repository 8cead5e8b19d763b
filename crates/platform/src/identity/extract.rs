//! The [`CurrentUser`] and [`MaybeUser`] extractors.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AuthContext, CurrentUser, MaybeUser, flow};
use crate::web::{ApiError, error_response_for_path, is_api_path};

/// The session already looked up by the CSRF layer for this request.
#[derive(Clone, Debug)]
pub(crate) struct ResolvedUser(pub Option<CurrentUser>);

async fn resolve(parts: &mut Parts) -> Result<Option<CurrentUser>, Response> {
    if let Some(ResolvedUser(user)) = parts.extensions.get::<ResolvedUser>() {
        return Ok(user.clone());
    }
    let path = parts.uri.path().to_owned();
    let Some(auth) = parts.extensions.get::<AuthContext>().cloned() else {
        tracing::error!("the identity layer is not installed on this route (identity::protect)");
        return Err(error_response_for_path(
            &path,
            ApiError::internal("identity layer missing"),
        ));
    };
    let user = auth
        .session_user(&parts.headers)
        .await
        .map_err(|e| error_response_for_path(&path, ApiError::internal(e)))?;
    parts.extensions.insert(ResolvedUser(user.clone()));
    Ok(user)
}

/// The answer to a request that needs a session and has none: 401 under `/api/`, a 302 to
/// `/login?next=<path and query>` on pages (for htmx requests, 401 with `HX-Redirect`).
pub(crate) fn sign_in_required(parts: &Parts) -> Response {
    let path = parts.uri.path();
    if is_api_path(path) {
        return ApiError::Unauthorized("sign in first: no valid session".into()).into_response();
    }
    let next = parts
        .uri
        .path_and_query()
        .map_or_else(|| path.to_owned(), |pq| pq.as_str().to_owned());
    let location = flow::login_location(Some(&next), None);
    let Ok(location) = HeaderValue::from_str(&location) else {
        return ApiError::internal("login location").into_response();
    };
    if parts.headers.contains_key("hx-request") {
        return (StatusCode::UNAUTHORIZED, [("hx-redirect", location)]).into_response();
    }
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match resolve(parts).await? {
            Some(user) => Ok(user),
            None => Err(sign_in_required(parts)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        resolve(parts).await.map(MaybeUser)
    }
}
