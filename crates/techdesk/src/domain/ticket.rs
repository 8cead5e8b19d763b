//! The ticket view as plain data, built from Jira's issue JSON: request details, fields,
//! SLA, description and comments rendered from ADF (escaped), worklogs, linked Assets.

use atlassian::adf::{Doc, render_html};
use atlassian::client::{Field, Issue, RequestTypeField, Transition};
use jiff::Timestamp;
use serde_json::Value;

use super::duration::format_duration;
use super::queue::{QueueItem, Sla, sla_of};

/// HTML produced by `atlassian::adf::render_html` only (every text escaped, links limited
/// to http/https/mailto). The only HTML the templates insert unescaped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdfHtml(String);

impl AdfHtml {
    /// Renders an ADF document (tolerant: unknown shapes render as nothing).
    pub fn from_adf(value: Option<&Value>) -> Self {
        match value {
            Some(v) if !v.is_null() => Self(render_html(&doc_of(v))),
            _ => Self(String::new()),
        }
    }

    /// The HTML.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Nothing to show.
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl std::fmt::Display for AdfHtml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ADF document from raw JSON (tolerant: anything unreadable is an empty document).
fn doc_of(v: &Value) -> Doc {
    serde_json::from_value::<Doc>(v.clone()).unwrap_or_default()
}

/// A person as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Account id.
    pub account_id: String,
    /// Display name.
    pub name: String,
    /// Email if Jira shows it.
    pub email: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// `atlassian`, `customer` or `app`.
    pub account_type: Option<String>,
    /// Whether the account is active.
    pub active: bool,
}

/// One comment.
#[derive(Debug, Clone)]
pub struct CommentView {
    /// Author's name.
    pub author: String,
    /// Created (Jira text).
    pub created: String,
    /// Customer-visible.
    pub public: bool,
    /// Body.
    pub html: AdfHtml,
}

/// One worklog.
#[derive(Debug, Clone)]
pub struct WorklogView {
    /// Author's name.
    pub author: String,
    /// Started (Jira text).
    pub started: String,
    /// `1h 30m`.
    pub spent: String,
    /// Comment.
    pub html: AdfHtml,
}

/// A request-type field and its value, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldValue {
    /// Label.
    pub label: String,
    /// Value as text (escaped by the template).
    pub value: String,
}

/// A transition offered by Jira, with its required screen fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Target status.
    pub to: String,
    /// Required screen fields: (id, label, options as (id, name)).
    pub required: Vec<RequiredField>,
}

/// A field a transition requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredField {
    /// Field id.
    pub id: String,
    /// Label.
    pub label: String,
    /// Allowed values (id, name); empty: free text.
    pub options: Vec<(String, String)>,
}

/// A reference to a linked Assets object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRef {
    /// The custom field holding it.
    pub field_id: String,
    /// Workspace id.
    pub workspace_id: String,
    /// Object id.
    pub object_id: String,
}

/// Everything the ticket page shows from the issue itself.
#[derive(Debug, Clone)]
pub struct TicketView {
    /// Key.
    pub key: String,
    /// Numeric id.
    pub id: String,
    /// Project key.
    pub project: String,
    /// Summary.
    pub summary: String,
    /// Status name.
    pub status: String,
    /// Status category key.
    pub category: String,
    /// Priority name.
    pub priority: String,
    /// Created.
    pub created: Option<Timestamp>,
    /// SLA.
    pub sla: Sla,
    /// Assignee.
    pub assignee: Option<Person>,
    /// Reporter (the customer).
    pub reporter: Option<Person>,
    /// Request type (id, name, service desk id).
    pub request_type: Option<(String, String, String)>,
    /// Description.
    pub description: AdfHtml,
    /// Comments, oldest first.
    pub comments: Vec<CommentView>,
    /// Worklogs, oldest first.
    pub worklogs: Vec<WorklogView>,
    /// Total logged.
    pub logged: String,
    /// Labels.
    pub labels: Vec<String>,
    /// Linked Assets objects.
    pub assets: Vec<AssetRef>,
}

/// Parses Jira's `2026-01-02T03:04:05.000+0000`.
pub fn parse_jira_time(s: &str) -> Option<Timestamp> {
    jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", s)
        .ok()
        .and_then(|t| t.to_timestamp().ok())
        .or_else(|| s.parse().ok())
}

