//! The in-memory model of one Jira Cloud + JSM site. All mutations go through the
//! functions in [`ops`], which record the changelog and bump `updated`.

pub mod jsm;
pub mod ops;
pub mod perm;
pub mod render;
pub mod sla;
mod types;

use std::collections::{BTreeMap, HashMap};

pub use perm::{Grant, PERMISSIONS, PermissionDef};
pub use types::*;

use crate::clock::Clock;

/// Errors of model operations, mapped to HTTP by the server.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The entity does not exist or is not visible to the caller.
    #[error("not found: {0}")]
    NotFound(String),
    /// The caller may see it but not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Invalid input: general messages plus per-field errors.
    #[error("invalid input")]
    Invalid {
        /// `errorMessages`.
        messages: Vec<String>,
        /// `errors` by field id.
        errors: BTreeMap<String, String>,
    },
}

impl ModelError {
    /// One per-field validation error.
    pub fn field(field: &str, msg: impl Into<String>) -> Self {
        let mut errors = BTreeMap::new();
        errors.insert(field.to_owned(), msg.into());
        ModelError::Invalid {
            messages: Vec::new(),
            errors,
        }
    }
    /// One general validation error.
    pub fn message(msg: impl Into<String>) -> Self {
        ModelError::Invalid {
            messages: vec![msg.into()],
            errors: BTreeMap::new(),
        }
    }
}

/// The whole simulated site.
#[derive(Debug)]
pub struct Model {
    /// Site identity.
    pub site: Site,
    /// The clock all timestamps come from.
    pub clock: Clock,
    /// Users (atlassian and customer accounts).
    pub users: Vec<User>,
    /// Groups by name.
    pub groups: BTreeMap<String, Group>,
    /// Statuses by id.
    pub statuses: BTreeMap<String, Status>,
    /// Workflows by name.
    pub workflows: BTreeMap<String, Workflow>,
    /// Issue types by id.
    pub issue_types: BTreeMap<String, IssueType>,
    /// Priorities (highest first).
    pub priorities: Vec<Priority>,
    /// Resolutions.
    pub resolutions: Vec<Priority>,
    /// Projects.
    pub projects: Vec<Project>,
    /// Field definitions (system + custom).
    pub fields: Vec<FieldDef>,
    /// Issues in creation order.
    pub issues: Vec<Issue>,
    /// JSM service desks.
    pub service_desks: Vec<ServiceDesk>,
    /// JSM request types.
    pub request_types: Vec<RequestType>,
    /// JSM organizations.
    pub organizations: Vec<Organization>,
    /// Permission scheme shared by all projects: permission key → grants.
    pub permission_scheme: BTreeMap<String, Vec<Grant>>,
    /// Group whose members hold the global ADMINISTER permission.
    pub admin_group: String,
    /// JSM request participants: issue id → account ids (in the order added).
    pub participants: BTreeMap<String, Vec<String>>,
    user_by_id: HashMap<String, usize>,
    user_by_email: HashMap<String, usize>,
    issue_by_key: HashMap<String, usize>,
    issue_by_id: HashMap<String, usize>,
    next_entity_id: u64,
    next_issue_id: u64,
}

impl Model {
    /// An empty site.
    pub fn new(site: Site, clock: Clock) -> Self {
        Model {
            site,
            clock,
            users: Vec::new(),
            groups: BTreeMap::new(),
            statuses: BTreeMap::new(),
            workflows: BTreeMap::new(),
            issue_types: BTreeMap::new(),
            priorities: Vec::new(),
            resolutions: Vec::new(),
            projects: Vec::new(),
            fields: Vec::new(),
            issues: Vec::new(),
            service_desks: Vec::new(),
            request_types: Vec::new(),
            organizations: Vec::new(),
            permission_scheme: BTreeMap::new(),
            admin_group: "jira-admins".to_owned(),
            participants: BTreeMap::new(),
            user_by_id: HashMap::new(),
            user_by_email: HashMap::new(),
            issue_by_key: HashMap::new(),
            issue_by_id: HashMap::new(),
            next_entity_id: 20_000,
            next_issue_id: 10_000,
        }
    }

    /// Adds a user.
    pub fn add_user(&mut self, user: User) {
        let idx = self.users.len();
        self.user_by_id.insert(user.account_id.clone(), idx);
        self.user_by_email.insert(user.email.to_lowercase(), idx);
        self.users.push(user);
    }

    /// A user by account id.
    pub fn user(&self, account_id: &str) -> Option<&User> {
        self.user_by_id
            .get(account_id)
            .and_then(|&i| self.users.get(i))
    }

