//! Where a run's output goes: a SQL script or a live database. A run calls
//! [`Sink::begin`], then [`Sink::seen`] / [`Sink::rows`] batch by batch, then
//! [`Sink::finish`] (or [`Sink::abort`] on failure).

use crate::dialect::Dialect;
use crate::error::Result;
use crate::model::{Plan, RUNS, TableDef, TypeTable, meta_tables};
use crate::value::{ObjectRow, Value};

/// Full or incremental.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// Every object is fetched; rows of objects not seen are deleted.
    Full,
    /// Only objects updated since the last successful run are fetched; an id-only scan
    /// finds deletions.
    Incremental,
}

impl Mode {
    /// `full` / `incremental`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Incremental => "incremental",
        }
    }
}

/// What every sink needs to know about the run.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Run id (a UUID).
    pub run_id: String,
    /// Mode.
    pub mode: Mode,
    /// Start instant.
    pub started: jiff::Timestamp,
}

/// Counts reported at the end of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Objects written.
    pub objects: u64,
    /// Rows written (object rows plus link rows).
    pub rows: u64,
}

/// Output of a run.
#[allow(async_fn_in_trait)]
pub trait Sink {
    /// Creates/updates the tables and the catalog and records the run as running.
    async fn begin(&mut self, plan: &Plan, run: &RunInfo) -> Result<()>;
    /// Records object ids that exist in Assets (rows of other ids are deleted at the end).
    async fn seen(&mut self, table: &TypeTable, ids: &[String]) -> Result<()>;
    /// Upserts object rows (distinct ids) and replaces their link rows.
    async fn rows(&mut self, table: &TypeTable, rows: &[ObjectRow]) -> Result<()>;
    /// Deletes unseen rows, records the run as successful and commits.
    async fn finish(&mut self, plan: &Plan, run: &RunInfo, counts: Counts) -> Result<()>;
    /// Gives up: nothing of this run becomes visible (where the target allows it).
    async fn abort(&mut self) -> Result<()>;
}

/// The catalog rows of a plan for a dialect (aligned with the catalog table's columns).
pub fn catalog_rows(plan: &Plan, dialect: Dialect) -> Vec<Vec<Value>> {
    let t = |s: &str| Value::Text(s.to_owned());
    let mut out = Vec::new();
    for ty in &plan.types {
        let base = |table: &str, column: &str, role: &str| {
            vec![
                t(table),
                t(column),
                t(role),
                t(&ty.schema_id),
                t(&ty.schema_name),
                t(&ty.type_id),
                t(&ty.type_name),
            ]
        };
        let mut row = base(&ty.def.name, "", "table");
        row.extend([Value::Null, Value::Null, Value::Null, Value::Null]);
        out.push(row);
        for (c, src) in ty.def.columns.iter().zip(&ty.sources) {
            let sql = t(dialect.column_type(c.ty));
            let mut row = match src {
                crate::model::Source::Attribute(a) => {
                    let mut r = base(&ty.def.name, &c.name, "attribute");
                    r.extend([t(&a.id), t(&a.name), t(a.kind.catalog_name())]);
                    r
                }
                _ => {
                    let mut r = base(&ty.def.name, &c.name, "common");
                    r.extend([Value::Null, Value::Null, Value::Null]);
                    r
                }
            };
            row.push(sql);
            out.push(row);
        }
        for l in &ty.links {
            let attr = [
                t(&l.attr.id),
                t(&l.attr.name),
                t(l.attr.kind.catalog_name()),
            ];
            let mut row = base(&l.def.name, "", "link_table");
            row.extend(attr.clone());
            row.push(Value::Null);
            out.push(row);
            for c in &l.def.columns {
                let mut row = base(&l.def.name, &c.name, "link_column");
                row.extend(attr.clone());
                row.push(t(dialect.column_type(c.ty)));
                out.push(row);
            }
        }
    }
    out
}

/// The runs row (aligned with the runs table's columns).
pub fn run_row(plan: &Plan, run: &RunInfo, done: Option<Counts>) -> Vec<Value> {
    let (finished, status, objects, rows) = match done {
        Some(c) => (
            Value::DateTime(jiff::Timestamp::now()),
            "succeeded",
            Value::Int(i64::try_from(c.objects).unwrap_or(i64::MAX)),
            Value::Int(i64::try_from(c.rows).unwrap_or(i64::MAX)),
        ),
        None => (Value::Null, "running", Value::Null, Value::Null),
    };
    vec![
        Value::Text(run.run_id.clone()),
        Value::Text(run.mode.as_str().into()),
        Value::DateTime(run.started),
        finished,
        Value::Text(status.into()),
        Value::Int(i64::try_from(plan.table_count()).unwrap_or(i64::MAX)),
        objects,
        rows,
    ]
}

/// A meta table by name.
pub fn meta(name: &str) -> TableDef {
    meta_tables()
        .into_iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| TableDef {
            name: RUNS.into(),
            columns: vec![],
            primary_key: vec![],
            foreign_keys: vec![],
            indexes: vec![],
        })
}
