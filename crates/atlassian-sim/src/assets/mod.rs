//! Assets (CMDB) part of the simulator: one seeded workspace of object schemas, object
//! types (with inheritance), attributes of every type and objects, an AQL parser and
//! evaluator, and the REST routes under `/jsm/assets/workspace/{workspaceId}/v1`.
//!
//! Mounting (done by the simulator core):
//!
//! ```ignore
//! let ws = assets::seed(seed, assets::Scale::Small, &people);
//! let state = assets::AssetsState::new(ws, cloud_id, site_url);
//! app = app.nest("/jsm/assets/workspace/{workspaceId}/v1", assets::router(state));
//! ```
//!
//! Permissions: every request needs an [`crate::principal::AuthedUser`] extension (else
//! 401) bound to the workspace's site (else 404). A schema is readable by its viewers,
//! which by default are all users of the site (the "users/agents and viewers may read"
//! rule); [`AssetsWorkspace::set_schema_viewers`] restricts a schema to named accounts.
//! OAuth callers additionally need the endpoint's `read:cmdb-*:jira` scope.

pub mod aql;
mod json;
mod model;
mod rng;
pub(crate) mod routes;
mod seed;
mod seed_data;
mod time;

pub use model::{
    AssetObject, AssetsWorkspace, AttrKind, AttributeDef, DefaultType, ObjectSchema, ObjectType,
    ReferenceType, StatusCategory, StatusType, Val,
};
pub use routes::{AssetsState, ConnectedTickets, MAX_PAGE, router};
pub use seed::seed;

/// How much data [`seed`] generates: the simulator's own [`crate::seed::Scale`]
/// (`Small`: three schemas, ~3,100 objects; `Large`: the same schemas, ~99,500 objects).
pub use crate::seed::Scale;

/// A site user the seed may put into user attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedPerson {
    /// Atlassian account id.
    pub account_id: String,
    /// Display name.
    pub display_name: String,
    /// E-mail address.
    pub email: String,
}

/// A seeded object that Jira tickets may link to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    /// The workspace the object lives in.
    pub workspace_id: String,
    /// The object id (as the API renders it).
    pub id: String,
    /// `SCHEMAKEY-123`.
    pub object_key: String,
    /// The object's label.
    pub label: String,
    /// The object's type id.
    pub object_type_id: String,
}
