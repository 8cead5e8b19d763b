//! Plain value types of the permission model: principals, project keys, roles,
//! requirements, grants and typed denials.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::store::{AppNs, SiteId};

/// A Jira project key, e.g. `FS`: an upper-case letter followed by up to 63 upper-case
/// letters, digits or `_` (Jira's default key pattern, with a generous length).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectKey(String);

/// Why a string is not a [`ProjectKey`] (or a Jira permission key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is not valid: {reason}")]
pub struct InvalidKey {
    /// What was being parsed (`project key`, `permission key`).
    pub what: &'static str,
    /// Why it was refused.
    pub reason: String,
}

impl ProjectKey {
    /// Longest accepted key.
    pub const MAX_LEN: usize = 64;

    /// Parses a project key.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidKey> {
        let value = value.into();
        let bad = |reason: String| InvalidKey {
            what: "project key",
            reason,
        };
        let mut chars = value.chars();
        match chars.next() {
            None => return Err(bad("it is empty".into())),
            Some(c) if !c.is_ascii_uppercase() => {
                return Err(bad("it must start with a letter A-Z".into()));
            }
            Some(_) => {}
        }
        if value.len() > Self::MAX_LEN {
            return Err(bad(format!(
                "it is longer than {} characters",
                Self::MAX_LEN
            )));
        }
        if let Some(c) =
            chars.find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_'))
        {
            return Err(bad(format!(
                "it contains {c:?}; allowed are A-Z, 0-9 and '_'"
            )));
        }
        Ok(Self(value))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ProjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProjectKey({:?})", self.0)
    }
}

impl TryFrom<String> for ProjectKey {
    type Error = InvalidKey;
    fn try_from(s: String) -> Result<Self, InvalidKey> {
        Self::new(s)
    }
}

impl From<ProjectKey> for String {
    fn from(k: ProjectKey) -> String {
        k.0
    }
}

/// Checks a Jira permission key such as `ADMINISTER_PROJECTS`: 1–64 of `[A-Z0-9_]`.
pub fn validate_permission_key(key: &str) -> Result<(), InvalidKey> {
    let ok = !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(InvalidKey {
            what: "permission key",
            reason: "use 1 to 64 of A-Z, 0-9 and '_'".into(),
        })
    }
}

/// Who is asking: a signed-in Atlassian user, or an API key (a machine principal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A user signed in to jsmkit with their Atlassian account on `site`.
    User {
        /// The site the session belongs to.
        site: SiteId,
        /// Atlassian account id.
        account_id: String,
        /// Name shown in the UI and the audit log.
        display_name: String,
    },
    /// An API key of `site` with the scopes it was issued with. API keys never hold user
    /// roles (admin, dispatcher, …); they satisfy only [`Requirement::ApiScope`].
    ApiKey {
        /// The site the key belongs to.
        site: SiteId,
        /// The key's public id (never the secret).
        id: String,
        /// What the key may do, e.g. `assets-sql:export`.
        scopes: BTreeSet<String>,
    },
}

impl Principal {
    /// The site this principal belongs to.
    pub fn site(&self) -> &SiteId {
        match self {
            Principal::User { site, .. } | Principal::ApiKey { site, .. } => site,
        }
    }

    /// Account id of a user, key id of an API key.
    pub fn id(&self) -> &str {
        match self {
            Principal::User { account_id, .. } => account_id,
            Principal::ApiKey { id, .. } => id,
        }
    }

    /// Name to show: the user's display name, or `API key <id>`.
    pub fn display(&self) -> String {
        match self {
            Principal::User { display_name, .. } => display_name.clone(),
            Principal::ApiKey { id, .. } => format!("API key {id}"),
        }
    }
}

/// A per-project role set in the app (or mapped from Jira), see
/// [`RoleSource`](super::RoleSource).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectRole {
    /// Plans and assigns field work (DispatchDesk).
    Dispatcher,
    /// Does the work (TechDesk, DispatchDesk).
    Technician,
}

