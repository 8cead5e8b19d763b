//! PostgreSQL: one transaction per run, so readers keep seeing the previous state until the
//! commit and a failed run leaves nothing behind.
//!
//! - A table created by this run is invisible to everyone else until the commit, so its rows
//!   are copied straight into it (`COPY`, like `psql \copy`).
//! - A table that already holds data gets this run's rows in a temporary staging table
//!   (`COPY`); at the end one statement per table upserts only the rows that differ, one
//!   deletes the rows that are gone (not staged in a full run, not seen in an incremental
//!   one), and link rows are diffed the same way. Unchanged rows are not rewritten, so a
//!   re-run writes (and checks foreign keys for) only what changed.
//! - Foreign keys are deferred; new ones are added at the end, checked by one query each.

use std::collections::{HashMap, HashSet};

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, Row};

use crate::dialect::postgres::copy_field;
use crate::dialect::{DdlOptions, Dialect, fk_name};
use crate::error::{Error, Result, redact};
use crate::model::{CATALOG, Plan, RUNS, SEEN, TableDef, TypeTable, meta_tables};
use crate::sink::{Counts, Mode, RunInfo, Sink, catalog_rows, meta, run_row};
use crate::value::{ObjectRow, Value};

use super::pg_relay::{Relay, Route, route};
use super::{PreviousState, names_from_catalog};

const D: Dialect = Dialect::Postgres;

/// Where one table's rows go during a run.
#[derive(Debug, Clone)]
struct Dest {
    /// The table `COPY` writes into: the table itself when this run created it, else a
    /// temporary staging table.
    into: String,
    /// Whether this run created the table.
    fresh: bool,
}

/// Loads into PostgreSQL.
pub struct PgSink {
    conn: PgConnection,
    /// Carries the connection over TCP (see [`super::pg_relay`]); lives as long as it.
    _relay: Option<Relay>,
    open: bool,
    mode: Mode,
    /// By table name (object and link tables).
    dest: HashMap<String, Dest>,
    /// Ids written in this run, by object table.
    written: HashMap<String, HashSet<String>>,
}

/// Bytes of `COPY` data per message: PostgreSQL parses one chunk while the next is built.
const COPY_CHUNK: usize = 256 * 1024;

/// One value in `COPY` text format.
fn write_value(v: &Value, out: &mut String) {
    use std::fmt::Write;
    match v {
        Value::Null => out.push_str("\\N"),
        Value::Text(s) => copy_field(s, out),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Value::Double(d) if d.is_finite() => {
            let _ = write!(out, "{d:?}");
        }
        Value::Double(_) => out.push_str("\\N"),
        // The common case written directly; other years (BC dates) as the dialect says.
        Value::DateTime(ts) => {
            let dt = ts.to_zoned_datetime(jiff::tz::TimeZone::UTC).datetime();
            if (1..=9999).contains(&dt.year()) {
                let _ = write!(
                    out,
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}+00",
                    dt.year(),
                    dt.month(),
                    dt.day(),
                    dt.hour(),
                    dt.minute(),
                    dt.second(),
                    dt.millisecond()
                );
            } else {
                copy_field(&D.temporal_text(v).unwrap_or_default(), out);
            }
        }
        Value::Date(d) if (1..=9999).contains(&d.year()) => {
            let _ = write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
        }
        other => copy_field(&D.temporal_text(other).unwrap_or_default(), out),
    }
}

/// One line of `COPY` text.
fn write_line<'a>(values: impl IntoIterator<Item = &'a Value>, out: &mut String) {
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        write_value(v, out);
    }
    out.push('\n');
}

/// The link lines of one object for link table `i`: (object id, position, value).
fn write_links(row: &ObjectRow, i: usize, out: &mut String) {
    use std::fmt::Write;
    for (pos, v) in row.links.get(i).into_iter().flatten().enumerate() {
        copy_field(&row.id, out);
        let _ = write!(out, "\t{pos}\t");
        write_value(v, out);
        out.push('\n');
    }
}

