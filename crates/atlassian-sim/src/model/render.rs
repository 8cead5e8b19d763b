//! JSON representations, shaped after the Jira Cloud v3 / JSM OpenAPI schemas
//! (which forbid additional properties, so only schema fields are emitted).

use serde_json::{Map, Value, json};

use super::{Comment, FieldDef, History, Issue, Model, Project, Status, User, Worklog};
use crate::clock::jira_time;

impl Model {
    fn base(&self) -> &str {
        &self.site.url
    }

    fn avatar_urls(&self, seed: &str) -> Value {
        let u = format!("https://avatar-management.example/initials/{seed}");
        json!({"16x16": format!("{u}/16"), "24x24": format!("{u}/24"), "32x32": format!("{u}/32"), "48x48": format!("{u}/48")})
    }

    /// `UserDetails` (as used in issue fields, changelogs, comments).
    pub fn user_details(&self, account_id: &str) -> Value {
        match self.user(account_id) {
            Some(u) => json!({
                "self": format!("{}/rest/api/3/user?accountId={}", self.base(), u.account_id),
                "accountId": u.account_id,
                "emailAddress": u.email,
                "avatarUrls": self.avatar_urls(&u.account_id),
                "displayName": u.display_name,
                "active": u.active,
                "timeZone": u.time_zone,
                "accountType": u.account_type.as_str(),
            }),
            None => json!({"accountId": account_id, "active": false, "displayName": "Former user"}),
        }
    }

    /// The `User` schema (`/myself`, `/user`, user searches).
    pub fn user_json(&self, u: &User) -> Value {
        json!({
            "self": format!("{}/rest/api/3/user?accountId={}", self.base(), u.account_id),
            "accountId": u.account_id,
            "accountType": u.account_type.as_str(),
            "emailAddress": u.email,
            "avatarUrls": self.avatar_urls(&u.account_id),
            "displayName": u.display_name,
            "active": u.active,
            "timeZone": u.time_zone,
            "locale": "en_GB",
        })
    }

    /// JSM `UserDTO`.
    pub fn user_dto(&self, account_id: &str) -> Value {
        let u = self.user(account_id);
        json!({
            "accountId": account_id,
            "emailAddress": u.map(|u| u.email.clone()).unwrap_or_default(),
            "displayName": u.map(|u| u.display_name.clone()).unwrap_or_else(|| "Former user".into()),
            "active": u.is_some_and(|u| u.active),
            "timeZone": u.map(|u| u.time_zone.clone()).unwrap_or_default(),
            "_links": {"self": format!("{}/rest/api/3/user?accountId={account_id}", self.base())},
        })
    }

    /// `StatusDetails`.
    pub fn status_json(&self, s: &Status) -> Value {
        let (cid, ckey, color, cname) = s.category.parts();
        json!({
            "self": format!("{}/rest/api/3/status/{}", self.base(), s.id),
            "description": s.description,
            "iconUrl": format!("{}/images/icons/statuses/generic.png", self.base()),
            "name": s.name,
            "id": s.id,
            "statusCategory": {
                "self": format!("{}/rest/api/3/statuscategory/{cid}", self.base()),
                "id": cid, "key": ckey, "colorName": color, "name": cname,
            },
        })
    }

    /// `ProjectDetails`-like short project (issue field `project`).
    pub fn project_short(&self, p: &Project) -> Value {
        json!({
            "self": format!("{}/rest/api/3/project/{}", self.base(), p.id),
            "id": p.id, "key": p.key, "name": p.name,
            "projectTypeKey": "service_desk", "simplified": false,
            "avatarUrls": self.avatar_urls(&p.key),
        })
    }

    /// `IssueTypeDetails`.
    pub fn issue_type_json(&self, id: &str) -> Value {
        let it = self.issue_types.get(id);
        json!({
            "self": format!("{}/rest/api/3/issuetype/{id}", self.base()),
            "id": id,
            "description": it.map(|t| t.description.clone()).unwrap_or_default(),
            "iconUrl": format!("{}/images/icons/issuetypes/task.svg", self.base()),
            "name": it.map(|t| t.name.clone()).unwrap_or_default(),
            "subtask": false,
            "hierarchyLevel": 0,
        })
    }

    /// The `Project` schema.
    pub fn project_json(&self, p: &Project) -> Value {
        let types: Vec<Value> = p
            .issue_types
            .iter()
            .map(|t| self.issue_type_json(t))
            .collect();
        json!({
            "self": format!("{}/rest/api/3/project/{}", self.base(), p.id),
            "id": p.id, "key": p.key, "name": p.name,
            "description": format!("{} service project", p.name),
            "lead": self.user_details(&p.lead),
            "issueTypes": types,
            "projectTypeKey": "service_desk",
            "simplified": false, "style": "classic", "isPrivate": false,
            "assigneeType": "UNASSIGNED",
            "avatarUrls": self.avatar_urls(&p.key),
            "properties": {},
        })
    }