    /// A user by email (case-insensitive).
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.user_by_email
            .get(&email.to_lowercase())
            .and_then(|&i| self.users.get(i))
    }

    /// Adds `account_id` to `group` (creating the group).
    pub fn add_to_group(&mut self, group: &str, account_id: &str) {
        let gid = format!(
            "{:08x}-0000-4000-8000-{:012x}",
            self.groups.len() + 1,
            0xabc
        );
        self.groups
            .entry(group.to_owned())
            .or_insert_with(|| Group {
                name: group.to_owned(),
                group_id: gid,
                members: Default::default(),
            })
            .members
            .insert(account_id.to_owned());
    }

    /// Whether `account_id` is in `group`.
    pub fn in_group(&self, group: &str, account_id: &str) -> bool {
        self.groups
            .get(group)
            .is_some_and(|g| g.members.contains(account_id))
    }

    /// A fresh id for comments, worklogs and histories.
    pub fn next_id(&mut self) -> String {
        self.next_entity_id += 1;
        self.next_entity_id.to_string()
    }

    /// Inserts an issue created elsewhere (seed/ops); assigns id and key if empty.
    pub fn insert_issue(&mut self, mut issue: Issue) -> usize {
        if issue.id.is_empty() {
            self.next_issue_id += 1;
            issue.id = self.next_issue_id.to_string();
        }
        if issue.key.is_empty()
            && let Some(p) = self.projects.iter_mut().find(|p| p.id == issue.project_id)
        {
            issue.key = format!("{}-{}", p.key, p.next_number);
            p.next_number += 1;
        }
        let idx = self.issues.len();
        self.issue_by_key.insert(issue.key.clone(), idx);
        self.issue_by_id.insert(issue.id.clone(), idx);
        self.issues.push(issue);
        idx
    }

    /// Removes the most recently inserted issue (rollback of a failed create).
    pub fn remove_last_issue(&mut self) {
        if let Some(issue) = self.issues.pop() {
            self.issue_by_key.remove(&issue.key);
            self.issue_by_id.remove(&issue.id);
            if let Some(p) = self.projects.iter_mut().find(|p| p.id == issue.project_id) {
                p.next_number = p.next_number.saturating_sub(1);
            }
            self.next_issue_id = self.next_issue_id.saturating_sub(1);
        }
    }

    /// The index of an issue by id or key (keys case-insensitive).
    pub fn issue_index(&self, id_or_key: &str) -> Option<usize> {
        self.issue_by_id
            .get(id_or_key)
            .or_else(|| self.issue_by_key.get(&id_or_key.to_uppercase()))
            .copied()
    }

    /// An issue by id or key (no permission check).
    pub fn issue(&self, id_or_key: &str) -> Option<&Issue> {
        self.issue_index(id_or_key).and_then(|i| self.issues.get(i))
    }

    /// A project by id or key.
    pub fn project(&self, id_or_key: &str) -> Option<&Project> {
        self.projects
            .iter()
            .find(|p| p.id == id_or_key || p.key.eq_ignore_ascii_case(id_or_key))
    }

    /// A field by id, by `cf[N]` or by (case-insensitive) name.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        if let Some(num) = name.strip_prefix("cf[").and_then(|r| r.strip_suffix(']')) {
            let id = format!("customfield_{num}");
            return self.fields.iter().find(|f| f.id == id);
        }
        self.fields.iter().find(|f| f.id == name).or_else(|| {
            self.fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
        })
    }

    /// The workflow of a project.
    pub fn workflow_of(&self, project_id: &str) -> Option<&Workflow> {
        self.project(project_id)
            .and_then(|p| self.workflows.get(&p.workflow))
    }

    /// The service desk of a project.
    pub fn service_desk_of(&self, project_id: &str) -> Option<&ServiceDesk> {
        self.service_desks
            .iter()
            .find(|s| s.project_id == project_id)
    }

    /// A priority by id or name.
    pub fn priority(&self, id_or_name: &str) -> Option<&Priority> {
        self.priorities
            .iter()
            .find(|p| p.id == id_or_name || p.name.eq_ignore_ascii_case(id_or_name))
    }

    /// A resolution by id or name.
    pub fn resolution(&self, id_or_name: &str) -> Option<&Priority> {
        self.resolutions
            .iter()
            .find(|p| p.id == id_or_name || p.name.eq_ignore_ascii_case(id_or_name))
    }

    /// A status by id or name.
    pub fn status(&self, id_or_name: &str) -> Option<&Status> {
        self.statuses.get(id_or_name).or_else(|| {
            self.statuses
                .values()
                .find(|s| s.name.eq_ignore_ascii_case(id_or_name))
        })
    }
}