fn quoted_columns(t: &TableDef) -> String {
    t.columns
        .iter()
        .map(|c| D.quote(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Upserts a staged object table into the live one, rewriting only rows that differ.
fn upsert_changed(t: &TableDef, stg: &str) -> String {
    let q = |s: &str| D.quote(s);
    let rest: Vec<&str> = t.columns.iter().skip(1).map(|c| c.name.as_str()).collect();
    let cols = quoted_columns(t);
    if rest.is_empty() {
        return format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ON CONFLICT (\"object_id\") DO NOTHING",
            q(&t.name),
            q(stg)
        );
    }
    let sets: Vec<String> = rest
        .iter()
        .map(|c| format!("{} = excluded.{}", q(c), q(c)))
        .collect();
    let old: Vec<String> = rest
        .iter()
        .map(|c| format!("{}.{}", q(&t.name), q(c)))
        .collect();
    let new: Vec<String> = rest.iter().map(|c| format!("excluded.{}", q(c))).collect();
    format!(
        "INSERT INTO {t} ({cols}) SELECT {cols} FROM {s} ON CONFLICT (\"object_id\") DO UPDATE SET {} \
         WHERE ({}) IS DISTINCT FROM ({})",
        sets.join(", "),
        old.join(", "),
        new.join(", "),
        t = q(&t.name),
        s = q(stg),
    )
}

/// Deletes link rows that are not staged unchanged: all of them in a full run, those of the
/// staged objects in an incremental one.
fn delete_changed_links(link: &TableDef, stg_link: &str, stg_obj: &str, full: bool) -> String {
    let q = |s: &str| D.quote(s);
    let l = q(&link.name);
    let value = link.columns.get(2).map_or("value", |c| c.name.as_str());
    let scope = if full {
        String::new()
    } else {
        format!(
            "{l}.\"object_id\" IN (SELECT \"object_id\" FROM {}) AND ",
            q(stg_obj)
        )
    };
    format!(
        "DELETE FROM {l} WHERE {scope}NOT EXISTS (SELECT 1 FROM {s} x WHERE x.\"object_id\" = {l}.\"object_id\" \
         AND x.\"position\" = {l}.\"position\" AND x.{v} IS NOT DISTINCT FROM {l}.{v})",
        s = q(stg_link),
        v = q(value),
    )
}

impl PgSink {
    /// Connects.
    pub async fn connect(url: &str) -> Result<Self> {
        let target = |reason: String| Error::Target {
            url: redact(url),
            reason,
        };
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| target(e.to_string()))?;
        let (options, relay) = match route(options).await.map_err(|e| target(e.to_string()))? {
            Route::Direct(o) => (o, None),
            Route::Relayed(o, r) => (o, Some(r)),
        };
        let conn = PgConnection::connect_with(&options)
            .await
            .map_err(|e| target(e.to_string()))?;
        Ok(PgSink {
            conn,
            _relay: relay,
            open: false,
            mode: Mode::Full,
            dest: HashMap::new(),
            written: HashMap::new(),
        })
    }

    async fn exec(&mut self, sql: String) -> Result<()> {
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    async fn copy(&mut self, table: &str, t: &TableDef, rows: &[Vec<Value>]) -> Result<()> {
        self.copy_with(table, t, rows.len(), |i, out| {
            if let Some(r) = rows.get(i) {
                write_line(r, out);
            }
        })
        .await
    }

    /// `COPY` of `n` items into `table`; `write(i, out)` appends the lines of item `i`.
    /// The data goes out in chunks, so the server works while the rest is written.
    async fn copy_with(
        &mut self,
        table: &str,
        t: &TableDef,
        n: usize,
        mut write: impl FnMut(usize, &mut String),
    ) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let mut buf = String::with_capacity(COPY_CHUNK + COPY_CHUNK / 4);
        let mut i = 0;
        // The first chunk is ready before the statement starts.
        while i < n && buf.len() < COPY_CHUNK {
            write(i, &mut buf);
            i += 1;
        }
        if buf.is_empty() {
            return Ok(());
        }
        let stmt = format!("COPY {} ({}) FROM STDIN", D.quote(table), quoted_columns(t));
        let mut copy = self.conn.copy_in_raw(&stmt).await?;
        loop {
            if let Err(e) = copy.send(buf.as_bytes()).await {
                let _ = copy.abort("send failed").await;
                return Err(e.into());
            }
            buf.clear();
            while i < n && buf.len() < COPY_CHUNK {
                write(i, &mut buf);
                i += 1;
            }
            if buf.is_empty() {
                break;
            }
        }
        copy.finish().await?;
        Ok(())
    }

    /// Drops foreign keys an earlier plan declared on this plan's tables that this plan
    /// does not (e.g. an export that now has an AQL filter, whose references may point
    /// outside the export).
    async fn drop_unplanned_foreign_keys(&mut self, plan: &Plan) -> Result<()> {
        let wanted: HashSet<String> = plan
            .all_tables()
            .iter()
            .flat_map(|t| {
                t.foreign_keys
                    .iter()
                    .map(|fk| fk_name(&t.name, &fk.column, ""))
            })
            .collect();
        let tables: Vec<String> = plan.all_tables().iter().map(|t| t.name.clone()).collect();
        let existing: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.conname::text, r.relname::text FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid \
             WHERE c.contype = 'f' AND r.relnamespace = current_schema()::regnamespace AND r.relname = ANY($1)",
        )
        .bind(&tables)
        .fetch_all(&mut self.conn)
        .await?;
        for (name, table) in existing {
            if name.starts_with("fk_") && !wanted.contains(&name) {
                self.exec(format!(
                    "ALTER TABLE {} DROP CONSTRAINT {}",
                    D.quote(&table),
                    D.quote(&name)
                ))
                .await?;
            }
        }
        Ok(())
    }

    /// Names and last success recorded by earlier runs.
    pub async fn previous(&mut self) -> Result<PreviousState> {
        let exists: Option<String> =
            sqlx::query_scalar(AssertSqlSafe("SELECT to_regclass($1)::text"))
                .bind(CATALOG)
                .fetch_one(&mut self.conn)
                .await?;
        if exists.is_none() {
            return Ok(PreviousState::default());
        }
        let rows = sqlx::query(AssertSqlSafe(
            "SELECT table_name, column_name, role, object_type_id, attribute_id FROM assets_sql_catalog",
        ))
        .fetch_all(&mut self.conn)
        .await?;
        let rows = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("table_name")?,
                    r.try_get("column_name")?,
                    r.try_get("role")?,
                    r.try_get("object_type_id")?,
                    r.try_get("attribute_id")?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let last: Option<String> = sqlx::query_scalar(AssertSqlSafe(
            "SELECT to_char(max(started) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM assets_sql_runs WHERE status = 'succeeded'",
        ))
        .fetch_one(&mut self.conn)
        .await?;
        Ok(PreviousState {
            names: names_from_catalog(rows),
            last_success: last.and_then(|s| s.parse().ok()),
        })
    }

    /// Creates the tables (foreign keys come at the end), adds columns older tables lack,
    /// and decides where each table's rows go.
    async fn prepare_tables(&mut self, plan: &Plan) -> Result<()> {
        let mut tables = meta_tables();
        tables.extend(plan.all_tables().into_iter().cloned());
        let names: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
        let existing: HashSet<String> = sqlx::query_scalar(
            "SELECT relname::text FROM pg_class WHERE relnamespace = current_schema()::regnamespace \
             AND relkind IN ('r', 'p') AND relname = ANY($1)",
        )
        .bind(&names)
        .fetch_all(&mut self.conn)
        .await?
        .into_iter()
        .collect();
        let opts = DdlOptions::default();
        for t in &tables {
            for s in D.create_table(t, &opts) {
                self.exec(s).await?;
            }
        }
        // No `ADD COLUMN IF NOT EXISTS`: it locks the table exclusively even when the
        // column exists, which would block readers for the whole run.
        for t in tables.iter().filter(|t| existing.contains(&t.name)) {
            let have: Vec<String> = sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
            )
            .bind(&t.name)
            .fetch_all(&mut self.conn)
            .await?;
            for c in t
                .columns
                .iter()
                .filter(|c| !c.not_null && !have.contains(&c.name))
            {
                self.exec(format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    D.quote(&t.name),
                    D.quote(&c.name),
                    D.column_type(c.ty)
                ))
                .await?;
            }
        }
        self.drop_unplanned_foreign_keys(plan).await?;
        self.dest.clear();
        self.written.clear();
        for (i, t) in plan.types.iter().enumerate() {
            let mut defs = vec![(t.def.name.clone(), format!("assets_sql_stg_{i}"))];
            defs.extend(
                t.links
                    .iter()
                    .enumerate()
                    .map(|(j, l)| (l.def.name.clone(), format!("assets_sql_stg_{i}_{j}"))),
            );
            for (name, stg) in defs {
                let fresh = !existing.contains(&name);
                let into = if fresh {
                    name.clone()
                } else {
                    self.exec(format!(
                        "CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP",
                        D.quote(&stg),
                        D.quote(&name)
                    ))
                    .await?;
                    stg
                };
                self.dest.insert(name, Dest { into, fresh });
            }
        }
        Ok(())
    }

    /// Inserts or updates this run's row of the runs table.
    async fn put_run(&mut self, row: &[Value]) -> Result<()> {
        let runs = meta(RUNS);
        let sql = D.upsert(&runs, RUNS, 1, |_, c| {
            let ty = runs
                .columns
                .get(c)
                .map_or("text", |col| D.column_type(col.ty));
            format!("${}::{ty}", c + 1)
        });
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (v, col) in row.iter().zip(&runs.columns) {
            // NULLs bound with the column's type: the statement is prepared once and
            // reused with values.
            q = match (v, col.ty) {
                (Value::Null, crate::model::ColumnType::Integer) => q.bind(None::<i64>),
                _ => bind_pg(q, v),
            };
        }
        q.execute(&mut self.conn).await?;
        Ok(())
    }

    fn dest(&self, table: &str) -> Result<Dest> {
        self.dest
            .get(table)
            .cloned()
            .ok_or_else(|| Error::Invalid(format!("table {table} is not in the plan")))
    }

    /// Merges one object table's staged rows (and its link tables') into the live tables.
    async fn merge(&mut self, table: &TypeTable) -> Result<()> {
        let full = self.mode == Mode::Full;
        // A table this run created already holds exactly this run's rows.
        let obj = self.dest(&table.def.name)?;
        if !obj.fresh {
            self.exec(format!("ANALYZE {}", D.quote(&obj.into))).await?;
            self.exec(upsert_changed(&table.def, &obj.into)).await?;
            if full {
                self.exec(format!(
                    "DELETE FROM {t} WHERE NOT EXISTS (SELECT 1 FROM {s} x WHERE x.\"object_id\" = {t}.\"object_id\")",
                    t = D.quote(&table.def.name),
                    s = D.quote(&obj.into)
                ))
                .await?;
            } else {
                self.exec(D.delete_unseen(&table.def.name, &table.def.name))
                    .await?;
            }
        }
        for link in &table.links {
            let l = self.dest(&link.def.name)?;
            if l.fresh {
                continue;
            }
            self.exec(format!("ANALYZE {}", D.quote(&l.into))).await?;
            self.exec(delete_changed_links(&link.def, &l.into, &obj.into, full))
                .await?;
            if !full {
                self.exec(D.delete_unseen(&link.def.name, &table.def.name))
                    .await?;
            }
            let cols = quoted_columns(&link.def);
            self.exec(format!(
                "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ON CONFLICT (\"object_id\", \"position\") DO NOTHING",
                D.quote(&link.def.name),
                D.quote(&l.into)
            ))
            .await?;
        }
        Ok(())
    }
}

