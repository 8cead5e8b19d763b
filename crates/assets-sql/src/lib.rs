//! Assets to SQL: Jira Assets (CMDB) schemas and objects exported as typed SQL.
//!
//! Pipeline: [`fetch::metadata`] discovers schemas, object types and attributes as plain
//! [`schema::Metadata`]; [`model::plan`] turns it (and a [`model::Selection`]) into tables
//! with stable names ([`ident::NameMap`]); [`run::run`] streams each type's objects
//! through [`value`] conversion into a [`sink::Sink`]: a [`script::ScriptSink`] for
//! PostgreSQL, MySQL/MariaDB, SQLite or SQL Server scripts, or a live database through
//! [`load`] (PostgreSQL, MariaDB/MySQL, SQLite), each run all-or-nothing.
//! [`export()`] does all of it in one call (the CLI's `jsmkit assets-sql export`).
//!
//! What lands in the database:
//!
//! - one table per object type: `object_id` (primary key), `object_key`, `label`,
//!   `object_type_id`, `object_type`, `created`, `updated`, `workspace_id`, then one typed
//!   column per single-valued attribute (inherited ones included); a single reference is
//!   the referenced `object_id`, with a foreign key when the target type is exported and
//!   no AQL filter is set;
//! - one link table per multi-valued attribute (`<type table>_<attribute>`):
//!   `object_id`, `position`, `value` (or `ref_object_id` for references);
//! - `assets_sql_catalog`: every table and column mapped back to schema, type and
//!   attribute (ids and Assets names); `assets_sql_runs`: run id, mode, started, finished,
//!   status (`running`, `succeeded`, `failed`), counts; `assets_sql_seen`: scratch ids of
//!   the running export (empty between runs).
//!
//! Text never holds NUL characters (no dialect stores them; they are dropped). Instants
//! are UTC (`timestamptz`, MySQL `DATETIME(3)` in UTC, ISO-8601 `…Z` text in SQLite,
//! `DATETIMEOFFSET(3)`).

pub mod app;
pub mod dialect;
mod error;
mod export;
pub mod fetch;
pub mod ident;
pub mod load;
pub mod model;
pub mod run;
pub mod schema;
pub mod script;
pub mod sink;
pub mod value;

pub use error::{Error, Result, redact};
pub use export::{
    ExportOptions, ExportState, Output, PAGE_SIZE, SiteLogin, connect, equality_filter, export,
};
