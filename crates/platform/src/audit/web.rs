//! The audit pages: `GET /settings/audit` (list with filters and paging) and
//! `GET /settings/audit.csv` (the same filters, streamed as CSV). Admins only: site admins
//! and the allow-list of the `platform` app.

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::entry::{Action, Actor, NewEntry, Outcome};
use super::log::{AuditError, AuditFilter, AuditLog, MAX_PAGE, MAX_RETENTION_DAYS};
use crate::permissions::{AccessContext, Authorizer, Requirement, platform_ns};
use crate::web::{
    ApiError, FieldErrors, HtmlError, PageChrome, Section, UserChrome, current_request_id,
};

/// Path of the list page.
pub const AUDIT_PATH: &str = "/settings/audit";
/// Path of the CSV export.
pub const AUDIT_CSV_PATH: &str = "/settings/audit.csv";
/// Path the retention form posts to.
pub const AUDIT_RETENTION_PATH: &str = "/settings/audit/retention";
/// Default page size of the list.
const DEFAULT_LIMIT: u32 = 50;
/// Longest actor or text filter.
const MAX_FILTER_CHARS: usize = 200;

/// State of the audit pages.
#[derive(Clone, Debug)]
pub struct AuditState {
    /// The log.
    pub log: AuditLog,
    /// Who may read it.
    pub authorizer: Authorizer,
}

/// The pages, to merge into the Settings section's router. Requests need an
/// [`AccessContext`] extension (inserted by the identity layer), or they answer 401.
pub fn router(state: AuditState) -> Router {
    Router::new()
        .route(AUDIT_PATH, get(list_page))
        .route(AUDIT_CSV_PATH, get(export_csv))
        .route(AUDIT_RETENTION_PATH, post(save_retention))
        .with_state(state)
}

/// The filter form as submitted (every field is text, validated by [`validate`]).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditForm {
    /// `YYYY-MM-DD` (UTC, from the start of the day) or an RFC 3339 instant.
    pub from: String,
    /// `YYYY-MM-DD` (UTC, to the end of the day) or an RFC 3339 instant.
    pub to: String,
    /// Actor id or part of a name.
    pub actor: String,
    /// Action, e.g. `sign_in`.
    pub action: String,
    /// `ok`, `denied` or `error`.
    pub outcome: String,
    /// Free text.
    pub q: String,
    /// Page size, 1–100.
    pub limit: String,
    /// Paging cursor from the previous page.
    pub cursor: String,
}

/// A validated form: the filter, the page size and the cursor.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidForm {
    /// Which entries.
    pub filter: AuditFilter,
    /// Page size.
    pub limit: u32,
    /// Where to continue.
    pub cursor: Option<String>,
}

fn parse_instant(s: &str, end_of_day: bool) -> Option<i64> {
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond());
    }
    let date: jiff::civil::Date = s.parse().ok()?;
    let start = date
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .ok()?
        .timestamp();
    let ms = start.as_millisecond();
    Some(if end_of_day { ms + 86_400_000 - 1 } else { ms })
}

/// Checks every field; the reasons are per field, for the form.
pub fn validate(form: &AuditForm) -> Result<ValidForm, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut filter = AuditFilter::default();
    let date_hint = "use a date like 2026-01-31 or an instant like 2026-01-31T09:00:00Z";
    for (field, value, end) in [("from", &form.from, false), ("to", &form.to, true)] {
        let v = value.trim();
        if v.is_empty() {
            continue;
        }
        match parse_instant(v, end) {
            Some(ms) if end => filter.to_ms = Some(ms),
            Some(ms) => filter.from_ms = Some(ms),
            None => {
                errors.add(field, date_hint);
            }
        }
    }
    if let (Some(f), Some(t)) = (filter.from_ms, filter.to_ms)
        && f > t
    {
        errors.add("to", "must not be before \"from\"");
    }
    for (field, value, slot) in [
        ("actor", &form.actor, &mut filter.actor),
        ("q", &form.q, &mut filter.text),
    ] {
        let v = value.trim();
        if v.chars().count() > MAX_FILTER_CHARS {
            errors.add(field, format!("use at most {MAX_FILTER_CHARS} characters"));
        } else if !v.is_empty() {
            *slot = Some(v.to_owned());
        }
    }
    let action = form.action.trim();
    if !action.is_empty() {
        match Action::new(action) {
            Ok(a) => filter.action = Some(a),
            Err(e) => {
                errors.add("action", e.to_string());
            }
        }
    }
    let outcome = form.outcome.trim();
    if !outcome.is_empty() {
        match Outcome::parse(outcome) {
            Some(o) => filter.outcome = Some(o),
            None => {
                errors.add("outcome", "choose ok, denied or error");
            }
        }
    }
    let limit = match form.limit.trim() {
        "" => DEFAULT_LIMIT,
        l => match l.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                errors.add("limit", format!("use a whole number from 1 to {MAX_PAGE}"));
                DEFAULT_LIMIT
            }
        },
    };
    let cursor = form.cursor.trim();
    if cursor.len() > 1200 {
        errors.add(
            "cursor",
            "this paging link is not valid; start again from the first page",
        );
    }
    if errors.is_empty() {
        Ok(ValidForm {
            filter,
            limit,
            cursor: (!cursor.is_empty()).then(|| cursor.to_owned()),
        })
    } else {
        Err(errors)
    }
}

