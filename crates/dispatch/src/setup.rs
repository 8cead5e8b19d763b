//! Quick setup: everything an admin would do on day one, in one step — dispatched projects,
//! status detection with phases suggested from the status names, the custom fields, the
//! status set on assignment, and technicians imported from a Jira group with their
//! `jsmkit.profile`. Used by the settings page's "Quick setup" and by `jsmkit demo`.

use atlassian::client::{AtlassianClient, GroupRef};
use futures_util::TryStreamExt;
use platform::store::{SiteId, Store, StoreError};
use serde_json::json;

use crate::jira::{FieldMap, apply_profile, status_of};
use crate::phase::Phase;
use crate::store::{Config, DispatchStore, valid_account_id};
use crate::technician::{TechSource, Technician};
use crate::web::PROFILE_PROPERTY;

/// What can stop the quick setup.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Jira refused or did not answer.
    #[error("Jira: {0}")]
    Jira(#[from] atlassian::client::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Already set up (the settings exist); nothing was changed.
    #[error("DispatchDesk is already set up on this site")]
    AlreadySetUp,
}

/// What the quick setup did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetupReport {
    /// Statuses detected.
    pub statuses: usize,
    /// Of which mapped from their names.
    pub mapped: usize,
    /// Technicians added.
    pub technicians: usize,
}

/// Sets DispatchDesk up on `site` for `projects`, importing technicians from `group`.
/// Refuses when settings already exist (it never overwrites an admin's work).
pub async fn quick_setup(
    store: &Store,
    site: &SiteId,
    client: &AtlassianClient,
    projects: &[String],
    group: &str,
    zone: &str,
) -> Result<SetupReport, SetupError> {
    let ds = DispatchStore::new(store, site);
    let (mut c, version) = ds.config().await?;
    if version != 0 {
        return Err(SetupError::AlreadySetUp);
    }
    c = Config {
        projects: projects.to_vec(),
        board_zone: zone.to_string(),
        ..c
    };
    let mut report = SetupReport::default();
    for p in projects {
        for t in client.project_statuses(p).await? {
            for s in t.statuses {
                let v = json!({"id": s.id, "name": s.name, "statusCategory": s.status_category});
                if let Some(status) = status_of(&v) {
                    c.mapping.detect([status]);
                }
            }
        }
    }
    report.statuses = c.mapping.statuses.len();
    let suggestions: Vec<(String, Phase)> = c
        .mapping
        .statuses
        .values()
        .filter_map(|s| crate::phase::suggest_by_name(&s.name).map(|p| (s.id.clone(), p)))
        .collect();
    report.mapped = suggestions.len();
    c.mapping.phases.extend(suggestions);
    c.assign_status = c
        .mapping
        .statuses
        .values()
        .find(|s| c.mapping.phases.get(&s.id) == Some(&Phase::Assigned))
        .map(|s| s.id.clone());
    c.fields = FieldMap::detect(&client.fields().await?);
    ds.save_config(&c, 0).await?;
    let members: Vec<_> = client
        .group_members(GroupRef::Name(group.to_string()), false)
        .try_collect()
        .await?;
    for u in members {
        if !valid_account_id(&u.account_id) {
            continue;
        }
        let name = u
            .display_name
            .clone()
            .unwrap_or_else(|| u.account_id.clone());
        let mut t = Technician::new(&u.account_id, &name, TechSource::Group(group.to_string()));
        t.projects = projects.iter().cloned().collect();
        if let Ok(Some(profile)) = client.user_property(&u.account_id, PROFILE_PROPERTY).await {
            apply_profile(&mut t, &profile);
        }
        match ds.save_technician(&t, 0).await {
            Ok(()) => report.technicians += 1,
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(site = %site, statuses = report.statuses, mapped = report.mapped, technicians = report.technicians, "DispatchDesk quick setup done");
    Ok(report)
}