impl Sink for PgSink {
    async fn begin(&mut self, plan: &Plan, run: &RunInfo) -> Result<()> {
        self.conn.execute("BEGIN").await?;
        self.open = true;
        self.mode = run.mode;
        self.conn.execute("SET CONSTRAINTS ALL DEFERRED").await?;
        // Staging tables are analysed before they are merged, so the planner sees their
        // size (a few rows: index lookups; all rows: hash joins); a small sample suffices.
        self.conn
            .execute("SET LOCAL default_statistics_target = 10")
            .await?;
        self.prepare_tables(plan).await?;
        self.exec("DELETE FROM assets_sql_seen; DELETE FROM assets_sql_catalog;".into())
            .await?;
        let catalog = meta(CATALOG);
        self.copy(CATALOG, &catalog, &catalog_rows(plan, D)).await?;
        // One bound statement (one write): a one-row COPY is three messages, and the last
        // can wait for a delayed ACK (see the guide's performance notes).
        self.put_run(&run_row(plan, run, None)).await?;
        Ok(())
    }

    async fn seen(&mut self, table: &TypeTable, ids: &[String]) -> Result<()> {
        if self.mode == Mode::Full {
            // A full run stages every object: the staged ids are the ones that exist.
            return Ok(());
        }
        let rows: Vec<Vec<Value>> = ids
            .iter()
            .map(|id| vec![Value::Text(table.def.name.clone()), Value::Text(id.clone())])
            .collect();
        self.copy(SEEN, &meta(SEEN), &rows).await
    }