/// One table row, preformatted.
struct Row {
    at: String,
    actor: String,
    actor_id: String,
    action: String,
    target: String,
    outcome: &'static str,
    detail: String,
    request_id: String,
}

#[derive(Template)]
#[template(path = "audit/list.html")]
struct ListPage {
    chrome: PageChrome,
    form: AuditForm,
    errors: FieldErrors,
    outcomes: [&'static str; 3],
    rows: Vec<Row>,
    searched: bool,
    next_href: Option<String>,
    csv_href: String,
    scan_limited: bool,
    csrf: String,
    retention_days: u32,
    retention_input: String,
    retention_errors: FieldErrors,
    max_retention_days: u32,
    done: Option<&'static str>,
}

fn href(path: &str, form: &AuditForm, cursor: Option<&str>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("from", &form.from),
        ("to", &form.to),
        ("actor", &form.actor),
        ("action", &form.action),
        ("outcome", &form.outcome),
        ("q", &form.q),
        ("limit", &form.limit),
    ] {
        if !v.trim().is_empty() {
            q.append_pair(k, v.trim());
        }
    }
    if let Some(c) = cursor {
        q.append_pair("cursor", c);
    }
    let q = q.finish();
    if q.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{q}")
    }
}

fn audit_failure(err: AuditError) -> ApiError {
    match err {
        AuditError::InvalidCursor => ApiError::invalid_field(
            "cursor",
            "this paging link is not valid; start again from the first page",
        ),
        AuditError::Invalid(m) => ApiError::BadRequest(m),
        AuditError::Store(e) => ApiError::internal(e),
    }
}

/// `?done=…` after a change.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Done {
    done: Option<String>,
}

/// The retention form as submitted.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RetentionForm {
    /// Whole days, 1 to [`MAX_RETENTION_DAYS`].
    pub days: String,
}

/// Checks the retention form: a whole number of days from 1 to 3650.
pub fn validate_retention(form: &RetentionForm) -> Result<u32, FieldErrors> {
    let hint = format!("use a whole number of days from 1 to {MAX_RETENTION_DAYS}");
    match form.days.trim().parse::<u32>() {
        Ok(d) if (1..=MAX_RETENTION_DAYS).contains(&d) => Ok(d),
        _ if form.days.trim().is_empty() => {
            Err(FieldErrors::new().with("days", "enter a number of days"))
        }
        _ => Err(FieldErrors::new().with("days", hint)),
    }
}

/// The list page for `form`: filters validated (422 with the reasons when not) and the
/// matching entries read, plus the retention form.
async fn build_list(
    st: &AuditState,
    ctx: &AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    form: AuditForm,
) -> Result<(StatusCode, ListPage), HtmlError> {
    let chrome = PageChrome::new("Audit log", Some(Section::Settings))
        .with_user(user.map(|axum::Extension(u)| u));
    let csrf = chrome
        .user
        .as_ref()
        .map(|u| u.csrf_token.clone())
        .unwrap_or_default();
    let retention_days = st
        .log
        .retention_days(&ctx.site)
        .await
        .map_err(audit_failure)?;
    let mut page = ListPage {
        chrome,
        csv_href: href(AUDIT_CSV_PATH, &form, None),
        form,
        errors: FieldErrors::new(),
        outcomes: ["ok", "denied", "error"],
        rows: Vec::new(),
        searched: false,
        next_href: None,
        scan_limited: false,
        csrf,
        retention_days,
        retention_input: retention_days.to_string(),
        retention_errors: FieldErrors::new(),
        max_retention_days: MAX_RETENTION_DAYS,
        done: None,
    };
    let valid = match validate(&page.form) {
        Ok(v) => v,
        Err(errors) => {
            page.errors = errors;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page));
        }
    };
    let result = st
        .log
        .query(
            &ctx.site,
            &valid.filter,
            valid.cursor.as_deref(),
            valid.limit,
        )
        .await;
    let found = match result {
        Ok(found) => found,
        Err(AuditError::InvalidCursor) => {
            page.errors.add(
                "cursor",
                "this paging link is not valid; start again from the first page",
            );
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page));
        }
        Err(e) => return Err(audit_failure(e).into()),
    };
    page.searched = true;
    page.scan_limited = found.scan_limited;
    page.next_href = found
        .next_cursor
        .as_deref()
        .map(|c| href(AUDIT_PATH, &page.form, Some(c)));
    page.rows = found
        .entries
        .into_iter()
        .map(|e| Row {
            at: e.at().strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor: e.actor.display,
            actor_id: e.actor.id,
            action: e.action.to_string(),
            target: e.target,
            outcome: e.outcome.as_str(),
            detail: if e.detail.is_null() {
                String::new()
            } else {
                e.detail.to_string()
            },
            request_id: e.request_id.unwrap_or_default(),
        })
        .collect();
    Ok((StatusCode::OK, page))
}

