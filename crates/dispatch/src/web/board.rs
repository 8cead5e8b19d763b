//! The board: `/dispatch` (page), `/dispatch/board/lanes` (live refresh), `/dispatch/assign`
//! (drag-and-drop and the "Assign to…" menu) and `/dispatch/suggest`.

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use platform::identity::UserClient;
use platform::permissions::{AccessContext, ProjectKey, Requirement};
use platform::web::{ApiError, HtmlError, PageChrome, Section, UserChrome};
use serde::Deserialize;

use super::{DispatchState, chrome, config, csrf_of, dispatchable, passes, render, see_other};
use crate::board::{Board, Filter, build};
use crate::store::{Config, DispatchStore, ns};
use crate::suggest::{Candidate, Needs, Suggestions, suggest as rank};
use crate::technician::Technician;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BoardQuery {
    day: Option<String>,
    v: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    key: Option<String>,
    #[serde(flatten)]
    filter: Filter,
}

#[derive(Template)]
#[template(path = "dispatch/board.html")]
struct BoardPage {
    chrome: PageChrome,
    csrf: String,
    board: Board,
    version: String,
    day: String,
    prev_day: String,
    next_day: String,
    filter: Filter,
    query: String,
    projects: Vec<String>,
    technicians: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    message: Option<(bool, String)>,
}

#[derive(Template)]
#[template(path = "dispatch/lanes.html")]
struct LanesFragment {
    board: Board,
    version: String,
    day: String,
}

fn parse_day(s: Option<&str>, zone: &TimeZone) -> Result<Date, ApiError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Timestamp::now().to_zoned_datetime(zone.clone()).date()),
        Some(s) => s.parse::<Date>().map_err(|_| ApiError::Validation {
            fields: platform::web::FieldErrors::new().with("day", "use a date such as 2026-11-30"),
        }),
    }
}

/// `day=…` and the filters that are set, URL-encoded (links keep the board's view).
pub(crate) fn query_string(day: &str, f: &Filter) -> String {
    let mut parts = vec![format!("day={day}")];
    for (k, v) in [
        ("project", &f.project),
        ("status", &f.status),
        ("request_type", &f.request_type),
        ("technician", &f.technician),
        ("skill", &f.skill),
        ("q", &f.q),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", url_encode(v)));
        }
    }
    parts.join("&")
}

pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Fixed texts for the outcome codes the no-script form flow redirects with.
fn message_of(
    notice: Option<&str>,
    error: Option<&str>,
    key: Option<&str>,
) -> Option<(bool, String)> {
    let key = key.filter(|k| valid_key(k)).unwrap_or("The ticket");
    match (notice, error) {
        (Some("assigned"), _) => Some((true, format!("{key} assigned."))),
        (Some("unassigned"), _) => Some((true, format!("{key} moved back to the queue."))),
        (_, Some("locked")) => Some((
            false,
            format!("{key} was not changed: its assignee is locked in this phase."),
        )),
        (_, Some("changed")) => Some((
            false,
            format!("{key} was not changed: someone else assigned it since you loaded the board."),
        )),
        (_, Some("refused")) => Some((
            false,
            format!("{key} was not changed: Jira refused the assignment."),
        )),
        (_, Some(_)) => Some((false, format!("{key} was not changed."))),
        _ => None,
    }
}

/// An issue key: `PROJ-123`.
pub(crate) fn valid_key(k: &str) -> bool {
    let Some((p, n)) = k.split_once('-') else {
        return false;
    };
    ProjectKey::new(p).is_ok()
        && !n.is_empty()
        && n.len() <= 12
        && n.bytes().all(|b| b.is_ascii_digit())
}

/// What a board (or the map) of one day is built from, for one caller.
pub(crate) struct Loaded {
    /// The settings, scoped to the projects the caller dispatches.
    pub(crate) config: Config,
    pub(crate) tickets: crate::cache::Tickets,
    /// Changes whenever what the board shows may change: tickets, settings, technicians.
    pub(crate) tag: String,
    pub(crate) techs: Vec<Technician>,
    pub(crate) day: Date,
    /// The board's time zone.
    pub(crate) zone: TimeZone,
}