impl ProjectRole {
    /// Stable lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProjectRole::Dispatcher => "dispatcher",
            ProjectRole::Technician => "technician",
        }
    }
}

/// The roles of the model. A signed-in user with none of the others is a [`Role::Viewer`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Jira global `ADMINISTER`.
    SiteAdmin,
    /// On the allow-list of an app (users and groups kept in the store, per app).
    AppAdmin(AppNs),
    /// Jira `ADMINISTER_PROJECTS` on that project.
    ProjectAdmin(ProjectKey),
    /// Dispatcher of a project.
    Dispatcher(ProjectKey),
    /// Technician of a project.
    Technician(ProjectKey),
    /// Signed in, nothing more.
    Viewer,
}

/// What a route or function needs. Checked by
/// [`Authorizer::require`](super::Authorizer::require).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// A signed-in user of this site.
    SignedIn,
    /// Jira global `ADMINISTER`.
    SiteAdmin,
    /// Site admin, or `ADMINISTER_PROJECTS` on *this* project (asked for this project).
    ProjectAdmin(ProjectKey),
    /// Site admin, or on the app's allow-list (directly or through a group).
    AppAdmin(AppNs),
    /// Dispatcher of the project (assigned in the app or mapped from Jira).
    Dispatcher(ProjectKey),
    /// Technician of the project (assigned in the app or mapped from Jira).
    Technician(ProjectKey),
    /// Site admin; or project admin of the project *and* on the app's allow-list.
    AdminOf(AppNs, ProjectKey),
    /// An API key carrying this scope (users never satisfy it).
    ApiScope(String),
    /// Used by [`check_write_on_behalf`](super::check_write_on_behalf): the user holds a
    /// Jira permission on an issue.
    IssuePermission {
        /// Issue id (numeric, as `/permissions/check` wants it).
        issue_id: i64,
        /// Permission key, e.g. `EDIT_ISSUES`.
        permission: String,
    },
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::SignedIn => f.write_str("signed in"),
            Requirement::SiteAdmin => f.write_str("site admin"),
            Requirement::ProjectAdmin(p) => write!(f, "project admin of {p}"),
            Requirement::AppAdmin(a) => write!(f, "app admin of {a}"),
            Requirement::Dispatcher(p) => write!(f, "dispatcher of {p}"),
            Requirement::Technician(p) => write!(f, "technician of {p}"),
            Requirement::AdminOf(a, p) => write!(f, "admin of {a} for project {p}"),
            Requirement::ApiScope(s) => write!(f, "API scope {s}"),
            Requirement::IssuePermission {
                issue_id,
                permission,
            } => write!(f, "{permission} on issue {issue_id}"),
        }
    }
}

/// How a requirement was met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A signed-in user of the site.
    SignedIn,
    /// Jira global `ADMINISTER`.
    SiteAdmin,
    /// Jira `ADMINISTER_PROJECTS` on the project.
    ProjectAdmin,
    /// Listed by account id on the app's allow-list.
    AllowListUser,
    /// Member of this group on the app's allow-list.
    AllowListGroup(String),
    /// A role assignment of the project.
    Assignment(super::RoleSource),
    /// The API key carries the scope.
    ApiScope,
    /// Jira granted the permission on the issue.
    JiraIssuePermission,
}

/// Proof that a requirement was met (log it, or record it in the audit log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// What was required.
    pub requirement: Requirement,
    /// How it was met.
    pub via: Via,
}

/// A Jira call that could not answer a permission question. Either way the answer is "no".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JiraCheckError {
    /// No answer within the authorizer's time limit.
    #[error("Jira did not answer in time")]
    Timeout,
    /// Jira answered with an error (the client's message: operation and status, no secrets).
    #[error("Jira failed: {0}")]
    Failed(String),
}

