//! The pages under `/assets-sql`: exports (list, create, edit, delete, run now, runs with
//! progress, webhook secret rotation, delivery log) and API keys. Admins of the app only.

use askama::Template;
use axum::Extension;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use platform::audit::{Action, Actor, NewEntry, Outcome};
use platform::permissions::{AccessContext, Requirement};
use platform::web::{
    ApiError, FieldErrors, HtmlError, PageChrome, Section, UserChrome, current_request_id,
};
use serde::Deserialize;
use serde_json::json;

use super::AssetsSqlState;
use super::defs::{Defs, ExportDef, ExportForm, new_id, new_webhook_secret, ns, validate};
use super::runner::{RunRecord, RunStatus, runs};
use super::webhook::{Delivery, deliveries};

pub(super) fn chrome(title: &str, user: Option<Extension<UserChrome>>) -> PageChrome {
    PageChrome::new(title, Some(Section::AssetsSql)).with_user(user.map(|Extension(u)| u))
}

pub(super) fn csrf_of(c: &PageChrome) -> String {
    c.user
        .as_ref()
        .map(|u| u.csrf_token.clone())
        .unwrap_or_default()
}

pub(super) fn render(status: StatusCode, page: &impl Template) -> Result<Response, HtmlError> {
    Ok((status, Html(page.render()?)).into_response())
}

pub(super) fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}

pub(super) fn bad_form(_: FormRejection) -> HtmlError {
    HtmlError(ApiError::BadRequest(
        "the form could not be read; reload the page and try again".into(),
    ))
}

pub(super) fn internal(e: impl std::fmt::Display) -> HtmlError {
    HtmlError(ApiError::internal(e.to_string()))
}

pub(super) async fn require_admin(
    st: &AssetsSqlState,
    ctx: &AccessContext,
) -> Result<(), HtmlError> {
    ctx.require(&st.authorizer, &Requirement::AppAdmin(ns()))
        .await?;
    Ok(())
}

pub(super) async fn record(
    st: &AssetsSqlState,
    ctx: &AccessContext,
    action: Action,
    target: String,
    detail: serde_json::Value,
) {
    let e = NewEntry {
        actor: Actor::from(&ctx.principal),
        action,
        target,
        detail,
        outcome: Outcome::Ok,
        request_id: current_request_id().map(|r| r.to_string()),
    };
    if let Err(err) = st.log.record(&ctx.site, e).await {
        tracing::error!(error = %err, "could not record an Assets to SQL change");
    }
}

#[derive(Template)]
#[template(path = "assets_sql/index.html")]
struct IndexPage {
    chrome: PageChrome,
    exports: Vec<(ExportDef, Option<RunRecord>)>,
}

pub(super) async fn index(
    State(st): State<AssetsSqlState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let defs = Defs::new(&st.store, &ctx.site);
    let mut exports = Vec::new();
    for d in defs.list().await.map_err(internal)? {
        let last = runs(defs.kv(), &d.id, 1)
            .await
            .map_err(internal)?
            .into_iter()
            .next();
        exports.push((d, last));
    }
    render(
        StatusCode::OK,
        &IndexPage {
            chrome: chrome("Assets to SQL", user),
            exports,
        },
    )
}

/// A schema and its object types as Assets lists them, for choosing what to export.
pub(super) struct SchemaView {
    pub id: String,
    pub name: String,
    pub types: Vec<(String, String, Option<String>)>,
}