    /// `FieldDetails`.
    pub fn field_json(&self, f: &FieldDef) -> Value {
        let clause = if f.custom {
            let num = f.id.trim_start_matches("customfield_");
            vec![format!("cf[{num}]"), f.name.clone()]
        } else {
            vec![f.id.clone()]
        };
        json!({
            "id": f.id, "key": f.id, "name": f.name, "custom": f.custom,
            "orderable": true, "navigable": true, "searchable": true,
            "clauseNames": clause, "schema": f.schema,
        })
    }

    /// Value of one field of an issue, or `None` if the field is unknown.
    pub fn field_value(&self, issue: &Issue, id: &str) -> Option<Value> {
        let user = |a: &Option<String>| a.as_deref().map_or(Value::Null, |a| self.user_details(a));
        Some(match id {
            "summary" => json!(issue.summary),
            "description" => issue.description.clone().unwrap_or(Value::Null),
            "status" => self
                .statuses
                .get(&issue.status)
                .map_or(Value::Null, |s| self.status_json(s)),
            "priority" => self.priority(&issue.priority).map_or(Value::Null, |p| json!({
                "self": format!("{}/rest/api/3/priority/{}", self.base(), p.id),
                "iconUrl": format!("{}/images/icons/priorities/{}.svg", self.base(), p.name.to_lowercase()),
                "name": p.name, "id": p.id,
            })),
            "issuetype" => self.issue_type_json(&issue.issue_type),
            "project" => self
                .project(&issue.project_id)
                .map_or(Value::Null, |p| self.project_short(p)),
            "assignee" => user(&issue.assignee),
            "reporter" => self.user_details(&issue.reporter),
            "creator" => self.user_details(&issue.creator),
            "labels" => json!(issue.labels),
            "resolution" => issue
                .resolution
                .as_deref()
                .and_then(|r| self.resolution(r))
                .map_or(Value::Null, |r| json!({
                    "self": format!("{}/rest/api/3/resolution/{}", self.base(), r.id),
                    "id": r.id, "name": r.name, "description": r.name,
                })),
            "resolutiondate" => issue.resolution_date.map_or(Value::Null, |t| json!(jira_time(t))),
            "created" => json!(jira_time(issue.created)),
            "updated" => json!(jira_time(issue.updated)),
            "statuscategorychangedate" => json!(jira_time(issue.status_category_changed)),
            "comment" => {
                let comments: Vec<Value> = issue.comments.iter().map(|c| self.comment_json(issue, c)).collect();
                json!({"comments": comments, "self": format!("{}/rest/api/3/issue/{}/comment", self.base(), issue.id),
                       "maxResults": issue.comments.len(), "total": issue.comments.len(), "startAt": 0})
            }
            "worklog" => {
                let w: Vec<Value> = issue.worklogs.iter().map(|w| self.worklog_json(issue, w)).collect();
                json!({"startAt": 0, "maxResults": 20, "total": issue.worklogs.len(), "worklogs": w})
            }
            "customfield_10010" => issue
                .request_type
                .as_deref()
                .map_or(Value::Null, |rt| self.request_type_field_value(issue, rt)),
            other => {
                if let Some(v) = issue.custom.get(other) {
                    v.clone()
                } else if self.fields.iter().any(|f| f.id == other) {
                    Value::Null
                } else {
                    return None;
                }
            }
        })
    }

    fn request_type_field_value(&self, issue: &Issue, rt_id: &str) -> Value {
        let Some(rt) = self.request_types.iter().find(|r| r.id == rt_id) else {
            return Value::Null;
        };
        let status = self.statuses.get(&issue.status);
        json!({
            "_links": {"jiraRest": format!("{}/rest/api/2/issue/{}", self.base(), issue.id),
                       "web": format!("{}/servicedesk/customer/portal/{}/{}", self.base(), rt.service_desk_id, issue.key),
                       "self": format!("{}/rest/servicedeskapi/request/{}", self.base(), issue.id)},
            "requestType": {"id": rt.id, "name": rt.name, "description": rt.description, "helpText": rt.help_text,
                            "issueTypeId": rt.issue_type_id, "serviceDeskId": rt.service_desk_id, "groupIds": rt.group_ids},
            "currentStatus": {"status": status.map(|s| s.name.clone()).unwrap_or_default(),
                              "statusCategory": status.map(|s| s.category.parts().1.to_uppercase()).unwrap_or_default()},
        })
    }

