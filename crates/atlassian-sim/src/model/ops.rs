//! Mutations. Each one checks permissions, validates, records a changelog entry with
//! author and time, and bumps `updated`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::{
    ChangeItem, Comment, FieldKind, History, Issue, Model, ModelError, Transition, Worklog,
};

/// Message Jira returns for missing/invisible issues.
pub const ISSUE_NOT_FOUND: &str = "Issue does not exist or you do not have permission to see it.";

fn item(
    field: &str,
    field_id: &str,
    custom: bool,
    from: (Option<String>, Option<String>),
    to: (Option<String>, Option<String>),
) -> ChangeItem {
    ChangeItem {
        field: field.to_owned(),
        field_id: field_id.to_owned(),
        field_type: if custom { "custom" } else { "jira" }.to_owned(),
        from: from.0,
        from_string: from.1,
        to: to.0,
        to_string: to.1,
    }
}

fn display(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => Some(
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        other => Some(other.to_string()),
    }
}

impl Model {
    /// The visible issue index or the Jira 404.
    pub fn visible_issue(&self, account_id: &str, id_or_key: &str) -> Result<usize, ModelError> {
        self.issue_index(id_or_key)
            .filter(|&i| {
                self.issues
                    .get(i)
                    .is_some_and(|is| self.can_browse(account_id, is))
            })
            .ok_or_else(|| ModelError::NotFound(ISSUE_NOT_FOUND.to_owned()))
    }

    fn require(
        &self,
        account_id: &str,
        idx: usize,
        perm: &str,
        what: &str,
    ) -> Result<(), ModelError> {
        let ok = self
            .issues
            .get(idx)
            .is_some_and(|i| self.has_issue_permission(account_id, i, perm));
        if ok {
            Ok(())
        } else {
            Err(ModelError::Forbidden(format!(
                "You do not have permission to {what}."
            )))
        }
    }

    /// Appends a changelog entry (if non-empty) and bumps `updated`.
    pub fn record(&mut self, idx: usize, author: &str, at: Timestamp, items: Vec<ChangeItem>) {
        if items.is_empty() {
            return;
        }
        let id = self.next_id();
        if let Some(issue) = self.issues.get_mut(idx) {
            issue.changelog.push(History {
                id,
                author: author.to_owned(),
                created: at,
                items,
            });
            issue.updated = at;
        }
    }

