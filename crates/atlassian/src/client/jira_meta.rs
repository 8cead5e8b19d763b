//! Jira platform REST v3: users, groups, projects, statuses, fields,
//! permissions.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::Result;
use super::http::{AtlassianClient, Call, Op};
use super::paging::{self, Paged};

static MYSELF: Op = Op::get("jira.myself", "/rest/api/3/myself");
static USER_SEARCH: Op = Op::get("jira.user_search", "/rest/api/3/user/search");
static ASSIGNABLE: Op = Op::get(
    "jira.assignable_search",
    "/rest/api/3/user/assignable/search",
);
static GROUP_MEMBER: Op = Op::get("jira.group_member", "/rest/api/3/group/member");
static PROJECT_SEARCH: Op = Op::get("jira.project_search", "/rest/api/3/project/search");
static PROJECT: Op = Op::get("jira.project", "/rest/api/3/project/{projectIdOrKey}");
static PROJECT_STATUSES: Op = Op::get(
    "jira.project_statuses",
    "/rest/api/3/project/{projectIdOrKey}/statuses",
);
static STATUS_SEARCH: Op = Op::get("jira.statuses_search", "/rest/api/3/statuses/search");
static FIELDS: Op = Op::get("jira.fields", "/rest/api/3/field");
static USER_PROPERTY: Op = Op::get(
    "jira.user_property",
    "/rest/api/3/user/properties/{propertyKey}",
);
static MY_PERMISSIONS: Op = Op::get("jira.my_permissions", "/rest/api/3/mypermissions");
static PERMISSIONS_CHECK: Op =
    Op::post_read("jira.permissions_check", "/rest/api/3/permissions/check");

/// Every operation of this module (see [`super::operations`]).
pub(crate) static OPS: &[&Op] = &[
    &USER_PROPERTY,
    &MYSELF,
    &USER_SEARCH,
    &ASSIGNABLE,
    &GROUP_MEMBER,
    &PROJECT_SEARCH,
    &PROJECT,
    &PROJECT_STATUSES,
    &STATUS_SEARCH,
    &FIELDS,
    &MY_PERMISSIONS,
    &PERMISSIONS_CHECK,
];

/// Page size of the legacy user searches.
const USER_PAGE: u64 = 50;
/// Largest page the legacy user endpoints serve. Their bare arrays end a stream at the
/// first short page, so asking for more than the server gives would end it early.
const USER_PAGE_MAX: u64 = 1000;

/// An Atlassian account as Jira shows it (email often hidden by privacy settings).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Account id.
    pub account_id: String,
    /// `atlassian`, `app` or `customer`.
    pub account_type: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Email, if visible.
    pub email_address: Option<String>,
    /// Whether the account is active.
    pub active: Option<bool>,
    /// IANA time zone.
    pub time_zone: Option<String>,
}

/// Whose assignable users to list.
#[derive(Debug, Clone)]
pub enum AssignableScope {
    /// Users assignable to issues of a project (key or id).
    Project(String),
    /// Users assignable to one issue.
    Issue(String),
}

/// A group, by name or (preferred) id.
#[derive(Debug, Clone)]
pub enum GroupRef {
    /// Group name (`groupname`).
    Name(String),
    /// Group id (`groupId`).
    Id(String),
}

/// A project.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// Project id.
    pub id: String,
    /// Project key.
    pub key: String,
    /// Name.
    pub name: Option<String>,
    /// `software`, `service_desk`, `business`.
    pub project_type_key: Option<String>,
    /// Team-managed project.
    pub simplified: Option<bool>,
}

/// A status.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Status id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Category: a key string (`/statuses/search`) or an object (`/project/{key}/statuses`).
    pub status_category: Option<Value>,
}

/// Statuses of one issue type of a project.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueTypeStatuses {
    /// Issue type id.
    pub id: String,
    /// Issue type name.
    pub name: Option<String>,
    /// Sub-task type.
    pub subtask: Option<bool>,
    /// Its statuses.
    #[serde(default)]
    pub statuses: Vec<Status>,
}

/// A field (system or custom).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    /// Field id (`summary`, `customfield_10010`).
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Custom field.
    pub custom: Option<bool>,
    /// Schema (`type`, `items`, `custom`), raw.
    pub schema: Option<Value>,
    /// JQL names.
    #[serde(default)]
    pub clause_names: Vec<String>,
}

/// Where to evaluate `/mypermissions`.
#[derive(Debug, Clone)]
pub enum PermissionScope {
    /// Global only.
    Global,
    /// In a project (key).
    Project(String),
    /// On an issue (key).
    Issue(String),
}

/// One permission as `/mypermissions` reports it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionState {
    /// Permission key.
    pub key: Option<String>,
    /// Whether the caller has it.
    #[serde(default)]
    pub have_permission: bool,
}

#[derive(Deserialize)]
struct MyPermissions {
    #[serde(default)]
    permissions: HashMap<String, PermissionState>,
}

/// Body of `POST /permissions/check`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionCheck {
    /// Whose permissions (default: the caller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Global permission keys.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub global_permissions: Vec<String>,
    /// Project/issue permission queries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub project_permissions: Vec<ProjectPermissionQuery>,
}

/// Project permissions to check on projects and/or issues (numeric ids).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectPermissionQuery {
    /// Permission keys.
    pub permissions: Vec<String>,
    /// Project ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<i64>,
    /// Issue ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<i64>,
}