    async fn rows(&mut self, table: &TypeTable, rows: &[ObjectRow]) -> Result<()> {
        let obj = self.dest(&table.def.name)?;
        let links = table
            .links
            .iter()
            .map(|l| self.dest(&l.def.name))
            .collect::<Result<Vec<_>>>()?;
        // An object can come twice (a page boundary moved under concurrent changes): the
        // later copy replaces what this run wrote for it.
        let written = self.written.entry(table.def.name.clone()).or_default();
        let again: Vec<String> = rows
            .iter()
            .filter(|r| written.contains(&r.id))
            .map(|r| r.id.clone())
            .collect();
        written.extend(rows.iter().map(|r| r.id.clone()));
        if !again.is_empty() {
            for into in links.iter().chain([&obj]).map(|d| d.into.clone()) {
                sqlx::query(AssertSqlSafe(format!(
                    "DELETE FROM {} WHERE \"object_id\" = ANY($1)",
                    D.quote(&into)
                )))
                .bind(&again)
                .execute(&mut self.conn)
                .await?;
            }
        }
        self.copy_with(&obj.into, &table.def, rows.len(), |r, out| {
            if let Some(row) = rows.get(r) {
                write_line(&row.values, out);
            }
        })
        .await?;
        for (i, (link, dest)) in table.links.iter().zip(&links).enumerate() {
            self.copy_with(&dest.into, &link.def, rows.len(), |r, out| {
                if let Some(row) = rows.get(r) {
                    write_links(row, i, out);
                }
            })
            .await?;
        }
        Ok(())
    }

