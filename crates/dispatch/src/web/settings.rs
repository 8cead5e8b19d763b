//! `/settings/dispatch`: dispatched projects, status detection, the status → phase mapping,
//! assignee lock phases, the status set on assignment, the custom fields, and diagnostics.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::Extension;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::audit::{Action, Outcome};
use platform::identity::UserClient;
use platform::permissions::{AccessContext, ProjectKey};
use platform::web::{ApiError, FieldErrors, HtmlError, PageChrome, Section, UserChrome};
use serde::Deserialize;
use serde_json::json;

use super::{
    DispatchState, bad_form, chrome, config, csrf_of, record, render, require_admin, see_other,
};
use crate::jira::{FieldMap, status_of};
use crate::phase::{Phase, PhaseSource, suggest_by_name};
use crate::store::{Config, DispatchStore, MAX_PROJECTS};

/// One status row of the mapping form.
pub(crate) struct StatusRow {
    pub id: String,
    pub name: String,
    pub category: &'static str,
    /// The phase selected in the form.
    pub selected: Option<Phase>,
    /// Whether the admin mapped it (else: fallback, possibly a suggestion by name).
    pub mapped: bool,
    pub fallback: Phase,
    pub suggested: bool,
}

#[derive(Template)]
#[template(path = "dispatch/settings.html")]
struct SettingsPage {
    chrome: PageChrome,
    csrf: String,
    version: i64,
    projects: String,
    board_zone: String,
    rows: Vec<StatusRow>,
    phases: Vec<Phase>,
    lock: BTreeSet<Phase>,
    assign_status: String,
    assigned_statuses: Vec<(String, String)>,
    fields: FieldMap,
    address: String,
    /// The map's tile URL template and attribution (empty: none).
    tile_url: String,
    tile_attribution: String,
    /// The planning settings as the form shows them.
    planning: crate::planning::PlanningInput,
    /// Minutes between automatic dispatch runs (empty: off).
    auto_every: String,
    errors: FieldErrors,
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Done {
    done: Option<String>,
}

fn category_label(c: crate::phase::StatusCategory) -> &'static str {
    match c {
        crate::phase::StatusCategory::ToDo => "To Do",
        crate::phase::StatusCategory::InProgress => "In Progress",
        crate::phase::StatusCategory::Done => "Done",
    }
}

impl StatusRow {
    /// Whether `p` is the phase selected for this status.
    pub fn is(&self, p: &Phase) -> bool {
        self.selected == Some(*p)
    }
}

fn rows(c: &Config) -> Vec<StatusRow> {
    let mut rows: Vec<StatusRow> = c
        .mapping
        .statuses
        .values()
        .map(|s| {
            let (phase, source) = c.mapping.resolve(&s.id);
            let mapped = source == PhaseSource::Mapped;
            let suggestion = (!mapped).then(|| suggest_by_name(&s.name)).flatten();
            StatusRow {
                id: s.id.clone(),
                name: s.name.clone(),
                category: category_label(s.category),
                selected: if mapped { Some(phase) } else { suggestion },
                mapped,
                fallback: s.category.fallback_phase(),
                suggested: suggestion.is_some(),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.id.cmp(&b.id))
    });
    rows
}

fn page_of(
    c: &Config,
    version: i64,
    chrome: PageChrome,
    errors: FieldErrors,
    done: Option<String>,
) -> SettingsPage {
    let assigned_statuses = c
        .mapping
        .statuses
        .values()
        .filter(|s| c.mapping.phase(&s.id) == Phase::Assigned)
        .map(|s| (s.id.clone(), s.name.clone()))
        .collect();
    SettingsPage {
        csrf: csrf_of(&chrome),
        chrome,
        version,
        projects: c.projects.join(", "),
        board_zone: c.board_zone.clone(),
        rows: rows(c),
        phases: Phase::ALL.to_vec(),
        lock: c.mapping.lock_phases.clone(),
        assign_status: c.assign_status.clone().unwrap_or_default(),
        assigned_statuses,
        address: c.fields.address.join(", "),
        fields: c.fields.clone(),
        tile_url: c
            .map_tiles
            .as_ref()
            .map(|t| t.url().to_owned())
            .unwrap_or_default(),
        tile_attribution: c
            .map_tiles
            .as_ref()
            .map(|t| t.attribution().to_owned())
            .unwrap_or_default(),
        planning: (&c.planning).into(),
        auto_every: c
            .auto_every_minutes
            .map(|m| m.to_string())
            .unwrap_or_default(),
        errors,
        done,
    }
}

