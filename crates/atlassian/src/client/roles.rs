//! Jira project roles (`/rest/api/3/project/{projectIdOrKey}/role[/{id}]`). Reading them
//! needs *Administer Projects* on the project or *Administer Jira*.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::{Error, Result};
use super::http::{AtlassianClient, Call, Op};

static PROJECT_ROLES: Op = Op::get(
    "jira.project_roles",
    "/rest/api/3/project/{projectIdOrKey}/role",
);
static PROJECT_ROLE: Op = Op::get(
    "jira.project_role",
    "/rest/api/3/project/{projectIdOrKey}/role/{id}",
);

/// Every operation of this module (see [`super::operations`]).
pub(crate) static OPS: &[&Op] = &[&PROJECT_ROLES, &PROJECT_ROLE];

/// The user behind a user actor.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleActorUser {
    /// Account id.
    pub account_id: String,
}

/// The group behind a group actor.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleActorGroup {
    /// Group name.
    pub name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Group id (prefer it: names can change).
    pub group_id: Option<String>,
}

/// One actor of a project role: a user or a group.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleActor {
    /// Actor id.
    pub id: Option<i64>,
    /// Display name (user or group).
    pub display_name: Option<String>,
    /// `atlassian-user-role-actor` or `atlassian-group-role-actor`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Set for user actors.
    pub actor_user: Option<RoleActorUser>,
    /// Set for group actors.
    pub actor_group: Option<RoleActorGroup>,
}

impl RoleActor {
    /// The account id of a user actor.
    pub fn account_id(&self) -> Option<&str> {
        self.actor_user.as_ref().map(|u| u.account_id.as_str())
    }
}

/// A project role with its actors.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectRole {
    /// Role id.
    pub id: u64,
    /// Role name.
    #[serde(default)]
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Users and groups in the role (sorted by display name).
    #[serde(default)]
    pub actors: Vec<RoleActor>,
}

/// The role id at the end of a role URL (`…/role/10002`).
pub fn role_id_from_url(url: &str) -> Option<u64> {
    url.trim_end_matches('/').rsplit('/').next()?.parse().ok()
}

impl AtlassianClient {
    /// The roles of a project as `(name, id)`, sorted by name.
    pub async fn project_roles(&self, project_key: &str) -> Result<Vec<(String, u64)>> {
        let map: BTreeMap<String, String> = self
            .json(Call::new(&PROJECT_ROLES).arg(project_key))
            .await?;
        map.into_iter()
            .map(|(name, url)| match role_id_from_url(&url) {
                Some(id) => Ok((name, id)),
                None => Err(Error::Decode {
                    op: PROJECT_ROLES.name,
                    reason: format!("role {name:?} has no id in its URL"),
                }),
            })
            .collect()
    }

    /// One project role with its actors (users and groups).
    pub async fn project_role(&self, project_key: &str, role_id: u64) -> Result<ProjectRole> {
        self.json(
            Call::new(&PROJECT_ROLE)
                .arg(project_key)
                .arg(role_id.to_string()),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_ids_come_from_urls() {
        assert_eq!(
            role_id_from_url("https://x.atlassian.net/rest/api/3/project/10000/role/10002"),
            Some(10002)
        );
        assert_eq!(role_id_from_url("https://x/role/"), None);
        assert_eq!(role_id_from_url("https://x/role/abc"), None);
    }

    #[test]
    fn actors_deserialize() {
        let role: ProjectRole = serde_json::from_value(serde_json::json!({
            "id": 10002, "name": "Technicians", "actors": [
                {"id": 1, "displayName": "Ann", "type": "atlassian-user-role-actor",
                 "actorUser": {"accountId": "a1"}},
                {"id": 2, "displayName": "technicians", "type": "atlassian-group-role-actor",
                 "actorGroup": {"name": "technicians", "groupId": "g1"}}
            ]
        }))
        .unwrap();
        assert_eq!(role.actors[0].account_id(), Some("a1"));
        assert_eq!(role.actors[1].account_id(), None);
        assert_eq!(
            role.actors[1]
                .actor_group
                .as_ref()
                .and_then(|g| g.group_id.as_deref()),
            Some("g1")
        );
    }
}
