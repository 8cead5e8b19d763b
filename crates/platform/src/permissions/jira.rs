//! The Jira questions the permission model asks, as two small traits so that unit tests can
//! use fakes; both are implemented over [`AtlassianClient`].

use std::collections::BTreeSet;

use async_trait::async_trait;
use atlassian::client::{
    AtlassianClient, Error as ClientError, GroupRef, PermissionCheck, PermissionScope,
    ProjectPermissionQuery,
};
use futures_util::StreamExt;

use super::types::{JiraCheckError, ProjectKey};

/// Permission questions asked *as the user* (a client holding that user's token).
#[async_trait]
pub trait JiraPermissions: Send + Sync {
    /// Which of the global permissions `keys` the user holds
    /// (`GET /rest/api/3/mypermissions?permissions=…`).
    async fn global_permissions(&self, keys: &[&str]) -> Result<BTreeSet<String>, JiraCheckError>;

    /// Which of `keys` the user holds in `project`, asked for that project
    /// (`GET /rest/api/3/mypermissions?projectKey=…&permissions=…`), never the global
    /// context.
    async fn project_permissions(
        &self,
        project: &ProjectKey,
        keys: &[&str],
    ) -> Result<BTreeSet<String>, JiraCheckError>;

    /// Whether `account_id` is an active member of the group named `group`
    /// (`GET /rest/api/3/group/member`). A group that does not exist has no members.
    async fn is_group_member(&self, group: &str, account_id: &str) -> Result<bool, JiraCheckError>;
}

/// Permission questions about *another* user, asked with the app's credentials
/// (`POST /rest/api/3/permissions/check` with `accountId`).
#[async_trait]
pub trait UserPermissionCheck: Send + Sync {
    /// Which of `keys` `account_id` holds on the issue with id `issue_id`.
    async fn issue_permissions(
        &self,
        account_id: &str,
        issue_id: i64,
        keys: &[&str],
    ) -> Result<BTreeSet<String>, JiraCheckError>;
}

fn failed(err: &ClientError) -> JiraCheckError {
    match err {
        ClientError::Timeout { .. } => JiraCheckError::Timeout,
        // The client's messages name the operation and status, never a token or URL.
        other => JiraCheckError::Failed(other.to_string()),
    }
}

#[async_trait]
impl JiraPermissions for AtlassianClient {
    async fn global_permissions(&self, keys: &[&str]) -> Result<BTreeSet<String>, JiraCheckError> {
        let map = self
            .my_permissions(PermissionScope::Global, keys)
            .await
            .map_err(|e| failed(&e))?;
        Ok(held(map, keys))
    }

    async fn project_permissions(
        &self,
        project: &ProjectKey,
        keys: &[&str],
    ) -> Result<BTreeSet<String>, JiraCheckError> {
        let map = self
            .my_permissions(PermissionScope::Project(project.as_str().to_owned()), keys)
            .await
            .map_err(|e| failed(&e))?;
        Ok(held(map, keys))
    }

    async fn is_group_member(&self, group: &str, account_id: &str) -> Result<bool, JiraCheckError> {
        let mut members = self.group_members(GroupRef::Name(group.to_owned()), false);
        while let Some(member) = members.next().await {
            match member {
                Ok(user) if user.account_id == account_id => return Ok(true),
                Ok(_) => {}
                Err(ClientError::NotFound { .. }) => {
                    tracing::warn!(group, "allow-listed group does not exist in Jira");
                    return Ok(false);
                }
                Err(e) => return Err(failed(&e)),
            }
        }
        Ok(false)
    }
}

/// The keys of `map` that are both asked for and held.
fn held(
    map: std::collections::HashMap<String, atlassian::client::PermissionState>,
    keys: &[&str],
) -> BTreeSet<String> {
    map.into_iter()
        .filter(|(k, state)| state.have_permission && keys.contains(&k.as_str()))
        .map(|(k, _)| k)
        .collect()
}

#[async_trait]
impl UserPermissionCheck for AtlassianClient {
    async fn issue_permissions(
        &self,
        account_id: &str,
        issue_id: i64,
        keys: &[&str],
    ) -> Result<BTreeSet<String>, JiraCheckError> {
        let check = PermissionCheck {
            account_id: Some(account_id.to_owned()),
            global_permissions: Vec::new(),
            project_permissions: vec![ProjectPermissionQuery {
                permissions: keys.iter().map(|k| (*k).to_owned()).collect(),
                projects: Vec::new(),
                issues: vec![issue_id],
            }],
        };
        let grants = self
            .check_permissions(&check)
            .await
            .map_err(|e| failed(&e))?;
        Ok(grants
            .project_permissions
            .into_iter()
            .filter(|g| g.issues.contains(&issue_id) && keys.contains(&g.permission.as_str()))
            .map(|g| g.permission)
            .collect())
    }
}
