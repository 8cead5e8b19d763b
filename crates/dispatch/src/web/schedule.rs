//! `/dispatch/schedule`: each technician's day of visits and travel from the changelog, with
//! frozen snapshots of finished days; `/dispatch/insights`: per-technician figures over a
//! period, computed here and sent nowhere.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use atlassian::client::{AtlassianClient, SearchRequest};
use atlassian::jql::{DateUnit, Direction, Field, RelativeDate, Value as JqlValue};
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::TryStreamExt;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use platform::permissions::AccessContext;
use platform::web::{ApiError, FieldErrors, HtmlError, PageChrome, Section, UserChrome};
use serde::Deserialize;

use super::{DispatchState, chrome, config, dispatchable, render, require_admin};
use crate::jira::{history, parse_time};
use crate::phase::PhaseMapping;
use crate::schedule::{
    DaySnapshot, IssueHistory, Marker, SegmentKind, TechDay, TechZone, day_finished, derive_days,
};
use crate::store::{Config, DispatchStore};
use crate::technician::Technician;

/// Longest period of the insights page.
const MAX_DAYS: i64 = 31;
/// Most issues read for one schedule or insights page.
const MAX_ISSUES: usize = 5_000;

/// The changelog histories of every ticket of `projects` updated in the last `days` days.
async fn histories(
    client: &AtlassianClient,
    projects: &[String],
    days: i64,
) -> Result<Vec<IssueHistory>, ApiError> {
    let Ok(in_projects) =
        Field::Project.is_in(projects.iter().map(|p| JqlValue::string(p.clone())))
    else {
        return Ok(Vec::new());
    };
    let days = i32::try_from(days.clamp(1, 400)).unwrap_or(400);
    let jql = in_projects
        .and(Field::Updated.ge(JqlValue::RelativeDate(RelativeDate::new(
            -days,
            DateUnit::Days,
        ))))
        .order_by(Field::Updated, Direction::Desc)
        .to_jql();
    let req = SearchRequest::new(jql).fields(["status", "assignee", "created"]);
    let mut issues = Vec::new();
    let mut pages = client.search(req);
    while let Some(i) = pages.try_next().await.map_err(jira_err)? {
        issues.push(i);
        if issues.len() >= MAX_ISSUES {
            break;
        }
    }
    if issues.is_empty() {
        return Ok(Vec::new());
    }
    let mut logs: HashMap<String, Vec<atlassian::client::ChangeGroup>> = HashMap::new();
    for chunk in issues.chunks(1000) {
        let keys = chunk.iter().map(|i| i.key.clone()).collect();
        let mut pages = client.changelog_bulk(keys, vec!["status".into(), "assignee".into()]);
        while let Some(log) = pages.try_next().await.map_err(jira_err)? {
            logs.entry(log.issue_id)
                .or_default()
                .extend(log.change_histories);
        }
    }
    Ok(issues
        .iter()
        .map(|i| {
            let f = &i.fields;
            let created = f
                .get("created")
                .and_then(serde_json::Value::as_str)
                .and_then(parse_time)
                .unwrap_or(Timestamp::UNIX_EPOCH);
            let status = f
                .get("status")
                .and_then(|s| s.get("id"))
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            let assignee = f
                .get("assignee")
                .and_then(|a| a.get("accountId"))
                .and_then(serde_json::Value::as_str);
            let groups = logs.remove(&i.id).unwrap_or_default();
            history(&i.key, created, status, assignee, &groups)
        })
        .collect())
}

fn jira_err(e: atlassian::client::Error) -> ApiError {
    ApiError::BadRequest(format!(
        "Jira did not answer ({}); try again",
        e.status()
            .map_or("no answer".into(), |s| format!("HTTP {s}"))
    ))
}

fn zones(techs: &[Technician]) -> Vec<TechZone> {
    techs
        .iter()
        .map(|t| TechZone {
            technician: t.account_id.clone(),
            zone: t.tz(),
        })
        .collect()
}

