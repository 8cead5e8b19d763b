//! Permissions: a single permission scheme maps each project permission to grants
//! (project roles, groups); the global ADMINISTER permission comes from a group.

use std::collections::BTreeSet;

use super::{Actor, Issue, Model, Project};

/// Who a permission is granted to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    /// Everyone in a project role.
    Role(String),
    /// Members of a group.
    Group(String),
    /// The issue's reporter (issue-level checks only).
    Reporter,
}

/// Metadata of a permission key.
#[derive(Clone, Copy, Debug)]
pub struct PermissionDef {
    /// Key, e.g. `BROWSE_PROJECTS`.
    pub key: &'static str,
    /// Numeric id.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// `GLOBAL` or `PROJECT`.
    pub kind: &'static str,
    /// Description.
    pub description: &'static str,
}

/// The permissions the simulator knows.
pub const PERMISSIONS: &[PermissionDef] = &[
    PermissionDef {
        key: "ADMINISTER",
        id: "0",
        name: "Administer Jira",
        kind: "GLOBAL",
        description: "Create and administer projects, issue types, fields, workflows and schemes.",
    },
    PermissionDef {
        key: "BROWSE_PROJECTS",
        id: "10",
        name: "Browse Projects",
        kind: "PROJECT",
        description: "Ability to browse projects and the issues within them.",
    },
    PermissionDef {
        key: "CREATE_ISSUES",
        id: "11",
        name: "Create Issues",
        kind: "PROJECT",
        description: "Ability to create issues.",
    },
    PermissionDef {
        key: "EDIT_ISSUES",
        id: "12",
        name: "Edit Issues",
        kind: "PROJECT",
        description: "Ability to edit issues.",
    },
    PermissionDef {
        key: "ASSIGN_ISSUES",
        id: "13",
        name: "Assign Issues",
        kind: "PROJECT",
        description: "Ability to assign issues to other people.",
    },
    PermissionDef {
        key: "ASSIGNABLE_USER",
        id: "17",
        name: "Assignable User",
        kind: "PROJECT",
        description: "Users with this permission may be assigned to issues.",
    },
    PermissionDef {
        key: "TRANSITION_ISSUES",
        id: "46",
        name: "Transition Issues",
        kind: "PROJECT",
        description: "Ability to transition issues.",
    },
    PermissionDef {
        key: "ADD_COMMENTS",
        id: "15",
        name: "Add Comments",
        kind: "PROJECT",
        description: "Ability to comment on issues.",
    },
    PermissionDef {
        key: "WORK_ON_ISSUES",
        id: "20",
        name: "Work On Issues",
        kind: "PROJECT",
        description: "Ability to log work done against an issue.",
    },
    PermissionDef {
        key: "ADMINISTER_PROJECTS",
        id: "23",
        name: "Administer Projects",
        kind: "PROJECT",
        description: "Ability to administer a project in Jira.",
    },
    PermissionDef {
        key: "SERVICEDESK_AGENT",
        id: "44",
        name: "Service Desk Agent",
        kind: "PROJECT",
        description: "Ability to act as a service desk agent.",
    },
    PermissionDef {
        key: "RESOLVE_ISSUES",
        id: "14",
        name: "Resolve Issues",
        kind: "PROJECT",
        description: "Ability to resolve and reopen issues.",
    },
    PermissionDef {
        key: "CLOSE_ISSUES",
        id: "18",
        name: "Close Issues",
        kind: "PROJECT",
        description: "Ability to close issues.",
    },
];

/// Looks up a permission by key.
pub fn permission_def(key: &str) -> Option<&'static PermissionDef> {
    PERMISSIONS.iter().find(|p| p.key == key)
}

impl Model {
    /// Whether `account_id` has the global ADMINISTER permission.
    pub fn is_admin(&self, account_id: &str) -> bool {
        self.in_group(&self.admin_group.clone(), account_id)
    }

    /// Whether the user plays `role` in `project`.
    pub fn in_role(&self, project: &Project, role: &str, account_id: &str) -> bool {
        project.roles.get(role).is_some_and(|actors| {
            actors.iter().any(|a| match a {
                Actor::User(id) => id == account_id,
                Actor::Group(g) => self.in_group(g, account_id),
            })
        })
    }

    /// Project-level permission check (no issue context).
    pub fn has_project_permission(&self, account_id: &str, project: &Project, perm: &str) -> bool {
        if !self.user(account_id).is_some_and(|u| u.active) {
            return false;
        }
        self.permission_scheme.get(perm).is_some_and(|grants| {
            grants.iter().any(|g| match g {
                Grant::Role(r) => self.in_role(project, r, account_id),
                Grant::Group(g) => self.in_group(g, account_id),
                Grant::Reporter => false,
            })
        })
    }

    /// Issue-level permission check (adds the reporter grant).
    pub fn has_issue_permission(&self, account_id: &str, issue: &Issue, perm: &str) -> bool {
        let Some(project) = self.project(&issue.project_id) else {
            return false;
        };
        if self.has_project_permission(account_id, project, perm) {
            return true;
        }
        self.permission_scheme
            .get(perm)
            .is_some_and(|grants| grants.contains(&Grant::Reporter) && issue.reporter == account_id)
    }

    /// Whether the user may see the issue.
    pub fn can_browse(&self, account_id: &str, issue: &Issue) -> bool {
        self.has_issue_permission(account_id, issue, "BROWSE_PROJECTS")
    }

    /// Ids of projects the user may browse.
    pub fn browsable_projects(&self, account_id: &str) -> BTreeSet<String> {
        self.projects
            .iter()
            .filter(|p| self.has_project_permission(account_id, p, "BROWSE_PROJECTS"))
            .map(|p| p.id.clone())
            .collect()
    }

    /// Whether the user is a JSM agent in the project.
    pub fn is_agent(&self, account_id: &str, project: &Project) -> bool {
        self.has_project_permission(account_id, project, "SERVICEDESK_AGENT")
    }
}
