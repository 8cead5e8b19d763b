//! Plain data types of the simulated site.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_json::Value;

/// The Atlassian site (one Jira Cloud instance).
#[derive(Clone, Debug)]
pub struct Site {
    /// The cloudId (UUID) used by `api.atlassian.com/ex/jira/{cloudId}`.
    pub cloud_id: String,
    /// The site URL, e.g. `http://127.0.0.1:4321` (the sim's own base URL).
    pub url: String,
    /// The site name (`acme-field` in `acme-field.atlassian.net`).
    pub name: String,
    /// The Assets workspace id of this site.
    pub assets_workspace_id: String,
    /// The IANA time zone of the site's users by default.
    pub time_zone: String,
}

/// `atlassian` (licensed user) or `customer` (JSM portal-only account).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountType {
    /// A licensed Atlassian account.
    Atlassian,
    /// A JSM customer account.
    Customer,
}

impl AccountType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Atlassian => "atlassian",
            AccountType::Customer => "customer",
        }
    }
}

/// The demo role a seeded user was created for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DemoRole {
    /// Site and Jira administrator.
    Admin,
    /// A dispatcher (field-service agent).
    Dispatcher,
    /// A field technician.
    Technician,
    /// Read-only user.
    Viewer,
    /// A JSM customer.
    Customer,
}

impl DemoRole {
    /// Lower-case role name.
    pub fn as_str(self) -> &'static str {
        match self {
            DemoRole::Admin => "admin",
            DemoRole::Dispatcher => "dispatcher",
            DemoRole::Technician => "technician",
            DemoRole::Viewer => "viewer",
            DemoRole::Customer => "customer",
        }
    }
}

/// A user account.
#[derive(Clone, Debug)]
pub struct User {
    /// Account id.
    pub account_id: String,
    /// Email address (the basic-auth user name).
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Whether the account is active.
    pub active: bool,
    /// Account type.
    pub account_type: AccountType,
    /// API token for basic auth.
    pub api_token: String,
    /// The role the seed gave the user.
    pub role: DemoRole,
    /// Sim-only profile (technicians: home base, skills, working hours), served at
    /// `/sim/users/{accountId}/profile` and as the user property `jsmkit.profile`.
    pub profile: Option<Value>,
}

/// A group.
#[derive(Clone, Debug)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// Group id (UUID).
    pub group_id: String,
    /// Member account ids.
    pub members: BTreeSet<String>,
}

/// A status category (`new`, `indeterminate`, `done`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// To Do (id 2, blue-gray).
    New,
    /// In Progress (id 4, yellow).
    Indeterminate,
    /// Done (id 3, green).
    Done,
}

impl Category {
    /// (id, key, colorName, name)
    pub fn parts(self) -> (i64, &'static str, &'static str, &'static str) {
        match self {
            Category::New => (2, "new", "blue-gray", "To Do"),
            Category::Indeterminate => (4, "indeterminate", "yellow", "In Progress"),
            Category::Done => (3, "done", "green", "Done"),
        }
    }
}

/// A workflow status.
#[derive(Clone, Debug)]
pub struct Status {
    /// Status id.
    pub id: String,
    /// Status name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Category.
    pub category: Category,
}

/// A workflow transition.
#[derive(Clone, Debug)]
pub struct Transition {
    /// Transition id.
    pub id: String,
    /// Transition name.
    pub name: String,
    /// Status ids it is available from (empty: global, from any status).
    pub from: Vec<String>,
    /// Target status id.
    pub to: String,
    /// Field ids that must be set when performing it (e.g. `resolution`).
    pub required_fields: Vec<String>,
}

/// A workflow: statuses (ids) and transitions.
#[derive(Clone, Debug)]
pub struct Workflow {
    /// Workflow name.
    pub name: String,
    /// Status ids in display order; the first is the initial status.
    pub statuses: Vec<String>,
    /// Transitions.
    pub transitions: Vec<Transition>,
}

/// An issue type.
#[derive(Clone, Debug)]
pub struct IssueType {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
}

/// A grant holder in a project role.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Actor {
    /// One user.
    User(String),
    /// All members of a group.
    Group(String),
}

/// A project.
#[derive(Clone, Debug)]
pub struct Project {
    /// Project id.
    pub id: String,
    /// Project key.
    pub key: String,
    /// Name.
    pub name: String,
    /// Lead account id.
    pub lead: String,
    /// Issue type ids.
    pub issue_types: Vec<String>,
    /// Workflow name used by all issue types.
    pub workflow: String,
    /// Role name → actors.
    pub roles: BTreeMap<String, Vec<Actor>>,
    /// Next issue number.
    pub next_number: u64,
}

