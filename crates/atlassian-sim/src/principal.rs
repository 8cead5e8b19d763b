//! Who is calling the simulator. The authentication middleware (basic auth with email + API
//! token, or an OAuth bearer token) puts an [`AuthedUser`] into the request's extensions;
//! every handler reads it with `axum::Extension<AuthedUser>` and applies the same permission
//! rules the real cloud applies.

/// The authenticated caller of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthedUser {
    /// The site (cloudId) the request is bound to.
    pub cloud_id: String,
    /// The caller's Atlassian account id.
    pub account_id: String,
    /// How the caller authenticated.
    pub via: AuthMethod,
}

/// How a request was authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// `Authorization: Basic base64(email:api_token)` against the site URL.
    Basic,
    /// `Authorization: Bearer <access token>` from the OAuth 2.0 (3LO) flow, with the scopes
    /// the token was granted.
    OAuth { scopes: Vec<String> },
}
