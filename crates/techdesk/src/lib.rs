//! TechDesk, the technician's desk for Jira Service Management.
//!
//! - [`domain`]: plain functions over plain types (queue grouping and SLA urgency,
//!   durations and rounding, timers, request forms, settings, feedback, ticket view).
//! - [`routes`]: the pages (`/techdesk`, `/techdesk/tickets/{key}`,
//!   `/techdesk/requests/new`, `/settings/techdesk`) and the JSON API
//!   (`/api/techdesk/v1/…`), mounted behind `platform::permissions::protect_with_access`.
//! - [`bench`]: the ticket-view benchmark.
//!
//! Every write to Jira goes through the signed-in user's own client
//! (`platform::identity::UserClient`), so Jira's permissions apply, and is recorded in the
//! audit log.

pub mod bench;
mod cache;
pub mod domain;
pub mod routes;

pub use routes::{TechDeskState, api, api_with, pages};