/// Answer of `POST /permissions/check`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionGrants {
    /// Granted global permissions.
    #[serde(default)]
    pub global_permissions: Vec<String>,
    /// Granted project permissions.
    #[serde(default)]
    pub project_permissions: Vec<ProjectPermissionGrant>,
}

/// Where one project permission is granted.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectPermissionGrant {
    /// Permission key.
    pub permission: String,
    /// Project ids.
    #[serde(default)]
    pub projects: Vec<i64>,
    /// Issue ids.
    #[serde(default)]
    pub issues: Vec<i64>,
}

impl AtlassianClient {
    /// The value of a user's entity property (`None` when the user has no such property).
    pub async fn user_property(&self, account_id: &str, key: &str) -> Result<Option<Value>> {
        #[derive(Deserialize)]
        struct Property {
            value: Option<Value>,
        }
        let call = Call::new(&USER_PROPERTY)
            .arg(key)
            .query("accountId", account_id);
        match self.json::<Property>(call).await {
            Ok(p) => Ok(p.value),
            Err(super::error::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The calling user.
    pub async fn myself(&self) -> Result<User> {
        self.json(Call::new(&MYSELF)).await
    }

    /// Users matching `query` (legacy offset pages, bare arrays).
    pub fn user_search(&self, query: &str) -> Paged<User> {
        let query = query.to_owned();
        let page = self.page_size(USER_PAGE).min(USER_PAGE_MAX);
        paging::legacy(self, page, move |start| {
            Call::new(&USER_SEARCH)
                .query("query", &query)
                .query("startAt", start)
                .query("maxResults", page)
        })
    }

    /// Users assignable in a project or on an issue, optionally filtered.
    pub fn assignable_users(&self, scope: AssignableScope, query: Option<&str>) -> Paged<User> {
        let query = query.map(str::to_owned);
        let page = self.page_size(USER_PAGE).min(USER_PAGE_MAX);
        paging::legacy(self, page, move |start| {
            let call = match &scope {
                AssignableScope::Project(p) => Call::new(&ASSIGNABLE).query("project", p),
                AssignableScope::Issue(i) => Call::new(&ASSIGNABLE).query("issueKey", i),
            };
            call.query_opt("query", query.as_ref())
                .query("startAt", start)
                .query("maxResults", page)
        })
    }

    /// Members of a group (offset pages).
    pub fn group_members(&self, group: GroupRef, include_inactive: bool) -> Paged<User> {
        let page = self.page_size(50);
        paging::offset(self, move |start| {
            let call = match &group {
                GroupRef::Name(n) => Call::new(&GROUP_MEMBER).query("groupname", n),
                GroupRef::Id(i) => Call::new(&GROUP_MEMBER).query("groupId", i),
            };
            call.query("includeInactiveUsers", include_inactive)
                .query("startAt", start)
                .query("maxResults", page)
        })
    }

    /// Projects visible to the caller, optionally filtered by text (offset pages).
    pub fn projects(&self, query: Option<&str>) -> Paged<Project> {
        let query = query.map(str::to_owned);
        let page = self.page_size(50);
        paging::offset(self, move |start| {
            Call::new(&PROJECT_SEARCH)
                .query_opt("query", query.as_ref())
                .query("startAt", start)
                .query("maxResults", page)
        })
    }

    /// One project by key or id.
    pub async fn project(&self, key: &str) -> Result<Project> {
        self.json(Call::new(&PROJECT).arg(key)).await
    }

    /// Statuses of each issue type of a project.
    pub async fn project_statuses(&self, key: &str) -> Result<Vec<IssueTypeStatuses>> {
        self.json(Call::new(&PROJECT_STATUSES).arg(key)).await
    }

    /// Statuses, optionally of one project (by id), page by page.
    pub fn statuses(&self, project_id: Option<&str>) -> Paged<Status> {
        let project_id = project_id.map(str::to_owned);
        let page = self.page_size(200);
        paging::offset(self, move |start| {
            Call::new(&STATUS_SEARCH)
                .query_opt("projectId", project_id.as_ref())
                .query("startAt", start)
                .query("maxResults", page)
        })
    }

    /// All fields.
    pub async fn fields(&self) -> Result<Vec<Field>> {
        self.json(Call::new(&FIELDS)).await
    }

    /// The caller's permissions (keys required by Jira) in a scope.
    pub async fn my_permissions(
        &self,
        scope: PermissionScope,
        permissions: &[&str],
    ) -> Result<HashMap<String, PermissionState>> {
        let call = match scope {
            PermissionScope::Global => Call::new(&MY_PERMISSIONS),
            PermissionScope::Project(p) => Call::new(&MY_PERMISSIONS).query("projectKey", p),
            PermissionScope::Issue(i) => Call::new(&MY_PERMISSIONS).query("issueKey", i),
        };
        let call = call.query("permissions", permissions.join(","));
        Ok(self.json::<MyPermissions>(call).await?.permissions)
    }

    /// Bulk permission check (read-only POST, retried).
    pub async fn check_permissions(&self, check: &PermissionCheck) -> Result<PermissionGrants> {
        let body = serde_json::to_value(check).unwrap_or(Value::Null);
        self.json(Call::new(&PERMISSIONS_CHECK).json(body)).await
    }
}