fn text(v: Option<&Value>, key: &str) -> String {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn person(v: Option<&Value>) -> Option<Person> {
    let v = v.filter(|v| v.is_object())?;
    Some(Person {
        account_id: text(Some(v), "accountId"),
        name: v
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or("(unknown)")
            .to_owned(),
        email: v
            .get("emailAddress")
            .and_then(Value::as_str)
            .map(str::to_owned),
        time_zone: v.get("timeZone").and_then(Value::as_str).map(str::to_owned),
        account_type: v
            .get("accountType")
            .and_then(Value::as_str)
            .map(str::to_owned),
        active: v.get("active").and_then(Value::as_bool).unwrap_or(true),
    })
}

/// The queue row of an issue from a search.
pub fn queue_item(issue: &Issue) -> QueueItem {
    let f = &issue.fields;
    let status = f.get("status");
    QueueItem {
        key: issue.key.clone(),
        summary: text(Some(&Value::Object(f.clone())), "summary"),
        status: text(status, "name"),
        category: status
            .and_then(|s| s.get("statusCategory"))
            .map(|c| text(Some(c), "key"))
            .unwrap_or_default(),
        priority: text(f.get("priority"), "name"),
        created: f
            .get("created")
            .and_then(Value::as_str)
            .and_then(parse_jira_time),
        assignee: person(f.get("assignee")).map(|p| p.name),
        request_type: f
            .get("customfield_10010")
            .and_then(|v| v.get("requestType"))
            .map(|r| text(Some(r), "name")),
    }
}

/// Fields a queue search asks for.
pub const QUEUE_FIELDS: [&str; 7] = [
    "summary",
    "status",
    "priority",
    "assignee",
    "created",
    "customfield_10010",
    "project",
];

/// Ids of the custom fields that hold Assets objects.
pub fn assets_field_ids(fields: &[Field]) -> Vec<String> {
    fields
        .iter()
        .filter(|f| {
            let schema = f.schema.as_ref();
            let s = |k: &str| {
                schema
                    .and_then(|s| s.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or("")
            };
            s("items") == "cmdb-object" || s("custom").contains("cmdb-object-cftype")
        })
        .map(|f| f.id.clone())
        .collect()
}

/// Builds the view of `issue` at `now`; `assets_fields` are the Assets custom fields.
pub fn ticket_view(issue: &Issue, assets_fields: &[String], now: Timestamp) -> TicketView {
    let item = queue_item(issue);
    let f = &issue.fields;
    let comments = f
        .get("comment")
        .and_then(|c| c.get("comments"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|c| CommentView {
                    author: person(c.get("author")).map(|p| p.name).unwrap_or_default(),
                    created: text(Some(c), "created"),
                    public: c.get("jsdPublic").and_then(Value::as_bool).unwrap_or(true),
                    html: AdfHtml::from_adf(c.get("body")),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut total = 0u64;
    let worklogs = f
        .get("worklog")
        .and_then(|c| c.get("worklogs"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|w| {
                    let secs = w
                        .get("timeSpentSeconds")
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                    total += secs;
                    WorklogView {
                        author: person(w.get("author")).map(|p| p.name).unwrap_or_default(),
                        started: text(Some(w), "started"),
                        spent: format_duration(secs),
                        html: AdfHtml::from_adf(w.get("comment")),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let request_type = f
        .get("customfield_10010")
        .and_then(|v| v.get("requestType"))
        .map(|r| {
            (
                text(Some(r), "id"),
                text(Some(r), "name"),
                text(Some(r), "serviceDeskId"),
            )
        });
    let mut assets = Vec::new();
    for field_id in assets_fields {
        if let Some(list) = f.get(field_id).and_then(Value::as_array) {
            for o in list {
                let ws = text(Some(o), "workspaceId");
                let oid = text(Some(o), "objectId");
                if !oid.is_empty() {
                    assets.push(AssetRef {
                        field_id: field_id.clone(),
                        workspace_id: ws,
                        object_id: oid,
                    });
                }
            }
        }
    }
    TicketView {
        key: issue.key.clone(),
        id: issue.id.clone(),
        project: text(f.get("project"), "key"),
        sla: sla_of(&item.priority, item.created, now),
        summary: item.summary,
        status: item.status,
        category: item.category,
        priority: item.priority,
        created: item.created,
        assignee: person(f.get("assignee")),
        reporter: person(f.get("reporter")),
        request_type,
        description: AdfHtml::from_adf(f.get("description")),
        comments,
        worklogs,
        logged: format_duration(total),
        labels: f
            .get("labels")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        assets,
    }
}

/// A field value as one line of text; `None` for empty values and kinds shown elsewhere.
pub fn display_value(v: &Value) -> Option<String> {
    let s = match v {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        Value::Array(items) => {
            if items.iter().any(|i| i.get("objectId").is_some()) {
                return None;
            }
            let parts: Vec<String> = items.iter().filter_map(display_value).collect();
            parts.join(", ")
        }
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("doc") {
                doc_of(v).to_plain_text()
            } else if let (Some(lat), Some(lng)) = (o.get("lat"), o.get("lng")) {
                format!("{lat}, {lng}")
            } else {
                ["displayName", "name", "value", "label"]
                    .iter()
                    .find_map(|k| o.get(*k).and_then(Value::as_str))
                    .map(str::to_owned)?
            }
        }
    };
    (!s.trim().is_empty()).then_some(s)
}

/// The request-type fields of the issue with values, minus hidden ones and the fields the
/// page shows elsewhere (summary, description, Assets).
pub fn request_field_values(
    issue: &Issue,
    fields: &[RequestTypeField],
    hidden: &[String],
) -> Vec<FieldValue> {
    fields
        .iter()
        .filter(|f| !matches!(f.field_id.as_str(), "summary" | "description"))
        .filter(|f| !hidden.contains(&f.field_id))
        .filter_map(|f| {
            let value = display_value(issue.fields.get(&f.field_id)?)?;
            Some(FieldValue {
                label: f.name.clone().unwrap_or_else(|| f.field_id.clone()),
                value,
            })
        })
        .collect()
}

/// The transitions as offered, with required screen fields.
pub fn transitions_view(transitions: &[Transition]) -> Vec<TransitionView> {
    transitions
        .iter()
        .map(|t| TransitionView {
            id: t.id.clone(),
            name: t.name.clone().unwrap_or_else(|| t.id.clone()),
            to: t
                .to
                .as_ref()
                .and_then(|s| s.name.clone())
                .unwrap_or_default(),
            required: t
                .fields
                .iter()
                .filter(|(_, f)| f.get("required").and_then(Value::as_bool) == Some(true))
                .map(|(id, f)| RequiredField {
                    id: id.clone(),
                    label: text(Some(f), "name"),
                    options: f
                        .get("allowedValues")
                        .and_then(Value::as_array)
                        .map(|vals| {
                            vals.iter()
                                .filter_map(|v| {
                                    let id = v.get("id").and_then(Value::as_str)?;
                                    let name = ["name", "value"]
                                        .iter()
                                        .find_map(|k| v.get(*k).and_then(Value::as_str))
                                        .unwrap_or(id);
                                    Some((id.to_owned(), name.to_owned()))
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect(),
        })
        .collect()
}

/// The `fields` of a transition request from the submitted values of its required fields:
/// options as `{"id": …}`, free text as a string. Problems as (field, reason).
pub fn transition_fields(
    t: &TransitionView,
    submitted: &std::collections::BTreeMap<String, String>,
) -> Result<serde_json::Map<String, Value>, Vec<(String, String)>> {
    let mut out = serde_json::Map::new();
    let mut errors = Vec::new();
    for f in &t.required {
        let raw = submitted.get(&f.id).map(|s| s.trim()).unwrap_or("");
        if raw.is_empty() {
            errors.push((f.id.clone(), format!("{} is required", f.label)));
        } else if !f.options.is_empty() {
            if f.options.iter().any(|(id, _)| id == raw) {
                out.insert(f.id.clone(), serde_json::json!({ "id": raw }));
            } else {
                errors.push((f.id.clone(), "choose one of the options".to_owned()));
            }
        } else {
            out.insert(f.id.clone(), Value::String(raw.to_owned()));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issue() -> Issue {
        serde_json::from_value(json!({
            "id": "10001", "key": "FS-1",
            "fields": {
                "summary": "<script>alert(1)</script>",
                "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
                "priority": {"name": "High"},
                "created": "2026-01-01T00:00:00.000+0000",
                "project": {"key": "FS"},
                "assignee": {"accountId": "a1", "displayName": "Leo"},
                "reporter": {"accountId": "c1", "displayName": "Cat", "emailAddress": "c@x"},
                "description": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
                    {"type": "text", "text": "<img src=x onerror=alert(1)>"},
                    {"type": "text", "text": "link", "marks": [{"type": "link", "attrs": {"href": "javascript:alert(1)"}}]}
                ]}]},
                "comment": {"comments": [
                    {"author": {"displayName": "Leo"}, "created": "2026-01-01T01:00:00.000+0000", "jsdPublic": false,
                     "body": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "\"><b>x</b>"}]}]}}
                ]},
                "worklog": {"worklogs": [{"author": {"displayName": "Leo"}, "started": "s", "timeSpentSeconds": 5400}]},
                "customfield_10010": {"requestType": {"id": "1", "name": "Repair visit", "serviceDeskId": "1"}},
                "customfield_10060": [{"workspaceId": "ws", "objectId": "42"}],
                "customfield_10053": "1 Main St",
                "customfield_10050": {"lat": 53.4, "lng": -2.2},
                "labels": ["a"]
            }
        }))
        .unwrap()
    }

    #[test]
    fn builds_the_view_with_escaped_adf() {
        let now = Timestamp::from_second(1_767_225_600 + 3600).unwrap();
        let v = ticket_view(&issue(), &["customfield_10060".into()], now);
        assert_eq!(v.key, "FS-1");
        assert_eq!(v.project, "FS");
        assert_eq!(v.summary, "<script>alert(1)</script>");
        assert!(!v.description.as_str().contains("<img"));
        assert!(v.description.as_str().contains("&lt;img"));
        assert!(!v.description.as_str().contains("javascript:"));
        assert_eq!(v.comments.len(), 1);
        assert!(!v.comments[0].public);
        assert!(!v.comments[0].html.as_str().contains("<b>"));
        assert_eq!(v.logged, "1h 30m");
        assert_eq!(
            v.request_type.as_ref().map(|r| r.1.as_str()),
            Some("Repair visit")
        );
        assert_eq!(v.assets[0].object_id, "42");
        assert_eq!(
            v.reporter.as_ref().and_then(|p| p.email.as_deref()),
            Some("c@x")
        );
        assert_eq!(v.sla.remaining_seconds, Some(7 * 3600));
    }

    #[test]
    fn request_field_values_skip_hidden_and_empty() {
        let fields: Vec<RequestTypeField> = serde_json::from_value(json!([
            {"fieldId": "summary", "name": "Summary"},
            {"fieldId": "customfield_10053", "name": "Street address"},
            {"fieldId": "customfield_10050", "name": "Location"},
            {"fieldId": "customfield_10054", "name": "City"},
            {"fieldId": "customfield_10060", "name": "Assets"}
        ]))
        .unwrap();
        let values = request_field_values(&issue(), &fields, &["customfield_10050".into()]);
        assert_eq!(
            values,
            vec![FieldValue {
                label: "Street address".into(),
                value: "1 Main St".into()
            }]
        );
    }

    #[test]
    fn transitions_with_required_fields() {
        let ts: Vec<Transition> = serde_json::from_value(json!([
            {"id": "31", "name": "Resolve", "to": {"name": "Resolved"},
             "fields": {"resolution": {"required": true, "name": "Resolution",
                "allowedValues": [{"id": "1", "name": "Fixed"}]}}},
            {"id": "11", "name": "Start", "to": {"name": "In Progress"}}
        ]))
        .unwrap();
        let view = transitions_view(&ts);
        assert_eq!(
            view[0].required[0].options,
            vec![("1".into(), "Fixed".into())]
        );
        let mut sub = std::collections::BTreeMap::new();
        assert!(transition_fields(&view[0], &sub).is_err());
        sub.insert("resolution".to_owned(), "2".to_owned());
        assert!(transition_fields(&view[0], &sub).is_err());
        sub.insert("resolution".to_owned(), "1".to_owned());
        assert_eq!(
            transition_fields(&view[0], &sub).unwrap()["resolution"],
            json!({"id": "1"})
        );
        assert!(transition_fields(&view[1], &sub).unwrap().is_empty());
    }

    #[test]
    fn jira_times() {
        assert_eq!(
            parse_jira_time("2026-01-01T00:00:00.000+0000").map(|t| t.as_second()),
            Some(1_767_225_600)
        );
        assert_eq!(parse_jira_time("nope"), None);
    }
}