/// The site's schemas and object types (ids, names, parent), or why they cannot be listed.
async fn discover(st: &AssetsSqlState, ctx: &AccessContext) -> Result<Vec<SchemaView>, String> {
    use futures_util::TryStreamExt;
    let client = st
        .auth
        .service_client(&ctx.site)
        .await
        .map_err(|e| e.to_string())?;
    let assets = client
        .assets()
        .await
        .map_err(|e| format!("Assets did not answer: {e}"))?;
    let schemas: Vec<_> = assets
        .object_schemas()
        .try_collect()
        .await
        .map_err(|e| format!("Assets did not list the schemas: {e}"))?;
    let mut out = Vec::new();
    for s in schemas.into_iter().take(50) {
        let types = assets
            .object_types(&s.id)
            .await
            .map_err(|e| format!("Assets did not list the object types: {e}"))?;
        out.push(SchemaView {
            name: s.name.clone().unwrap_or_else(|| s.id.clone()),
            id: s.id,
            types: types
                .into_iter()
                .map(|t| {
                    (
                        t.id.clone(),
                        t.name.unwrap_or(t.id),
                        t.parent_object_type_id,
                    )
                })
                .collect(),
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "assets_sql/edit.html")]
struct EditPage {
    chrome: PageChrome,
    csrf: String,
    id: Option<String>,
    version: i64,
    form: ExportForm,
    errors: FieldErrors,
    has_target: bool,
    discovered: Result<Vec<SchemaView>, String>,
}

pub(super) async fn new_page(
    State(st): State<AssetsSqlState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let c = chrome("New export", user);
    let form = ExportForm {
        dialects: "postgres".into(),
        pull: "on".into(),
        zone: "UTC".into(),
        ..ExportForm::default()
    };
    render(
        StatusCode::OK,
        &EditPage {
            csrf: csrf_of(&c),
            chrome: c,
            id: None,
            version: 0,
            form,
            errors: FieldErrors::new(),
            has_target: false,
            discovered: discover(&st, &ctx).await,
        },
    )
}

/// Reads a form whose checkboxes may repeat (`dialects`).
fn read_form(pairs: &[(String, String)]) -> (ExportForm, i64) {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let dialects: Vec<&str> = pairs
        .iter()
        .filter(|(n, _)| n == "dialects")
        .map(|(_, v)| v.as_str())
        .collect();
    (
        ExportForm {
            name: get("name"),
            schemas: get("schemas"),
            types: get("types"),
            attributes: get("attributes"),
            filters: get("filters"),
            dialects: dialects.join(","),
            incremental: get("incremental"),
            pull: get("pull"),
            webhook_url: get("webhook_url"),
            target: get("target"),
            cron: get("cron"),
            zone: get("zone"),
        },
        get("version").parse().unwrap_or(-1),
    )
}

async fn save(
    st: &AssetsSqlState,
    ctx: &AccessContext,
    user: Option<Extension<UserChrome>>,
    existing: Option<(ExportDef, i64)>,
    pairs: Vec<(String, String)>,
) -> Result<Response, HtmlError> {
    let defs = Defs::new(&st.store, &ctx.site);
    let (form, version) = read_form(&pairs);
    let previous = existing.as_ref().map(|(d, _)| d);
    let mut result = validate(&form, previous);
    // A database target must be reachable under the site's outbound policy.
    if let Ok(v) = &result
        && let Some(Some(url)) = &v.new_target
    {
        let policy = platform::egress::load_policy(&st.store, &ctx.site)
            .await
            .map_err(internal)?;
        if let Err(reason) =
            super::runner::check_target_host(secrecy::ExposeSecret::expose_secret(url), &policy)
                .await
        {
            result = Err(FieldErrors::new().with("target", reason));
        }
    }
    let stale = existing.as_ref().is_some_and(|(_, v)| *v != version);
    let valid = match result {
        Ok(v) if !stale => v,
        other => {
            let mut errors = other.err().unwrap_or_default();
            if stale {
                errors.add(
                    "name",
                    "someone else changed this export; your input is kept, reload to see theirs",
                );
            }
            let c = chrome("Export", user);
            let mut shown = form;
            shown.target = String::new(); // never echo a database URL (it may hold a password)
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &EditPage {
                    csrf: csrf_of(&c),
                    chrome: c,
                    id: previous.map(|p| p.id.clone()),
                    version: existing.as_ref().map_or(0, |(_, v)| *v),
                    form: shown,
                    errors,
                    has_target: previous.is_some_and(|p| p.target.is_some()),
                    discovered: discover(st, ctx).await,
                },
            );
        }
    };
    let mut def = valid.def;
    let (id, created_by, created_at_ms, version) = match &existing {
        Some((d, v)) => (d.id.clone(), d.created_by.clone(), d.created_at_ms, *v),
        None => {
            if defs.list().await.map_err(internal)?.len() >= super::defs::MAX_EXPORTS {
                return Err(HtmlError(ApiError::Conflict(
                    "this site has the most exports allowed".into(),
                )));
            }
            (
                new_id().map_err(internal)?,
                ctx.principal.id().to_string(),
                jiff::Timestamp::now().as_millisecond(),
                0,
            )
        }
    };
    def.id = id.clone();
    def.created_by = created_by;
    def.created_at_ms = created_at_ms;
    if let Some(t) = &valid.new_target {
        defs.set_target(&id, t.as_ref()).await.map_err(internal)?;
    }
    let new_secret = match (&def.webhook, previous.and_then(|p| p.webhook.as_ref())) {
        (Some(_), None) => {
            let s = new_webhook_secret().map_err(internal)?;
            defs.set_webhook_secret(&id, 1, &s)
                .await
                .map_err(internal)?;
            true
        }
        _ => false,
    };
    defs.save(&def, version).await.map_err(|e| match e {
        platform::store::StoreError::ConditionFailed { .. } => HtmlError(ApiError::Conflict(
            "someone else changed this export at the same time; reload".into(),
        )),
        other => internal(other),
    })?;
    super::schedule(st, &ctx.site, &def).await;
    record(
        st,
        ctx,
        Action::SETTINGS_CHANGE,
        format!("assets-sql export {id}"),
        json!({"name": def.name, "pull": def.pull, "webhook": def.webhook.is_some(), "target": def.target, "schedule": def.schedule.as_ref().map(|s| format!("{} {}", s.cron, s.zone))}),
    )
    .await;
    Ok(see_other(&format!(
        "/assets-sql/exports/{id}{}",
        if new_secret { "?secret=new" } else { "" }
    )))
}

pub(super) async fn create(
    State(st): State<AssetsSqlState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(pairs) = form.map_err(bad_form)?;
    save(&st, &ctx, user, None, pairs).await
}

async fn load(
    st: &AssetsSqlState,
    ctx: &AccessContext,
    id: &str,
) -> Result<(ExportDef, i64), HtmlError> {
    Defs::new(&st.store, &ctx.site)
        .get(id)
        .await
        .map_err(internal)?
        .ok_or_else(|| HtmlError(ApiError::NotFound("no such export".into())))
}

pub(super) async fn update(
    State(st): State<AssetsSqlState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
    Path(id): Path<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(pairs) = form.map_err(bad_form)?;
    let existing = load(&st, &ctx, &id).await?;
    save(&st, &ctx, user, Some(existing), pairs).await
}

#[derive(Template)]
#[template(path = "assets_sql/detail.html")]
struct DetailPage {
    chrome: PageChrome,
    csrf: String,
    def: ExportDef,
    version: i64,
    form: ExportForm,
    errors: FieldErrors,
    runs: Vec<RunRecord>,
    running: bool,
    deliveries: Vec<Delivery>,
    secret: Option<String>,
    message: Option<&'static str>,
    id: Option<String>,
    export_id: String,
    has_target: bool,
    discovered: Result<Vec<SchemaView>, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DetailQuery {
    secret: Option<String>,
    done: Option<String>,
}

pub(super) async fn detail(
    State(st): State<AssetsSqlState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let (def, version) = load(&st, &ctx, &id).await?;
    let defs = Defs::new(&st.store, &ctx.site);
    // A secret is shown once: right after it was made (the URL says so), read back now.
    let secret = match (q.secret.as_deref(), &def.webhook) {
        (Some("new"), Some(w)) => defs
            .webhook_secret(&id, w.secret_version)
            .await
            .map_err(internal)?
            .map(|s| super::defs::reveal(&s).to_string()),
        _ => None,
    };
    let runs = runs(defs.kv(), &id, 20).await.map_err(internal)?;
    let running = runs.first().is_some_and(|r| r.status == RunStatus::Running);
    let deliveries = deliveries(defs.kv(), &id, 20).await.unwrap_or_default();
    let c = chrome(&def.name, user);
    let message = match q.done.as_deref() {
        Some("started") => Some("Run started."),
        Some("busy") => Some("A run of this export is already in progress."),
        Some("dropped") => Some("The previous webhook secret was dropped."),
        _ => None,
    };
    render(
        StatusCode::OK,
        &DetailPage {
            csrf: csrf_of(&c),
            chrome: c,
            id: Some(def.id.clone()),
            export_id: def.id.clone(),
            has_target: def.target.is_some(),
            discovered: discover(&st, &ctx).await,
            form: ExportForm::of(&def),
            def,
            version,
            errors: FieldErrors::new(),
            runs,
            running,
            deliveries,
            secret,
            message,
        },
    )
}

#[derive(Template)]
#[template(path = "assets_sql/runs.html")]
struct RunsFragment {
    export_id: String,
    runs: Vec<RunRecord>,
    running: bool,
}

/// The run history alone, polled by the page while a run is going on.
pub(super) async fn runs_fragment(
    State(st): State<AssetsSqlState>,
    ctx: AccessContext,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let (def, _) = load(&st, &ctx, &id).await?;
    let defs = Defs::new(&st.store, &ctx.site);
    let runs = runs(defs.kv(), &def.id, 20).await.map_err(internal)?;
    let running = runs.first().is_some_and(|r| r.status == RunStatus::Running);
    render(
        StatusCode::OK,
        &RunsFragment {
            export_id: def.id,
            runs,
            running,
        },
    )
}

pub(super) async fn run_now(
    State(st): State<AssetsSqlState>,
    ctx: AccessContext,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let (def, _) = load(&st, &ctx, &id).await?;
    if def.webhook.is_none() && def.target.is_none() {
        return Err(HtmlError(ApiError::Conflict(
            "this export only has the pull endpoint, which generates on request; there is nothing to run".into(),
        )));
    }
    // Refuse at once when a run holds the lease (the spawned run would fail the same way).
    let defs = Defs::new(&st.store, &ctx.site);
    if let Some(r) = runs(defs.kv(), &id, 1).await.map_err(internal)?.first()
        && r.status == RunStatus::Running
        && r.seconds() < 600.0
    {
        return Ok(see_other(&format!("/assets-sql/exports/{id}?done=busy")));
    }
    record(
        &st,
        &ctx,
        Action::new("export_run").unwrap_or(Action::SETTINGS_CHANGE),
        format!("assets-sql export {id}"),
        json!({"run": "now"}),
    )
    .await;
    let who = ctx.principal.display();
    let site = ctx.site.clone();
    let st2 = st.clone();
    tokio::spawn(async move {
        if let Err(e) = super::run_with_service_credential(&st2, &site, &def, who).await {
            tracing::warn!(error = %e, "run now did not start");
        }
    });
    Ok(see_other(&format!("/assets-sql/exports/{id}?done=started")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ConfirmForm {
    confirm: String,
}

pub(super) async fn delete(
    State(st): State<AssetsSqlState>,
    ctx: AccessContext,
    Path(id): Path<String>,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let (mut def, _) = load(&st, &ctx, &id).await?;
    if form.confirm != "yes" {
        return Err(HtmlError(ApiError::Validation {
            fields: FieldErrors::new().with("confirm", "confirm the deletion"),
        }));
    }
    let defs = Defs::new(&st.store, &ctx.site);
    defs.delete(&id).await.map_err(internal)?;
    def.schedule = None;
    super::schedule(&st, &ctx.site, &def).await;
    record(
        &st,
        &ctx,
        Action::SETTINGS_CHANGE,
        format!("assets-sql export {id}"),
        json!({"deleted": true}),
    )
    .await;
    Ok(see_other("/assets-sql"))
}

/// A new signing secret (shown once); the previous one keeps signing until dropped.
pub(super) async fn rotate_secret(
    State(st): State<AssetsSqlState>,
    ctx: AccessContext,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let (mut def, version) = load(&st, &ctx, &id).await?;
    let Some(w) = def.webhook.as_mut() else {
        return Err(HtmlError(ApiError::Conflict(
            "this export has no webhook".into(),
        )));
    };
    w.secret_version += 1;
    let s = new_webhook_secret().map_err(internal)?;
    let defs = Defs::new(&st.store, &ctx.site);
    defs.set_webhook_secret(&id, w.secret_version, &s)
        .await
        .map_err(internal)?;
    defs.save(&def, version).await.map_err(internal)?;
    record(
        &st,
        &ctx,
        Action::SETTINGS_CHANGE,
        format!("assets-sql export {id}"),
        json!({"webhook_secret": "rotated"}),
    )
    .await;
    Ok(see_other(&format!("/assets-sql/exports/{id}?secret=new")))
}

pub(super) async fn drop_old_secret(
    State(st): State<AssetsSqlState>,
    ctx: AccessContext,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let (def, _) = load(&st, &ctx, &id).await?;
    let Some(w) = &def.webhook else {
        return Err(HtmlError(ApiError::Conflict(
            "this export has no webhook".into(),
        )));
    };
    let defs = Defs::new(&st.store, &ctx.site);
    for v in 1..w.secret_version {
        let _ = defs
            .kv()
            .delete_secret(&format!("whsec:{id}:{v}"))
            .await
            .map_err(internal)?;
    }
    record(
        &st,
        &ctx,
        Action::SETTINGS_CHANGE,
        format!("assets-sql export {id}"),
        json!({"webhook_secret": "old dropped"}),
    )
    .await;
    Ok(see_other(&format!("/assets-sql/exports/{id}?done=dropped")))
}
