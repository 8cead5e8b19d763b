//! The map of a day: `/dispatch/map` (the page, with everything listed below the map for
//! screen readers and no-script browsers), `/dispatch/map/data` (its JSON, polled by the
//! page, 304 while unchanged) and `/settings/dispatch/map` (the admin's tile server).
//!
//! Same audience as the board: dispatchers of a dispatched project and admins; technicians
//! are sent to their own page. The domain lives in [`crate::map`].

use askama::Template;
use axum::Extension;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::identity::UserClient;
use platform::permissions::AccessContext;
use platform::web::{ApiError, FieldErrors, HtmlError, PageChrome, Section, UserChrome};
use serde::Deserialize;
use serde_json::json;

use super::board::{load, query_string, sent_away};
use super::settings::{save_and_record, tiles_refused};
use super::{DispatchState, bad_form, chrome, config, render, require_admin, see_other};
use crate::board::Filter;
use crate::map::tiles::{ATTRIBUTION_FIELD, URL_FIELD};
use crate::map::{DayMap, MapTiles, day_map};
use crate::phase::Phase;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MapQuery {
    day: Option<String>,
    #[serde(flatten)]
    filter: Filter,
}

#[derive(Template)]
#[template(path = "dispatch/map.html")]
struct MapPage {
    chrome: PageChrome,
    map: DayMap,
    day: String,
    /// `day=…&filters` of this view, of the day before and the day after.
    query: String,
    prev_query: String,
    next_query: String,
    /// The filters that are set, as (name, value), for the day form.
    hidden: Vec<(&'static str, String)>,
    tiles: bool,
    phases: Vec<Phase>,
}

fn set_filters(f: &Filter) -> Vec<(&'static str, String)> {
    [
        ("project", &f.project),
        ("status", &f.status),
        ("request_type", &f.request_type),
        ("technician", &f.technician),
        ("skill", &f.skill),
        ("q", &f.q),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        v.as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(|v| (k, v.to_owned()))
    })
    .collect()
}

fn ymd(d: jiff::civil::Date) -> String {
    d.strftime("%Y-%m-%d").to_string()
}

/// `GET /dispatch/map`: the page. Its markers come from [`data`]; when a tile server is set,
/// the response's CSP lets its images in.
pub(crate) async fn page(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    user: Option<Extension<UserChrome>>,
    q: Result<Query<MapQuery>, QueryRejection>,
) -> Result<Response, HtmlError> {
    let Query(q) = q.map_err(|_| {
        HtmlError(ApiError::BadRequest(
            "the map's day and filters could not be read".into(),
        ))
    })?;
    let Some(l) = load(&st, &ctx, &client, q.day.as_deref()).await? else {
        return sent_away(&st, &ctx).await;
    };
    let board = l.board(&q.filter);
    let map = day_map(
        &board,
        &l.tickets.tickets,
        &l.techs,
        &l.config.mapping,
        &l.zone,
    );
    let day = ymd(l.day);
    let shifted = |n: i32| query_string(&ymd(crate::technician::add_days(l.day, n)), &q.filter);
    let page = MapPage {
        chrome: chrome("Map", Section::Dispatch, user),
        map,
        query: query_string(&day, &q.filter),
        prev_query: shifted(-1),
        next_query: shifted(1),
        hidden: set_filters(&q.filter),
        day,
        tiles: l.config.map_tiles.is_some(),
        phases: Phase::ALL.to_vec(),
    };
    let mut response = render(StatusCode::OK, &page)?;
    if let Some(tiles) = &l.config.map_tiles {
        match HeaderValue::from_str(&tiles.content_security_policy()) {
            Ok(csp) => {
                response
                    .headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, csp);
            }
            // Cannot happen for a checked setting; the platform's policy then applies.
            Err(e) => tracing::warn!(error = %e, "the map's CSP is not a valid header"),
        }
    }
    Ok(response)
}

