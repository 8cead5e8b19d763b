//! Reading Jira's shapes into the dispatch domain: issues into [`Ticket`]s, changelogs into
//! [`IssueHistory`], statuses into [`Status`]es, and which custom fields hold the location,
//! address, skills and schedule ([`FieldMap`], detected by name and editable by the admin).

use std::collections::BTreeSet;

use atlassian::client::{ChangeGroup, Field, Issue};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::board::Ticket;
use crate::geo::LatLon;
use crate::phase::{Status, StatusCategory};
use crate::schedule::{Change, ChangeEvent, IssueHistory};
use crate::technician::normalise_skill;

/// Which custom fields carry dispatch data on this site (ids such as `customfield_10050`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMap {
    /// Position: an object `{lat, lng}` (or `{latitude, longitude}`) or text `"lat,lng"`.
    pub location: Option<String>,
    /// Address lines, joined with ", " in this order.
    #[serde(default)]
    pub address: Vec<String>,
    /// Skills required: labels or a multi-select.
    pub skills: Option<String>,
    /// Scheduled start (datetime).
    pub scheduled_start: Option<String>,
    /// Scheduled end (datetime).
    pub scheduled_end: Option<String>,
    /// JSM request type.
    pub request_type: Option<String>,
}

impl FieldMap {
    /// Guesses the fields from the site's field list by their usual names.
    pub fn detect(fields: &[Field]) -> FieldMap {
        let by_name = |names: &[&str]| {
            fields
                .iter()
                .find(|f| {
                    f.name
                        .as_deref()
                        .is_some_and(|n| names.iter().any(|w| n.eq_ignore_ascii_case(w)))
                })
                .map(|f| f.id.clone())
        };
        let custom_type = |t: &str| {
            fields
                .iter()
                .find(|f| {
                    f.schema
                        .as_ref()
                        .and_then(|s| s.get("custom"))
                        .and_then(Value::as_str)
                        == Some(t)
                })
                .map(|f| f.id.clone())
        };
        FieldMap {
            location: by_name(&["Location", "Site location", "Coordinates"]),
            address: ["Street address", "City", "Postcode"]
                .iter()
                .filter_map(|n| by_name(&[n]))
                .collect(),
            skills: by_name(&["Skills required", "Skills"]),
            scheduled_start: by_name(&["Scheduled start", "Start time"]),
            scheduled_end: by_name(&["Scheduled end", "End time"]),
            request_type: custom_type("com.atlassian.servicedesk:vp-origin")
                .or_else(|| by_name(&["Request Type"])),
        }
    }

    /// The fields to ask Jira for when listing tickets.
    pub fn search_fields(&self) -> Vec<String> {
        let mut v: Vec<String> = [
            "summary", "status", "assignee", "project", "priority", "updated",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for f in [
            &self.location,
            &self.skills,
            &self.scheduled_start,
            &self.scheduled_end,
            &self.request_type,
        ]
        .into_iter()
        .flatten()
        {
            v.push(f.clone());
        }
        v.extend(self.address.iter().cloned());
        v
    }
}

/// Parses Jira's datetimes: RFC 3339, or `2026-11-30T10:00:00.000+0000`.
pub fn parse_time(s: &str) -> Option<Timestamp> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(t) = jiff::fmt::strtime::parse(fmt, s).and_then(|b| b.to_timestamp()) {
            return Some(t);
        }
    }
    None
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get("value")
            .or_else(|| o.get("name"))
            .and_then(Value::as_str)
            .map(String::from),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn location(v: Option<&Value>) -> Option<LatLon> {
    match v? {
        Value::Object(o) => {
            let num = |keys: &[&str]| {
                keys.iter().find_map(|k| {
                    o.get(*k).and_then(|x| {
                        x.as_f64()
                            .or_else(|| x.as_str().and_then(|s| s.trim().parse().ok()))
                    })
                })
            };
            LatLon::new(
                num(&["lat", "latitude"])?,
                num(&["lng", "lon", "longitude"])?,
            )
            .ok()
        }
        Value::String(s) => {
            let (a, b) = s.split_once(',')?;
            LatLon::new(a.trim().parse().ok()?, b.trim().parse().ok()?).ok()
        }
        _ => None,
    }
}

