//! Static configuration of the demo site: statuses, workflows, fields, priorities,
//! issue types, permission scheme.

use serde_json::{Value, json};

use crate::model::{
    Category, FieldDef, FieldKind, Grant, IssueType, Model, Priority, Status, Transition, Workflow,
};

/// Dispatch workflow status ids.
pub mod st {
    /// To Dispatch (new).
    pub const TO_DISPATCH: &str = "10001";
    /// Assigned to Tech.
    pub const ASSIGNED: &str = "10002";
    /// Travelling.
    pub const TRAVELLING: &str = "10003";
    /// On Site.
    pub const ON_SITE: &str = "10004";
    /// Awaiting Parts.
    pub const AWAITING_PARTS: &str = "10005";
    /// Work Complete (done).
    pub const WORK_COMPLETE: &str = "10006";
    /// Closed (done).
    pub const CLOSED: &str = "10007";
    /// Service workflow: Open.
    pub const OPEN: &str = "10010";
    /// Service workflow: In Progress.
    pub const IN_PROGRESS: &str = "10011";
    /// Service workflow: Waiting for customer.
    pub const WAITING: &str = "10012";
    /// Service workflow: Resolved.
    pub const RESOLVED: &str = "10013";
}

/// Dispatch transition ids.
pub mod tr {
    /// Assign (To Dispatch → Assigned to Tech).
    pub const ASSIGN: &str = "11";
    /// Start travel.
    pub const TRAVEL: &str = "21";
    /// Arrive on site.
    pub const ARRIVE: &str = "31";
    /// Await parts.
    pub const AWAIT_PARTS: &str = "41";
    /// Complete work (requires resolution).
    pub const COMPLETE: &str = "51";
    /// Close.
    pub const CLOSE: &str = "61";
}

/// Name of the dispatch workflow.
pub const DISPATCH_WF: &str = "Field Service Dispatch Workflow";
/// Name of the IT workflow.
pub const SERVICE_WF: &str = "Service Request Workflow";

fn status(m: &mut Model, id: &str, name: &str, cat: Category, desc: &str) {
    m.statuses.insert(
        id.to_owned(),
        Status {
            id: id.into(),
            name: name.into(),
            description: desc.into(),
            category: cat,
        },
    );
}

