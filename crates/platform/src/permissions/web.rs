//! axum glue: who is asking ([`AccessContext`], a request extension) and denials as
//! 401/403 responses in the JSON shape ([`ApiError`]) or as the error page ([`HtmlError`]).
//!
//! The identity layer (sessions, API keys) inserts an [`AccessContext`] into each request it
//! has authenticated; handlers take it as an extractor. A request without one is not signed
//! in (401).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;

use super::jira::JiraPermissions;
use super::types::{Denied, DenyReason, Principal, Requirement};
use super::{Authorizer, Grant};
use crate::identity::{AuthContext, CurrentUser};
use crate::store::SiteId;
use crate::web::{ApiError, HtmlError, error_response_for_path};

/// The authenticated caller of a request: site, principal and a Jira handle acting as them.
#[derive(Clone)]
pub struct AccessContext {
    /// The site the request is for.
    pub site: SiteId,
    /// Who is asking.
    pub principal: Principal,
    /// Jira, as the user (for API keys: any implementation; it is not asked).
    pub jira: Arc<dyn JiraPermissions>,
}

impl std::fmt::Debug for AccessContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessContext")
            .field("site", &self.site)
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

impl AccessContext {
    /// Checks `requirement` for this caller.
    pub async fn require(
        &self,
        authorizer: &Authorizer,
        requirement: &Requirement,
    ) -> Result<Grant, Denied> {
        authorizer
            .require(&self.site, &self.principal, self.jira.as_ref(), requirement)
            .await
    }
}

impl AccessContext {
    /// Whether this caller passes `requirement` (for deciding what to show; not logged).
    pub async fn allows(&self, authorizer: &Authorizer, requirement: &Requirement) -> bool {
        authorizer
            .allows(&self.site, &self.principal, self.jira.as_ref(), requirement)
            .await
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AccessContext {
    /// 401: JSON shape under `/api/`, the error page elsewhere.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<AccessContext>()
            .cloned()
            .ok_or_else(|| {
                let denied = Denied::new(Requirement::SignedIn, DenyReason::NotSignedIn);
                error_response_for_path(parts.uri.path(), denied.into())
            })
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        let message = denied.reason.public_message();
        match denied.reason {
            DenyReason::NotSignedIn => ApiError::Unauthorized(message),
            _ => ApiError::Forbidden(message),
        }
    }
}

impl From<Denied> for HtmlError {
    fn from(denied: Denied) -> Self {
        HtmlError(denied.into())
    }
}

/// Applies sign-in and access to a router of signed-in pages and APIs: every request needs a
/// session ([`identity::protect`](crate::identity::protect): anonymous pages go to `/login`,
/// APIs get 401, state-changing requests are CSRF-checked), and handlers get an
/// [`AccessContext`] whose Jira handle acts as the signed-in user with their own OAuth token,
/// so Jira's permissions apply to everything the app asks on their behalf.
pub fn protect_with_access<S>(router: axum::Router<S>, auth: &AuthContext) -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let with_access = router.layer(axum::middleware::from_fn_with_state(
        auth.clone(),
        insert_access,
    ));
    crate::identity::protect(with_access, auth)
}

async fn insert_access(
    axum::extract::State(auth): axum::extract::State<AuthContext>,
    user: CurrentUser,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match auth.client_for(&user) {
        Ok(client) => {
            req.extensions_mut()
                .insert(crate::identity::UserClient(client.clone()));
            // What the layout shows of the signed-in user, for pages behind this layer.
            req.extensions_mut().insert(user.chrome());
            req.extensions_mut().insert(AccessContext {
                site: user.site.clone(),
                principal: Principal::from(&user),
                jira: Arc::new(client),
            });
            next.run(req).await
        }
        Err(e) => error_response_for_path(req.uri().path(), ApiError::internal(e)),
    }
}
