//! Direct loads into a live database given by URL (`postgres://`, `mysql://` /
//! `mariadb://`, `sqlite://`). Values are bound as parameters or sent with `COPY`; each
//! run is all-or-nothing:
//!
//! - PostgreSQL and SQLite: one transaction (DDL included); foreign keys are deferred to
//!   the commit.
//! - MariaDB/MySQL (DDL commits implicitly): every table is built as a `…__stg` copy
//!   (seeded from the live table for incremental runs), loaded, then all copies replace
//!   the live tables in one atomic `RENAME TABLE`.

mod mysql;
mod pg;
mod pg_relay;
mod sqlite;

use std::collections::BTreeMap;

pub use mysql::MySqlSink;
pub use pg::PgSink;
pub use sqlite::SqliteSink;

use crate::dialect::Dialect;
use crate::error::{Error, Result, redact};
use crate::ident::{NameMap, attr_key};
use crate::model::{Plan, TypeTable};
use crate::sink::{Counts, RunInfo, Sink};
use crate::value::ObjectRow;

/// Rows per bound `INSERT` (SQLite, MariaDB).
pub const LOAD_BATCH: usize = 200;

/// A database target parsed from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `postgres://` or `postgresql://`.
    Postgres(String),
    /// `mysql://` or `mariadb://` (sent as `mysql://`).
    MySql(String),
    /// `sqlite://PATH` or `sqlite:PATH`.
    Sqlite(String),
}

impl Target {
    /// Parses a target URL.
    pub fn parse(url: &str) -> Result<Self> {
        let scheme = url
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match scheme.as_str() {
            "postgres" | "postgresql" => Ok(Self::Postgres(url.to_owned())),
            "mysql" => Ok(Self::MySql(url.to_owned())),
            "mariadb" => Ok(Self::MySql(format!("mysql{}", url.get("mariadb".len()..).unwrap_or_default()))),
            "sqlite" => Ok(Self::Sqlite(url.to_owned())),
            _ => Err(Error::Target {
                url: redact(url),
                reason: "use postgres://, mysql://, mariadb:// or sqlite:// (SQL Server: write a script with --dialect mssql)".into(),
            }),
        }
    }

    /// The dialect of the target.
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Postgres(_) => Dialect::Postgres,
            Self::MySql(_) => Dialect::MySql,
            Self::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// The URL without its password.
    pub fn redacted(&self) -> String {
        match self {
            Self::Postgres(u) | Self::MySql(u) | Self::Sqlite(u) => redact(u),
        }
    }
}

/// A connected database sink of any backend.
pub enum DbSink {
    /// PostgreSQL.
    Postgres(PgSink),
    /// MariaDB / MySQL.
    MySql(MySqlSink),
    /// SQLite.
    Sqlite(SqliteSink),
}

/// What a database remembers of earlier runs: the names (from the catalog) and the start
/// of the last successful run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreviousState {
    /// Names from the catalog.
    pub names: NameMap,
    /// Start of the last successful run.
    pub last_success: Option<jiff::Timestamp>,
}

/// Catalog rows as text: (table, column, role, type id, attribute id).
pub(crate) type CatalogRow = (String, String, String, Option<String>, Option<String>);

/// Rebuilds a [`NameMap`] from catalog rows.
pub(crate) fn names_from_catalog(rows: Vec<CatalogRow>) -> NameMap {
    let mut names = NameMap::default();
    let mut link_tables: BTreeMap<String, String> = BTreeMap::new();
    for (table, column, role, type_id, attr_id) in rows {
        let Some(type_id) = type_id else { continue };
        match (role.as_str(), attr_id) {
            ("table", _) => {
                names.tables.insert(type_id, table);
            }
            ("attribute", Some(a)) => {
                names.columns.insert(attr_key(&type_id, &a), column);
            }
            ("link_table", Some(a)) => {
                link_tables.insert(attr_key(&type_id, &a), table);
            }
            _ => {}
        }
    }
    names.links = link_tables;
    names
}

impl DbSink {
    /// Connects to `target`.
    pub async fn connect(target: &Target) -> Result<Self> {
        Ok(match target {
            Target::Postgres(u) => Self::Postgres(PgSink::connect(u).await?),
            Target::MySql(u) => Self::MySql(MySqlSink::connect(u).await?),
            Target::Sqlite(u) => Self::Sqlite(SqliteSink::connect(u).await?),
        })
    }

    /// Names and last success recorded by earlier runs (empty on a fresh database).
    pub async fn previous(&mut self) -> Result<PreviousState> {
        match self {
            Self::Postgres(s) => s.previous().await,
            Self::MySql(s) => s.previous().await,
            Self::Sqlite(s) => s.previous().await,
        }
    }
}

impl Sink for DbSink {
    async fn begin(&mut self, plan: &Plan, run: &RunInfo) -> Result<()> {
        match self {
            Self::Postgres(s) => s.begin(plan, run).await,
            Self::MySql(s) => s.begin(plan, run).await,
            Self::Sqlite(s) => s.begin(plan, run).await,
        }
    }
    async fn seen(&mut self, table: &TypeTable, ids: &[String]) -> Result<()> {
        match self {
            Self::Postgres(s) => s.seen(table, ids).await,
            Self::MySql(s) => s.seen(table, ids).await,
            Self::Sqlite(s) => s.seen(table, ids).await,
        }
    }
    async fn rows(&mut self, table: &TypeTable, rows: &[ObjectRow]) -> Result<()> {
        match self {
            Self::Postgres(s) => s.rows(table, rows).await,
            Self::MySql(s) => s.rows(table, rows).await,
            Self::Sqlite(s) => s.rows(table, rows).await,
        }
    }
    async fn finish(&mut self, plan: &Plan, run: &RunInfo, counts: Counts) -> Result<()> {
        match self {
            Self::Postgres(s) => s.finish(plan, run, counts).await,
            Self::MySql(s) => s.finish(plan, run, counts).await,
            Self::Sqlite(s) => s.finish(plan, run, counts).await,
        }
    }
    async fn abort(&mut self) -> Result<()> {
        match self {
            Self::Postgres(s) => s.abort().await,
            Self::MySql(s) => s.abort().await,
            Self::Sqlite(s) => s.abort().await,
        }
    }
}

/// The link rows of a batch for link table `i`: (object id, position, value).
pub(crate) fn link_rows(rows: &[ObjectRow], i: usize) -> Vec<Vec<crate::value::Value>> {
    use crate::value::Value;
    rows.iter()
        .flat_map(|r| {
            r.links
                .get(i)
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(pos, v)| {
                    vec![
                        Value::Text(r.id.clone()),
                        Value::Int(i64::try_from(pos).unwrap_or(i64::MAX)),
                        v.clone(),
                    ]
                })
        })
        .collect()
}
