#![allow(clippy::unwrap_used)]
use jiff::civil::date;

use super::*;
use crate::board::{Filter, build};
use crate::phase::{Status, StatusCategory};
use crate::technician::TechSource;

const PLANNED: &str = "1";
const ASSIGNED: &str = "2";
const TRAVELLING: &str = "3";
const ON_SITE: &str = "4";
const DONE: &str = "6";

fn mapping() -> PhaseMapping {
    let mut m = PhaseMapping::default();
    let s = |id: &str, name: &str, category| Status {
        id: id.into(),
        name: name.into(),
        category,
    };
    m.detect([
        s(PLANNED, "To Dispatch", StatusCategory::ToDo),
        s(ASSIGNED, "Assigned", StatusCategory::InProgress),
        s(TRAVELLING, "Travelling", StatusCategory::InProgress),
        s(ON_SITE, "On Site", StatusCategory::InProgress),
        s(DONE, "Work Complete", StatusCategory::Done),
    ]);
    m.phases.insert(TRAVELLING.into(), Phase::Travelling);
    m.phases.insert(ON_SITE.into(), Phase::OnSite);
    m
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn at(lat: f64, lon: f64) -> LatLon {
    LatLon::new(lat, lon).unwrap()
}

struct T<'a> {
    key: &'a str,
    status: &'a str,
    assignee: Option<&'a str>,
    start: Option<&'a str>,
    location: Option<LatLon>,
    updated: &'a str,
}

impl Default for T<'_> {
    fn default() -> Self {
        Self {
            key: "FS-1",
            status: PLANNED,
            assignee: None,
            start: None,
            location: None,
            updated: "2026-11-30T09:00:00Z",
        }
    }
}

fn ticket(t: T<'_>) -> Ticket {
    Ticket {
        id: t.key.into(),
        key: t.key.into(),
        project: "FS".into(),
        summary: format!("Boiler fault {}", t.key),
        status_id: t.status.into(),
        status_name: t.status.into(),
        assignee: t.assignee.map(Into::into),
        assignee_name: t.assignee.map(|a| format!("Name of {a}")),
        request_type: None,
        priority: None,
        skills: Default::default(),
        location: t.location,
        address: format!("{} Deansgate", t.key),
        scheduled: t
            .start
            .map(|s| (ts(s), ts(s) + jiff::SignedDuration::from_hours(2))),
        updated: ts(t.updated),
    }
}

fn techs() -> Vec<Technician> {
    let mut leo = Technician::new("leo", "Leo Ashworth", TechSource::Manual);
    leo.home = Some(at(53.40, -2.30));
    let mut mia = Technician::new("mia", "Mia", TechSource::Manual);
    mia.home = Some(at(53.50, -2.10));
    let ned = Technician::new("ned", "ned o'neil", TechSource::Manual);
    vec![leo, mia, ned]
}

fn the_map(tickets: &[Ticket], filter: &Filter) -> DayMap {
    let board = build(
        tickets,
        &techs(),
        &mapping(),
        date(2026, 11, 30),
        &TimeZone::UTC,
        filter,
    );
    day_map(&board, tickets, &techs(), &mapping(), &TimeZone::UTC)
}

fn tech<'a>(m: &'a DayMap, id: &str) -> &'a MapTech {
    m.technicians.iter().find(|t| t.account_id == id).unwrap()
}

