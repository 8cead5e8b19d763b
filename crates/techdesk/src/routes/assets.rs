//! Linked Assets from the ticket page: search Assets for an object (AQL only through the
//! builder) and link it to one of the project's Assets fields.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::{StreamExt, TryStreamExt};
use platform::audit::Outcome;
use platform::identity::UserClient;
use platform::permissions::AccessContext;
use platform::web::{ApiError, FieldErrors, HtmlError, UserChrome};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ticket::build;
use super::ticket_actions::refused_by_jira;
use super::ticket_actions::with_errors;
use super::{TechDeskState, bad_form, check_issue_key, jira_problem, render, see_other};
use crate::domain::assets::{object_view, search_query, type_id_and_name};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SearchParams {
    q: String,
}

pub(super) async fn search(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<axum::Extension<UserChrome>>,
    Path(key): Path<String>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Response, HtmlError> {
    let Query(params) = params.map_err(ApiError::from)?;
    let mut page = build(&st, &ctx, &client, &user, &key).await?;
    page.forms.assets_query = params.q.clone();
    let q = params.q.trim();
    if q.is_empty() || q.chars().count() > 100 {
        page.errors = FieldErrors::new().with("assets_query", "enter 1 to 100 characters");
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let aql = match search_query(q) {
        Ok(a) => a,
        Err(e) => {
            page.errors = FieldErrors::new().with("assets_query", e.to_string());
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let project = key.split('-').next().unwrap_or_default();
    let settings = st.settings_for(&ctx, project).await?;
    let found = async {
        let assets = client.assets().await?;
        let objects: Vec<_> = assets.aql(&aql, true).take(20).try_collect().await?;
        let mut out = Vec::new();
        for o in &objects {
            let (type_id, _) = type_id_and_name(o);
            let names = if type_id.is_empty() {
                Default::default()
            } else {
                st.attribute_names(&ctx, &assets, &type_id).await?
            };
            out.push(object_view(o, &names, &settings.assets_attributes));
        }
        Ok::<_, atlassian::client::Error>(out)
    }
    .await;
    match found {
        Ok(list) => page.search_results = Some(list),
        Err(e) => page.assets_problem = Some(jira_problem(&e).1),
    }
    render(StatusCode::OK, &page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LinkForm {
    object_id: String,
    field: String,
}

/// The workspace id from the Assets base URL (`…/workspace/{id}/v1`).
fn workspace_of(base: &url::Url) -> Option<String> {
    let segments: Vec<&str> = base.path_segments()?.collect();
    let at = segments.iter().position(|s| *s == "workspace")?;
    segments.get(at + 1).map(|s| (*s).to_owned())
}

pub(super) async fn link(
    State(st): State<TechDeskState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<axum::Extension<UserChrome>>,
    Path(key): Path<String>,
    form: Result<Form<LinkForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    check_issue_key(&key)?;
    let Form(form) = form.map_err(bad_form)?;
    let fields = st
        .fields(&ctx, &client)
        .await
        .map_err(|e| super::jira_html_error(&e))?;
    let assets_fields = crate::domain::ticket::assets_field_ids(&fields);
    let mut errors = FieldErrors::new();
    if !assets_fields.contains(&form.field) {
        errors.add("field", "choose one of the ticket's Assets fields");
    }
    if form.object_id.is_empty()
        || form.object_id.len() > 20
        || !form.object_id.chars().all(|c| c.is_ascii_digit())
    {
        errors.add("object_id", "choose an object from the search");
    }
    if !errors.is_empty() {
        return with_errors(&st, &ctx, &client, &user, &key, errors, |_| {}).await;
    }
    let detail = json!({"op": "link_asset", "field": form.field, "object": form.object_id});
    let result = async {
        let assets = client.assets().await?;
        // The object must exist and be visible to the user.
        assets.object(&form.object_id).await?;
        let workspace = workspace_of(assets.base()).unwrap_or_default();
        let issue = client.issue(&key, &[form.field.as_str()], None).await?;
        let mut list: Vec<Value> = issue
            .fields
            .get(&form.field)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|o| {
                        Some(json!({
                            "workspaceId": o.get("workspaceId")?.as_str()?,
                            "objectId": o.get("objectId")?.as_str()?,
                        }))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !list
            .iter()
            .any(|o| o["objectId"] == form.object_id.as_str())
        {
            list.push(json!({"workspaceId": workspace, "objectId": form.object_id}));
        }
        let mut update = atlassian::client::IssueUpdate::default();
        update.fields.insert(form.field.clone(), Value::Array(list));
        client.edit_issue(&key, &update).await
    }
    .await;
    match result {
        Ok(()) => {
            st.audit_jira(&ctx, &key, detail, Outcome::Ok).await;
            Ok(see_other(&format!(
                "/techdesk/tickets/{key}?done=linked#assets"
            )))
        }
        Err(e) => refused_by_jira(&st, &ctx, &client, &user, &key, detail, &e, |_| {}).await,
    }
}