pub(crate) async fn page(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
    Query(q): Query<Done>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let (c, version) = config(&st, &ctx).await?;
    let done = q.done.as_deref().and_then(|d| match d {
        "projects" => Some("Projects saved.".to_string()),
        "detect" => {
            Some("Statuses and fields detected. Check the mapping below and save it.".to_string())
        }
        "mapping" => Some("Mapping saved.".to_string()),
        "map" => Some("Map tiles saved.".to_string()),
        "map-none" => Some("Map tiles removed: the map draws on a plain background.".to_string()),
        "planning" => Some("Planning settings saved.".to_string()),
        _ => None,
    });
    let chrome = chrome("DispatchDesk settings", Section::Settings, user);
    render(
        StatusCode::OK,
        &page_of(&c, version, chrome, FieldErrors::new(), done),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ProjectsForm {
    projects: String,
    board_zone: String,
    version: i64,
}

pub(crate) async fn save_projects(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<Extension<UserChrome>>,
    form: Result<Form<ProjectsForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let (mut c, version) = config(&st, &ctx).await?;
    let mut errors = FieldErrors::new();
    let mut keys: Vec<String> = Vec::new();
    for raw in form
        .projects
        .split([',', ' ', '\n', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match ProjectKey::new(raw.to_uppercase()) {
            Ok(k) => {
                let k = k.as_str().to_string();
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            Err(e) => {
                errors.add(
                    "projects",
                    format!("{}: {}", raw.chars().take(20).collect::<String>(), e.reason),
                );
            }
        }
    }
    if keys.is_empty() && errors.is_empty() {
        errors.add("projects", "enter at least one project key, e.g. FS");
    }
    if keys.len() > MAX_PROJECTS {
        errors.add("projects", format!("at most {MAX_PROJECTS} projects"));
    }
    let zone = form.board_zone.trim().to_string();
    if jiff::tz::TimeZone::get(&zone).is_err() {
        errors.add(
            "board_zone",
            "not a time zone; use an IANA name such as Europe/London",
        );
    }
    if errors.is_empty() {
        for k in &keys {
            if let Err(e) = client.project(k).await {
                let why = match e {
                    atlassian::client::Error::NotFound { .. } => {
                        "no such project, or you cannot see it in Jira".to_string()
                    }
                    other => format!(
                        "Jira could not be asked ({})",
                        other
                            .status()
                            .map_or("no answer".into(), |s| format!("HTTP {s}"))
                    ),
                };
                errors.add("projects", format!("{k}: {why}"));
            }
        }
    }
    if form.version != version {
        errors.add(
            "projects",
            "someone else changed these settings; your input is kept, reload to see theirs",
        );
    }
    let chrome_of = |user| chrome("DispatchDesk settings", Section::Settings, user);
    if !errors.is_empty() {
        let mut shown = c.clone();
        shown.board_zone = form.board_zone.clone();
        let mut page = page_of(&shown, version, chrome_of(user), errors, None);
        page.projects = form.projects.clone();
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    c.projects = keys.clone();
    c.board_zone = zone;
    save_and_record(
        &st,
        &ctx,
        &c,
        version,
        "dispatch:projects".into(),
        json!({"projects": keys, "board_zone": c.board_zone}),
    )
    .await?;
    st.cache.touch(&ctx.site).await;
    Ok(see_other("/settings/dispatch?done=projects"))
}

/// The settings page again, 422, with the map form's errors and the input kept.
pub(crate) fn tiles_refused(
    c: &Config,
    version: i64,
    chrome: PageChrome,
    errors: FieldErrors,
    (url, attribution): (&str, &str),
) -> Result<Response, HtmlError> {
    let mut page = page_of(c, version, chrome, errors, None);
    page.tile_url = url.to_owned();
    page.tile_attribution = attribution.to_owned();
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

pub(crate) fn planning_refused(
    c: &Config,
    version: i64,
    chrome: PageChrome,
    errors: FieldErrors,
    (input, auto_every): (crate::planning::PlanningInput, String),
) -> Result<Response, HtmlError> {
    let mut page = page_of(c, version, chrome, errors, None);
    page.planning = input;
    page.auto_every = auto_every;
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// Saves the settings `c` if nobody changed them since `version`, and records the change in
/// the audit log as `target` with `detail` (no secret values).
pub(crate) async fn save_and_record(
    st: &DispatchState,
    ctx: &AccessContext,
    c: &Config,
    version: i64,
    target: String,
    detail: serde_json::Value,
) -> Result<(), HtmlError> {
    DispatchStore::new(&st.store, &ctx.site)
        .save_config(c, version)
        .await
        .map_err(conflict_or_internal)?;
    record(
        st,
        ctx,
        Action::SETTINGS_CHANGE,
        target,
        detail,
        Outcome::Ok,
    )
    .await;
    Ok(())
}

pub(crate) fn conflict_or_internal(e: platform::store::StoreError) -> HtmlError {
    match e {
        platform::store::StoreError::ConditionFailed { .. } => HtmlError(ApiError::Conflict(
            "someone else changed the DispatchDesk settings at the same time; reload and try again"
                .into(),
        )),
        other => HtmlError(ApiError::internal(other)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct VersionForm {
    version: i64,
}

/// Fetches every status of the dispatched projects (and guesses the custom fields when none
/// are set yet).
pub(crate) async fn detect(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    form: Result<Form<VersionForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let (mut c, version) = config(&st, &ctx).await?;
    if form.version != version {
        return Err(HtmlError(ApiError::Conflict(
            "someone else changed the DispatchDesk settings; reload and try again".into(),
        )));
    }
    if c.projects.is_empty() {
        return Err(HtmlError(ApiError::Validation {
            fields: FieldErrors::new().with("projects", "choose the dispatched projects first"),
        }));
    }
    let mut found = Vec::new();
    for p in &c.projects {
        let types = client.project_statuses(p).await.map_err(|e| {
            HtmlError(ApiError::BadRequest(format!(
                "Jira did not list the statuses of {p}: {}",
                e.status()
                    .map_or("no answer".into(), |s| format!("HTTP {s}"))
            )))
        })?;
        for t in types {
            for s in t.statuses {
                let v = json!({"id": s.id, "name": s.name, "statusCategory": s.status_category});
                if let Some(status) = status_of(&v) {
                    found.push(status);
                }
            }
        }
    }
    let n = found.len();
    c.mapping.detect(found);
    if c.fields == FieldMap::default() {
        let fields = client.fields().await.map_err(ApiError::internal)?;
        c.fields = FieldMap::detect(&fields);
    }
    save_and_record(
        &st,
        &ctx,
        &c,
        version,
        "dispatch:statuses".into(),
        json!({"detected": n}),
    )
    .await?;
    Ok(see_other("/settings/dispatch?done=detect"))
}

fn check_field_id(v: &str) -> Result<Option<String>, &'static str> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let custom = v
        .strip_prefix("customfield_")
        .is_some_and(|n| !n.is_empty() && n.len() <= 12 && n.bytes().all(|b| b.is_ascii_digit()));
    if custom {
        Ok(Some(v.to_string()))
    } else {
        Err("use a custom field id such as customfield_10050")
    }
}

/// Saves the mapping form: `phase.<statusId>`, `lock.<phase>`, `assign_status`, `field.*`.
pub(crate) async fn save_mapping(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(pairs) = form.map_err(bad_form)?;
    let (c, version) = config(&st, &ctx).await?;
    let mut next = c.clone();
    let mut errors = FieldErrors::new();
    let mut phases = BTreeMap::new();
    let mut lock = BTreeSet::new();
    let mut given_version = -1;
    let mut address_given = None;
    for (k, v) in &pairs {
        if let Some(id) = k.strip_prefix("phase.") {
            if !c.mapping.statuses.contains_key(id) {
                errors.add(
                    "mapping",
                    "the form names a status that was not detected; run Detect statuses again",
                );
                continue;
            }
            if v.is_empty() {
                continue;
            }
            match v.parse::<Phase>() {
                Ok(p) => {
                    phases.insert(id.to_string(), p);
                }
                Err(e) => {
                    errors.add(k.clone(), e.to_string());
                }
            }
        } else if let Some(p) = k.strip_prefix("lock.") {
            match p.parse::<Phase>() {
                Ok(Phase::Planned | Phase::Done) => {
                    errors.add(
                        "lock",
                        "only Assigned, Travelling, On Site and Paused can lock the assignee",
                    );
                }
                Ok(p) => {
                    lock.insert(p);
                }
                Err(e) => {
                    errors.add("lock", e.to_string());
                }
            }
        } else if k == "version" {
            given_version = v.parse().unwrap_or(-1);
        } else if k == "assign_status" {
            next.assign_status = (!v.is_empty()).then(|| v.clone());
        } else if let Some(f) = k.strip_prefix("field.") {
            let slot = match f {
                "location" => Some(&mut next.fields.location),
                "skills" => Some(&mut next.fields.skills),
                "scheduled_start" => Some(&mut next.fields.scheduled_start),
                "scheduled_end" => Some(&mut next.fields.scheduled_end),
                "request_type" => Some(&mut next.fields.request_type),
                "address" => {
                    address_given = Some(v.clone());
                    None
                }
                _ => None,
            };
            if let Some(slot) = slot {
                match check_field_id(v) {
                    Ok(id) => *slot = id,
                    Err(reason) => {
                        errors.add(k.clone(), reason);
                    }
                }
            }
        }
    }
    if let Some(a) = &address_given {
        let mut ids = Vec::new();
        for part in a.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match check_field_id(part) {
                Ok(Some(id)) => ids.push(id),
                Ok(None) => {}
                Err(reason) => {
                    errors.add("field.address", reason);
                }
            }
        }
        next.fields.address = ids;
    }
    next.mapping.phases = phases;
    next.mapping.lock_phases = lock;
    if let Some(s) = &next.assign_status
        && next.mapping.phase(s) != Phase::Assigned
    {
        errors.add("assign_status", "choose a status whose phase is Assigned");
    }
    if given_version != version {
        errors.add(
            "mapping",
            "someone else changed these settings; reload to see theirs",
        );
    }
    if !errors.is_empty() {
        let chrome = chrome("DispatchDesk settings", Section::Settings, user);
        let mut page = page_of(&next, version, chrome, errors, None);
        if let Some(a) = address_given {
            page.address = a;
        }
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    DispatchStore::new(&st.store, &ctx.site)
        .save_config(&next, version)
        .await
        .map_err(conflict_or_internal)?;
    let mapped: BTreeMap<&String, &str> = next
        .mapping
        .phases
        .iter()
        .map(|(k, v)| (k, v.id()))
        .collect();
    record(
        &st,
        &ctx,
        Action::SETTINGS_CHANGE,
        "dispatch:mapping".into(),
        json!({"phases": mapped, "lock": next.mapping.lock_phases.iter().map(|p| p.id()).collect::<Vec<_>>(), "assign_status": next.assign_status}),
        Outcome::Ok,
    )
    .await;
    st.cache.touch(&ctx.site).await;
    Ok(see_other("/settings/dispatch?done=mapping"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_ids_are_checked() {
        assert_eq!(
            check_field_id(" customfield_10050 ")
                .ok()
                .flatten()
                .as_deref(),
            Some("customfield_10050")
        );
        assert_eq!(check_field_id(""), Ok(None));
        for bad in [
            "summary",
            "customfield_",
            "customfield_10x",
            "customfield_1) OR 1=1",
        ] {
            assert!(check_field_id(bad).is_err(), "{bad}");
        }
    }
}