fn sample() -> Vec<Ticket> {
    vec![
        // Queue: one located, one without a location.
        ticket(T {
            key: "FS-1",
            location: Some(at(53.48, -2.24)),
            ..T::default()
        }),
        ticket(T {
            key: "FS-2",
            ..T::default()
        }),
        // Leo: on site at FS-3 (his position); FS-4 at 14:00, FS-5 at 10:00, FS-6 unscheduled,
        // FS-7 at 12:00 without a location, FS-8 tomorrow (not on today's board).
        ticket(T {
            key: "FS-3",
            status: ON_SITE,
            assignee: Some("leo"),
            start: Some("2026-11-30T08:00:00Z"),
            location: Some(at(53.41, -2.31)),
            ..T::default()
        }),
        ticket(T {
            key: "FS-4",
            status: ASSIGNED,
            assignee: Some("leo"),
            start: Some("2026-11-30T14:00:00Z"),
            location: Some(at(53.44, -2.34)),
            ..T::default()
        }),
        ticket(T {
            key: "FS-5",
            status: ASSIGNED,
            assignee: Some("leo"),
            start: Some("2026-11-30T10:00:00Z"),
            location: Some(at(53.42, -2.32)),
            ..T::default()
        }),
        ticket(T {
            key: "FS-6",
            status: ASSIGNED,
            assignee: Some("leo"),
            location: Some(at(53.45, -2.35)),
            ..T::default()
        }),
        ticket(T {
            key: "FS-7",
            status: ASSIGNED,
            assignee: Some("leo"),
            start: Some("2026-11-30T12:00:00Z"),
            ..T::default()
        }),
        ticket(T {
            key: "FS-8",
            status: ASSIGNED,
            assignee: Some("leo"),
            start: Some("2026-12-01T10:00:00Z"),
            location: Some(at(53.46, -2.36)),
            ..T::default()
        }),
        // Mia: one job; her field ticket (travelling, tomorrow's) has a 0,0 placeholder.
        ticket(T {
            key: "FS-9",
            status: ASSIGNED,
            assignee: Some("mia"),
            start: Some("2026-11-30T09:00:00Z"),
            location: Some(at(53.51, -2.11)),
            ..T::default()
        }),
        ticket(T {
            key: "FS-10",
            status: TRAVELLING,
            assignee: Some("mia"),
            start: Some("2026-12-02T09:00:00Z"),
            location: Some(at(0.0, 0.0)),
            ..T::default()
        }),
        // Assigned to someone who is not a technician.
        ticket(T {
            key: "FS-11",
            status: ASSIGNED,
            assignee: Some("stranger"),
            location: Some(at(53.47, -2.25)),
            ..T::default()
        }),
    ]
}

#[test]
fn the_map_holds_exactly_the_boards_cards() {
    let tickets = sample();
    let board = build(
        &tickets,
        &techs(),
        &mapping(),
        date(2026, 11, 30),
        &TimeZone::UTC,
        &Filter::default(),
    );
    let m = day_map(&board, &tickets, &techs(), &mapping(), &TimeZone::UTC);
    let mut on_board: Vec<&str> = board
        .queue
        .iter()
        .chain(board.lanes.iter().flat_map(|l| &l.cards))
        .chain(&board.others)
        .map(|c| c.ticket.key.as_str())
        .collect();
    let mut on_map: Vec<&str> = m.tickets.iter().map(|t| t.key.as_str()).collect();
    on_board.sort_unstable();
    on_map.sort_unstable();
    assert_eq!(on_map, on_board);
    assert!(!on_map.contains(&"FS-8"), "tomorrow's job is not today's");
    assert!(on_map.contains(&"FS-11"), "others are on the map too");
    let unlocated: Vec<&str> = m.unlocated().map(|t| t.key.as_str()).collect();
    assert_eq!(unlocated, ["FS-2", "FS-7"]);
    assert_eq!(m.located().count(), m.tickets.len() - 2);
    let fs3 = m.tickets.iter().find(|t| t.key == "FS-3").unwrap();
    assert_eq!(fs3.phase, Phase::OnSite);
    assert_eq!(fs3.time, "08:00–10:00");
    assert_eq!(fs3.assignee.as_deref(), Some("Name of leo"));
}