fn t(id: &str, name: &str, from: &[&str], to: &str, req: &[&str]) -> Transition {
    Transition {
        id: id.into(),
        name: name.into(),
        from: from.iter().map(|s| (*s).to_owned()).collect(),
        to: to.into(),
        required_fields: req.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// Installs statuses, workflows, issue types, priorities, resolutions and fields.
pub fn configure(m: &mut Model) {
    use st::*;
    status(
        m,
        TO_DISPATCH,
        "To Dispatch",
        Category::New,
        "Waiting for a dispatcher to assign a technician.",
    );
    status(
        m,
        ASSIGNED,
        "Assigned to Tech",
        Category::Indeterminate,
        "A technician has been scheduled.",
    );
    status(
        m,
        TRAVELLING,
        "Travelling",
        Category::Indeterminate,
        "The technician is on the way.",
    );
    status(
        m,
        ON_SITE,
        "On Site",
        Category::Indeterminate,
        "The technician is working on site.",
    );
    status(
        m,
        AWAITING_PARTS,
        "Awaiting Parts",
        Category::Indeterminate,
        "Work paused until parts arrive.",
    );
    status(
        m,
        WORK_COMPLETE,
        "Work Complete",
        Category::Done,
        "The technician finished the job.",
    );
    status(m, CLOSED, "Closed", Category::Done, "The job is closed.");
    status(m, OPEN, "Open", Category::New, "Waiting for an agent.");
    status(
        m,
        IN_PROGRESS,
        "In Progress",
        Category::Indeterminate,
        "An agent is working on it.",
    );
    status(
        m,
        WAITING,
        "Waiting for customer",
        Category::Indeterminate,
        "Waiting for the customer to reply.",
    );
    status(
        m,
        RESOLVED,
        "Resolved",
        Category::Done,
        "The request was resolved.",
    );
    m.workflows.insert(
        DISPATCH_WF.into(),
        Workflow {
            name: DISPATCH_WF.into(),
            statuses: [
                TO_DISPATCH,
                ASSIGNED,
                TRAVELLING,
                ON_SITE,
                AWAITING_PARTS,
                WORK_COMPLETE,
                CLOSED,
            ]
            .map(String::from)
            .to_vec(),
            transitions: vec![
                t(tr::ASSIGN, "Assign to tech", &[TO_DISPATCH], ASSIGNED, &[]),
                t(
                    tr::TRAVEL,
                    "Start travel",
                    &[ASSIGNED, AWAITING_PARTS],
                    TRAVELLING,
                    &[],
                ),
                t(tr::ARRIVE, "Arrive on site", &[TRAVELLING], ON_SITE, &[]),
                t(
                    tr::AWAIT_PARTS,
                    "Await parts",
                    &[ON_SITE],
                    AWAITING_PARTS,
                    &[],
                ),
                t(
                    tr::COMPLETE,
                    "Complete work",
                    &[ON_SITE],
                    WORK_COMPLETE,
                    &["resolution"],
                ),
                t(tr::CLOSE, "Close", &[WORK_COMPLETE], CLOSED, &[]),
                t(
                    "71",
                    "Return to dispatch",
                    &[ASSIGNED, TRAVELLING, AWAITING_PARTS],
                    TO_DISPATCH,
                    &[],
                ),
                t("81", "Reopen", &[WORK_COMPLETE, CLOSED], TO_DISPATCH, &[]),
            ],
        },
    );
    m.workflows.insert(
        SERVICE_WF.into(),
        Workflow {
            name: SERVICE_WF.into(),
            statuses: [OPEN, IN_PROGRESS, WAITING, RESOLVED, CLOSED]
                .map(String::from)
                .to_vec(),
            transitions: vec![
                t("111", "Start progress", &[OPEN, WAITING], IN_PROGRESS, &[]),
                t("121", "Wait for customer", &[IN_PROGRESS], WAITING, &[]),
                t(
                    "131",
                    "Resolve",
                    &[OPEN, IN_PROGRESS, WAITING],
                    RESOLVED,
                    &["resolution"],
                ),
                t("141", "Close", &[RESOLVED], CLOSED, &[]),
                t("151", "Reopen", &[RESOLVED, CLOSED], OPEN, &[]),
            ],
        },
    );
    for (id, name, desc) in [
        (
            "10100",
            "Service Request",
            "A request raised through the portal.",
        ),
        ("10101", "Incident", "Something is broken."),
        ("10102", "Field Job", "Work done on site by a technician."),
    ] {
        m.issue_types.insert(
            id.into(),
            IssueType {
                id: id.into(),
                name: name.into(),
                description: desc.into(),
            },
        );
    }
    m.priorities = ["Highest", "High", "Medium", "Low", "Lowest"]
        .iter()
        .enumerate()
        .map(|(i, n)| Priority {
            id: (i + 1).to_string(),
            name: (*n).to_owned(),
        })
        .collect();
    m.resolutions = ["Done", "Fixed", "Won't Do", "Duplicate", "Cannot Reproduce"]
        .iter()
        .enumerate()
        .map(|(i, n)| Priority {
            id: (10000 + i).to_string(),
            name: (*n).to_owned(),
        })
        .collect();
    m.fields = fields();
    permission_scheme(m);
}

fn sys(id: &str, name: &str, schema: Value, kind: FieldKind) -> FieldDef {
    FieldDef {
        id: id.into(),
        name: name.into(),
        custom: false,
        schema,
        kind,
    }
}

fn cf(
    num: u64,
    name: &str,
    ty: &str,
    items: Option<&str>,
    custom: &str,
    kind: FieldKind,
) -> FieldDef {
    let mut schema = json!({"type": ty, "custom": custom, "customId": num});
    if let Some(i) = items {
        schema["items"] = json!(i);
    }
    FieldDef {
        id: format!("customfield_{num}"),
        name: name.into(),
        custom: true,
        schema,
        kind,
    }
}

fn fields() -> Vec<FieldDef> {
    use FieldKind as K;
    let s = |t: &str, sys: &str| json!({"type": t, "system": sys});
    vec![
        sys("summary", "Summary", s("string", "summary"), K::Text),
        sys(
            "description",
            "Description",
            s("string", "description"),
            K::Adf,
        ),
        sys("status", "Status", s("status", "status"), K::ReadOnly),
        sys(
            "priority",
            "Priority",
            s("priority", "priority"),
            K::Priority,
        ),
        sys(
            "issuetype",
            "Issue Type",
            s("issuetype", "issuetype"),
            K::ReadOnly,
        ),
        sys("project", "Project", s("project", "project"), K::ReadOnly),
        sys("assignee", "Assignee", s("user", "assignee"), K::User),
        sys("reporter", "Reporter", s("user", "reporter"), K::User),
        sys(
            "labels",
            "Labels",
            json!({"type": "array", "items": "string", "system": "labels"}),
            K::Labels,
        ),
        sys("created", "Created", s("datetime", "created"), K::ReadOnly),
        sys("updated", "Updated", s("datetime", "updated"), K::ReadOnly),
        sys(
            "resolution",
            "Resolution",
            s("resolution", "resolution"),
            K::Resolution,
        ),
        sys(
            "resolutiondate",
            "Resolved",
            s("datetime", "resolutiondate"),
            K::ReadOnly,
        ),
        sys(
            "comment",
            "Comment",
            s("comments-page", "comment"),
            K::ReadOnly,
        ),
        sys(
            "worklog",
            "Log Work",
            json!({"type": "array", "items": "worklog", "system": "worklog"}),
            K::ReadOnly,
        ),
        cf(
            10010,
            "Request Type",
            "sd-customerrequesttype",
            None,
            "com.atlassian.servicedesk:vp-origin",
            K::ReadOnly,
        ),
        cf(
            10050,
            "Location",
            "object",
            None,
            "ari:cloud:ecosystem::extension/jsmkit/location",
            K::Location,
        ),
        cf(
            10053,
            "Street address",
            "string",
            None,
            "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
            K::Text,
        ),
        cf(
            10054,
            "City",
            "string",
            None,
            "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
            K::Text,
        ),
        cf(
            10055,
            "Postcode",
            "string",
            None,
            "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
            K::Text,
        ),
        cf(
            10060,
            "Assets",
            "array",
            Some("cmdb-object"),
            "com.atlassian.jira.plugins.cmdb:cmdb-object-cftype",
            K::Assets,
        ),
        cf(
            10070,
            "Skills required",
            "array",
            Some("string"),
            "com.atlassian.jira.plugin.system.customfieldtypes:labels",
            K::Labels,
        ),
        cf(
            10080,
            "Scheduled start",
            "datetime",
            None,
            "com.atlassian.jira.plugin.system.customfieldtypes:datetime",
            K::DateTime,
        ),
        cf(
            10081,
            "Scheduled end",
            "datetime",
            None,
            "com.atlassian.jira.plugin.system.customfieldtypes:datetime",
            K::DateTime,
        ),
    ]
}

fn permission_scheme(m: &mut Model) {
    let r = |n: &str| Grant::Role(n.to_owned());
    let admin = r("Administrators");
    let team = r("Service Desk Team");
    let disp = r("Dispatchers");
    let tech = r("Technicians");
    let viewers = Grant::Group("jsmkit-viewers".to_owned());
    let scheme: Vec<(&str, Vec<Grant>)> = vec![
        (
            "BROWSE_PROJECTS",
            vec![admin.clone(), team.clone(), viewers],
        ),
        ("CREATE_ISSUES", vec![admin.clone(), team.clone()]),
        (
            "EDIT_ISSUES",
            vec![admin.clone(), disp.clone(), tech.clone()],
        ),
        ("ASSIGN_ISSUES", vec![admin.clone(), disp.clone()]),
        ("ASSIGNABLE_USER", vec![tech.clone(), disp.clone()]),
        (
            "TRANSITION_ISSUES",
            vec![admin.clone(), disp.clone(), tech.clone()],
        ),
        ("ADD_COMMENTS", vec![admin.clone(), team.clone()]),
        (
            "WORK_ON_ISSUES",
            vec![admin.clone(), disp.clone(), tech.clone()],
        ),
        ("ADMINISTER_PROJECTS", vec![admin.clone()]),
        ("SERVICEDESK_AGENT", vec![admin.clone(), team.clone()]),
        ("RESOLVE_ISSUES", vec![admin.clone(), team.clone()]),
        ("CLOSE_ISSUES", vec![admin, team]),
    ];
    for (k, g) in scheme {
        m.permission_scheme.insert(k.to_owned(), g);
    }
}
