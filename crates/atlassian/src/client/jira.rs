//! Jira platform REST v3: search, issues, changelogs, transitions, comments,
//! worklogs. DTOs keep only what the apps need and ignore unknown fields.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::Result;
use super::http::{AtlassianClient, Call, Op};
use super::jira_meta::User;
use super::paging::{self, Paged};
use crate::adf::Doc;
use crate::jql::Jql;

static SEARCH_JQL: Op = Op::post_read("jira.search_jql", "/rest/api/3/search/jql");
static APPROX_COUNT: Op = Op::post_read(
    "jira.approximate_count",
    "/rest/api/3/search/approximate-count",
);
static ISSUE_GET: Op = Op::get("jira.issue_get", "/rest/api/3/issue/{issueIdOrKey}");
static ISSUE_EDIT: Op = Op::put("jira.issue_edit", "/rest/api/3/issue/{issueIdOrKey}");
static ISSUE_BULKFETCH: Op = Op::post_read("jira.issue_bulkfetch", "/rest/api/3/issue/bulkfetch");
static CHANGELOG: Op = Op::get(
    "jira.changelog",
    "/rest/api/3/issue/{issueIdOrKey}/changelog",
);
static CHANGELOG_BULK: Op = Op::post_read(
    "jira.changelog_bulkfetch",
    "/rest/api/3/changelog/bulkfetch",
);
static ASSIGN: Op = Op::put("jira.assign", "/rest/api/3/issue/{issueIdOrKey}/assignee");
static TRANSITIONS: Op = Op::get(
    "jira.transitions",
    "/rest/api/3/issue/{issueIdOrKey}/transitions",
);
static DO_TRANSITION: Op = Op::post(
    "jira.do_transition",
    "/rest/api/3/issue/{issueIdOrKey}/transitions",
);
static COMMENTS: Op = Op::get("jira.comments", "/rest/api/3/issue/{issueIdOrKey}/comment");
static ADD_COMMENT: Op = Op::post(
    "jira.add_comment",
    "/rest/api/3/issue/{issueIdOrKey}/comment",
);
static WORKLOGS: Op = Op::get("jira.worklogs", "/rest/api/3/issue/{issueIdOrKey}/worklog");
static ADD_WORKLOG: Op = Op::post(
    "jira.add_worklog",
    "/rest/api/3/issue/{issueIdOrKey}/worklog",
);

/// Every operation of this module (see [`super::operations`]).
pub(crate) static OPS: &[&Op] = &[
    &SEARCH_JQL,
    &APPROX_COUNT,
    &ISSUE_GET,
    &ISSUE_EDIT,
    &ISSUE_BULKFETCH,
    &CHANGELOG,
    &CHANGELOG_BULK,
    &ASSIGN,
    &TRANSITIONS,
    &DO_TRANSITION,
    &COMMENTS,
    &ADD_COMMENT,
    &WORKLOGS,
    &ADD_WORKLOG,
];

/// Default page size for Jira offset endpoints.
const PAGE: u64 = 50;

/// An issue; `fields` stays raw because custom fields vary per site.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    /// Numeric id.
    pub id: String,
    /// Key such as `SD-12`.
    pub key: String,
    /// Requested fields by id.
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// Rendered HTML of fields when `expand=renderedFields` (untrusted HTML).
    pub rendered_fields: Option<Map<String, Value>>,
    /// Embedded changelog when `expand=changelog`.
    pub changelog: Option<Value>,
}

/// A JQL search (`POST /rest/api/3/search/jql`).
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The query, from [`crate::jql`].
    pub jql: Jql,
    /// Fields to return (ids, `*navigable`, `-field`…); empty: Jira's default (id only).
    pub fields: Vec<String>,
    /// `expand`, e.g. `renderedFields,names`.
    pub expand: Option<String>,
    /// Page size (`maxResults`).
    pub page_size: u32,
}

impl SearchRequest {
    /// A search for `jql` with 100 issues per page.
    pub fn new(jql: Jql) -> Self {
        SearchRequest {
            jql,
            fields: Vec::new(),
            expand: None,
            page_size: 100,
        }
    }
    /// Sets the fields to return.
    pub fn fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.fields = fields.into_iter().map(Into::into).collect();
        self
    }
    /// Sets `expand`.
    pub fn expand(mut self, expand: impl Into<String>) -> Self {
        self.expand = Some(expand.into());
        self
    }
}

/// Issue edit body: `fields` sets values, `update` applies operations.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IssueUpdate {
    /// Field values by id.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub fields: Map<String, Value>,
    /// Field operations by id (e.g. `{"labels":[{"add":"x"}]}`).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub update: Map<String, Value>,
}