async fn list_page(
    State(st): State<AuditState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    query: Result<Query<AuditForm>, QueryRejection>,
    done: Result<Query<Done>, QueryRejection>,
) -> Result<Response, HtmlError> {
    ctx.require(&st.authorizer, &Requirement::AppAdmin(platform_ns()))
        .await?;
    let Query(form) = query.map_err(ApiError::from)?;
    let (status, mut page) = build_list(&st, &ctx, user, form).await?;
    page.done = match done.ok().and_then(|Query(d)| d.done).as_deref() {
        Some("retention") => Some("Retention saved."),
        _ => None,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// `POST /settings/audit/retention`: sets the site's retention (admins only; the CSRF token
/// is checked by the identity layer) and records the change.
async fn save_retention(
    State(st): State<AuditState>,
    ctx: AccessContext,
    user: Option<axum::Extension<UserChrome>>,
    form: Result<Form<RetentionForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    ctx.require(&st.authorizer, &Requirement::AppAdmin(platform_ns()))
        .await?;
    let Form(form) = form.map_err(|_| {
        HtmlError(ApiError::BadRequest(
            "the form could not be read; reload the page and try again".into(),
        ))
    })?;
    let days = match validate_retention(&form) {
        Ok(d) => d,
        Err(errors) => {
            let (_, mut page) = build_list(&st, &ctx, user, AuditForm::default()).await?;
            page.retention_input = form.days;
            page.retention_errors = errors;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
        }
    };
    let old = st
        .log
        .retention_days(&ctx.site)
        .await
        .map_err(audit_failure)?;
    st.log
        .set_retention_days(&ctx.site, days)
        .await
        .map_err(audit_failure)?;
    st.log
        .record(
            &ctx.site,
            NewEntry {
                actor: Actor::from(&ctx.principal),
                action: Action::SETTINGS_CHANGE,
                target: "audit retention".into(),
                detail: serde_json::json!({"old_days": old, "new_days": days}),
                outcome: Outcome::Ok,
                request_id: current_request_id().map(|r| r.to_string()),
            },
        )
        .await
        .map_err(audit_failure)?;
    Ok((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, format!("{AUDIT_PATH}?done=retention"))],
    )
        .into_response())
}

async fn export_csv(
    State(st): State<AuditState>,
    ctx: AccessContext,
    query: Result<Query<AuditForm>, QueryRejection>,
) -> Result<Response, HtmlError> {
    ctx.require(&st.authorizer, &Requirement::AppAdmin(platform_ns()))
        .await?;
    let Query(form) = query.map_err(ApiError::from)?;
    let valid = validate(&form).map_err(|fields| ApiError::Validation { fields })?;
    let recorded = st
        .log
        .record(
            &ctx.site,
            NewEntry {
                actor: Actor::from(&ctx.principal),
                action: Action::AUDIT_EXPORT,
                target: "audit log".into(),
                detail: serde_json::json!({"filter": href("", &form, None)}),
                outcome: Outcome::Ok,
                request_id: current_request_id().map(|r| r.to_string()),
            },
        )
        .await;
    if let Err(e) = recorded {
        return Err(audit_failure(e).into());
    }
    let stream = st.log.export_csv(&ctx.site, valid.filter);
    let body = Body::from_stream(futures_util::StreamExt::map(stream, |r| {
        r.map_err(|e| {
            tracing::error!(error = %e, "audit CSV export failed mid-stream");
            std::io::Error::other("audit export failed")
        })
    }));
    let filename = format!("attachment; filename=\"audit-{}.csv\"", ctx.site);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, filename),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}