#[test]
fn positions_come_from_a_field_ticket_else_the_home_base() {
    let m = the_map(&sample(), &Filter::default());
    let leo = tech(&m, "leo");
    assert_eq!(leo.position.source, PositionSource::Ticket);
    assert_eq!(leo.position.at, Some(at(53.41, -2.31)));
    assert_eq!(
        leo.position.ticket,
        Some(("FS-3".to_string(), Phase::OnSite))
    );
    assert_eq!(leo.position.describe(), "At FS-3 (On Site)");
    let mia = tech(&m, "mia");
    assert_eq!(
        mia.position.source,
        PositionSource::Home,
        "her field ticket's 0,0 is not a usable location"
    );
    assert_eq!(mia.position.at, Some(at(53.50, -2.10)));
    assert_eq!(mia.position.describe(), "Home base");
    let ned = tech(&m, "ned");
    assert_eq!(ned.position.source, PositionSource::Unknown);
    assert_eq!(ned.position.at, None);
    assert!(ned.route.is_empty());
    assert_eq!(ned.initials, "NO");
}

#[test]
fn the_latest_field_ticket_wins_and_filters_do_not_move_anybody() {
    let mut tickets = sample();
    tickets.push(ticket(T {
        key: "FS-12",
        status: TRAVELLING,
        assignee: Some("leo"),
        location: Some(at(53.43, -2.33)),
        updated: "2026-11-30T11:00:00Z",
        ..T::default()
    }));
    // The filter hides every ticket of the lanes; Leo is still where his field ticket is.
    let f = Filter {
        project: Some("FAC".into()),
        ..Filter::default()
    };
    let m = the_map(&tickets, &f);
    assert!(m.tickets.is_empty());
    let leo = tech(&m, "leo");
    assert_eq!(
        leo.position.ticket,
        Some(("FS-12".to_string(), Phase::Travelling))
    );
    assert_eq!(leo.position.at, Some(at(53.43, -2.33)));
}

#[test]
fn routes_run_from_the_position_through_the_located_jobs_by_start() {
    let m = the_map(&sample(), &Filter::default());
    let leo = tech(&m, "leo");
    let jobs: Vec<(&str, bool)> = leo
        .jobs
        .iter()
        .map(|j| (j.key.as_str(), j.located))
        .collect();
    assert_eq!(
        jobs,
        [
            ("FS-3", true),
            ("FS-5", true),
            ("FS-7", false),
            ("FS-4", true),
            ("FS-6", true),
        ],
        "by scheduled start, unscheduled last"
    );
    assert_eq!(
        leo.route,
        [
            at(53.41, -2.31), // position: on site at FS-3
            at(53.41, -2.31), // FS-3 08:00
            at(53.42, -2.32), // FS-5 10:00
            at(53.44, -2.34), // FS-4 14:00 (FS-7 has no location)
            at(53.45, -2.35), // FS-6 unscheduled
        ]
    );
    assert_eq!(leo.jobs[3].time, "14:00–16:00");
    assert_eq!(leo.jobs[4].time, "unscheduled");
    let mia = tech(&m, "mia");
    assert_eq!(mia.route, [at(53.50, -2.10), at(53.51, -2.11)]);
}

#[test]
fn route_order_puts_unscheduled_last_and_breaks_ties_by_key() {
    let tickets = [
        ticket(T {
            key: "FS-3",
            status: ASSIGNED,
            assignee: Some("leo"),
            ..T::default()
        }),
        ticket(T {
            key: "FS-2",
            status: ASSIGNED,
            assignee: Some("leo"),
            start: Some("2026-11-30T09:00:00Z"),
            ..T::default()
        }),
        ticket(T {
            key: "FS-1",
            status: ASSIGNED,
            assignee: Some("leo"),
            ..T::default()
        }),
        ticket(T {
            key: "FS-4",
            status: ASSIGNED,
            assignee: Some("leo"),
            start: Some("2026-11-30T09:00:00Z"),
            ..T::default()
        }),
    ];
    let cards: Vec<Card> = tickets
        .iter()
        .map(|t| Card {
            ticket: t.clone(),
            phase: Phase::Assigned,
            locked: false,
        })
        .collect();
    let keys: Vec<&str> = route_order(&cards)
        .iter()
        .map(|c| c.ticket.key.as_str())
        .collect();
    assert_eq!(keys, ["FS-2", "FS-4", "FS-1", "FS-3"]);
}

