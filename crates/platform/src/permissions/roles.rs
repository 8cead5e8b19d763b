//! What the apps store about access, per site in the `platform` namespace:
//!
//! - `allowlist:<app>` — the app's admins: account ids and Jira group names ([`AllowList`]).
//! - `roles:<PROJECT>` — who is dispatcher / technician of a project ([`RoleAssignments`]):
//!   users set in the app, Jira groups, or everyone holding a Jira project permission
//!   (e.g. `ASSIGN_ISSUES` for dispatchers), see [`RoleSource`].
//!
//! Reads always go to the store (no cache), so a removal takes effect on the next request.
//! Writes are read-modify-write with a version check, retried on a concurrent change.

use serde::{Deserialize, Serialize};

use super::types::{ProjectKey, ProjectRole, validate_permission_key};
use crate::store::{AppNs, Condition, Kv, SiteId, Store, StoreError};

/// Namespace of the access data (and of the audit log).
pub const PLATFORM_NS: &str = "platform";

/// Longest group name or account id kept.
const MAX_NAME_LEN: usize = 255;
/// Most entries of one allow-list or one role.
const MAX_ENTRIES: usize = 500;
/// Attempts of a read-modify-write before giving up on concurrent writers.
const WRITE_ATTEMPTS: usize = 5;

/// Admins of one app: account ids and group names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowList {
    /// Account ids.
    #[serde(default)]
    pub users: Vec<String>,
    /// Jira group names.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// One way of holding a project role.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RoleSource {
    /// This account, set in the app.
    User {
        /// Account id.
        account_id: String,
    },
    /// Members of this Jira group.
    Group {
        /// Group name.
        name: String,
    },
    /// Everyone Jira grants this project permission in the project (e.g. `ASSIGN_ISSUES`),
    /// which maps Jira project roles through the project's permission scheme.
    JiraPermission {
        /// Permission key.
        key: String,
    },
}

/// The dispatchers and technicians of one project.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAssignments {
    /// Who is a dispatcher.
    #[serde(default)]
    pub dispatchers: Vec<RoleSource>,
    /// Who is a technician.
    #[serde(default)]
    pub technicians: Vec<RoleSource>,
}

impl RoleAssignments {
    /// The sources of `role`.
    pub fn of(&self, role: ProjectRole) -> &[RoleSource] {
        match role {
            ProjectRole::Dispatcher => &self.dispatchers,
            ProjectRole::Technician => &self.technicians,
        }
    }

    fn of_mut(&mut self, role: ProjectRole) -> &mut Vec<RoleSource> {
        match role {
            ProjectRole::Dispatcher => &mut self.dispatchers,
            ProjectRole::Technician => &mut self.technicians,
        }
    }
}

/// Why an access-data write was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccessDataError {
    /// The value is not acceptable (empty, too long, bad permission key, too many entries).
    #[error("{0}")]
    Invalid(String),
    /// The store failed (or other writers kept changing the entry).
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn check_name(what: &str, value: &str) -> Result<(), AccessDataError> {
    if value.trim().is_empty() || value.chars().count() > MAX_NAME_LEN || value.contains('\0') {
        return Err(AccessDataError::Invalid(format!(
            "{what} must be 1 to {MAX_NAME_LEN} characters"
        )));
    }
    Ok(())
}

fn check_source(source: &RoleSource) -> Result<(), AccessDataError> {
    match source {
        RoleSource::User { account_id } => check_name("account id", account_id),
        RoleSource::Group { name } => check_name("group name", name),
        RoleSource::JiraPermission { key } => {
            validate_permission_key(key).map_err(|e| AccessDataError::Invalid(e.to_string()))
        }
    }
}

/// Reads and writes the access data of one site.
#[derive(Clone, Debug)]
pub struct AccessData {
    kv: Kv,
}

impl AccessData {
    /// The access data of `site` in `store`.
    pub fn new(store: &Store, site: &SiteId) -> Self {
        Self {
            kv: store.kv(site, &platform_ns()),
        }
    }

    fn allow_key(app: &AppNs) -> String {
        format!("allowlist:{app}")
    }

    fn roles_key(project: &ProjectKey) -> String {
        format!("roles:{project}")
    }