/// One row of the timeline, drawn as SVG rectangles (positions in % of the day).
pub(crate) struct Row {
    pub name: String,
    pub account_id: String,
    pub bars: Vec<Bar>,
    pub markers: Vec<MarkerView>,
    pub on_site: String,
    pub travel: String,
    pub completed: usize,
    /// The day is a frozen snapshot.
    pub frozen: bool,
    /// Today's mapping would read the frozen day differently.
    pub differs: bool,
}

pub(crate) struct Bar {
    pub x: String,
    pub w: String,
    pub kind: &'static str,
    pub label: String,
}

pub(crate) struct MarkerView {
    pub at: String,
    pub text: String,
}

fn hm(seconds: i64) -> String {
    format!("{}:{:02}", seconds / 3600, (seconds % 3600) / 60)
}

fn row_of(t: &Technician, day: &TechDay, frozen: bool, differs: bool) -> Row {
    let tz = t.tz();
    let start = day
        .date
        .to_zoned_datetime(tz.clone())
        .map(|z| z.timestamp().as_second())
        .unwrap_or_default();
    let end = crate::technician::add_days(day.date, 1)
        .to_zoned_datetime(tz.clone())
        .map(|z| z.timestamp().as_second())
        .unwrap_or(start + 86_400);
    let len = (end - start).max(1) as f64;
    let pct = |s: i64| {
        format!(
            "{:.3}",
            ((s - start) as f64 / len * 100.0).clamp(0.0, 100.0)
        )
    };
    let local = |ts: Timestamp| {
        ts.to_zoned_datetime(tz.clone())
            .strftime("%H:%M")
            .to_string()
    };
    let bars = day
        .segments
        .iter()
        .map(|s| Bar {
            x: pct(s.start.as_second()),
            w: format!(
                "{:.3}",
                ((s.end.as_second() - s.start.as_second()) as f64 / len * 100.0).clamp(0.2, 100.0)
            ),
            kind: match s.kind {
                SegmentKind::Travel => "travel",
                SegmentKind::Visit => "visit",
            },
            label: format!(
                "{} {} {}–{}{}",
                s.issue,
                match s.kind {
                    SegmentKind::Travel => "travel".to_string(),
                    SegmentKind::Visit => format!("visit {}", s.visit),
                },
                local(s.start),
                local(s.end),
                if s.ongoing { " (ongoing)" } else { "" }
            ),
        })
        .collect();
    let markers = day
        .markers
        .iter()
        .map(|m| MarkerView {
            at: local(m.at()),
            text: match m {
                Marker::Completed {
                    issue,
                    first: true,
                    visits,
                    ..
                } => format!("{issue} completed after {visits} visit(s)"),
                Marker::Completed { issue, .. } => format!("{issue} completed again"),
                Marker::Reopened { issue, to, .. } => format!("{issue} reopened ({to})"),
            },
        })
        .collect();
    Row {
        name: t.display_name.clone(),
        account_id: t.account_id.clone(),
        bars,
        markers,
        on_site: hm(day.seconds(SegmentKind::Visit)),
        travel: hm(day.seconds(SegmentKind::Travel)),
        completed: day.completed(),
        frozen,
        differs,
    }
}