    /// All field ids an issue carries in `*all`/`*navigable`.
    pub fn all_field_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.fields.iter().map(|f| f.id.clone()).collect();
        ids.extend(["creator", "statuscategorychangedate"].map(String::from));
        ids
    }

    /// `IssueBean` with the selected fields (`None` = all).
    pub fn issue_json(&self, issue: &Issue, fields: Option<&[String]>, changelog: bool) -> Value {
        let mut out = Map::new();
        let all = self.all_field_ids();
        let wanted: Vec<&String> = match fields {
            None => all.iter().collect(),
            Some(list) => {
                let mut w: Vec<&String> = Vec::new();
                let excluded: Vec<&str> = list.iter().filter_map(|f| f.strip_prefix('-')).collect();
                for f in list {
                    match f.as_str() {
                        "*all" | "*navigable" => w.extend(all.iter()),
                        x if x.starts_with('-') => {}
                        _ => w.push(f),
                    }
                }
                w.retain(|f| !excluded.contains(&f.as_str()));
                w
            }
        };
        for id in wanted {
            let resolved = self.field(id).map_or(id.as_str(), |f| f.id.as_str());
            if let Some(v) = self.field_value(issue, resolved) {
                out.insert(resolved.to_owned(), v);
            }
        }
        let mut bean = json!({
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue.id,
            "self": format!("{}/rest/api/3/issue/{}", self.base(), issue.id),
            "key": issue.key,
            "fields": Value::Object(out),
        });
        if changelog {
            let hist: Vec<Value> = issue
                .changelog
                .iter()
                .map(|h| self.history_json(h))
                .collect();
            bean["changelog"] = json!({"startAt": 0, "maxResults": hist.len(), "total": hist.len(), "histories": hist});
        }
        bean
    }

    /// `Changelog`.
    pub fn history_json(&self, h: &History) -> Value {
        let items: Vec<Value> = h
            .items
            .iter()
            .map(|i| {
                let mut o =
                    json!({"field": i.field, "fieldtype": i.field_type, "fieldId": i.field_id});
                for (k, v) in [
                    ("from", &i.from),
                    ("fromString", &i.from_string),
                    ("to", &i.to),
                    ("toString", &i.to_string),
                ] {
                    if let Some(v) = v {
                        o[k] = json!(v);
                    }
                }
                o
            })
            .collect();
        json!({"id": h.id, "author": self.user_details(&h.author), "created": jira_time(h.created), "items": items})
    }

    /// Jira `Comment`.
    pub fn comment_json(&self, issue: &Issue, c: &Comment) -> Value {
        json!({
            "self": format!("{}/rest/api/3/issue/{}/comment/{}", self.base(), issue.id, c.id),
            "id": c.id,
            "author": self.user_details(&c.author),
            "updateAuthor": self.user_details(&c.author),
            "body": c.body,
            "created": jira_time(c.created),
            "updated": jira_time(c.updated),
            "jsdPublic": c.public,
        })
    }

    /// Jira `Worklog`.
    pub fn worklog_json(&self, issue: &Issue, w: &Worklog) -> Value {
        let mut v = json!({
            "self": format!("{}/rest/api/3/issue/{}/worklog/{}", self.base(), issue.id, w.id),
            "author": self.user_details(&w.author),
            "updateAuthor": self.user_details(&w.author),
            "created": jira_time(w.created),
            "updated": jira_time(w.created),
            "started": jira_time(w.started),
            "timeSpent": format_duration(w.time_spent_seconds),
            "timeSpentSeconds": w.time_spent_seconds,
            "id": w.id,
            "issueId": issue.id,
        });
        if let Some(c) = &w.comment {
            v["comment"] = c.clone();
        }
        v
    }
}

/// `3h 20m` style duration.
pub fn format_duration(secs: i64) -> String {
    let (h, m) = (secs / 3600, (secs % 3600) / 60);
    match (h, m) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}

/// Plain text of an ADF document (all text nodes, space separated).
pub fn adf_text(doc: &Value) -> String {
    fn walk(v: &Value, out: &mut String) {
        if let Some(t) = v.get("text").and_then(Value::as_str) {
            out.push_str(t);
            out.push(' ');
        }
        if let Some(items) = v.get("content").and_then(Value::as_array) {
            for i in items {
                walk(i, out);
            }
        }
    }
    let mut s = String::new();
    walk(doc, &mut s);
    s
}

/// A one-paragraph ADF document.
pub fn adf_paragraph(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}