    /// Applies one field value to an issue (no permission check), returning the change.
    pub fn apply_field(
        &mut self,
        idx: usize,
        field: &str,
        value: &Value,
    ) -> Result<Option<ChangeItem>, ModelError> {
        let def = self.field(field).cloned().ok_or_else(|| {
            ModelError::field(field, format!("Field '{field}' cannot be set. It is not on the appropriate screen, or unknown."))
        })?;
        let Some(issue) = self.issues.get(idx) else {
            return Err(ModelError::NotFound(ISSUE_NOT_FOUND.to_owned()));
        };
        let bad = |msg: &str| ModelError::field(&def.id, msg.to_owned());
        let old = self.field_value(issue, &def.id).unwrap_or(Value::Null);
        let (old_raw, old_str) = self.raw_and_display(&def.kind, &old);
        let new_value: Value = match def.kind {
            FieldKind::ReadOnly => return Err(bad("Field cannot be set. It is not on the appropriate screen, or unknown.")),
            FieldKind::Text => match value {
                Value::String(s) if def.id == "summary" && s.trim().is_empty() => return Err(bad("You must specify a summary of the issue.")),
                Value::String(_) | Value::Null => value.clone(),
                _ => return Err(bad("Operation value must be a string")),
            },
            FieldKind::Adf => match value {
                Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("doc") => value.clone(),
                Value::Null => Value::Null,
                _ => return Err(bad("Operation value must be an Atlassian Document (see the Atlassian Document Format)")),
            },
            FieldKind::Number => match value {
                Value::Number(_) | Value::Null => value.clone(),
                _ => return Err(bad("Operation value must be a number")),
            },
            FieldKind::DateTime => match value {
                Value::String(s) if parse_jira_time(s).is_some() => Value::String(crate::clock::jira_time(parse_jira_time(s).unwrap_or_default())),
                Value::Null => Value::Null,
                _ => return Err(bad("Invalid date format. Please enter the date in the format \"yyyy-MM-dd'T'HH:mm:ss.SSSZ\".")),
            },
            FieldKind::Labels => match value {
                Value::Array(a) if a.iter().all(|x| x.as_str().is_some_and(|s| !s.is_empty() && !s.contains(' '))) => value.clone(),
                Value::Null => Value::Array(Vec::new()),
                _ => return Err(bad("The label must not contain spaces and must be a string.")),
            },
            FieldKind::Location => match value {
                Value::Object(o) if o.get("lat").is_some_and(Value::is_number) && o.get("lng").is_some_and(Value::is_number) && o.len() == 2 => value.clone(),
                Value::Null => Value::Null,
                _ => return Err(bad("Location must be an object {\"lat\": number, \"lng\": number}.")),
            },
            FieldKind::Assets => match value {
                Value::Array(a) if a.iter().all(|x| x.get("workspaceId").is_some_and(Value::is_string) && x.get("objectId").is_some_and(Value::is_string)) => {
                    Value::Array(a.iter().map(|x| {
                        let ws = x.get("workspaceId").cloned().unwrap_or_default();
                        let oid = x.get("objectId").cloned().unwrap_or_default();
                        serde_json::json!({"workspaceId": ws, "id": format!("{}:{}", ws.as_str().unwrap_or(""), oid.as_str().unwrap_or("")), "objectId": oid})
                    }).collect())
                }
                Value::Null => Value::Array(Vec::new()),
                _ => return Err(bad("Assets objects must be an array of {\"workspaceId\", \"objectId\"}.")),
            },
            FieldKind::User => match value.get("accountId").map(|v| (v, v.as_str())) {
                None if value.is_null() => Value::Null,
                Some((_, Some(a))) if self.user(a).is_some() => Value::String(a.to_owned()),
                Some((v, None)) if v.is_null() => Value::Null,
                _ => return Err(bad("Specify a valid value for the user (accountId).")),
            },
            FieldKind::Priority => {
                let p = value.get("id").or_else(|| value.get("name")).and_then(Value::as_str).and_then(|p| self.priority(p));
                match p { Some(p) => Value::String(p.id.clone()), None => return Err(bad("Specify a valid priority id or name.")) }
            }
            FieldKind::Resolution => {
                let r = value.get("id").or_else(|| value.get("name")).and_then(Value::as_str).and_then(|r| self.resolution(r));
                match (r, value) { (Some(r), _) => Value::String(r.id.clone()), (None, Value::Null) => Value::Null, _ => return Err(bad("Specify a valid resolution id or name.")) }
            }
        };
        let Some(issue) = self.issues.get_mut(idx) else {
            return Err(ModelError::NotFound(ISSUE_NOT_FOUND.to_owned()));
        };
        match def.id.as_str() {
            "summary" => issue.summary = new_value.as_str().unwrap_or_default().to_owned(),
            "description" => issue.description = (!new_value.is_null()).then(|| new_value.clone()),
            "labels" => {
                issue.labels = new_value
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default()
            }
            "assignee" => issue.assignee = new_value.as_str().map(String::from),
            "reporter" => issue.reporter = new_value.as_str().unwrap_or(&issue.reporter).to_owned(),
            "priority" => issue.priority = new_value.as_str().unwrap_or(&issue.priority).to_owned(),
            "resolution" => issue.resolution = new_value.as_str().map(String::from),
            id => {
                if new_value.is_null() {
                    issue.custom.remove(id);
                } else {
                    issue.custom.insert(id.to_owned(), new_value.clone());
                }
            }
        }
        let issue = &self.issues[idx];
        let now_val = self.field_value(issue, &def.id).unwrap_or(Value::Null);
        let (new_raw, new_str) = self.raw_and_display(&def.kind, &now_val);
        if now_val == old {
            return Ok(None);
        }
        Ok(Some(item(
            if def.custom { &def.name } else { &def.id },
            &def.id,
            def.custom,
            (old_raw, old_str),
            (new_raw, new_str),
        )))
    }

    fn raw_and_display(&self, kind: &FieldKind, v: &Value) -> (Option<String>, Option<String>) {
        match kind {
            FieldKind::User => (
                v.get("accountId").and_then(Value::as_str).map(String::from),
                v.get("displayName")
                    .and_then(Value::as_str)
                    .map(String::from),
            ),
            FieldKind::Priority | FieldKind::Resolution => (
                v.get("id").and_then(Value::as_str).map(String::from),
                v.get("name").and_then(Value::as_str).map(String::from),
            ),
            FieldKind::Adf => (
                None,
                (!v.is_null()).then(|| super::render::adf_text(v).trim().to_owned()),
            ),
            _ => (None, display(v)),
        }
    }

