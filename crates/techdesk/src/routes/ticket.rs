//! `/techdesk/tickets/{key}`: the ticket view. At most three Atlassian calls when warm:
//! the issue (all fields, comments and worklogs included), its transitions, and one AQL
//! search for the linked Assets objects; field lists and request-type fields are cached,
//! and so are the ticket's JSM SLAs and participants, per user for a minute (TechDesk's own
//! writes refresh them; running SLA clocks are moved on by the time since they were read).

use std::collections::BTreeMap;

use askama::Template;
use atlassian::client::AtlassianClient;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::{StreamExt, TryStreamExt};
use platform::identity::UserClient;
use platform::permissions::AccessContext;
use platform::web::{ApiError, FieldErrors, HtmlError, PageChrome, Section, UserChrome};
use serde::Deserialize;

use super::{
    TechDeskState, check_issue_key, chrome, csrf_of, done_message, jira_html_error, render,
};
use crate::domain::assets::{ObjectView, linked_objects_query, object_view, type_id_and_name};
use crate::domain::duration::format_duration;
use crate::domain::participants::person_of;
use crate::domain::settings::TechDeskSettings;
use crate::domain::sla::{GoalView, goals, urgency};
use crate::domain::ticket::{
    FieldValue, Person, TicketView, TransitionView, assets_field_ids, request_field_values,
    ticket_view, transitions_view,
};
use crate::domain::timer::{Timer, timer_key};

/// What the forms of the page hold (kept after an error, so nothing typed is lost).
#[derive(Debug, Clone, Default)]
pub(crate) struct Forms {
    pub comment: String,
    pub public: bool,
    pub duration: String,
    pub started: String,
    pub worklog_comment: String,
    pub transition: String,
    pub transition_values: BTreeMap<String, String>,
    pub assets_query: String,
    pub participant: String,
}

#[derive(Template)]
#[template(path = "techdesk/ticket.html")]
pub(crate) struct TicketPage {
    pub chrome: PageChrome,
    pub csrf: String,
    pub path: String,
    pub t: TicketView,
    /// JSM's SLA goals (empty for a plain Jira issue).
    pub goals: Vec<GoalView>,
    /// JSM request participants.
    pub participants: Vec<Person>,
    pub fields: Vec<FieldValue>,
    pub transitions: Vec<TransitionView>,
    pub objects: Vec<ObjectView>,
    pub assets_fields: Vec<String>,
    pub assets_problem: Option<String>,
    pub search_results: Option<Vec<ObjectView>>,
    pub timer_started: Option<String>,
    pub timer_elapsed: String,
    pub rules: String,
    pub me: String,
    pub forms: Forms,
    pub errors: FieldErrors,
    pub problem: Option<String>,
    pub done: Option<&'static str>,
}

impl TicketPage {
    fn assigned_to_me(&self) -> bool {
        self.t
            .assignee
            .as_ref()
            .is_some_and(|a| a.account_id == self.me)
    }

    fn transition_errors(&self, field: &str) -> &[String] {
        self.errors.get(&format!("field_{field}"))
    }

    fn value_of<'a>(&'a self, field: &str) -> &'a str {
        self.forms
            .transition_values
            .get(field)
            .map_or("", String::as_str)
    }
}

fn rules_text(s: &TechDeskSettings) -> String {
    use crate::domain::duration::RoundingMode;
    let rounding = match s.time.rounding {
        RoundingMode::None => "to the minute".to_owned(),
        RoundingMode::Up => format!("up to {} minutes", s.time.step_minutes),
        RoundingMode::Nearest => format!("to the nearest {} minutes", s.time.step_minutes),
    };
    let max = format_duration(u64::from(s.time.max_minutes) * 60);
    let comment = if s.time.require_comment {
        "; a comment is required"
    } else {
        ""
    };
    format!("Time is rounded {rounding}; at most {max} per worklog{comment}.")
}