#[test]
fn the_json_carries_everything_and_no_markup() {
    let mut tickets = sample();
    tickets[0].summary = "<script>alert('x')</script> & more".into();
    let m = the_map(&tickets, &Filter::default());
    let json = m.to_json(None);
    assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
    assert!(json.contains("\\u003cscript\\u003e"), "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["day"], "2026-11-30");
    assert!(v["tiles"].is_null());
    assert_eq!(v["phases"].as_array().unwrap().len(), 6);
    assert_eq!(v["phases"][3]["colour"], "blue");
    let tickets = v["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), m.located().count());
    let fs1 = tickets.iter().find(|t| t["key"] == "FS-1").unwrap();
    assert_eq!(fs1["summary"], "<script>alert('x')</script> & more");
    assert_eq!(fs1["lat"], 53.48);
    assert_eq!(fs1["lon"], -2.24);
    assert_eq!(fs1["phase"], "planned");
    assert_eq!(fs1["label"], "Planned");
    assert_eq!(fs1["colour"], "gray");
    assert!(fs1["assignee"].is_null());
    assert_eq!(v["unlocated"], serde_json::json!(["FS-2", "FS-7"]));
    let leo = v["technicians"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["account_id"] == "leo")
        .unwrap();
    assert_eq!(leo["initials"], "LA");
    assert_eq!(leo["source"], "ticket");
    assert_eq!(leo["at_ticket"], "FS-3");
    assert_eq!(leo["position"], serde_json::json!([53.41, -2.31]));
    assert_eq!(leo["route"][2], serde_json::json!([53.42, -2.32]));
    assert_eq!(leo["route"].as_array().unwrap().len(), 5);
    assert_eq!(
        leo["jobs"],
        serde_json::json!(["FS-3", "FS-5", "FS-7", "FS-4", "FS-6"])
    );
    let tiles = MapTiles::new("https://tile.example.org/{z}/{x}/{y}.png", "<OSM>").unwrap();
    let v: serde_json::Value = serde_json::from_str(&m.to_json(Some(&tiles))).unwrap();
    assert_eq!(
        v["tiles"]["url"],
        "https://tile.example.org/{z}/{x}/{y}.png"
    );
    assert_eq!(v["tiles"]["attribution"], "<OSM>");
}

#[test]
fn escaping_keeps_the_value() {
    let raw = serde_json::to_string(&serde_json::json!({"s": "a<b>&c\u{2028}d"})).unwrap();
    let escaped = escape_json(&raw);
    assert_eq!(escaped, r#"{"s":"a\u003cb\u003e\u0026c\u2028d"}"#);
    let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
    assert_eq!(back["s"], "a<b>&c\u{2028}d");
}

#[test]
fn initials_and_time_labels() {
    assert_eq!(initials("Leo Ashworth"), "LA");
    assert_eq!(initials("  mia  "), "M");
    assert_eq!(initials("Ana María de la Cruz"), "AC");
    assert_eq!(initials(""), "?");
    assert_eq!(initials("(—)"), "?");
    let day = date(2026, 11, 30);
    let london = TimeZone::get("Europe/London").unwrap();
    let s = |a: &str, b: &str| Some((ts(a), ts(b)));
    assert_eq!(time_label(None, day, &london), "unscheduled");
    assert_eq!(
        time_label(
            s("2026-11-30T09:00:00Z", "2026-11-30T11:30:00Z"),
            day,
            &london
        ),
        "09:00–11:30"
    );
    assert_eq!(
        time_label(
            s("2026-11-29T09:00:00Z", "2026-11-29T10:00:00Z"),
            day,
            &london
        ),
        "2026-11-29 09:00",
        "overdue work shows its date"
    );
    assert_eq!(
        time_label(
            s("2026-11-30T23:00:00Z", "2026-12-01T01:00:00Z"),
            day,
            &london
        ),
        "23:00"
    );
    let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
    assert_eq!(
        time_label(
            s("2026-11-30T00:30:00Z", "2026-11-30T01:00:00Z"),
            day,
            &tokyo
        ),
        "09:30–10:00",
        "in the board's zone"
    );
}