/// A field definition.
#[derive(Clone, Debug)]
pub struct FieldDef {
    /// Field id (`summary`, `customfield_10050`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Custom?
    pub custom: bool,
    /// The `schema` (JsonTypeBean) as JSON.
    pub schema: Value,
    /// Kind used for validation/JQL.
    pub kind: FieldKind,
}

/// How a field's values are typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text.
    Text,
    /// ADF document.
    Adf,
    /// A number.
    Number,
    /// A date-time string.
    DateTime,
    /// An array of strings (labels-like).
    Labels,
    /// `{lat, lng}`.
    Location,
    /// Array of Assets object references.
    Assets,
    /// A user (`{accountId}`).
    User,
    /// `{id}` or `{name}` of a priority.
    Priority,
    /// `{id}` or `{name}` of a resolution.
    Resolution,
    /// Read-only/system-managed.
    ReadOnly,
}

/// One changelog item.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeItem {
    /// Field name.
    pub field: String,
    /// Field id.
    pub field_id: String,
    /// `jira` or `custom`.
    pub field_type: String,
    /// Raw old value.
    pub from: Option<String>,
    /// Display old value.
    pub from_string: Option<String>,
    /// Raw new value.
    pub to: Option<String>,
    /// Display new value.
    pub to_string: Option<String>,
}

/// A changelog history entry.
#[derive(Clone, Debug)]
pub struct History {
    /// Id.
    pub id: String,
    /// Author account id.
    pub author: String,
    /// When.
    pub created: Timestamp,
    /// Items.
    pub items: Vec<ChangeItem>,
}

/// A comment.
#[derive(Clone, Debug)]
pub struct Comment {
    /// Id.
    pub id: String,
    /// Author.
    pub author: String,
    /// ADF body.
    pub body: Value,
    /// Created.
    pub created: Timestamp,
    /// Updated.
    pub updated: Timestamp,
    /// JSM public (customer-visible) or internal.
    pub public: bool,
}

/// A worklog.
#[derive(Clone, Debug)]
pub struct Worklog {
    /// Id.
    pub id: String,
    /// Author.
    pub author: String,
    /// ADF comment.
    pub comment: Option<Value>,
    /// Start.
    pub started: Timestamp,
    /// Seconds spent.
    pub time_spent_seconds: i64,
    /// Created.
    pub created: Timestamp,
}

/// An issue.
#[derive(Clone, Debug)]
pub struct Issue {
    /// Numeric id (as string).
    pub id: String,
    /// Key, e.g. `FS-12`.
    pub key: String,
    /// Project id.
    pub project_id: String,
    /// Issue type id.
    pub issue_type: String,
    /// Status id.
    pub status: String,
    /// Summary.
    pub summary: String,
    /// ADF description.
    pub description: Option<Value>,
    /// Priority id.
    pub priority: String,
    /// Assignee account id.
    pub assignee: Option<String>,
    /// Reporter account id.
    pub reporter: String,
    /// Creator account id.
    pub creator: String,
    /// Labels.
    pub labels: Vec<String>,
    /// Resolution id.
    pub resolution: Option<String>,
    /// Resolution date.
    pub resolution_date: Option<Timestamp>,
    /// Created.
    pub created: Timestamp,
    /// Updated.
    pub updated: Timestamp,
    /// When the status category last changed.
    pub status_category_changed: Timestamp,
    /// Custom field values by field id.
    pub custom: BTreeMap<String, Value>,
    /// Changelog (oldest first).
    pub changelog: Vec<History>,
    /// Comments (oldest first).
    pub comments: Vec<Comment>,
    /// Worklogs (oldest first).
    pub worklogs: Vec<Worklog>,
    /// JSM request type id, if raised through JSM.
    pub request_type: Option<String>,
}

/// A JSM service desk.
#[derive(Clone, Debug)]
pub struct ServiceDesk {
    /// Id.
    pub id: String,
    /// Project id.
    pub project_id: String,
}

/// A request type field.
#[derive(Clone, Debug)]
pub struct RequestTypeField {
    /// Field id.
    pub field_id: String,
    /// Label.
    pub name: String,
    /// Description/help.
    pub description: String,
    /// Required.
    pub required: bool,
    /// Allowed values (`value`, `label`), empty when free.
    pub valid_values: Vec<(String, String)>,
}

/// A JSM request type.
#[derive(Clone, Debug)]
pub struct RequestType {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Help text.
    pub help_text: String,
    /// Issue type id.
    pub issue_type_id: String,
    /// Service desk id.
    pub service_desk_id: String,
    /// Portal group ids.
    pub group_ids: Vec<String>,
    /// Fields shown on the portal.
    pub fields: Vec<RequestTypeField>,
}

/// A JSM organization.
#[derive(Clone, Debug)]
pub struct Organization {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Member account ids.
    pub members: Vec<String>,
}

/// A priority.
#[derive(Clone, Debug)]
pub struct Priority {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}