impl Loaded {
    /// The board of the day under `filter`.
    pub(crate) fn board(&self, filter: &Filter) -> Board {
        build(
            &self.tickets.tickets,
            &self.techs,
            &self.config.mapping,
            self.day,
            &self.zone,
            filter,
        )
    }
}

/// The caller's board data for `day` (today when `None`); `None` when they dispatch no
/// dispatched project.
pub(crate) async fn load(
    st: &DispatchState,
    ctx: &AccessContext,
    client: &atlassian::client::AtlassianClient,
    day: Option<&str>,
) -> Result<Option<Loaded>, ApiError> {
    let (config, config_version) = config(st, ctx).await?;
    let mine = dispatchable(st, ctx, &config).await;
    if mine.is_empty() {
        return Ok(None);
    }
    load_projects(st, ctx, client, day, (config, config_version), mine)
        .await
        .map(Some)
}

/// The caller's own data as a technician (their projects, themselves as the only
/// technician), or `None` when they are not one.
pub(crate) async fn load_own(
    st: &DispatchState,
    ctx: &AccessContext,
    client: &atlassian::client::AtlassianClient,
    day: Option<&str>,
) -> Result<Option<Loaded>, ApiError> {
    let Some((me, _)) = DispatchStore::new(&st.store, &ctx.site)
        .technician(ctx.principal.id())
        .await
        .map_err(ApiError::internal)?
    else {
        return Ok(None);
    };
    let (config, config_version) = config(st, ctx).await?;
    let projects: Vec<String> = config
        .projects
        .iter()
        .filter(|p| me.projects.is_empty() || me.projects.contains(*p))
        .cloned()
        .collect();
    let mut l = load_projects(st, ctx, client, day, (config, config_version), projects).await?;
    l.techs.retain(|t| t.account_id == me.account_id);
    Ok(Some(l))
}

async fn load_projects(
    st: &DispatchState,
    ctx: &AccessContext,
    client: &atlassian::client::AtlassianClient,
    day: Option<&str>,
    (config, config_version): (Config, i64),
    projects: Vec<String>,
) -> Result<Loaded, ApiError> {
    let zone = TimeZone::get(&config.board_zone).unwrap_or(TimeZone::UTC);
    let day = parse_day(day, &zone)?;
    let scoped = Config { projects, ..config };
    let tickets = st
        .cache
        .tickets(&ctx.site, ctx.principal.id(), client, &scoped)
        .await
        .map_err(|e| {
            ApiError::BadRequest(format!("Jira did not answer the board's search: {e}"))
        })?;
    let (techs, techs_hash) = DispatchStore::new(&st.store, &ctx.site)
        .technicians_tagged()
        .await
        .map_err(ApiError::internal)?;
    let tag = format!("{}-{}-{:x}", tickets.version, config_version, techs_hash);
    Ok(Loaded {
        config: scoped,
        tickets,
        tag,
        techs,
        day,
        zone,
    })
}

fn tech_options(techs: &[Technician]) -> Vec<(String, String)> {
    techs
        .iter()
        .map(|t| (t.account_id.clone(), t.display_name.clone()))
        .collect()
}

