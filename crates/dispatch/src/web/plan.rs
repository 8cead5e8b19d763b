//! Routes: `GET /dispatch/route?tech=…&day=…`, a technician's day as scheduled beside the
//! shortest order (driving estimated from straight-line distance), and `POST /dispatch/route`
//! to write the new times to Jira. Automatic dispatch is in [`super::auto`]; both share the
//! loading and formatting here.
//!
//! A plan is applied only while the data still gives the plan the dispatcher saw (its
//! fingerprint travels with the form); otherwise the new plan is shown instead (409).

use askama::Template;
use axum::Extension;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use platform::audit::{Action, Outcome};
use platform::identity::UserClient;
use platform::permissions::AccessContext;
use platform::web::{ApiError, HtmlError, PageChrome, Section, UserChrome};
use serde::Deserialize;
use serde_json::json;

use super::assign::write_schedule;
use super::board::{Loaded, load, load_own, url_encode};
use super::{DispatchState, bad_form, chrome, csrf_of, record, render, see_other};
use crate::board::Ticket;
use crate::dayplan;
use crate::route::{Timeline, optimise, timeline};
use crate::technician::Technician;

/// Loads the board's data or refuses: only dispatchers plan.
pub(super) async fn load_or_refuse(
    st: &DispatchState,
    ctx: &AccessContext,
    client: &atlassian::client::AtlassianClient,
    day: Option<String>,
) -> Result<Loaded, HtmlError> {
    load(st, ctx, client, day.as_deref())
        .await?
        .ok_or_else(|| {
            HtmlError(ApiError::Forbidden(
                "You are not a dispatcher of any dispatched project. Ask an admin to give you the dispatcher role.".into(),
            ))
        })
}

pub(super) fn hm(ts: Timestamp, zone: &TimeZone) -> String {
    ts.to_zoned_datetime(zone.clone())
        .strftime("%H:%M")
        .to_string()
}

pub(super) fn ymd(l: &Loaded) -> String {
    l.day.strftime("%Y-%m-%d").to_string()
}

/// One visit as shown.
pub(crate) struct VisitRow {
    key: String,
    summary: String,
    travel: String,
    time: String,
    flags: String,
}

/// A timeline as shown.
pub(crate) struct RouteView {
    rows: Vec<VisitRow>,
    km: String,
    travel: String,
    ends: String,
}

