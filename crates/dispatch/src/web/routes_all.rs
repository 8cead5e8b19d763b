//! `GET /dispatch/routes?day=…`: every technician's day as scheduled beside its shortest
//! order, with the driving saved, and `POST /dispatch/routes` to schedule all the shortest
//! orders in Jira at once as the dispatcher (only while the plans are still the ones shown).

use std::hash::{Hash, Hasher};

use askama::Template;
use axum::Extension;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use platform::identity::UserClient;
use platform::permissions::AccessContext;
use platform::web::{ApiError, HtmlError, PageChrome, Section, UserChrome};
use serde::Deserialize;
use serde_json::json;

use super::board::Loaded;
use super::plan::{
    Routes, load_or_refuse, record_rescheduling, rescheduled, routes, write_visits, ymd,
};
use super::{DispatchState, bad_form, chrome, csrf_of, render, see_other};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RoutesQuery {
    day: Option<String>,
    done: Option<u32>,
    refused: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RoutesForm {
    day: String,
    fp: String,
}

/// One technician's row.
pub(crate) struct Row {
    account_id: String,
    name: String,
    jobs: usize,
    scheduled_km: String,
    best_km: String,
    saved_km: String,
    changes: usize,
}

#[derive(Template)]
#[template(path = "dispatch/routes.html")]
struct RoutesPage {
    chrome: PageChrome,
    csrf: String,
    day: String,
    rows: Vec<Row>,
    total_saved: String,
    total_changes: usize,
    fp: String,
    message: Option<(bool, String)>,
}

/// Every technician's routes of the loaded day, with jobs.
fn all(l: &Loaded, now: Timestamp) -> Vec<(&crate::technician::Technician, Routes)> {
    l.techs
        .iter()
        .map(|t| (t, routes(l, t, now)))
        .filter(|(_, r)| !r.day_tickets.is_empty())
        .collect()
}

/// A fingerprint of everything applying would write.
fn fingerprint(all: &[(&crate::technician::Technician, Routes)]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (t, r) in all {
        for v in r.changed() {
            (
                &t.account_id,
                &v.key,
                v.start.as_second(),
                v.end.as_second(),
            )
                .hash(&mut h);
        }
    }
    format!("{:016x}", h.finish())
}

fn page_of(
    l: &Loaded,
    chrome: PageChrome,
    message: Option<(bool, String)>,
    now: Timestamp,
) -> RoutesPage {
    let all = all(l, now);
    let mut total_saved = 0.0;
    let mut total_changes = 0;
    let rows = all
        .iter()
        .map(|(t, r)| {
            let scheduled = r.current.as_ref().map_or(0.0, |c| c.km);
            let best = r.best.as_ref().map(|b| b.km);
            let saved = best.map_or(0.0, |b| (scheduled - b).max(0.0));
            let changes = r.changed().len();
            total_saved += saved;
            total_changes += changes;
            Row {
                account_id: t.account_id.clone(),
                name: t.display_name.clone(),
                jobs: r.day_tickets.len(),
                scheduled_km: format!("{scheduled:.1}"),
                best_km: best.map_or_else(|| "—".to_string(), |b| format!("{b:.1}")),
                saved_km: format!("{saved:.1}"),
                changes,
            }
        })
        .collect();
    RoutesPage {
        csrf: csrf_of(&chrome),
        chrome,
        day: ymd(l),
        rows,
        total_saved: format!("{total_saved:.1}"),
        total_changes,
        fp: fingerprint(&all),
        message,
    }
}

/// `GET /dispatch/routes`.
pub(crate) async fn page(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<Extension<UserChrome>>,
    q: Result<Query<RoutesQuery>, QueryRejection>,
) -> Result<Response, HtmlError> {
    let Query(q) =
        q.map_err(|_| HtmlError(ApiError::BadRequest("the day could not be read".into())))?;
    let l = load_or_refuse(&st, &ctx, &client, q.day).await?;
    let message = rescheduled(q.done, q.refused);
    let chrome = chrome("Routes of the day", Section::Dispatch, user);
    render(
        StatusCode::OK,
        &page_of(&l, chrome, message, Timestamp::now()),
    )
}

/// `POST /dispatch/routes`: schedules every shortest order shown.
pub(crate) async fn apply(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<Extension<UserChrome>>,
    form: Result<Form<RoutesForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    let Form(form) = form.map_err(bad_form)?;
    let day = Some(form.day.clone()).filter(|d| !d.is_empty());
    let l = load_or_refuse(&st, &ctx, &client, day).await?;
    let now = Timestamp::now();
    let everything = all(&l, now);
    if fingerprint(&everything) != form.fp {
        let msg = "The day changed since you looked (or time moved on): here are the routes as they are now. Nothing was written.";
        let chrome = chrome("Routes of the day", Section::Dispatch, user);
        return render(
            StatusCode::CONFLICT,
            &page_of(&l, chrome, Some((false, msg.into())), now),
        );
    }
    let (mut written, mut failed) = (0, Vec::new());
    for (_, r) in &everything {
        let (w, f) = write_visits(&client, &l, &r.changed()).await;
        written += w;
        failed.extend(f);
    }
    record_rescheduling(
        &st,
        &ctx,
        format!("routes:{}", ymd(&l)),
        json!({"rescheduled": written, "refused": failed}),
        failed.is_empty(),
    )
    .await;
    Ok(see_other(&format!(
        "/dispatch/routes?day={}&done={written}&refused={}",
        ymd(&l),
        failed.len()
    )))
}
