//! `/techdesk/requests/new`: raise a request on behalf of a customer — pick a service desk
//! and request type, fill a form generated from the request type's fields, validated on
//! the server with per-field errors before anything is sent to JSM.

use std::collections::BTreeMap;

use askama::Template;
use atlassian::client::{AtlassianClient, NewRequest, RequestType, ServiceDesk};
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::{StreamExt, TryStreamExt};
use platform::audit::Outcome;
use platform::identity::UserClient;
use platform::permissions::AccessContext;
use platform::web::{ApiError, FieldErrors, HtmlError, PageChrome, Section, UserChrome};
use serde::Deserialize;
use serde_json::json;

use super::{
    TechDeskState, bad_form, chrome, csrf_of, field_errors, jira_problem, render, see_other,
};
use crate::domain::form::{FormField, generate, validate};

#[derive(Template)]
#[template(path = "techdesk/request.html")]
struct RequestPage {
    chrome: PageChrome,
    csrf: String,
    path: String,
    desks: Vec<ServiceDesk>,
    types: Vec<RequestType>,
    desk: String,
    request_type: String,
    request_type_name: String,
    help: String,
    form: Vec<FormField>,
    values: BTreeMap<String, String>,
    on_behalf: String,
    errors: FieldErrors,
    problem: Option<String>,
}

impl RequestPage {
    fn value<'a>(&'a self, id: &str) -> &'a str {
        self.values.get(id).map_or("", String::as_str)
    }

    fn errors_of(&self, id: &str) -> &[String] {
        self.errors.get(&format!("f_{id}"))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Choice {
    desk: String,
    #[serde(rename = "type")]
    request_type: String,
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.chars().all(|c| c.is_ascii_digit())
}

async fn build(
    st: &TechDeskState,
    ctx: &AccessContext,
    client: &AtlassianClient,
    user: &Option<axum::Extension<UserChrome>>,
    desk: &str,
    request_type: &str,
) -> Result<RequestPage, HtmlError> {
    let settings = st.settings(ctx).await?;
    let chrome = chrome("New request", user, Section::TechDesk);
    let mut page = RequestPage {
        csrf: csrf_of(&chrome),
        chrome,
        path: "/techdesk/requests/new".into(),
        desks: Vec::new(),
        types: Vec::new(),
        desk: String::new(),
        request_type: String::new(),
        request_type_name: String::new(),
        help: String::new(),
        form: Vec::new(),
        values: BTreeMap::new(),
        on_behalf: String::new(),
        errors: FieldErrors::new(),
        problem: None,
    };
    let desks: Vec<ServiceDesk> = client
        .service_desks()
        .take(200)
        .try_collect()
        .await
        .map_err(|e| super::jira_html_error(&e))?;
    page.desks = desks
        .into_iter()
        .filter(|d| settings.uses_project(d.project_key.as_deref().unwrap_or("")))
        .collect();
    if !is_id(desk) || !page.desks.iter().any(|d| d.id == desk) {
        return Ok(page);
    }
    page.desk = desk.to_owned();
    let types: Vec<RequestType> = client
        .request_types(desk)
        .take(200)
        .try_collect()
        .await
        .map_err(|e| super::jira_html_error(&e))?;
    page.types = types
        .into_iter()
        .filter(|t| !settings.hidden_request_types.contains(&t.id))
        .collect();
    let Some(rt) = page.types.iter().find(|t| t.id == request_type).cloned() else {
        return Ok(page);
    };
    let fields = st
        .request_type_fields(ctx, client, desk, &rt.id)
        .await
        .map_err(|e| super::jira_html_error(&e))?;
    page.request_type = rt.id.clone();
    page.request_type_name = rt.name.clone().unwrap_or_default();
    page.help = rt.help_text.clone().unwrap_or_default();
    let project = page
        .desks
        .iter()
        .find(|d| d.id == desk)
        .and_then(|d| d.project_key.clone())
        .unwrap_or_default();
    let settings = st.settings_for(ctx, &project).await?;
    page.form = generate(&fields.request_type_fields, &settings.hidden_fields);
    Ok(page)
}

pub(super) async fn page(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<axum::Extension<UserChrome>>,
    choice: Result<Query<Choice>, QueryRejection>,
) -> Result<Response, HtmlError> {
    let Query(choice) = choice.map_err(ApiError::from)?;
    let page = build(
        &st,
        &ctx,
        &client,
        &user,
        &choice.desk,
        &choice.request_type,
    )
    .await?;
    render(StatusCode::OK, &page)
}

fn check_customer(s: &str) -> Result<(), &'static str> {
    if s.chars().count() > 254 || s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Err("enter the customer's email address or account id")
    } else {
        Ok(())
    }
}

pub(super) async fn create(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<axum::Extension<UserChrome>>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    let Form(pairs) = form.map_err(bad_form)?;
    let get = |n: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == n)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let (desk, rt) = (get("desk"), get("type"));
    let mut page = build(&st, &ctx, &client, &user, &desk, &rt).await?;
    if page.request_type.is_empty() {
        page.errors = FieldErrors::new().with("type", "choose a service desk and a request type");
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    page.values = pairs
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("f_").map(|f| (f.to_owned(), v.clone())))
        .collect();
    page.on_behalf = get("on_behalf").trim().to_owned();
    let mut problems: Vec<(String, String)> = Vec::new();
    if let Err(r) = check_customer(&page.on_behalf) {
        problems.push(("on_behalf".into(), r.into()));
    }
    let values = match validate(&page.form, &page.values) {
        Ok(v) => Some(v),
        Err(p) => {
            problems.extend(p.into_iter().map(|(f, r)| (format!("f_{f}"), r)));
            None
        }
    };
    let Some(values) = values.filter(|_| problems.is_empty()) else {
        page.errors = field_errors(problems);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let request = NewRequest {
        service_desk_id: page.desk.clone(),
        request_type_id: page.request_type.clone(),
        request_field_values: values,
        raise_on_behalf_of: (!page.on_behalf.is_empty()).then(|| page.on_behalf.clone()),
    };
    let detail = json!({"op": "create_request", "desk": page.desk, "type": page.request_type});
    match client.create_request(&request).await {
        Ok(created) => {
            st.audit_jira(&ctx, &created.issue_key, detail, Outcome::Ok)
                .await;
            Ok(see_other(&format!(
                "/techdesk/tickets/{}?done=created",
                created.issue_key
            )))
        }
        Err(e) => {
            let (status, message) = jira_problem(&e);
            st.audit_jira(&ctx, "new request", detail, Outcome::Error)
                .await;
            page.problem = Some(message);
            render(status, &page)
        }
    }
}