    async fn finish(&mut self, plan: &Plan, run: &RunInfo, counts: Counts) -> Result<()> {
        for t in &plan.types {
            self.merge(t).await?;
        }
        // Pending checks run now, then foreign keys this run introduced are added (each
        // checked by one query).
        self.conn.execute("SET CONSTRAINTS ALL IMMEDIATE").await?;
        let opts = DdlOptions::default();
        for t in plan.all_tables() {
            for s in D.add_foreign_keys(t, &opts) {
                self.exec(s).await?;
            }
        }
        self.put_run(&run_row(plan, run, Some(counts))).await?;
        self.conn.execute("DELETE FROM assets_sql_seen").await?;
        self.conn.execute("COMMIT").await?;
        self.open = false;
        self.dest.clear();
        self.written.clear();
        Ok(())
    }

    async fn abort(&mut self) -> Result<()> {
        self.dest.clear();
        self.written.clear();
        if self.open {
            self.open = false;
            self.conn.execute("ROLLBACK").await?;
        }
        Ok(())
    }
}

fn bind_pg<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    v: &Value,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Text(s) => q.bind(s.clone()),
        Value::Int(n) => q.bind(*n),
        Value::Bool(b) => q.bind(*b),
        Value::Double(d) => q.bind(*d),
        other => q.bind(D.temporal_text(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_are_written_as_the_dialect_writes_them() {
        let stamps = [
            "2024-01-02T03:04:05.678Z",
            "1999-12-31T23:59:59.999Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.123456Z",
            "-0044-03-15T12:00:00Z",
        ];
        for s in stamps {
            let ts: jiff::Timestamp = s.parse().unwrap_or_default();
            let v = Value::DateTime(ts);
            let mut out = String::new();
            write_value(&v, &mut out);
            assert_eq!(Some(out), D.temporal_text(&v), "{s}");
            let d = Value::Date(ts.to_zoned_datetime(jiff::tz::TimeZone::UTC).date());
            let mut out = String::new();
            write_value(&d, &mut out);
            assert_eq!(Some(out), D.temporal_text(&d), "{s}");
        }
    }
}