    /// The allow-list of `app` (empty if none was saved).
    pub async fn allow_list(&self, app: &AppNs) -> Result<AllowList, StoreError> {
        Ok(self
            .kv
            .get(&Self::allow_key(app))
            .await?
            .unwrap_or_default())
    }

    /// The role assignments of `project` (empty if none were saved).
    pub async fn role_assignments(
        &self,
        project: &ProjectKey,
    ) -> Result<RoleAssignments, StoreError> {
        Ok(self
            .kv
            .get(&Self::roles_key(project))
            .await?
            .unwrap_or_default())
    }

    /// Adds an account id to the allow-list of `app` (no-op if present).
    pub async fn allow_user(&self, app: &AppNs, account_id: &str) -> Result<(), AccessDataError> {
        check_name("account id", account_id)?;
        self.update(&Self::allow_key(app), |list: &mut AllowList| {
            push_unique(&mut list.users, account_id.to_owned())
        })
        .await
    }

    /// Removes an account id from the allow-list of `app`.
    pub async fn disallow_user(
        &self,
        app: &AppNs,
        account_id: &str,
    ) -> Result<(), AccessDataError> {
        self.update(&Self::allow_key(app), |list: &mut AllowList| {
            list.users.retain(|u| u != account_id);
            Ok(())
        })
        .await
    }

    /// Adds a Jira group to the allow-list of `app`.
    pub async fn allow_group(&self, app: &AppNs, group: &str) -> Result<(), AccessDataError> {
        check_name("group name", group)?;
        self.update(&Self::allow_key(app), |list: &mut AllowList| {
            push_unique(&mut list.groups, group.to_owned())
        })
        .await
    }

    /// Removes a Jira group from the allow-list of `app`.
    pub async fn disallow_group(&self, app: &AppNs, group: &str) -> Result<(), AccessDataError> {
        self.update(&Self::allow_key(app), |list: &mut AllowList| {
            list.groups.retain(|g| g != group);
            Ok(())
        })
        .await
    }

    /// Adds a source of `role` in `project`.
    pub async fn assign(
        &self,
        project: &ProjectKey,
        role: ProjectRole,
        source: RoleSource,
    ) -> Result<(), AccessDataError> {
        check_source(&source)?;
        self.update(&Self::roles_key(project), |a: &mut RoleAssignments| {
            push_unique(a.of_mut(role), source.clone())
        })
        .await
    }

    /// Removes a source of `role` in `project`.
    pub async fn unassign(
        &self,
        project: &ProjectKey,
        role: ProjectRole,
        source: &RoleSource,
    ) -> Result<(), AccessDataError> {
        self.update(&Self::roles_key(project), |a: &mut RoleAssignments| {
            a.of_mut(role).retain(|s| s != source);
            Ok(())
        })
        .await
    }

    async fn update<T, F>(&self, key: &str, mut change: F) -> Result<(), AccessDataError>
    where
        T: Default + Serialize + serde::de::DeserializeOwned,
        F: FnMut(&mut T) -> Result<(), AccessDataError>,
    {
        let mut last = None;
        for _ in 0..WRITE_ATTEMPTS {
            let entry = self.kv.get_entry::<T>(key).await?;
            let (mut value, condition) = match entry {
                Some(e) => (e.value, Condition::VersionEquals(e.version)),
                None => (T::default(), Condition::Absent),
            };
            change(&mut value)?;
            match self
                .kv
                .transaction()
                .check(key, condition)
                .set(key, &value)
                .commit()
                .await
            {
                Ok(_) => return Ok(()),
                Err(e @ StoreError::ConditionFailed { .. }) => last = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last.map_or_else(
            || AccessDataError::Invalid("the entry kept changing".into()),
            AccessDataError::Store,
        ))
    }
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) -> Result<(), AccessDataError> {
    if list.contains(&item) {
        return Ok(());
    }
    if list.len() >= MAX_ENTRIES {
        return Err(AccessDataError::Invalid(format!(
            "a list holds at most {MAX_ENTRIES} entries"
        )));
    }
    list.push(item);
    Ok(())
}

/// The `platform` namespace as an [`AppNs`].
pub fn platform_ns() -> AppNs {
    #[allow(clippy::expect_used)]
    AppNs::new(PLATFORM_NS).expect("\"platform\" is a valid namespace (a constant)")
}