/// Why access was refused. [`DenyReason::public_message`] is safe to show to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DenyReason {
    /// Not signed in (or the principal is not a user where a user is needed).
    NotSignedIn,
    /// The principal belongs to another site.
    OtherSite,
    /// API keys never hold user roles.
    MachinePrincipal,
    /// The API key lacks the scope.
    MissingScope(String),
    /// A user, but not a Jira administrator.
    NotSiteAdmin,
    /// No `ADMINISTER_PROJECTS` on that project.
    NotProjectAdmin(ProjectKey),
    /// Not on the app's allow-list.
    NotAppAdmin(AppNs),
    /// No assignment for the role in that project.
    NoProjectRole(ProjectRole, ProjectKey),
    /// Jira refused the permission on the issue.
    NoIssuePermission {
        /// Issue id.
        issue_id: i64,
        /// Permission key.
        permission: String,
    },
    /// Jira failed or timed out: deny (fail closed).
    JiraUnavailable(JiraCheckError),
    /// The app store failed while reading the allow-list or assignments: deny.
    StoreUnavailable,
}

impl DenyReason {
    /// A message for the user; never carries internal causes.
    pub fn public_message(&self) -> String {
        match self {
            DenyReason::NotSignedIn => "sign in to continue".into(),
            DenyReason::OtherSite => "your session belongs to another Atlassian site".into(),
            DenyReason::MachinePrincipal => "API keys cannot use this function".into(),
            DenyReason::MissingScope(s) => format!("this API key lacks the scope {s}"),
            DenyReason::NotSiteAdmin => "only Jira administrators may do this".into(),
            DenyReason::NotProjectAdmin(p) => {
                format!("only administrators of project {p} may do this")
            }
            DenyReason::NotAppAdmin(a) => format!("only administrators of {a} may do this"),
            DenyReason::NoProjectRole(r, p) => {
                format!("only {}s of project {p} may do this", r.as_str())
            }
            DenyReason::NoIssuePermission {
                issue_id,
                permission,
            } => format!("you lack the Jira permission {permission} on issue {issue_id}"),
            DenyReason::JiraUnavailable(JiraCheckError::Timeout) => {
                "Jira did not answer the permission check in time; try again".into()
            }
            DenyReason::JiraUnavailable(JiraCheckError::Failed(_)) => {
                "Jira could not confirm your permissions; try again".into()
            }
            DenyReason::StoreUnavailable => {
                "your permissions could not be read right now; try again".into()
            }
        }
    }

    /// Stable machine-readable code, e.g. `not_project_admin`.
    pub const fn code(&self) -> &'static str {
        match self {
            DenyReason::NotSignedIn => "not_signed_in",
            DenyReason::OtherSite => "other_site",
            DenyReason::MachinePrincipal => "machine_principal",
            DenyReason::MissingScope(_) => "missing_scope",
            DenyReason::NotSiteAdmin => "not_site_admin",
            DenyReason::NotProjectAdmin(_) => "not_project_admin",
            DenyReason::NotAppAdmin(_) => "not_app_admin",
            DenyReason::NoProjectRole(..) => "no_project_role",
            DenyReason::NoIssuePermission { .. } => "no_issue_permission",
            DenyReason::JiraUnavailable(JiraCheckError::Timeout) => "jira_timeout",
            DenyReason::JiraUnavailable(JiraCheckError::Failed(_)) => "jira_error",
            DenyReason::StoreUnavailable => "store_unavailable",
        }
    }
}

/// Access refused: what was required and why not.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("denied ({requirement}): {}", reason.code())]
pub struct Denied {
    /// What was required.
    pub requirement: Requirement,
    /// Why it was refused.
    pub reason: DenyReason,
}

impl Denied {
    /// A denial of `requirement` for `reason`.
    pub fn new(requirement: Requirement, reason: DenyReason) -> Self {
        Self {
            requirement,
            reason,
        }
    }
}

/// The signed-in user of a session as a principal (glue for `platform::identity`).
impl From<&crate::identity::CurrentUser> for Principal {
    fn from(user: &crate::identity::CurrentUser) -> Self {
        Principal::User {
            site: user.site.clone(),
            account_id: user.account_id.clone(),
            display_name: user.display_name.clone(),
        }
    }
}
