//! The audit log: append-only entries per site in the store (namespace `platform`, keys
//! `audit:<sortable id>`), queried newest-first with filters and paging, exported as CSV,
//! and purged after a per-site retention (default 365 days) by [`AuditLog::purge`].
//!
//! ```text
//! audit.record(&site, NewEntry {
//!     actor: Actor::from(&principal), action: Action::SETTINGS_CHANGE,
//!     target: "techdesk.queue".into(), detail: json!({"old": 10, "new": 20}),
//!     outcome: Outcome::Ok, request_id: current_request_id().map(|r| r.to_string()),
//! }).await?;
//! ```
//!
//! Detail is redacted before it is stored ([`redact`]: members named like token, secret,
//! password … are dropped). There is no update or delete API; only the retention purge
//! removes entries.

mod csv;
mod entry;
mod log;
mod web;

#[cfg(test)]
mod tests;

pub use csv::{header as csv_header, push_cell as csv_cell, write_row as csv_row};
pub use entry::{
    Action, Actor, ActorKind, AuditEntry, InvalidAction, MAX_DETAIL_BYTES, MAX_NAME_CHARS,
    MAX_TARGET_CHARS, NewEntry, Outcome, is_secret_key, redact,
};
pub use log::{
    AuditError, AuditFilter, AuditLog, AuditPage, DEFAULT_RETENTION_DAYS, KEY_PREFIX, MAX_PAGE,
    MAX_RETENTION_DAYS, MAX_SCAN,
};
pub use web::{
    AUDIT_CSV_PATH, AUDIT_PATH, AUDIT_RETENTION_PATH, AuditForm, AuditState, RetentionForm,
    ValidForm, router, validate, validate_retention,
};
