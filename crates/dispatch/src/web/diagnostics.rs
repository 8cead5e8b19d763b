//! `/settings/dispatch/diagnostics`: the setup health check, listing every gap with a link
//! to fix it.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use platform::identity::UserClient;
use platform::permissions::AccessContext;
use platform::web::{ApiError, HtmlError, PageChrome, Section, UserChrome};

use super::{DISPATCH_SETTINGS_PATH, DispatchState, chrome, config, render, require_admin};
use crate::store::DispatchStore;

/// One gap found by the health check.
pub(crate) struct Gap {
    pub what: String,
    pub fix: &'static str,
    pub link: &'static str,
}

#[derive(Template)]
#[template(path = "dispatch/diagnostics.html")]
struct DiagnosticsPage {
    chrome: PageChrome,
    gaps: Vec<Gap>,
    checked: Vec<String>,
}

/// The setup health check: every gap, with a link to fix it.
pub(crate) async fn diagnostics(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    Extension(auth): Extension<platform::identity::AuthContext>,
    user: Option<Extension<UserChrome>>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let (c, _) = config(&st, &ctx).await?;
    let techs = DispatchStore::new(&st.store, &ctx.site)
        .technicians()
        .await
        .map_err(ApiError::internal)?;
    let mut gaps = Vec::new();
    let mut checked = Vec::new();
    let gap = |what: String, fix: &'static str, link: &'static str| Gap { what, fix, link };
    if c.projects.is_empty() {
        gaps.push(gap(
            "No project is dispatched.".into(),
            "Choose projects",
            DISPATCH_SETTINGS_PATH,
        ));
    }
    if c.mapping.statuses.is_empty() && !c.projects.is_empty() {
        gaps.push(gap(
            "Statuses were never detected.".into(),
            "Detect statuses",
            DISPATCH_SETTINGS_PATH,
        ));
    }
    for s in c.mapping.unmapped() {
        gaps.push(gap(
            format!(
                "Status \u{201c}{}\u{201d} is not mapped; it reads as {} by its Jira category.",
                s.name,
                s.category.fallback_phase()
            ),
            "Map it",
            DISPATCH_SETTINGS_PATH,
        ));
    }
    if !c.mapping.statuses.is_empty() && !c.mapping.has_done() {
        gaps.push(gap(
            "No status is mapped to Done, so no job ever counts as completed.".into(),
            "Map a Done status",
            DISPATCH_SETTINGS_PATH,
        ));
    }
    for (name, v) in [
        ("location", &c.fields.location),
        ("skills", &c.fields.skills),
        ("scheduled start", &c.fields.scheduled_start),
    ] {
        if v.is_none() && !c.projects.is_empty() {
            gaps.push(gap(
                format!("No custom field is set for the {name}."),
                "Set the fields",
                DISPATCH_SETTINGS_PATH,
            ));
        }
    }
    // You (the board acts as you) and the service credential (background work) must both be
    // able to read, assign and transition in each dispatched project.
    let service = match auth.service_client(&ctx.site).await {
        Ok(c) => Some(c),
        Err(e) => {
            gaps.push(gap(
                format!("Background work cannot reach Jira: {e}"),
                "Set the service credential",
                "/settings/credentials",
            ));
            None
        }
    };
    let keys = ["BROWSE_PROJECTS", "TRANSITION_ISSUES", "ASSIGN_ISSUES"];
    for (who, jira) in [
        ("you", Some(&client)),
        ("the service credential", service.as_ref()),
    ] {
        let Some(jira) = jira else { continue };
        for p in &c.projects {
            match jira
                .my_permissions(
                    atlassian::client::PermissionScope::Project(p.clone()),
                    &keys,
                )
                .await
            {
                Ok(perms) => {
                    for key in keys {
                        if !perms.get(key).is_some_and(|x| x.have_permission) {
                            gaps.push(gap(
                                format!("In {p}, {who} lack(s) the Jira permission {key}."),
                                "Check the project's permission scheme in Jira",
                                DISPATCH_SETTINGS_PATH,
                            ));
                        }
                    }
                    checked.push(format!("Jira permissions of {who} in {p}"));
                }
                Err(e) => gaps.push(gap(
                    format!(
                        "Jira did not answer {who} for project {p} ({}).",
                        e.status()
                            .map_or("no answer".into(), |s| format!("HTTP {s}"))
                    ),
                    "Check the project key and the credential",
                    DISPATCH_SETTINGS_PATH,
                )),
            }
        }
    }
    if techs.is_empty() {
        gaps.push(gap(
            "No technicians are defined.".into(),
            "Add technicians",
            "/settings/dispatch/technicians",
        ));
    }
    for t in &techs {
        if t.home.is_none() {
            gaps.push(gap(
                format!("{} has no home base.", t.display_name),
                "Edit the technician",
                "/settings/dispatch/technicians",
            ));
        }
        if t.hours.iter().all(Option::is_none) {
            gaps.push(gap(
                format!("{} has no working hours.", t.display_name),
                "Edit the technician",
                "/settings/dispatch/technicians",
            ));
        }
        if t.zone == "UTC" {
            gaps.push(gap(
                format!("{} works in UTC; is that their time zone?", t.display_name),
                "Edit the technician",
                "/settings/dispatch/technicians",
            ));
        }
    }
    checked.push(format!("{} technicians", techs.len()));
    if !c.projects.is_empty() {
        let tickets = st
            .cache
            .tickets(&ctx.site, ctx.principal.id(), &client, &c)
            .await
            .map_err(ApiError::internal)?;
        let no_place: Vec<&str> = tickets
            .tickets
            .iter()
            .filter(|t| t.location.is_none() && t.address.is_empty())
            .map(|t| t.key.as_str())
            .collect();
        if !no_place.is_empty() {
            let shown: Vec<&str> = no_place.iter().take(10).copied().collect();
            gaps.push(gap(
                format!(
                    "{} tickets have no usable location: {}{}",
                    no_place.len(),
                    shown.join(", "),
                    if no_place.len() > 10 { ", …" } else { "" }
                ),
                "Fill the location or address fields in Jira",
                BOARD_LINK,
            ));
        }
        checked.push(format!("{} open tickets", tickets.tickets.len()));
    }
    let chrome = chrome("DispatchDesk diagnostics", Section::Settings, user);
    render(
        StatusCode::OK,
        &DiagnosticsPage {
            chrome,
            gaps,
            checked,
        },
    )
}

const BOARD_LINK: &str = "/dispatch";