/// A strong ETag of the JSON: the same content has the same tag, across restarts too.
fn etag_of(body: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("\"map-{:016x}-{:x}\"", h.finish(), body.len())
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// `GET /dispatch/map/data`: the map's JSON with an `ETag`; 304 when the client's is current.
pub(crate) async fn data(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    UserClient(client): UserClient,
    headers: HeaderMap,
    q: Result<Query<MapQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) =
        q.map_err(|_| ApiError::BadRequest("the map's day and filters could not be read".into()))?;
    let Some(l) = load(&st, &ctx, &client, q.day.as_deref()).await? else {
        return Err(ApiError::Forbidden(
            "you are not a dispatcher of any dispatched project".into(),
        ));
    };
    // Built again only when the board's tag (tickets, settings, technicians) moved.
    let key = format!(
        "map|{}|{}|{}",
        ctx.site,
        ctx.principal.id(),
        query_string(&ymd(l.day), &q.filter)
    );
    let body = match st.rendered.get(&key, &l.tag) {
        Some(body) => body,
        None => {
            let board = l.board(&q.filter);
            let map = day_map(
                &board,
                &l.tickets.tickets,
                &l.techs,
                &l.config.mapping,
                &l.zone,
            );
            let body = bytes::Bytes::from(map.to_json(l.config.map_tiles.as_ref()));
            st.rendered.put(key, l.tag.clone(), body.clone());
            body
        }
    };
    let etag = etag_of(&body);
    if not_modified(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TilesForm {
    tile_url: String,
    tile_attribution: String,
    version: i64,
}

/// The template without its query (where API keys usually sit), for the audit log.
fn redacted(url: &str) -> String {
    match url.split_once('?') {
        Some((path, _)) => format!("{path}?…"),
        None => url.to_owned(),
    }
}

/// `POST /settings/dispatch/map`: saves (or, with an empty URL, removes) the tile server.
pub(crate) async fn save_tiles(
    State(st): State<DispatchState>,
    ctx: AccessContext,
    user: Option<Extension<UserChrome>>,
    form: Result<Form<TilesForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_admin(&st, &ctx).await?;
    let Form(form) = form.map_err(bad_form)?;
    let (mut c, version) = config(&st, &ctx).await?;
    let mut errors = FieldErrors::new();
    let tiles = if form.tile_url.trim().is_empty() {
        if !form.tile_attribution.trim().is_empty() {
            errors.add(
                ATTRIBUTION_FIELD,
                "set the tile URL too, or leave both empty for no tiles",
            );
        }
        None
    } else {
        match MapTiles::new(&form.tile_url, &form.tile_attribution) {
            Ok(t) => Some(t),
            Err(problems) => {
                for p in problems {
                    errors.add(p.field, p.reason);
                }
                None
            }
        }
    };
    if form.version != version {
        errors.add(
            URL_FIELD,
            "someone else changed these settings; your input is kept, reload to see theirs",
        );
    }
    if !errors.is_empty() {
        let chrome = chrome("DispatchDesk settings", Section::Settings, user);
        return tiles_refused(
            &c,
            version,
            chrome,
            errors,
            (&form.tile_url, &form.tile_attribution),
        );
    }
    let detail = match &tiles {
        Some(t) => json!({"map_tiles": redacted(t.url()), "attribution": t.attribution()}),
        None => json!({"map_tiles": null}),
    };
    let done = if tiles.is_some() { "map" } else { "map-none" };
    c.map_tiles = tiles;
    save_and_record(&st, &ctx, &c, version, "dispatch:map".into(), detail).await?;
    Ok(see_other(&format!(
        "/settings/dispatch?done={done}#map-heading"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_follow_the_content() {
        let a = etag_of(b"{\"a\":1}");
        assert_eq!(a, etag_of(b"{\"a\":1}"));
        assert_ne!(a, etag_of(b"{\"a\":2}"));
        assert!(a.starts_with('"') && a.ends_with('"'));
        let mut h = HeaderMap::new();
        assert!(!not_modified(&h, &a));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"x\", W/{a}")).unwrap_or(HeaderValue::from_static("")),
        );
        assert!(not_modified(&h, &a));
        assert!(!not_modified(&h, &etag_of(b"{}")));
    }

    #[test]
    fn audit_keeps_no_query() {
        assert_eq!(
            redacted("https://t.example.org/{z}/{x}/{y}.png?key=secret"),
            "https://t.example.org/{z}/{x}/{y}.png?…"
        );
        assert_eq!(
            redacted("https://t.example.org/{z}/{x}/{y}"),
            "https://t.example.org/{z}/{x}/{y}"
        );
    }

    #[test]
    fn only_set_filters_are_kept() {
        let f = Filter {
            q: Some("boiler".into()),
            skill: Some(" ".into()),
            ..Filter::default()
        };
        assert_eq!(set_filters(&f), [("q", "boiler".to_string())]);
    }
}