pub(crate) async fn page(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<Extension<UserChrome>>,
    q: Result<Query<BoardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, HtmlError> {
    let Query(q) = q.map_err(|_| {
        HtmlError(ApiError::BadRequest(
            "the board's filters could not be read".into(),
        ))
    })?;
    let Some(l) = load(&st, &ctx, &client, q.day.as_deref()).await? else {
        return sent_away(&st, &ctx).await;
    };
    let day = l.day.strftime("%Y-%m-%d").to_string();
    let statuses = l
        .config
        .mapping
        .statuses
        .values()
        .map(|s| (s.id.clone(), s.name.clone()))
        .collect();
    let chrome = chrome("Dispatch board", Section::Dispatch, user);
    let message = message_of(q.notice.as_deref(), q.error.as_deref(), q.key.as_deref());
    let page = BoardPage {
        csrf: csrf_of(&chrome),
        chrome,
        query: query_string(&day, &q.filter),
        prev_day: crate::technician::add_days(l.day, -1)
            .strftime("%Y-%m-%d")
            .to_string(),
        next_day: crate::technician::add_days(l.day, 1)
            .strftime("%Y-%m-%d")
            .to_string(),
        day,
        version: l.tag.clone(),
        technicians: tech_options(&l.techs),
        projects: l.config.projects.clone(),
        statuses,
        board: l.board(&q.filter),
        filter: q.filter,
        message,
    };
    render(StatusCode::OK, &page)
}

/// The answer to someone with no board: technicians go to their own page, an admin before
/// the set-up to the settings; anybody else is told why.
pub(crate) async fn sent_away(
    st: &DispatchState,
    ctx: &AccessContext,
) -> Result<Response, HtmlError> {
    let is_tech = DispatchStore::new(&st.store, &ctx.site)
        .technician(ctx.principal.id())
        .await
        .map_err(ApiError::internal)?
        .is_some();
    if is_tech {
        return Ok(see_other("/dispatch/me"));
    }
    if passes(st, ctx, Requirement::AppAdmin(ns())).await {
        // An admin before the set-up: the settings say what to do first.
        return Ok(see_other("/settings/dispatch"));
    }
    Err(HtmlError(ApiError::Forbidden(
        "You are not a dispatcher of any dispatched project. Ask an admin to give you the dispatcher role.".into(),
    )))
}

/// The lanes only, for the live refresh: 204 when the version the page has is current.
pub(crate) async fn lanes(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    q: Result<Query<BoardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) =
        q.map_err(|_| ApiError::BadRequest("the board's filters could not be read".into()))?;
    let Some(l) = load(&st, &ctx, &client, q.day.as_deref()).await? else {
        return Err(ApiError::Forbidden(
            "you are not a dispatcher of any dispatched project".into(),
        ));
    };
    if q.v.as_deref() == Some(l.tag.as_str()) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let day = l.day.strftime("%Y-%m-%d").to_string();
    // The same board for the same user, day, filters and tag renders the same: reuse it.
    let key = format!(
        "{}|{}|{}",
        ctx.site,
        ctx.principal.id(),
        query_string(&day, &q.filter)
    );
    if let Some(html) = st.rendered.get(&key, &l.tag) {
        return Ok(lanes_response(html));
    }
    let frag = LanesFragment {
        board: l.board(&q.filter),
        day,
        version: l.tag.clone(),
    };
    let html = bytes::Bytes::from(frag.render().map_err(ApiError::internal)?);
    st.rendered.put(key, l.tag, html.clone());
    Ok(lanes_response(html))
}