#[derive(Template)]
#[template(path = "dispatch/schedule.html")]
struct SchedulePage {
    chrome: PageChrome,
    day: String,
    rows: Vec<Row>,
    hours: Vec<(String, String)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ScheduleQuery {
    day: Option<String>,
    tech: Option<String>,
}

/// The day of each visible technician: dispatchers see their technicians, a technician
/// only themselves.
pub(crate) async fn page(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    platform::identity::UserClient(client): platform::identity::UserClient,
    user: Option<Extension<UserChrome>>,
    Query(q): Query<ScheduleQuery>,
) -> Result<Response, HtmlError> {
    let (c, _) = config(&st, &ctx).await?;
    let store = DispatchStore::new(&st.store, &ctx.site);
    let mut techs = store.technicians().await.map_err(ApiError::internal)?;
    let mine = dispatchable(&st, &ctx, &c).await;
    let me = ctx.principal.id().to_string();
    if mine.is_empty() {
        techs.retain(|t| t.account_id == me);
        if techs.is_empty() {
            return Err(HtmlError(ApiError::Forbidden(
                "the schedule is for dispatchers and technicians".into(),
            )));
        }
    }
    if let Some(t) = q.tech.as_deref().filter(|t| !t.is_empty()) {
        techs.retain(|x| x.account_id == t);
    }
    let zone = TimeZone::get(&c.board_zone).unwrap_or(TimeZone::UTC);
    let now = Timestamp::now();
    let day = match q.day.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => now.to_zoned_datetime(zone.clone()).date(),
        Some(s) => s.parse::<Date>().map_err(|_| {
            HtmlError(ApiError::Validation {
                fields: FieldErrors::new().with("day", "use a date such as 2026-11-30"),
            })
        })?,
    };
    let today = now.to_zoned_datetime(zone.clone()).date();
    let back = today
        .since(day)
        .map(|s| i64::from(s.get_days()))
        .unwrap_or(0);
    if !(-1..=400).contains(&back) {
        return Err(HtmlError(ApiError::Validation {
            fields: FieldErrors::new().with("day", "choose a day within the last 400 days"),
        }));
    }
    let projects = if mine.is_empty() {
        c.projects.clone()
    } else {
        mine
    };
    let hist = histories(&client, &projects, back + 2).await?;
    let days = derive_days(&hist, &c.mapping, &zones(&techs), &zone, now);
    let mut rows = Vec::new();
    for t in &techs {
        let computed = days
            .iter()
            .find(|d| d.technician == t.account_id && d.date == day)
            .cloned()
            .unwrap_or(TechDay {
                technician: t.account_id.clone(),
                date: day,
                segments: vec![],
                markers: vec![],
            });
        let (shown, frozen, differs) = freeze(&store, &c.mapping, t, computed, now).await?;
        rows.push(row_of(t, &shown, frozen, differs));
    }
    let hours = (0..=24)
        .step_by(3)
        .map(|h| {
            (
                format!("{:.3}", f64::from(h) / 24.0 * 100.0),
                format!("{h:02}:00"),
            )
        })
        .collect();
    let chrome = chrome("Schedule", Section::Dispatch, user);
    render(
        StatusCode::OK,
        &SchedulePage {
            chrome,
            day: day.to_string(),
            rows,
            hours,
        },
    )
}

/// The day to show: a finished day's snapshot (taken now if there is none yet), else the
/// live computation. Returns (day, frozen, today's mapping reads it differently).
async fn freeze(
    store: &DispatchStore,
    mapping: &PhaseMapping,
    t: &Technician,
    computed: TechDay,
    now: Timestamp,
) -> Result<(TechDay, bool, bool), ApiError> {
    if !day_finished(computed.date, &t.tz(), now) {
        return Ok((computed, false, false));
    }
    match store
        .snapshot(&t.account_id, computed.date)
        .await
        .map_err(ApiError::internal)?
    {
        Some(snap) => {
            let differs = snap.reads_differently(&computed);
            Ok((snap.day, true, differs))
        }
        None => {
            let snap = DaySnapshot::take(computed.clone(), mapping, now);
            store
                .save_snapshot(&snap)
                .await
                .map_err(ApiError::internal)?;
            Ok((computed, true, false))
        }
    }
}

/// Figures of one technician over the period.
pub(crate) struct InsightRow {
    pub name: String,
    pub completed: usize,
    pub first_visit: usize,
    pub first_visit_rate: String,
    pub reopened: usize,
    pub on_site: String,
    pub travel: String,
    pub days_worked: usize,
}