fn view(tl: &Timeline, tickets: &[&Ticket], zone: &TimeZone) -> RouteView {
    let rows = tl
        .visits
        .iter()
        .map(|v| {
            let summary = tickets
                .iter()
                .find(|t| t.key == v.key)
                .map(|t| t.summary.clone())
                .unwrap_or_default();
            let mut flags = Vec::new();
            if v.location.is_none() {
                flags.push("no location: travel unknown".to_string());
            }
            if v.wait_minutes > 0 {
                flags.push(format!("waits {} min", v.wait_minutes));
            }
            if v.late {
                flags.push("late for its time".into());
            }
            if v.after_hours {
                flags.push("after working hours".into());
            }
            VisitRow {
                key: v.key.clone(),
                summary,
                travel: format!("{:.1} km, {} min", v.travel_km, v.travel_minutes),
                time: format!("{}–{}", hm(v.start, zone), hm(v.end, zone)),
                flags: flags.join("; "),
            }
        })
        .collect();
    RouteView {
        rows,
        km: format!("{:.1}", tl.km),
        travel: format!("{} min", tl.travel_minutes),
        ends: hm(tl.ends, zone),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RouteQuery {
    tech: String,
    day: Option<String>,
    /// After an apply: jobs rescheduled and refused (numbers only, so a link cannot carry
    /// text onto the page).
    done: Option<u32>,
    refused: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RouteForm {
    tech: String,
    day: String,
    fp: String,
}

#[derive(Template)]
#[template(path = "dispatch/route.html")]
struct RoutePage {
    chrome: PageChrome,
    csrf: String,
    day: String,
    tech: String,
    name: String,
    technicians: Vec<(String, String)>,
    current: Option<RouteView>,
    best: Option<RouteView>,
    saves: String,
    fp: String,
    can_apply: bool,
    dispatcher: bool,
    /// How driving is estimated, in words.
    travel_note: String,
    why_not: String,
    message: Option<(bool, String)>,
}

/// Both routes of a technician's day: as scheduled, and the shortest order from what is
/// left of the working day. `None` for the second when the day is over or off.
pub(super) struct Routes {
    pub(super) day_tickets: Vec<Ticket>,
    pub(super) current: Option<Timeline>,
    pub(super) best: Option<Timeline>,
    keep: usize,
    why_not: String,
}

impl Routes {
    /// The visits of the shortest order whose times differ from the schedule, jobs under way
    /// left out: what applying it writes.
    pub(super) fn changed(&self) -> Vec<&crate::route::Visit> {
        let Some(best) = &self.best else {
            return Vec::new();
        };
        best.visits
            .iter()
            .skip(self.keep)
            .filter(|v| {
                self.day_tickets
                    .iter()
                    .find(|t| t.key == v.key)
                    .and_then(|t| t.scheduled)
                    != Some((v.start, v.end))
            })
            .collect()
    }
}

pub(super) fn routes(l: &Loaded, tech: &Technician, now: Timestamp) -> Routes {
    let travel = l.config.planning.travel();
    let mapping = &l.config.mapping;
    let mine = dayplan::day_tickets(tech, &l.tickets.tickets, mapping, l.day, &l.zone);
    let keep = dayplan::under_way(&mine, mapping);
    let from = dayplan::position(&mine, tech, mapping);
    let window = dayplan::window(tech, l.day, now);
    let day_end = tech.window_on(l.day).map(|w| w.1);
    let first = mine.iter().filter_map(|t| t.scheduled.map(|s| s.0)).min();
    let current = (!mine.is_empty()).then(|| {
        let start = tech.window_on(l.day).map(|w| w.0).or(first).unwrap_or(now);
        timeline(
            from,
            start,
            &dayplan::stops(&mine, Some((l.day, &l.zone))),
            tech.home,
            day_end,
            &travel,
        )
    });
    let why_not = if mine.is_empty() {
        "No jobs on this day.".to_string()
    } else if window.is_none() {
        "The working day is over, off or without hours: there is nothing left to plan.".into()
    } else {
        String::new()
    };
    let best = window.filter(|_| !mine.is_empty()).map(|(start, end)| {
        let order = optimise(from, tech.home, &dayplan::stops(&mine, None), keep);
        timeline(from, start, &order, tech.home, Some(end), &travel)
    });
    Routes {
        day_tickets: mine.into_iter().cloned().collect(),
        current,
        best,
        keep,
        why_not,
    }
}

async fn route_page_of(
    st: &DispatchState,
    ctx: &AccessContext,
    client: &atlassian::client::AtlassianClient,
    user: Option<Extension<UserChrome>>,
    tech_id: &str,
    day: Option<String>,
    (status, message): (StatusCode, Option<(bool, String)>),
) -> Result<Response, HtmlError> {
    // Dispatchers plan; a technician sees their own route (read-only).
    let (l, dispatcher) = match load(st, ctx, client, day.as_deref()).await? {
        Some(l) => (l, true),
        None => match load_own(st, ctx, client, day.as_deref()).await? {
            Some(l) => (l, false),
            None => {
                return Err(HtmlError(ApiError::Forbidden(
                    "Routes are for dispatchers, and for each technician their own.".into(),
                )));
            }
        },
    };
    let tech_id = if dispatcher || !tech_id.is_empty() {
        tech_id
    } else {
        ctx.principal.id()
    };
    let technicians: Vec<(String, String)> = l
        .techs
        .iter()
        .map(|t| (t.account_id.clone(), t.display_name.clone()))
        .collect();
    let tech = l.techs.iter().find(|t| t.account_id == tech_id);
    let chrome = chrome("Route", Section::Dispatch, user);
    let mut page = RoutePage {
        csrf: csrf_of(&chrome),
        chrome,
        day: ymd(&l),
        tech: tech_id.to_string(),
        name: String::new(),
        technicians,
        current: None,
        best: None,
        saves: String::new(),
        fp: String::new(),
        can_apply: false,
        dispatcher,
        travel_note: format!(
            "Driving is estimated from straight-line distance (× {} for roads, {} km/h on average)",
            l.config.planning.detour, l.config.planning.km_per_hour
        ),
        why_not: String::new(),
        message,
    };
    if let Some(tech) = tech {
        let r = routes(&l, tech, Timestamp::now());
        let refs: Vec<&Ticket> = r.day_tickets.iter().collect();
        page.name = tech.display_name.clone();
        page.why_not = r.why_not.clone();
        if let (Some(c), Some(b)) = (&r.current, &r.best) {
            if c.km - b.km >= 0.05 {
                page.saves = format!(
                    "{:.1} km and {} min of driving less than as scheduled",
                    c.km - b.km,
                    c.travel_minutes - b.travel_minutes
                );
            }
            // Only jobs not under way whose times would change are written.
            let changes = r.changed().len();
            if changes == 0 {
                page.why_not = "The day is already scheduled this way: nothing to change.".into();
            }
            page.fp = dayplan::route_fingerprint(&b.visits);
            page.can_apply = dispatcher && changes > 0;
        }
        page.current = r.current.as_ref().map(|t| view(t, &refs, &l.zone));
        page.best = r.best.as_ref().map(|t| view(t, &refs, &l.zone));
    } else if !dispatcher {
        return Err(HtmlError(ApiError::Forbidden(
            "technicians see their own route only".into(),
        )));
    } else if !tech_id.is_empty() {
        return Err(HtmlError(ApiError::NotFound(
            "not a technician of DispatchDesk".into(),
        )));
    }
    render(status, &page)
}

/// `GET /dispatch/route`.
pub(crate) async fn route_page(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<Extension<UserChrome>>,
    q: Result<Query<RouteQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, HtmlError> {
    let Query(q) = q.map_err(|_| {
        HtmlError(ApiError::BadRequest(
            "the route's query could not be read".into(),
        ))
    })?;
    let message = rescheduled(q.done, q.refused);
    route_page_of(
        &st,
        &ctx,
        &client,
        user,
        q.tech.trim(),
        q.day,
        (StatusCode::OK, message),
    )
    .await
}

/// `POST /dispatch/route`: writes the shortest order's times to Jira.
pub(crate) async fn route_apply(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<Extension<UserChrome>>,
    form: Result<Form<RouteForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    let Form(form) = form.map_err(bad_form)?;
    let day = Some(form.day.clone()).filter(|d| !d.is_empty());
    let l = load_or_refuse(&st, &ctx, &client, day.clone()).await?;
    let Some(tech) = l.techs.iter().find(|t| t.account_id == form.tech.trim()) else {
        return Err(HtmlError(ApiError::Validation {
            fields: platform::web::FieldErrors::new()
                .with("tech", "not a technician of DispatchDesk"),
        }));
    };
    let r = routes(&l, tech, Timestamp::now());
    let Some(best) = &r.best else {
        return Err(HtmlError(ApiError::Conflict(r.why_not)));
    };
    if dayplan::route_fingerprint(&best.visits) != form.fp {
        let msg = "The day changed since you looked (or time moved on): here is the route as it is now. Nothing was written.";
        return route_page_of(
            &st,
            &ctx,
            &client,
            user,
            &tech.account_id,
            day,
            (StatusCode::CONFLICT, Some((false, msg.into()))),
        )
        .await;
    }
    let (written, failed) = write_visits(&client, &l, &r.changed()).await;
    record_rescheduling(
        &st,
        &ctx,
        format!("route:{}", tech.account_id),
        json!({"day": ymd(&l), "rescheduled": written, "refused": failed}),
        failed.is_empty(),
    )
    .await;
    Ok(see_other(&format!(
        "/dispatch/route?tech={}&day={}&done={written}&refused={}",
        url_encode(&tech.account_id),
        ymd(&l),
        failed.len()
    )))
}

/// Writes the times of `visits` to Jira; returns how many were written and the refusals.
pub(super) async fn write_visits(
    client: &atlassian::client::AtlassianClient,
    l: &Loaded,
    visits: &[&crate::route::Visit],
) -> (usize, Vec<String>) {
    let mut written = 0;
    let mut failed = Vec::new();
    for v in visits {
        match write_schedule(client, &l.config, &v.key, v.start, v.end).await {
            Ok(()) => written += 1,
            Err(why) => failed.push(format!("{} ({why})", v.key)),
        }
    }
    (written, failed)
}

/// Records a rescheduling in the audit log (`detail` holds the counts and refusals) and shows
/// it at once on every board of the site.
pub(super) async fn record_rescheduling(
    st: &DispatchState,
    ctx: &AccessContext,
    target: String,
    detail: serde_json::Value,
    all_written: bool,
) {
    let outcome = if all_written {
        Outcome::Ok
    } else {
        Outcome::Error
    };
    record(st, ctx, Action::JIRA_WRITE, target, detail, outcome).await;
    st.cache.touch(&ctx.site).await;
}

/// The message after a rescheduling, from the counts in the redirect (numbers only, so a
/// link cannot carry text onto the page).
pub(super) fn rescheduled(done: Option<u32>, refused: Option<u32>) -> Option<(bool, String)> {
    done.map(|done| match refused.unwrap_or(0) {
        0 => (true, format!("{done} jobs rescheduled in Jira.")),
        n => (
            false,
            format!("{done} jobs rescheduled; Jira refused {n} (see the audit log)."),
        ),
    })
}
