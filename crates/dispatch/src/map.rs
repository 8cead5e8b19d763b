//! The map of a day: what the board shows, placed on a map. Plain data in, plain data out.
//!
//! - Tickets: exactly the cards [`crate::board::build`] puts on the board for the day and
//!   filters (queue, lanes, others), each with its phase; those without a usable location
//!   are listed, not drawn.
//! - Technicians: one per lane, at their position — the location of their ticket in a field
//!   phase ([`Phase::in_field`]), else their home base — with a route from there through the
//!   day's located jobs of their lane in scheduled-start order (unscheduled last).
//! - [`DayMap::to_json`]: the JSON the map page fetches, escaped so that no `<`, `>` or `&`
//!   appears in it literally.
//! - [`tiles`]: the admin's tile server setting and the map page's CSP.

pub mod tiles;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;

pub use tiles::{MapTiles, TileProblem};

use crate::board::{Board, Card, Ticket};
use crate::geo::LatLon;
use crate::phase::{Phase, PhaseMapping};
use crate::technician::Technician;

/// A ticket of the day as the map shows and lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct MapTicket {
    /// Issue key.
    pub key: String,
    /// Summary.
    pub summary: String,
    /// Jira status name.
    pub status: String,
    /// Dispatch phase.
    pub phase: Phase,
    /// Assignee's name (`None`: unassigned).
    pub assignee: Option<String>,
    /// Scheduled time as shown (see [`time_label`]).
    pub time: String,
    /// Address line.
    pub address: String,
    /// Where it is; `None` when it has no usable location (not drawn).
    pub location: Option<LatLon>,
}

/// Where a technician's pin comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionSource {
    /// Their ticket in a field phase (Travelling, On Site, Paused).
    Ticket,
    /// Their home base.
    Home,
    /// Neither is known: no pin.
    Unknown,
}

/// A technician's position and where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Position {
    /// The point, if known.
    pub at: Option<LatLon>,
    /// Its source.
    pub source: PositionSource,
    /// The field ticket (key and phase) when the source is [`PositionSource::Ticket`].
    pub ticket: Option<(String, Phase)>,
}

impl Position {
    /// Says where the position comes from, for people.
    pub fn describe(&self) -> String {
        match (&self.source, &self.ticket) {
            (PositionSource::Ticket, Some((key, phase))) => format!("At {key} ({phase})"),
            (PositionSource::Home, _) => "Home base".into(),
            _ => "Unknown: no field ticket with a location and no home base".into(),
        }
    }
}

/// One job of a technician's day, in route order.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// Issue key.
    pub key: String,
    /// Scheduled time as shown.
    pub time: String,
    /// Whether it is on the route (has a usable location).
    pub located: bool,
}

/// A technician on the map.
#[derive(Clone, Debug, PartialEq)]
pub struct MapTech {
    /// Account id.
    pub account_id: String,
    /// Name.
    pub name: String,
    /// Up to two letters for the pin.
    pub initials: String,
    /// Where they are.
    pub position: Position,
    /// The day's jobs of their lane, in route order.
    pub jobs: Vec<Job>,
    /// Position (when known), then each located job, in order.
    pub route: Vec<LatLon>,
}

/// Everything the map of a day shows.
#[derive(Clone, Debug, PartialEq)]
pub struct DayMap {
    /// The day.
    pub day: Date,
    /// Every card of the board: queue, lanes, others (in that order).
    pub tickets: Vec<MapTicket>,
    /// One per lane, in lane order.
    pub technicians: Vec<MapTech>,
    /// Queue tickets the board does not show either (see [`crate::board::QUEUE_SHOWN`]).
    pub queue_hidden: usize,
}

/// A location worth drawing: present, and not the 0,0 placeholder of an unset field.
pub fn usable(location: Option<LatLon>) -> Option<LatLon> {
    location.filter(|p| p.lat() != 0.0 || p.lon() != 0.0)
}

/// Up to two capital letters from a name: first and last word (`Leo Ashworth` → `LA`).
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let first = |w: &str| w.chars().find(|c| c.is_alphanumeric());
    let letters: Vec<char> = match words.as_slice() {
        [] => Vec::new(),
        [one] => first(one).into_iter().collect(),
        [a, .., b] => first(a).into_iter().chain(first(b)).collect(),
    };
    if letters.is_empty() {
        return "?".into();
    }
    letters.into_iter().flat_map(char::to_uppercase).collect()
}