/// The status category from Jira's shapes: an object with `key`, or the key itself.
pub fn category_of(v: Option<&Value>) -> StatusCategory {
    match v {
        Some(Value::String(k)) => StatusCategory::from_key(&k.to_lowercase()),
        Some(Value::Object(o)) => o
            .get("key")
            .and_then(Value::as_str)
            .map_or(StatusCategory::ToDo, StatusCategory::from_key),
        _ => StatusCategory::ToDo,
    }
}

/// A status from Jira's status object.
pub fn status_of(v: &Value) -> Option<Status> {
    Some(Status {
        id: v.get("id").and_then(Value::as_str)?.to_string(),
        name: v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        category: category_of(v.get("statusCategory")),
    })
}

/// A board ticket from a searched issue. `None` when Jira left out the basics.
pub fn ticket(issue: &Issue, fields: &FieldMap) -> Option<Ticket> {
    let f = &issue.fields;
    let status = status_of(f.get("status")?)?;
    let assignee = f.get("assignee").filter(|v| !v.is_null());
    let project = f
        .get("project")
        .and_then(|p| p.get("key"))
        .and_then(Value::as_str)
        .map(String::from)
        .or_else(|| issue.key.split_once('-').map(|(p, _)| p.to_string()))?;
    let get = |id: &Option<String>| id.as_ref().and_then(|id| f.get(id));
    let skills: BTreeSet<String> = match get(&fields.skills) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| text(Some(v)))
            .map(|s| normalise_skill(&s))
            .filter(|s| !s.is_empty())
            .collect(),
        _ => BTreeSet::new(),
    };
    let request_type = get(&fields.request_type).and_then(|v| {
        v.get("requestType")
            .and_then(|r| r.get("name"))
            .and_then(Value::as_str)
            .map(String::from)
            .or_else(|| text(Some(v)))
    });
    let scheduled = match (
        get(&fields.scheduled_start)
            .and_then(Value::as_str)
            .and_then(parse_time),
        get(&fields.scheduled_end)
            .and_then(Value::as_str)
            .and_then(parse_time),
    ) {
        (Some(s), Some(e)) if e >= s => Some((s, e)),
        (Some(s), _) => Some((s, s)),
        _ => None,
    };
    let address = fields
        .address
        .iter()
        .filter_map(|id| text(f.get(id)))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    Some(Ticket {
        id: issue.id.clone(),
        key: issue.key.clone(),
        project,
        summary: f
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        status_id: status.id,
        status_name: status.name,
        assignee: assignee
            .and_then(|a| a.get("accountId"))
            .and_then(Value::as_str)
            .map(String::from),
        assignee_name: assignee
            .and_then(|a| a.get("displayName"))
            .and_then(Value::as_str)
            .map(String::from),
        request_type,
        priority: f
            .get("priority")
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .map(String::from),
        skills,
        location: location(get(&fields.location)),
        address,
        scheduled,
        updated: f
            .get("updated")
            .and_then(Value::as_str)
            .and_then(parse_time)
            .unwrap_or(Timestamp::UNIX_EPOCH),
    })
}

/// The dispatch history of an issue from its changelog (status and assignee items only).
/// `created` and the current status/assignee anchor the start when the changelog is empty.
pub fn history(
    key: &str,
    created: Timestamp,
    current_status: &str,
    current_assignee: Option<&str>,
    groups: &[ChangeGroup],
) -> IssueHistory {
    let mut events = Vec::new();
    for g in groups {
        let Some(at) = g.created.as_deref().and_then(parse_time) else {
            continue;
        };
        for item in &g.items {
            let field = item
                .field_id
                .as_deref()
                .or(item.field.as_deref())
                .unwrap_or_default();
            let change = match field {
                "status" => Change::Status {
                    from: item.from.clone().unwrap_or_default(),
                    to: item.to.clone().unwrap_or_default(),
                },
                "assignee" => Change::Assignee {
                    from: item.from.clone().filter(|s| !s.is_empty()),
                    to: item.to.clone().filter(|s| !s.is_empty()),
                },
                _ => continue,
            };
            events.push(ChangeEvent { at, change });
        }
    }
    events.sort_by_key(|e| e.at);
    let initial_status = events
        .iter()
        .find_map(|e| match &e.change {
            Change::Status { from, .. } => Some(from.clone()),
            Change::Assignee { .. } => None,
        })
        .unwrap_or_else(|| current_status.to_string());
    let initial_assignee = match events.iter().find_map(|e| match &e.change {
        Change::Assignee { from, .. } => Some(from.clone()),
        Change::Status { .. } => None,
    }) {
        Some(from) => from,
        None => current_assignee.map(String::from),
    };
    IssueHistory {
        key: key.to_string(),
        created,
        initial_status,
        initial_assignee,
        events,
    }
}