#[derive(Template)]
#[template(path = "dispatch/insights.html")]
struct InsightsPage {
    chrome: PageChrome,
    days: i64,
    rows: Vec<InsightRow>,
    usage: Vec<(String, u64)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct InsightsQuery {
    days: Option<i64>,
}

/// Jobs completed, on-site and travel time, first-visit completion and reopens per
/// technician over the last N days (admins).
pub(crate) async fn insights(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    platform::identity::UserClient(client): platform::identity::UserClient,
    user: Option<Extension<UserChrome>>,
    Query(q): Query<InsightsQuery>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let days = q.days.unwrap_or(7);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(HtmlError(ApiError::Validation {
            fields: FieldErrors::new().with("days", format!("choose 1 to {MAX_DAYS} days")),
        }));
    }
    let (c, _): (Config, i64) = config(&st, &ctx).await?;
    let techs = DispatchStore::new(&st.store, &ctx.site)
        .technicians()
        .await
        .map_err(ApiError::internal)?;
    let zone = TimeZone::get(&c.board_zone).unwrap_or(TimeZone::UTC);
    let now = Timestamp::now();
    let hist = histories(&client, &c.projects, days + 1).await?;
    let all = derive_days(&hist, &c.mapping, &zones(&techs), &zone, now);
    let from = crate::technician::add_days(
        now.to_zoned_datetime(zone).date(),
        -i32::try_from(days - 1).unwrap_or(0),
    );
    let mut per: BTreeMap<String, Vec<&TechDay>> = BTreeMap::new();
    for d in all.iter().filter(|d| d.date >= from) {
        per.entry(d.technician.clone()).or_default().push(d);
    }
    let rows = techs
        .iter()
        .map(|t| {
            let ds = per.get(&t.account_id).cloned().unwrap_or_default();
            let mut completed = 0;
            let mut first_visit = 0;
            let mut reopened = 0;
            for d in &ds {
                for m in &d.markers {
                    match m {
                        Marker::Completed {
                            first: true,
                            visits,
                            ..
                        } => {
                            completed += 1;
                            if *visits <= 1 {
                                first_visit += 1;
                            }
                        }
                        Marker::Reopened { .. } => reopened += 1,
                        Marker::Completed { .. } => {}
                    }
                }
            }
            InsightRow {
                name: t.display_name.clone(),
                completed,
                first_visit,
                first_visit_rate: if completed == 0 {
                    "–".into()
                } else {
                    format!("{:.0}%", first_visit as f64 * 100.0 / completed as f64)
                },
                reopened,
                on_site: hm(ds.iter().map(|d| d.seconds(SegmentKind::Visit)).sum()),
                travel: hm(ds.iter().map(|d| d.seconds(SegmentKind::Travel)).sum()),
                days_worked: ds.iter().filter(|d| !d.segments.is_empty()).count(),
            }
        })
        .collect();
    // Usage: what people did through DispatchDesk in the period, from the audit log.
    let since = now.as_millisecond() - days * 86_400_000;
    let mut usage: BTreeMap<String, u64> = BTreeMap::new();
    let filter = platform::audit::AuditFilter {
        from_ms: Some(since),
        ..Default::default()
    };
    let page = st
        .log
        .query(&ctx.site, &filter, None, 500)
        .await
        .map_err(ApiError::internal)?;
    for e in &page.entries {
        if e.target.starts_with("dispatch:")
            || e.action.as_str() == "jira_write"
            || e.action.as_str() == "admin_override"
        {
            *usage
                .entry(e.action.as_str().replace('_', " "))
                .or_default() += 1;
        }
    }
    let chrome = chrome("Insights", Section::Dispatch, user);
    render(
        StatusCode::OK,
        &InsightsPage {
            chrome,
            days,
            rows,
            usage: usage.into_iter().collect(),
        },
    )
}