/// Answer of `POST /issue/bulkfetch`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkIssues {
    /// Issues found.
    #[serde(default)]
    pub issues: Vec<Issue>,
    /// Per-issue errors (not found, no permission), raw.
    #[serde(default)]
    pub issue_errors: Vec<Value>,
}

/// One change group of an issue's history.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeGroup {
    /// Id of the change group.
    pub id: String,
    /// Who changed it.
    pub author: Option<User>,
    /// When (Jira timestamp text).
    pub created: Option<String>,
    /// Field changes.
    #[serde(default)]
    pub items: Vec<ChangeItem>,
}

/// One field change.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeItem {
    /// Field name.
    pub field: Option<String>,
    /// Field id.
    pub field_id: Option<String>,
    /// Old raw value.
    pub from: Option<String>,
    /// Old display value.
    pub from_string: Option<String>,
    /// New raw value.
    pub to: Option<String>,
    /// New display value.
    pub to_string: Option<String>,
}

/// Changelog of one issue from `POST /changelog/bulkfetch`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueChangelog {
    /// Issue id.
    pub issue_id: String,
    /// Its change groups.
    #[serde(default)]
    pub change_histories: Vec<ChangeGroup>,
}

/// A status as embedded in transitions and issues.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRef {
    /// Status id.
    pub id: Option<String>,
    /// Status name.
    pub name: Option<String>,
    /// Category (`key`: `new`, `indeterminate`, `done`), raw.
    pub status_category: Option<Value>,
}

/// An available transition; `fields` (with `expand=transitions.fields`)
/// describes screen fields and whether they are required.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transition {
    /// Transition id.
    pub id: String,
    /// Transition name.
    pub name: Option<String>,
    /// Target status.
    pub to: Option<StatusRef>,
    /// Whether a screen is shown.
    pub has_screen: Option<bool>,
    /// Screen fields by id (`required`, `schema`, `allowedValues`…), raw.
    #[serde(default)]
    pub fields: Map<String, Value>,
}

#[derive(Deserialize)]
struct Transitions {
    #[serde(default)]
    transitions: Vec<Transition>,
}

/// An issue comment; `body` is ADF (see [`Comment::body_doc`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    /// Comment id.
    pub id: String,
    /// Author.
    pub author: Option<User>,
    /// ADF body, raw.
    pub body: Option<Value>,
    /// Created timestamp text.
    pub created: Option<String>,
    /// Updated timestamp text.
    pub updated: Option<String>,
    /// JSM: whether the customer sees it.
    pub jsd_public: Option<bool>,
}

impl Comment {
    /// The body as an ADF document (tolerant; empty if missing).
    pub fn body_doc(&self) -> Doc {
        self.body
            .as_ref()
            .and_then(|v| serde_json::from_value::<Doc>(v.clone()).ok())
            .unwrap_or_default()
    }
}

/// A worklog entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Worklog {
    /// Worklog id.
    pub id: String,
    /// Author.
    pub author: Option<User>,
    /// Seconds logged.
    pub time_spent_seconds: Option<u64>,
    /// Start (Jira timestamp text).
    pub started: Option<String>,
    /// ADF comment, raw.
    pub comment: Option<Value>,
}

/// A new worklog.
#[derive(Debug, Clone)]
pub struct NewWorklog {
    /// Seconds spent (positive).
    pub time_spent_seconds: u64,
    /// When the work started.
    pub started: jiff::Timestamp,
    /// Optional ADF comment.
    pub comment: Option<Doc>,
}

/// Formats an instant as Jira expects: `yyyy-MM-dd'T'HH:mm:ss.SSSZ` in UTC.
pub fn jira_datetime(ts: jiff::Timestamp) -> String {
    format!("{}+0000", ts.strftime("%Y-%m-%dT%H:%M:%S%.3f"))
}

#[derive(Deserialize)]
struct Count {
    count: u64,
}

fn fields_param(fields: &[&str]) -> Option<String> {
    (!fields.is_empty()).then(|| fields.join(","))
}

impl AtlassianClient {
    /// All issues matching a JQL search, page by page (`nextPageToken`).
    pub fn search(&self, req: SearchRequest) -> Paged<Issue> {
        paging::token(self, move |token| {
            let mut body = serde_json::json!({ "jql": req.jql, "maxResults": req.page_size });
            if !req.fields.is_empty() {
                body["fields"] = serde_json::json!(req.fields);
            }
            if let Some(expand) = &req.expand {
                body["expand"] = Value::String(expand.clone());
            }
            if let Some(token) = token {
                body["nextPageToken"] = Value::String(token);
            }
            Call::new(&SEARCH_JQL).json(body)
        })
    }

    /// Approximate number of issues matching `jql`.
    pub async fn approximate_count(&self, jql: &Jql) -> Result<u64> {
        let call = Call::new(&APPROX_COUNT).json(serde_json::json!({ "jql": jql }));
        Ok(self.json::<Count>(call).await?.count)
    }