/// Applies a `jsmkit.profile` user property (home base, skills, working hours, time zone)
/// to a technician. Unknown or malformed parts are skipped; returns what was applied.
pub fn apply_profile(t: &mut crate::technician::Technician, profile: &Value) -> Vec<&'static str> {
    use crate::technician::{Shift, check_skill};
    let mut applied = Vec::new();
    if let Some(home) = location(profile.get("homeBase")) {
        t.home = Some(home);
        applied.push("home base");
    }
    if let Some(skills) = profile.get("skills").and_then(Value::as_array) {
        let set: BTreeSet<String> = skills
            .iter()
            .filter_map(Value::as_str)
            .map(normalise_skill)
            .filter(|s| check_skill(s).is_ok())
            .collect();
        if !set.is_empty() {
            t.skills = set;
            applied.push("skills");
        }
    }
    if let Some(wh) = profile.get("workingHours") {
        if let Some(zone) = wh.get("timeZone").and_then(Value::as_str)
            && jiff::tz::TimeZone::get(zone).is_ok()
        {
            t.zone = zone.to_string();
            applied.push("time zone");
        }
        let time = |k: &str| {
            wh.get(k)
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<jiff::civil::Time>().ok())
        };
        if let (Some(start), Some(end), Some(days)) = (
            time("start"),
            time("end"),
            wh.get("days").and_then(Value::as_array),
        ) && start < end
        {
            let mut hours = [None; 7];
            for d in days.iter().filter_map(Value::as_str) {
                let idx = crate::technician::WEEKDAYS
                    .iter()
                    .position(|w| w.eq_ignore_ascii_case(&d[..d.len().min(3)]));
                if let Some(i) = idx
                    && let Some(slot) = hours.get_mut(i)
                {
                    *slot = Some(Shift { start, end });
                }
            }
            if hours.iter().any(Option::is_some) {
                t.hours = hours;
                applied.push("working hours");
            }
        }
    }
    applied
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    fn fields() -> FieldMap {
        FieldMap {
            location: Some("customfield_10050".into()),
            address: vec!["customfield_10053".into(), "customfield_10055".into()],
            skills: Some("customfield_10070".into()),
            scheduled_start: Some("customfield_10080".into()),
            scheduled_end: Some("customfield_10081".into()),
            request_type: Some("customfield_10010".into()),
        }
    }

    #[test]
    fn issue_becomes_a_ticket() {
        let issue: Issue = serde_json::from_value(json!({
            "id": "10001", "key": "FS-1",
            "fields": {
                "summary": "No heating <b>",
                "status": {"id": "10002", "name": "Assigned to Tech", "statusCategory": {"key": "indeterminate"}},
                "assignee": {"accountId": "acc-leo", "displayName": "Leo Ashworth"},
                "project": {"key": "FS"},
                "priority": {"name": "High"},
                "updated": "2026-11-30T09:15:00.000+0000",
                "customfield_10050": {"lat": 53.48, "lng": -2.24},
                "customfield_10053": "12 Deansgate",
                "customfield_10055": "M3 1AA",
                "customfield_10070": ["Gas ", "electrical"],
                "customfield_10080": "2026-11-30T10:00:00.000+0000",
                "customfield_10081": "2026-11-30T12:00:00.000+0000",
                "customfield_10010": {"requestType": {"name": "Repair"}}
            }
        }))
        .unwrap();
        let t = ticket(&issue, &fields()).unwrap();
        assert_eq!(t.status_id, "10002");
        assert_eq!(t.assignee.as_deref(), Some("acc-leo"));
        assert_eq!(t.address, "12 Deansgate, M3 1AA");
        assert_eq!(
            t.skills,
            ["electrical".to_string(), "gas".to_string()].into()
        );
        assert_eq!(t.request_type.as_deref(), Some("Repair"));
        assert!(t.location.is_some());
        let (s, e) = t.scheduled.unwrap();
        assert_eq!(e.as_second() - s.as_second(), 7200);
        assert_eq!(
            t.updated,
            "2026-11-30T09:15:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn odd_values_are_tolerated() {
        let issue: Issue = serde_json::from_value(json!({
            "id": "1", "key": "FS-2",
            "fields": {
                "status": {"id": "1", "name": "New"},
                "assignee": null,
                "customfield_10050": "not a place",
                "customfield_10070": "gas",
                "customfield_10080": "yesterday"
            }
        }))
        .unwrap();
        let t = ticket(&issue, &fields()).unwrap();
        assert_eq!(t.project, "FS");
        assert!(t.location.is_none() && t.skills.is_empty() && t.scheduled.is_none());
        let bad: Issue =
            serde_json::from_value(json!({"id": "1", "key": "X-1", "fields": {}})).unwrap();
        assert!(ticket(&bad, &fields()).is_none());
    }

    #[test]
    fn changelog_becomes_history() {
        let groups: Vec<ChangeGroup> = serde_json::from_value(json!([
            {"id": "2", "created": "2026-11-30T09:00:00.000+0000", "items": [
                {"field": "status", "fieldId": "status", "from": "10002", "to": "10003"}]},
            {"id": "1", "created": "2026-11-30T08:00:00.000+0000", "items": [
                {"field": "assignee", "fieldId": "assignee", "from": null, "to": "acc-leo"},
                {"field": "status", "fieldId": "status", "from": "10001", "to": "10002"},
                {"field": "labels", "fieldId": "labels", "from": "", "to": "x"}]}
        ]))
        .unwrap();
        let created = "2026-11-30T07:00:00Z".parse().unwrap();
        let h = history("FS-1", created, "10003", Some("acc-leo"), &groups);
        assert_eq!(h.initial_status, "10001");
        assert_eq!(h.initial_assignee, None);
        assert_eq!(h.events.len(), 3);
        assert!(h.events.windows(2).all(|w| w[0].at <= w[1].at));
        let none = history("FS-2", created, "10001", Some("acc-mia"), &[]);
        assert_eq!(none.initial_status, "10001");
        assert_eq!(none.initial_assignee.as_deref(), Some("acc-mia"));
    }

    #[test]
    fn profile_fills_a_technician() {
        let mut t =
            crate::technician::Technician::new("acc", "Leo", crate::technician::TechSource::Manual);
        let profile = json!({
            "homeBase": {"lat": 53.47, "lng": -2.25, "address": "1 Oxford Road"},
            "skills": ["Electrical", "<script>"],
            "workingHours": {"timeZone": "Europe/London", "days": ["MON", "WED"], "start": "07:30", "end": "15:30"}
        });
        let applied = apply_profile(&mut t, &profile);
        assert_eq!(
            applied,
            ["home base", "skills", "time zone", "working hours"]
        );
        assert_eq!(t.skills, ["electrical".to_string()].into());
        assert!(t.hours[0].is_some() && t.hours[1].is_none() && t.hours[2].is_some());
        assert!(t.validate().is_empty());
        let mut u = t.clone();
        assert!(
            apply_profile(
                &mut u,
                &json!({"workingHours": {"timeZone": "Nowhere/Else"}})
            )
            .is_empty()
        );
        assert_eq!(u, t);
    }

    #[test]
    fn jira_times_parse() {
        for s in [
            "2026-11-30T10:00:00.000+0000",
            "2026-11-30T10:00:00+00:00",
            "2026-11-30T11:00:00.000+0100",
            "2026-11-30T10:00:00Z",
        ] {
            assert_eq!(
                parse_time(s).unwrap(),
                "2026-11-30T10:00:00Z".parse::<Timestamp>().unwrap(),
                "{s}"
            );
        }
        assert!(parse_time("30/11/2026").is_none());
    }
}