    /// `PUT /issue/{key}`: edits fields as `account_id`.
    pub fn edit_issue(
        &mut self,
        account_id: &str,
        id_or_key: &str,
        fields: &Map<String, Value>,
    ) -> Result<(), ModelError> {
        let idx = self.visible_issue(account_id, id_or_key)?;
        self.require(account_id, idx, "EDIT_ISSUES", "edit this issue")?;
        if fields.contains_key("assignee") {
            self.require(account_id, idx, "ASSIGN_ISSUES", "assign this issue")?;
        }
        let saved = self.issues[idx].clone();
        let mut items = Vec::new();
        let mut errors = BTreeMap::new();
        for (k, v) in fields {
            match self.apply_field(idx, k, v) {
                Ok(Some(i)) => items.push(i),
                Ok(None) => {}
                Err(ModelError::Invalid { errors: e, .. }) => errors.extend(e),
                Err(e) => return Err(e),
            }
        }
        if !errors.is_empty() {
            self.issues[idx] = saved;
            return Err(ModelError::Invalid {
                messages: Vec::new(),
                errors,
            });
        }
        let now = self.clock.now();
        self.record(idx, account_id, now, items);
        Ok(())
    }

    /// `PUT /issue/{key}/assignee`.
    pub fn assign(
        &mut self,
        account_id: &str,
        id_or_key: &str,
        assignee: Option<&str>,
    ) -> Result<(), ModelError> {
        let idx = self.visible_issue(account_id, id_or_key)?;
        self.require(account_id, idx, "ASSIGN_ISSUES", "assign this issue")?;
        if let Some(a) = assignee {
            let assignable = self.user(a).is_some()
                && self
                    .issues
                    .get(idx)
                    .is_some_and(|i| self.has_issue_permission(a, i, "ASSIGNABLE_USER"));
            if !assignable {
                return Err(ModelError::field(
                    "assignee",
                    format!("User '{a}' cannot be assigned issues."),
                ));
            }
        }
        let v = assignee.map_or(Value::Null, |a| serde_json::json!({"accountId": a}));
        let change = self.apply_field(idx, "assignee", &v)?;
        let now = self.clock.now();
        self.record(idx, account_id, now, change.into_iter().collect());
        Ok(())
    }