/// The scheduled time as shown on the day's map: `10:00–12:00` on the day, with the date
/// when it starts on another day (overdue work), `unscheduled` without a schedule.
pub fn time_label(scheduled: Option<(Timestamp, Timestamp)>, day: Date, zone: &TimeZone) -> String {
    let Some((start, end)) = scheduled else {
        return "unscheduled".into();
    };
    let s = start.to_zoned_datetime(zone.clone());
    let e = end.to_zoned_datetime(zone.clone());
    if s.date() != day {
        return s.strftime("%Y-%m-%d %H:%M").to_string();
    }
    if e > s && e.date() == day {
        format!("{}–{}", s.strftime("%H:%M"), e.strftime("%H:%M"))
    } else {
        s.strftime("%H:%M").to_string()
    }
}

/// Where `tech` is: the location of their most recently updated ticket in a field phase
/// (among every ticket loaded, whatever the day or filters), else their home base.
pub fn position(tech: &Technician, tickets: &[Ticket], mapping: &PhaseMapping) -> Position {
    let field = tickets
        .iter()
        .filter(|t| t.assignee.as_deref() == Some(tech.account_id.as_str()))
        .filter_map(|t| {
            let phase = mapping.phase(&t.status_id);
            let at = usable(t.location)?;
            phase.in_field().then_some((t, phase, at))
        })
        .max_by(|a, b| a.0.updated.cmp(&b.0.updated).then(b.0.key.cmp(&a.0.key)));
    if let Some((t, phase, at)) = field {
        return Position {
            at: Some(at),
            source: PositionSource::Ticket,
            ticket: Some((t.key.clone(), phase)),
        };
    }
    match usable(tech.home) {
        Some(home) => Position {
            at: Some(home),
            source: PositionSource::Home,
            ticket: None,
        },
        None => Position {
            at: None,
            source: PositionSource::Unknown,
            ticket: None,
        },
    }
}

/// A lane's cards in route order: by scheduled start, unscheduled last, then by key.
pub fn route_order(cards: &[Card]) -> Vec<&Card> {
    let mut v: Vec<&Card> = cards.iter().collect();
    v.sort_by(|a, b| {
        let sa = a.ticket.scheduled.map(|s| s.0);
        let sb = b.ticket.scheduled.map(|s| s.0);
        sa.is_none()
            .cmp(&sb.is_none())
            .then(sa.cmp(&sb))
            .then(a.ticket.key.cmp(&b.ticket.key))
    });
    v
}

/// The map of `board`'s day. `tickets` are every ticket loaded (for positions), `techs`
/// every technician, `zone` the board's time zone.
pub fn day_map(
    board: &Board,
    tickets: &[Ticket],
    techs: &[Technician],
    mapping: &PhaseMapping,
    zone: &TimeZone,
) -> DayMap {
    let day = board.day;
    let entry = |c: &Card| MapTicket {
        key: c.ticket.key.clone(),
        summary: c.ticket.summary.clone(),
        status: c.ticket.status_name.clone(),
        phase: c.phase,
        assignee: c.ticket.assignee_name.clone(),
        time: time_label(c.ticket.scheduled, day, zone),
        address: c.ticket.address.clone(),
        location: usable(c.ticket.location),
    };
    let map_tickets = board
        .queue
        .iter()
        .chain(board.lanes.iter().flat_map(|l| l.cards.iter()))
        .chain(board.others.iter())
        .map(entry)
        .collect();
    let technicians = board
        .lanes
        .iter()
        .map(|lane| {
            let position = techs
                .iter()
                .find(|t| t.account_id == lane.account_id)
                .map_or(
                    Position {
                        at: None,
                        source: PositionSource::Unknown,
                        ticket: None,
                    },
                    |t| position(t, tickets, mapping),
                );
            let ordered = route_order(&lane.cards);
            let jobs = ordered
                .iter()
                .map(|c| Job {
                    key: c.ticket.key.clone(),
                    time: time_label(c.ticket.scheduled, day, zone),
                    located: usable(c.ticket.location).is_some(),
                })
                .collect();
            let route = position
                .at
                .into_iter()
                .chain(ordered.iter().filter_map(|c| usable(c.ticket.location)))
                .collect();
            MapTech {
                account_id: lane.account_id.clone(),
                initials: initials(&lane.name),
                name: lane.name.clone(),
                position,
                jobs,
                route,
            }
        })
        .collect();
    DayMap {
        day,
        tickets: map_tickets,
        technicians,
        queue_hidden: board.queue_hidden,
    }
}