    /// One issue with the given fields (empty: all) and `expand`.
    pub async fn issue(&self, key: &str, fields: &[&str], expand: Option<&str>) -> Result<Issue> {
        let call = Call::new(&ISSUE_GET)
            .arg(key)
            .query_opt("fields", fields_param(fields))
            .query_opt("expand", expand);
        self.json(call).await
    }

    /// Edits an issue (`PUT`, fields and/or update operations).
    pub async fn edit_issue(&self, key: &str, update: &IssueUpdate) -> Result<()> {
        let body = serde_json::to_value(update).unwrap_or(Value::Null);
        self.unit(Call::new(&ISSUE_EDIT).arg(key).json(body)).await
    }

    /// Up to 100 issues by id or key in one call.
    pub async fn bulk_fetch(&self, keys: &[&str], fields: &[&str]) -> Result<BulkIssues> {
        let mut body = serde_json::json!({ "issueIdsOrKeys": keys });
        if !fields.is_empty() {
            body["fields"] = serde_json::json!(fields);
        }
        self.json(Call::new(&ISSUE_BULKFETCH).json(body)).await
    }

    /// An issue's change history, oldest first (offset pages).
    pub fn changelog(&self, key: &str) -> Paged<ChangeGroup> {
        let key = key.to_owned();
        let page = self.page_size(100);
        paging::offset(self, move |start| {
            Call::new(&CHANGELOG)
                .arg(key.clone())
                .query("startAt", start)
                .query("maxResults", page)
        })
    }

    /// Changelogs of many issues, optionally only for some field ids (token pages).
    pub fn changelog_bulk(
        &self,
        keys: Vec<String>,
        field_ids: Vec<String>,
    ) -> Paged<IssueChangelog> {
        paging::token(self, move |token| {
            let mut body = serde_json::json!({ "issueIdsOrKeys": keys, "maxResults": 1000 });
            if !field_ids.is_empty() {
                body["fieldIds"] = serde_json::json!(field_ids);
            }
            if let Some(token) = token {
                body["nextPageToken"] = Value::String(token);
            }
            Call::new(&CHANGELOG_BULK).json(body)
        })
    }

    /// Assigns an issue (`None` unassigns).
    pub async fn assign(&self, key: &str, account_id: Option<&str>) -> Result<()> {
        let body = serde_json::json!({ "accountId": account_id });
        self.unit(Call::new(&ASSIGN).arg(key).json(body)).await
    }

    /// Transitions available now, with their screen fields.
    pub async fn transitions(&self, key: &str) -> Result<Vec<Transition>> {
        let call = Call::new(&TRANSITIONS)
            .arg(key)
            .query("expand", "transitions.fields");
        Ok(self.json::<Transitions>(call).await?.transitions)
    }

    /// Performs a transition, setting screen `fields` (not retried).
    pub async fn do_transition(
        &self,
        key: &str,
        transition_id: &str,
        fields: Map<String, Value>,
    ) -> Result<()> {
        let mut body = serde_json::json!({ "transition": { "id": transition_id } });
        if !fields.is_empty() {
            body["fields"] = Value::Object(fields);
        }
        self.unit(Call::new(&DO_TRANSITION).arg(key).json(body))
            .await
    }

    /// All comments of an issue (offset pages).
    pub fn comments(&self, key: &str) -> Paged<Comment> {
        let key = key.to_owned();
        let page = self.page_size(PAGE);
        paging::offset(self, move |start| {
            Call::new(&COMMENTS)
                .arg(key.clone())
                .query("startAt", start)
                .query("maxResults", page)
        })
    }

    /// Adds a comment with an ADF body (not retried).
    pub async fn add_comment(&self, key: &str, body: &Doc) -> Result<Comment> {
        let body = serde_json::json!({ "body": body });
        self.json(Call::new(&ADD_COMMENT).arg(key).json(body)).await
    }

    /// All worklogs of an issue (offset pages).
    pub fn worklogs(&self, key: &str) -> Paged<Worklog> {
        let key = key.to_owned();
        let page = self.page_size(PAGE);
        paging::offset(self, move |start| {
            Call::new(&WORKLOGS)
                .arg(key.clone())
                .query("startAt", start)
                .query("maxResults", page)
        })
    }

    /// Logs work (not retried).
    pub async fn add_worklog(&self, key: &str, worklog: &NewWorklog) -> Result<Worklog> {
        let mut body = serde_json::json!({
            "timeSpentSeconds": worklog.time_spent_seconds,
            "started": jira_datetime(worklog.started),
        });
        if let Some(comment) = &worklog.comment {
            body["comment"] = serde_json::to_value(comment).unwrap_or(Value::Null);
        }
        self.json(Call::new(&ADD_WORKLOG).arg(key).json(body)).await
    }
}
