//! Who may do what: roles, the three-tier admin check, and writes on a user's behalf.
//!
//! # Roles
//!
//! | role | where it comes from |
//! | --- | --- |
//! | site admin | Jira global `ADMINISTER` |
//! | app admin | the app's allow-list (users and Jira groups) in the store; site admins always pass |
//! | project admin | Jira `ADMINISTER_PROJECTS`, asked for that project |
//! | dispatcher / technician | per project, assigned in the app: a user, a Jira group, or everyone holding a Jira project permission (which is how Jira project roles map through the permission scheme) |
//! | viewer | signed in, nothing else |
//!
//! API keys are machine principals ([`Principal::ApiKey`]): they only satisfy
//! [`Requirement::ApiScope`] and never a user role.
//!
//! # Using it
//!
//! ```text
//! // in AppState: one Authorizer for the process
//! let authorizer = Authorizer::new(store.clone());
//! // in a handler: AccessContext is inserted by the identity layer
//! async fn save(State(s): State<AppState>, ctx: AccessContext, ...) -> Result<_, ApiError> {
//!     let grant = ctx.require(&s.authorizer, &Requirement::AdminOf(app, project)).await?; // 401/403
//!     ...
//! }
//! ```
//!
//! Every Jira error or time-out denies (fail closed) with a typed [`DenyReason`], logged.
//! Jira answers are cached for at most 60 s per (site, user, question); the allow-list and
//! role assignments are read from the store on every check.

mod authorizer;
mod jira;
mod on_behalf;
mod roles;
mod types;
mod web;

#[cfg(test)]
mod tests;

pub use authorizer::{Authorizer, DEFAULT_JIRA_TIMEOUT, MAX_CACHE_TTL};
pub use jira::{JiraPermissions, UserPermissionCheck};
pub use on_behalf::check_write_on_behalf;
pub use roles::{
    AccessData, AccessDataError, AllowList, PLATFORM_NS, RoleAssignments, RoleSource, platform_ns,
};
pub use types::{
    Denied, DenyReason, Grant, InvalidKey, JiraCheckError, Principal, ProjectKey, ProjectRole,
    Requirement, Role, Via, validate_permission_key,
};
pub use web::{AccessContext, protect_with_access};