#[derive(Serialize)]
struct JsonPhase {
    id: &'static str,
    label: &'static str,
    colour: &'static str,
}

#[derive(Serialize)]
struct JsonTicket<'a> {
    key: &'a str,
    summary: &'a str,
    lat: f64,
    lon: f64,
    phase: &'static str,
    label: &'static str,
    colour: &'static str,
    status: &'a str,
    assignee: Option<&'a str>,
    time: &'a str,
    address: &'a str,
}

#[derive(Serialize)]
struct JsonTech<'a> {
    account_id: &'a str,
    name: &'a str,
    initials: &'a str,
    position: Option<LatLon>,
    source: PositionSource,
    source_text: String,
    at_ticket: Option<&'a str>,
    jobs: Vec<&'a str>,
    route: &'a [LatLon],
}

#[derive(Serialize)]
struct JsonTiles<'a> {
    url: &'a str,
    attribution: &'a str,
}

#[derive(Serialize)]
struct JsonMap<'a> {
    day: String,
    tiles: Option<JsonTiles<'a>>,
    phases: Vec<JsonPhase>,
    tickets: Vec<JsonTicket<'a>>,
    technicians: Vec<JsonTech<'a>>,
    unlocated: Vec<&'a str>,
    queue_hidden: usize,
}

impl DayMap {
    /// Tickets drawn on the map.
    pub fn located(&self) -> impl Iterator<Item = &MapTicket> {
        self.tickets.iter().filter(|t| t.location.is_some())
    }

    /// Tickets without a usable location (listed, not drawn).
    pub fn unlocated(&self) -> impl Iterator<Item = &MapTicket> {
        self.tickets.iter().filter(|t| t.location.is_none())
    }

    /// The JSON the map page fetches: tickets with lat/lon, phase id, label and colour;
    /// technicians with position, source and route (`[[lat, lon], …]`); the keys of the
    /// unlocated tickets; the tile server when one is set. Escaped with [`escape_json`].
    pub fn to_json(&self, tiles: Option<&MapTiles>) -> String {
        let view = JsonMap {
            day: self.day.strftime("%Y-%m-%d").to_string(),
            tiles: tiles.map(|t| JsonTiles {
                url: t.url(),
                attribution: t.attribution(),
            }),
            phases: Phase::ALL
                .iter()
                .map(|p| JsonPhase {
                    id: p.id(),
                    label: p.label(),
                    colour: p.colour(),
                })
                .collect(),
            tickets: self
                .tickets
                .iter()
                .filter_map(|t| {
                    let at = t.location?;
                    Some(JsonTicket {
                        key: &t.key,
                        summary: &t.summary,
                        lat: at.lat(),
                        lon: at.lon(),
                        phase: t.phase.id(),
                        label: t.phase.label(),
                        colour: t.phase.colour(),
                        status: &t.status,
                        assignee: t.assignee.as_deref(),
                        time: &t.time,
                        address: &t.address,
                    })
                })
                .collect(),
            technicians: self
                .technicians
                .iter()
                .map(|t| JsonTech {
                    account_id: &t.account_id,
                    name: &t.name,
                    initials: &t.initials,
                    position: t.position.at,
                    source: t.position.source,
                    source_text: t.position.describe(),
                    at_ticket: t.position.ticket.as_ref().map(|(k, _)| k.as_str()),
                    jobs: t.jobs.iter().map(|j| j.key.as_str()).collect(),
                    route: &t.route,
                })
                .collect(),
            unlocated: self.unlocated().map(|t| t.key.as_str()).collect(),
            queue_hidden: self.queue_hidden,
        };
        // Serialising plain strings, numbers and options cannot fail.
        escape_json(&serde_json::to_string(&view).unwrap_or_else(|_| "{}".into()))
    }
}

/// JSON with `<`, `>`, `&` and the JavaScript line separators written as `\uXXXX` escapes:
/// the same value, but inert wherever the text ends up. (Outside strings JSON never holds
/// these characters, so replacing them everywhere is safe.)
pub fn escape_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
