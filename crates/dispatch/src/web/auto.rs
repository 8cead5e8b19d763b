//! Automatic dispatch: `GET /dispatch/auto?day=…` places the day's waiting jobs on
//! technicians' routes (a preview with the reasons, and the jobs nobody can take with why),
//! and `POST /dispatch/auto` assigns and schedules them in Jira as the dispatcher, through the
//! board's own checks. The plan is applied only while the data still gives the plan the
//! dispatcher saw; otherwise the new plan is shown instead (409).

use askama::Template;
use axum::Extension;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use platform::audit::{Action, Outcome};
use platform::identity::UserClient;
use platform::permissions::AccessContext;
use platform::web::{ApiError, HtmlError, PageChrome, Section, UserChrome};
use serde::Deserialize;
use serde_json::json;

use super::assign::{assign_to, write_schedule};
use super::board::Loaded;
use super::plan::{hm, load_or_refuse, ymd};
use super::{DispatchState, bad_form, chrome, csrf_of, record, render};
use crate::auto::{Plan, plan};
use crate::board::{Filter, Ticket};
use crate::dayplan;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AutoQuery {
    day: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AutoForm {
    day: String,
    fp: String,
}

/// One proposal as shown.
pub(crate) struct ProposalRow {
    key: String,
    summary: String,
    name: String,
    time: String,
    reasons: String,
}

/// One technician's day as shown.
pub(crate) struct CrewRow {
    account_id: String,
    name: String,
    jobs: String,
    km: String,
    ends: String,
}

#[derive(Template)]
#[template(path = "dispatch/auto.html")]
struct AutoPage {
    chrome: PageChrome,
    csrf: String,
    day: String,
    proposals: Vec<ProposalRow>,
    left: Vec<(String, String, String)>,
    crews: Vec<CrewRow>,
    fp: String,
    max_km: String,
    /// Whether and how automatic dispatch runs by itself, and what its last run did.
    auto_note: String,
    message: Option<(bool, String)>,
    results: Vec<(String, bool, String)>,
}

/// The day's automatic plan from the loaded data.
fn auto_plan(l: &Loaded, now: Timestamp) -> (Plan, Vec<Ticket>) {
    let board = l.board(&Filter::default());
    let queue: Vec<&Ticket> = board.queue.iter().map(|c| &c.ticket).collect();
    let jobs = dayplan::waiting(&queue, &l.config.mapping, l.day, &l.zone);
    let projects = &l.config.projects;
    let crews: Vec<_> = l
        .techs
        .iter()
        .filter(|t| t.projects.is_empty() || t.projects.iter().any(|p| projects.contains(p)))
        .map(|t| {
            dayplan::crew(
                t,
                &l.tickets.tickets,
                &l.config.mapping,
                l.day,
                &l.zone,
                now,
            )
        })
        .collect();
    let queue = queue.into_iter().cloned().collect();
    (plan(&jobs, &crews, &l.config.planning.rules()), queue)
}

fn auto_view(
    l: &Loaded,
    p: &Plan,
    queue: &[Ticket],
    chrome: PageChrome,
    message: Option<(bool, String)>,
    results: Vec<(String, bool, String)>,
) -> AutoPage {
    let summary = |k: &str| {
        queue
            .iter()
            .find(|t| t.key == k)
            .map(|t| t.summary.clone())
            .unwrap_or_default()
    };
    AutoPage {
        csrf: csrf_of(&chrome),
        chrome,
        day: ymd(l),
        proposals: p
            .proposals
            .iter()
            .map(|x| ProposalRow {
                key: x.key.clone(),
                summary: summary(&x.key),
                name: x.name.clone(),
                time: format!("{}–{}", hm(x.start, &l.zone), hm(x.end, &l.zone)),
                reasons: x.reasons.join("; "),
            })
            .collect(),
        left: p
            .left
            .iter()
            .map(|x| (x.key.clone(), summary(&x.key), x.reason.clone()))
            .collect(),
        crews: p
            .crews
            .iter()
            .filter(|c| c.jobs_added > 0 || c.jobs_before > 0)
            .map(|c| CrewRow {
                account_id: c.account_id.clone(),
                name: c.name.clone(),
                jobs: format!("{} + {}", c.jobs_before, c.jobs_added),
                km: format!("{:.1} → {:.1}", c.km_before, c.km_after),
                ends: c.ends.map(|e| hm(e, &l.zone)).unwrap_or_default(),
            })
            .collect(),
        fp: dayplan::fingerprint(p),
        max_km: format!("{}", l.config.planning.max_km),
        auto_note: String::new(),
        message,
        results,
    }
}

/// `GET /dispatch/auto`: the preview.
pub(crate) async fn auto_page(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<Extension<UserChrome>>,
    q: Result<Query<AutoQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, HtmlError> {
    let Query(q) =
        q.map_err(|_| HtmlError(ApiError::BadRequest("the day could not be read".into())))?;
    let l = load_or_refuse(&st, &ctx, &client, q.day).await?;
    let (p, queue) = auto_plan(&l, Timestamp::now());
    let chrome = chrome("Automatic dispatch", Section::Dispatch, user);
    let mut page = auto_view(&l, &p, &queue, chrome, None, Vec::new());
    page.auto_note = auto_note(&st, &ctx, &l).await;
    render(StatusCode::OK, &page)
}

/// `POST /dispatch/auto`: assigns and schedules the plan the dispatcher saw, ticket by
/// ticket, as the dispatcher (the board's checks apply to each).
pub(crate) async fn auto_apply(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<Extension<UserChrome>>,
    form: Result<Form<AutoForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    let Form(form) = form.map_err(bad_form)?;
    let day = Some(form.day.clone()).filter(|d| !d.is_empty());
    let l = load_or_refuse(&st, &ctx, &client, day).await?;
    let (p, queue) = auto_plan(&l, Timestamp::now());
    let chrome = chrome("Automatic dispatch", Section::Dispatch, user);
    if dayplan::fingerprint(&p) != form.fp {
        let msg = "The board changed since you looked (or time moved on): here is the plan as it is now. Nothing was assigned.";
        return render(
            StatusCode::CONFLICT,
            &auto_view(
                &l,
                &p,
                &queue,
                chrome,
                Some((false, msg.into())),
                Vec::new(),
            ),
        );
    }
    let mut results = Vec::new();
    for x in &p.proposals {
        let outcome = match assign_to(&st, &ctx, &client, &x.key, &x.account_id, "").await {
            Ok(msg) => match write_schedule(&client, &l.config, &x.key, x.start, x.end).await {
                Ok(()) => (
                    true,
                    format!(
                        "{msg} Scheduled {}–{}.",
                        hm(x.start, &l.zone),
                        hm(x.end, &l.zone)
                    ),
                ),
                Err(why) => (
                    true,
                    format!("{msg} Jira did not take its schedule ({why})."),
                ),
            },
            Err(why) => (false, why),
        };
        results.push((x.key.clone(), outcome.0, outcome.1));
    }
    let done = results.iter().filter(|r| r.1).count();
    record(
        &st,
        &ctx,
        Action::JIRA_WRITE,
        format!("auto-dispatch:{}", ymd(&l)),
        json!({"assigned": done, "refused": results.len() - done, "left": p.left.len()}),
        if done == results.len() {
            Outcome::Ok
        } else {
            Outcome::Error
        },
    )
    .await;
    st.cache.touch(&ctx.site).await;
    let msg = format!(
        "{done} of {} jobs assigned and scheduled in Jira.",
        results.len()
    );
    // What remains, planned afresh from the board as it is now.
    let l = load_or_refuse(&st, &ctx, &client, Some(ymd(&l))).await?;
    let (p, queue) = auto_plan(&l, Timestamp::now());
    render(
        StatusCode::OK,
        &auto_view(
            &l,
            &p,
            &queue,
            chrome,
            Some((done == results.len(), msg)),
            results,
        ),
    )
}

/// Whether automatic dispatch runs by itself, and what its last run did.
async fn auto_note(st: &DispatchState, ctx: &AccessContext, l: &Loaded) -> String {
    let Some(every) = l.config.auto_every_minutes else {
        return "It runs only when a dispatcher asks (an admin can make it run by itself under Settings → DispatchDesk → Planning).".into();
    };
    let last = crate::store::DispatchStore::new(&st.store, &ctx.site)
        .auto_run()
        .await
        .ok()
        .flatten();
    let mut note = format!(
        "It also runs by itself every {every} minutes for today, as the service credential."
    );
    if let Some(run) = last
        && let Some(at) = run.at
    {
        let when = at
            .to_zoned_datetime(l.zone.clone())
            .strftime("%Y-%m-%d %H:%M");
        match run.error {
            Some(e) => note.push_str(&format!(" The last run ({when}) could not plan: {e}.")),
            None => note.push_str(&format!(
                " The last run ({when}) assigned {}, was refused {} and left {} in the queue.",
                run.assigned,
                run.refused.len(),
                run.left
            )),
        }
    }
    note
}
