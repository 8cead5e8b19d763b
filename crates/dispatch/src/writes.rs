//! Writes to Jira shared by the board, routes and automatic dispatch: moving a ticket to a
//! status through the transition Jira offers, and setting its scheduled start and end.

use atlassian::client::AtlassianClient;
use jiff::Timestamp;

use crate::jira::FieldMap;

/// Jira's status of a failed call, in words.
fn status_of(e: &atlassian::client::Error) -> String {
    e.status()
        .map_or("no answer".into(), |s| format!("HTTP {s}"))
}

/// Moves `key` to the status `status_id` through a transition Jira offers from where it is.
/// The error says why not, as a sentence fragment ("Jira offers no transition …").
pub async fn transition_to(
    client: &AtlassianClient,
    key: &str,
    status_id: &str,
) -> Result<(), String> {
    let ts = client
        .transitions(key)
        .await
        .map_err(|e| format!("its transitions could not be read ({})", status_of(&e)))?;
    let Some(t) = ts
        .iter()
        .find(|t| t.to.as_ref().and_then(|s| s.id.as_deref()) == Some(status_id))
    else {
        return Err("Jira offers no transition to the Assigned status from here".into());
    };
    client
        .do_transition(key, &t.id, serde_json::Map::new())
        .await
        .map_err(|e| {
            format!(
                "Jira did not move it to the Assigned status ({})",
                status_of(&e)
            )
        })
}

/// Sets a ticket's scheduled start and end (the configured fields; nothing without a start
/// field). The error is Jira's status in words.
pub async fn write_schedule(
    client: &AtlassianClient,
    fields: &FieldMap,
    key: &str,
    start: Timestamp,
    end: Timestamp,
) -> Result<(), String> {
    let Some(start_field) = fields.scheduled_start.as_deref() else {
        return Ok(());
    };
    let mut update = atlassian::client::IssueUpdate::default();
    update.fields.insert(
        start_field.to_string(),
        serde_json::Value::String(atlassian::client::jira_datetime(start)),
    );
    if let Some(end_field) = fields.scheduled_end.as_deref() {
        update.fields.insert(
            end_field.to_string(),
            serde_json::Value::String(atlassian::client::jira_datetime(end)),
        );
    }
    client
        .edit_issue(key, &update)
        .await
        .map_err(|e| status_of(&e))
}
