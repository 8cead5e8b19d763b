//! DispatchDesk: field dispatch for Jira Service Management.
//!
//! Domain first, as plain functions over plain types:
//! - [`phase`]: the six dispatch phases and the admin's status → phase mapping, the single
//!   source of truth for every decision (with a fallback by Jira status category);
//! - [`schedule`]: a technician's day (visits, travel, completions, reopens) derived from the
//!   Jira changelog, cut at midnight in the technician's time zone, with frozen snapshots of
//!   finished days;
//! - [`technician`]: skills, working hours, time zone, time off, home base, availability;
//! - [`suggest`]: technicians ranked for a ticket, with reasons;
//! - [`geo`]: positions and straight-line distance;
//! - [`map`]: the map of a day (tickets, technicians' positions and routes) and its tile
//!   server setting;
//! - [`route`]: travel estimates, timelines with appointments, and the shortest visiting
//!   order of a day (exact up to ten stops, local search beyond);
//! - [`auto`]: automatic dispatch, waiting jobs placed on technicians' routes with reasons;
//! - [`dayplan`]: the board's data turned into days, crews and waiting jobs for both;
//! - [`planning`]: the site's planning settings (speed, detour, reach, spread).
//!
//! Around them: [`autorun`] (automatic dispatch on a schedule with the service credential),
//! [`writes`] (the Jira writes they share with the board) and [`web`] (the pages).

pub mod auto;
pub mod autorun;
pub mod board;
pub mod cache;
pub mod dayplan;
pub mod geo;
pub mod jira;
pub mod map;
pub mod phase;
pub mod planning;
pub mod route;
pub mod schedule;
pub mod setup;
pub mod store;
pub mod suggest;
pub mod technician;
pub mod web;
pub mod writes;
