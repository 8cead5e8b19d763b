//! Project roles (`/rest/api/3/project/{projectIdOrKey}/role[/{id}]`), following
//! `jira-platform-v3.openapi.json`. Roles are shared by every project of the site (as in
//! Jira Cloud), so a role's id comes from its name's place among all role names.
//! Reading them needs *Administer Projects* on the project or *Administer Jira*; anyone else
//! gets the same 404 as for a project that does not exist.

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use serde_json::{Map, Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::model::{Actor, Model, Project};
use crate::principal::AuthedUser;

/// First role id.
const FIRST_ROLE_ID: u64 = 10_002;

/// `(id, name)` of every role of the site, names in byte order.
pub fn role_ids(m: &Model) -> Vec<(u64, String)> {
    let names: BTreeSet<&String> = m.projects.iter().flat_map(|p| p.roles.keys()).collect();
    names
        .into_iter()
        .zip(FIRST_ROLE_ID..)
        .map(|(n, id)| (id, n.clone()))
        .collect()
}

fn admin_project<'a>(m: &'a Model, u: &AuthedUser, key: &str) -> ApiResult<&'a Project> {
    // Jira matches the key case-sensitively here ("The project ID or project key (case
    // sensitive)").
    m.projects
        .iter()
        .find(|p| p.id == key || p.key == key)
        .filter(|p| {
            m.is_admin(&u.account_id)
                || m.has_project_permission(&u.account_id, p, "ADMINISTER_PROJECTS")
        })
        .ok_or_else(|| ApiError::not_found(format!("No project could be found with key '{key}'.")))
}

fn role_url(m: &Model, p: &Project, id: u64) -> String {
    format!("{}/rest/api/3/project/{}/role/{id}", m.site.url, p.id)
}

/// `GET /rest/api/3/project/{projectIdOrKey}/role`: role name → URL.
pub(super) async fn project_roles(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let p = admin_project(&m, &u, &key)?;
    let out: Map<String, Value> = role_ids(&m)
        .into_iter()
        .filter(|(_, n)| p.roles.contains_key(n))
        .map(|(id, n)| (n, json!(role_url(&m, p, id))))
        .collect();
    Ok(Json(Value::Object(out)))
}

fn actor_json(m: &Model, n: usize, a: &Actor) -> Option<(String, Value)> {
    let id = n as u64 + 1;
    match a {
        Actor::User(acc) => {
            let u = m.user(acc)?;
            Some((
                u.display_name.clone(),
                json!({"id": id, "displayName": u.display_name, "type": "atlassian-user-role-actor",
                       "actorUser": {"accountId": u.account_id}}),
            ))
        }
        Actor::Group(g) => {
            let group = m.groups.get(g);
            let gid = group.map(|x| x.group_id.clone()).unwrap_or_default();
            Some((
                g.clone(),
                json!({"id": id, "displayName": g, "name": g, "type": "atlassian-group-role-actor",
                       "actorGroup": {"name": g, "displayName": g, "groupId": gid}}),
            ))
        }
    }
}

/// `GET /rest/api/3/project/{projectIdOrKey}/role/{id}`: the role with its actors (users
/// and groups), sorted by display name.
pub(super) async fn project_role(
    State(s): State<AppState>,
    Extension(u): Extension<AuthedUser>,
    Path((key, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let m = s.read();
    let p = admin_project(&m, &u, &key)?;
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad(format!("The role id '{id}' is not a number.")))?;
    let exclude_inactive = match q.get("excludeInactiveUsers").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::bad("excludeInactiveUsers must be true or false.")),
    };
    let (id, name) = role_ids(&m)
        .into_iter()
        .find(|(rid, n)| *rid == id && p.roles.contains_key(n))
        .ok_or_else(|| {
            ApiError::not_found("Can not retrieve a role actor for a null project role.")
        })?;
    let mut actors: Vec<(String, Value)> = p
        .roles
        .get(&name)
        .map(|list| {
            list.iter()
                .filter(|a| match a {
                    Actor::User(acc) => !exclude_inactive || m.user(acc).is_some_and(|x| x.active),
                    Actor::Group(_) => true,
                })
                .enumerate()
                .filter_map(|(n, a)| actor_json(&m, n, a))
                .collect()
        })
        .unwrap_or_default();
    actors.sort_by(|a, b| a.0.cmp(&b.0));
    let member = m.in_role(p, &name, &u.account_id);
    Ok(Json(json!({
        "self": role_url(&m, p, id), "name": name, "id": id,
        "description": format!("Members of the {name} role."),
        "actors": actors.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "admin": name == "Administrators", "default": false, "roleConfigurable": true,
        "translatedName": name, "currentUserRole": member,
    })))
}