    /// Transitions available on an issue for the caller.
    pub fn transitions_for(
        &self,
        account_id: &str,
        id_or_key: &str,
    ) -> Result<Vec<Transition>, ModelError> {
        let idx = self.visible_issue(account_id, id_or_key)?;
        let issue = &self.issues[idx];
        if !self.has_issue_permission(account_id, issue, "TRANSITION_ISSUES") {
            return Ok(Vec::new());
        }
        Ok(self
            .workflow_of(&issue.project_id)
            .map(|w| {
                w.transitions
                    .iter()
                    .filter(|t| t.from.is_empty() || t.from.contains(&issue.status))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `POST /issue/{key}/transitions`.
    pub fn transition(
        &mut self,
        account_id: &str,
        id_or_key: &str,
        transition_id: &str,
        fields: Option<&Map<String, Value>>,
    ) -> Result<(), ModelError> {
        let idx = self.visible_issue(account_id, id_or_key)?;
        self.require(
            account_id,
            idx,
            "TRANSITION_ISSUES",
            "transition this issue",
        )?;
        let available = self.transitions_for(account_id, id_or_key)?;
        let Some(t) = available.into_iter().find(|t| t.id == transition_id) else {
            return Err(ModelError::message(format!(
                "Transition id '{transition_id}' is not valid for this issue."
            )));
        };
        for req in &t.required_fields {
            if fields.and_then(|f| f.get(req)).is_none_or(Value::is_null) {
                let name = self.field(req).map_or(req.clone(), |f| f.name.clone());
                return Err(ModelError::field(req, format!("{name} is required.")));
            }
        }
        let saved = self.issues[idx].clone();
        let mut items = Vec::new();
        if let Some(f) = fields {
            for (k, v) in f {
                match self.apply_field(idx, k, v) {
                    Ok(c) => items.extend(c),
                    Err(e) => {
                        self.issues[idx] = saved;
                        return Err(e);
                    }
                }
            }
        }
        let now = self.clock.now();
        items.extend(self.set_status(idx, &t.to, now));
        self.record(idx, account_id, now, items);
        Ok(())
    }

    /// Sets the status (no checks) and returns the changelog items (status, resolution).
    pub fn set_status(&mut self, idx: usize, to: &str, now: Timestamp) -> Vec<ChangeItem> {
        let mut items = Vec::new();
        let Some(issue) = self.issues.get(idx) else {
            return items;
        };
        let from = self.statuses.get(&issue.status).cloned();
        let Some(target) = self.statuses.get(to).cloned() else {
            return items;
        };
        let was_resolution = issue.resolution.clone();
        items.push(item(
            "status",
            "status",
            false,
            (
                from.as_ref().map(|s| s.id.clone()),
                from.as_ref().map(|s| s.name.clone()),
            ),
            (Some(target.id.clone()), Some(target.name.clone())),
        ));
        let done = target.category == super::Category::Done;
        let default_res = self.resolutions.first().map(|r| r.id.clone());
        let res_name = |m: &Model, r: &Option<String>| {
            r.as_deref()
                .and_then(|r| m.resolution(r))
                .map(|r| r.name.clone())
        };
        let Some(issue) = self.issues.get_mut(idx) else {
            return items;
        };
        if from.as_ref().map(|s| s.category) != Some(target.category) {
            issue.status_category_changed = now;
        }
        issue.status = target.id.clone();
        if done && issue.resolution.is_none() {
            issue.resolution = default_res;
        } else if !done {
            issue.resolution = None;
        }
        issue.resolution_date = if done {
            issue.resolution_date.or(Some(now))
        } else {
            None
        };
        let new_res = issue.resolution.clone();
        if new_res != was_resolution {
            items.push(item(
                "resolution",
                "resolution",
                false,
                (was_resolution.clone(), res_name(self, &was_resolution)),
                (new_res.clone(), res_name(self, &new_res)),
            ));
        }
        items
    }

    /// Adds a comment; `public` is the JSM customer visibility.
    pub fn add_comment(
        &mut self,
        account_id: &str,
        id_or_key: &str,
        body: Value,
        public: bool,
    ) -> Result<Comment, ModelError> {
        let idx = self.visible_issue(account_id, id_or_key)?;
        self.require(
            account_id,
            idx,
            "ADD_COMMENTS",
            "add comments to this issue",
        )?;
        Ok(self.push_comment(idx, account_id, body, public))
    }

    /// Adds a comment without permission checks.
    pub fn push_comment(
        &mut self,
        idx: usize,
        account_id: &str,
        body: Value,
        public: bool,
    ) -> Comment {
        let now = self.clock.now();
        let c = Comment {
            id: self.next_id(),
            author: account_id.to_owned(),
            body,
            created: now,
            updated: now,
            public,
        };
        if let Some(issue) = self.issues.get_mut(idx) {
            issue.comments.push(c.clone());
            issue.updated = now;
        }
        c
    }

    /// Logs work.
    pub fn add_worklog(
        &mut self,
        account_id: &str,
        id_or_key: &str,
        seconds: i64,
        started: Timestamp,
        comment: Option<Value>,
    ) -> Result<Worklog, ModelError> {
        let idx = self.visible_issue(account_id, id_or_key)?;
        self.require(account_id, idx, "WORK_ON_ISSUES", "log work on this issue")?;
        if seconds <= 0 {
            return Err(ModelError::field(
                "timeLogged",
                "You must indicate the time spent working.",
            ));
        }
        let now = self.clock.now();
        let w = Worklog {
            id: self.next_id(),
            author: account_id.to_owned(),
            comment,
            started,
            time_spent_seconds: seconds,
            created: now,
        };
        let before: i64 = self.issues[idx]
            .worklogs
            .iter()
            .map(|w| w.time_spent_seconds)
            .sum();
        self.issues[idx].worklogs.push(w.clone());
        let after = before + seconds;
        let change = item(
            "timespent",
            "timespent",
            false,
            (Some(before.to_string()), Some(before.to_string())),
            (Some(after.to_string()), Some(after.to_string())),
        );
        self.record(idx, account_id, now, vec![change]);
        Ok(w)
    }

    /// A new issue with defaults, not yet inserted.
    pub fn blank_issue(
        &self,
        project_id: &str,
        issue_type: &str,
        reporter: &str,
        at: Timestamp,
    ) -> Issue {
        let status = self
            .workflow_of(project_id)
            .and_then(|w| w.statuses.first().cloned())
            .unwrap_or_default();
        Issue {
            id: String::new(),
            key: String::new(),
            project_id: project_id.to_owned(),
            issue_type: issue_type.to_owned(),
            status,
            summary: String::new(),
            description: None,
            priority: "3".to_owned(),
            assignee: None,
            reporter: reporter.to_owned(),
            creator: reporter.to_owned(),
            labels: Vec::new(),
            resolution: None,
            resolution_date: None,
            created: at,
            updated: at,
            status_category_changed: at,
            custom: BTreeMap::new(),
            changelog: Vec::new(),
            comments: Vec::new(),
            worklogs: Vec::new(),
            request_type: None,
        }
    }
}

/// Parses Jira date-times (`2024-05-01T09:30:00.000+0000`, RFC 3339, or `yyyy-MM-dd`).
pub fn parse_jira_time(s: &str) -> Option<Timestamp> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    if let Ok(z) =
        jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", s).and_then(|b| b.to_timestamp())
    {
        return Some(z);
    }
    if let Ok(z) =
        jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%z", s).and_then(|b| b.to_timestamp())
    {
        return Some(z);
    }
    s.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| {
            d.to_datetime(jiff::civil::Time::midnight())
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .ok()
        })
        .map(|z| z.timestamp())
}