fn lanes_response(html: bytes::Bytes) -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        ],
        html,
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "dispatch/suggest.html")]
struct SuggestFragment {
    key: String,
    suggestions: Suggestions,
    names: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SuggestQuery {
    key: String,
}

/// Ranked technicians for a ticket, with the reasons.
pub(crate) async fn suggest(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    Query(q): Query<SuggestQuery>,
) -> Result<Response, ApiError> {
    if !valid_key(&q.key) {
        return Err(ApiError::Validation {
            fields: platform::web::FieldErrors::new().with("key", "not an issue key such as FS-12"),
        });
    }
    let (config, _) = config(&st, &ctx).await?;
    let mine = dispatchable(&st, &ctx, &config).await;
    if mine.is_empty() {
        return Err(ApiError::Forbidden(
            "you are not a dispatcher of any dispatched project".into(),
        ));
    }
    let scoped = Config {
        projects: mine,
        ..config.clone()
    };
    let tickets = st
        .cache
        .tickets(&ctx.site, ctx.principal.id(), &client, &scoped)
        .await
        .map_err(ApiError::internal)?;
    let Some(ticket) = tickets.tickets.iter().find(|t| t.key == q.key) else {
        // Not on the caller's board (closed, or another project): nobody to suggest.
        let html = SuggestFragment {
            key: q.key,
            suggestions: Suggestions::default(),
            names: Default::default(),
        }
        .render()
        .map_err(ApiError::internal)?;
        return Ok(axum::response::Html(html).into_response());
    };
    let techs = DispatchStore::new(&st.store, &ctx.site)
        .technicians()
        .await
        .map_err(ApiError::internal)?;
    let suggestions = rank_for(ticket, &tickets.tickets, &techs, &config, Timestamp::now());
    let names = techs
        .iter()
        .map(|t| (t.account_id.clone(), t.display_name.clone()))
        .collect();
    let html = SuggestFragment {
        key: q.key,
        suggestions,
        names,
    }
    .render()
    .map_err(ApiError::internal)?;
    Ok(axum::response::Html(html).into_response())
}

/// Technicians ranked for `ticket`, from the board's tickets (their load, bookings today
/// and where they are), the technicians' profiles, and whether the ticket fits each one's
/// route today the way automatic dispatch would place it.
pub(crate) fn rank_for(
    ticket: &crate::board::Ticket,
    tickets: &[crate::board::Ticket],
    techs: &[Technician],
    config: &Config,
    now: Timestamp,
) -> Suggestions {
    let mapping = &config.mapping;
    let zone = TimeZone::get(&config.board_zone).unwrap_or(TimeZone::UTC);
    let day = now.to_zoned_datetime(zone.clone()).date();
    let rules = config.planning.rules();
    let fit_for = |t: &Technician| -> Option<crate::suggest::Fit> {
        use crate::suggest::Fit;
        let location = ticket.location?;
        if !ticket.skills.is_subset(&t.skills) {
            return None; // the skills reason says it already
        }
        let mut crew = crate::dayplan::crew(t, tickets, mapping, day, &zone, now);
        // The ticket itself is what is being placed, not part of the day.
        crew.day.retain(|s| s.key != ticket.key);
        crew.window?;
        let job = crate::auto::Job {
            key: ticket.key.clone(),
            skills: ticket.skills.clone(),
            location: Some(location),
            minutes: crate::dayplan::minutes_of(ticket),
            appointment: ticket
                .scheduled
                .map(|s| s.0)
                .filter(|s| s.to_zoned_datetime(zone.clone()).date() == day),
        };
        let plan = crate::auto::plan(&[job], &[crew], &rules);
        Some(match plan.proposals.first() {
            Some(p) => Fit::At {
                start: p.start,
                end: p.end,
                extra_km: p.extra_km,
            },
            None if plan
                .left
                .first()
                .is_some_and(|l| l.reason.contains("km away")) =>
            {
                Fit::No(format!("farther than {} km", rules.max_km))
            }
            None => Fit::No("no room left in the working day".into()),
        })
    };
    let candidates: Vec<Candidate<'_>> = techs
        .iter()
        .map(|t| {
            let open: Vec<&crate::board::Ticket> = tickets
                .iter()
                .filter(|x| x.assignee.as_deref() == Some(t.account_id.as_str()))
                .filter(|x| mapping.phase(&x.status_id).scheduled())
                .collect();
            let today = t.today(now);
            let booked = open
                .iter()
                .filter_map(|x| x.scheduled)
                .filter(|(s, _)| s.to_zoned_datetime(t.tz()).date() == today)
                .collect();
            let position = open
                .iter()
                .find(|x| mapping.phase(&x.status_id).in_field())
                .and_then(|x| x.location)
                .or(t.home);
            Candidate {
                tech: t,
                load: u32::try_from(open.len()).unwrap_or(u32::MAX),
                booked,
                position,
                fit: fit_for(t),
            }
        })
        .collect();
    let needs = Needs {
        skills: ticket.skills.clone(),
        location: ticket.location,
        estimate_minutes: ticket
            .scheduled
            .map(|(s, e)| (e.as_second() - s.as_second()) / 60)
            .filter(|m| *m > 0),
    };
    rank(&needs, &candidates, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(valid_key("FS-12"));
        for bad in [
            "FS",
            "FS-",
            "fs-1",
            "FS-1a",
            "FS-1 OR 1=1",
            "-1",
            "A-1234567890123",
        ] {
            assert!(!valid_key(bad), "{bad}");
        }
    }

    #[test]
    fn outcome_messages_are_fixed_texts() {
        let (ok, m) = message_of(None, Some("locked"), Some("FS-1")).unwrap_or_default();
        assert!(!ok);
        assert!(m.starts_with("FS-1 was not changed"));
        let (_, m) = message_of(Some("assigned"), None, Some("<script>")).unwrap_or_default();
        assert_eq!(m, "The ticket assigned.");
        assert!(message_of(None, None, None).is_none());
    }

    #[test]
    fn query_strings_are_encoded() {
        let f = Filter {
            q: Some("a&b=c d".into()),
            ..Filter::default()
        };
        assert_eq!(
            query_string("2026-11-30", &f),
            "day=2026-11-30&q=a%26b%3Dc%20d"
        );
    }
}