/// Loads everything the page shows.
#[tracing::instrument(name = "techdesk.ticket_view", skip_all, fields(key = %key))]
pub(crate) async fn build(
    st: &TechDeskState,
    ctx: &AccessContext,
    client: &AtlassianClient,
    user: &Option<axum::Extension<UserChrome>>,
    key: &str,
) -> Result<TicketPage, HtmlError> {
    check_issue_key(key)?;
    let project = key.split('-').next().unwrap_or_default();
    let settings = st.settings_for(ctx, project).await?;
    let (issue, transitions, fields, slas, participants) = tokio::join!(
        client.issue(key, &["*all"], None),
        client.transitions(key),
        st.fields(ctx, client),
        st.request_slas(ctx, client, key),
        st.participants(ctx, client, key),
    );
    let issue = issue.map_err(|e| jira_html_error(&e))?;
    let transitions = transitions.map_err(|e| jira_html_error(&e))?;
    let mut assets_fields = fields.map(|f| assets_field_ids(&f)).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot list fields; Assets fields unknown");
        Vec::new()
    });
    if !settings.assets_fields.is_empty() {
        assets_fields.retain(|f| settings.assets_fields.contains(f));
    }
    let now = jiff::Timestamp::now();
    let mut t = ticket_view(&issue, &assets_fields, now);
    let goals = slas
        .map(|f| goals(&f.slas, now.as_second().saturating_sub(f.at.as_second())))
        .unwrap_or_default();
    if let Some(u) = urgency(&goals) {
        t.sla = u;
    }
    let participants = participants.iter().map(person_of).collect();
    let fields = match &t.request_type {
        Some((rt, _, desk)) if !rt.is_empty() && !desk.is_empty() => {
            match st.request_type_fields(ctx, client, desk, rt).await {
                Ok(f) => {
                    request_field_values(&issue, &f.request_type_fields, &settings.hidden_fields)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the request type's fields");
                    Vec::new()
                }
            }
        }
        _ => Vec::new(),
    };
    let (objects, assets_problem) =
        linked_objects(st, ctx, client, &t, &settings.assets_attributes).await;
    let me = ctx.principal.id().to_owned();
    let (timer_started, timer_elapsed) = match timer_key(&me, key) {
        Some(k) => match st
            .kv(ctx)?
            .get::<Timer>(&k)
            .await
            .map_err(ApiError::internal)?
        {
            Some(timer) => (
                Some(timer.started.to_string()),
                format_duration(timer.elapsed(jiff::Timestamp::now())),
            ),
            None => (None, String::new()),
        },
        None => (None, String::new()),
    };
    let chrome = chrome(&format!("{} {}", t.key, t.summary), user, Section::TechDesk);
    Ok(TicketPage {
        csrf: csrf_of(&chrome),
        chrome,
        path: format!("/techdesk/tickets/{key}"),
        goals,
        participants,
        fields,
        transitions: transitions_view(&transitions),
        objects,
        assets_fields,
        assets_problem,
        search_results: None,
        timer_started,
        timer_elapsed,
        rules: rules_text(&settings),
        me,
        forms: Forms {
            public: settings.default_public,
            ..Forms::default()
        },
        errors: FieldErrors::new(),
        problem: None,
        done: None,
        t,
    })
}

/// The linked objects with their chosen attributes (one AQL call; attribute names cached).
async fn linked_objects(
    st: &TechDeskState,
    ctx: &AccessContext,
    client: &AtlassianClient,
    t: &TicketView,
    shown: &[String],
) -> (Vec<ObjectView>, Option<String>) {
    let ids: Vec<String> = t.assets.iter().map(|a| a.object_id.clone()).collect();
    let Some(aql) = linked_objects_query(&ids) else {
        return (Vec::new(), None);
    };
    let fetched = async {
        let assets = client.assets().await?;
        let objects: Vec<_> = assets.aql(&aql, true).take(50).try_collect().await?;
        let mut out = Vec::new();
        for o in &objects {
            let (type_id, _) = type_id_and_name(o);
            let names = if type_id.is_empty() {
                Default::default()
            } else {
                st.attribute_names(ctx, &assets, &type_id).await?
            };
            out.push(object_view(o, &names, shown));
        }
        Ok::<_, atlassian::client::Error>(out)
    }
    .await;
    match fetched {
        Ok(objects) => (objects, None),
        Err(e) => (Vec::new(), Some(super::jira_problem(&e).1)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TicketParams {
    done: Option<String>,
}

pub(super) async fn page(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<axum::Extension<UserChrome>>,
    Path(key): Path<String>,
    params: Result<Query<TicketParams>, QueryRejection>,
) -> Result<Response, HtmlError> {
    let Query(params) = params.map_err(ApiError::from)?;
    let mut page = build(&st, &ctx, &client, &user, &key).await?;
    page.done = done_message(params.done.as_deref());
    render(StatusCode::OK, &page)
}
