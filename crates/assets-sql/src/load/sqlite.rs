//! SQLite: one transaction per run (DDL included), foreign keys deferred to the commit,
//! bound multi-row upserts.

use std::str::FromStr;

use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions};
use sqlx::{AssertSqlSafe, Connection, Executor, Row, Sqlite, SqliteConnection};

use crate::dialect::{DdlOptions, Dialect};
use crate::error::{Error, Result, redact};
use crate::model::{CATALOG, Plan, RUNS, SEEN, TableDef, TypeTable, meta_tables};
use crate::sink::{Counts, RunInfo, Sink, catalog_rows, meta, run_row};
use crate::value::{ObjectRow, Value};

use super::{LOAD_BATCH, PreviousState, link_rows, names_from_catalog};

const D: Dialect = Dialect::Sqlite;

/// Loads into SQLite.
pub struct SqliteSink {
    conn: SqliteConnection,
    open: bool,
}

fn bind<'q>(
    q: sqlx::query::Query<'q, Sqlite, SqliteArguments>,
    v: &Value,
) -> sqlx::query::Query<'q, Sqlite, SqliteArguments> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Text(s) => q.bind(s.clone()),
        Value::Int(n) => q.bind(*n),
        Value::Bool(b) => q.bind(i64::from(*b)),
        Value::Double(d) => q.bind(*d),
        other => q.bind(D.temporal_text(other)),
    }
}

impl SqliteSink {
    /// Opens (creating the file if missing).
    pub async fn connect(url: &str) -> Result<Self> {
        let err = |e: sqlx::Error| Error::Target {
            url: redact(url),
            reason: e.to_string(),
        };
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(err)?
            .create_if_missing(true)
            .foreign_keys(true);
        let conn = SqliteConnection::connect_with(&opts).await.map_err(err)?;
        Ok(SqliteSink { conn, open: false })
    }

    async fn write(
        &mut self,
        t: &TableDef,
        table: &str,
        rows: &[Vec<Value>],
        upsert: bool,
    ) -> Result<()> {
        for chunk in rows.chunks(LOAD_BATCH) {
            let sql = if upsert {
                D.upsert(t, table, chunk.len(), |_, _| "?".into())
            } else {
                D.insert(t, table, chunk.len(), |_, _| "?".into())
            };
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for row in chunk {
                for v in row {
                    q = bind(q, v);
                }
            }
            q.execute(&mut self.conn).await?;
        }
        Ok(())
    }

    /// Names and last success recorded by earlier runs.
    pub async fn previous(&mut self) -> Result<PreviousState> {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
                .bind(CATALOG)
                .fetch_optional(&mut self.conn)
                .await?;
        if exists.is_none() {
            return Ok(PreviousState::default());
        }
        let rows = sqlx::query(
            "SELECT table_name, column_name, role, object_type_id, attribute_id FROM assets_sql_catalog",
        )
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
        let last: Option<String> = sqlx::query_scalar(
            "SELECT max(started) FROM assets_sql_runs WHERE status = 'succeeded'",
        )
        .fetch_one(&mut self.conn)
        .await?;
        Ok(PreviousState {
            names: names_from_catalog(rows),
            last_success: last.and_then(|s| s.parse().ok()),
        })
    }
}

impl Sink for SqliteSink {
    async fn begin(&mut self, plan: &Plan, run: &RunInfo) -> Result<()> {
        // Without declared reference keys (an AQL filter), keys an earlier run declared
        // are not enforced either: references may point outside the export.
        let keys = plan
            .all_tables()
            .iter()
            .any(|t| t.foreign_keys.iter().any(|fk| fk.column != "object_id"));
        let pragma = if keys {
            "PRAGMA foreign_keys = ON"
        } else {
            "PRAGMA foreign_keys = OFF"
        };
        self.conn.execute(pragma).await?;
        self.conn.execute("BEGIN IMMEDIATE").await?;
        self.open = true;
        self.conn.execute("PRAGMA defer_foreign_keys = ON").await?;
        let opts = DdlOptions::default();
        let mut tables = meta_tables();
        tables.extend(plan.all_tables().into_iter().cloned());
        for t in &tables {
            for s in D.create_table(t, &opts) {
                sqlx::raw_sql(AssertSqlSafe(s))
                    .execute(&mut self.conn)
                    .await?;
            }
            // Columns added to Assets since the table was made.
            let existing: Vec<String> = sqlx::query(AssertSqlSafe(format!(
                "SELECT name FROM pragma_table_info({})",
                D.string(&t.name)
            )))
            .fetch_all(&mut self.conn)
            .await?
            .iter()
            .filter_map(|r| r.try_get::<String, _>("name").ok())
            .collect();
            for c in t
                .columns
                .iter()
                .filter(|c| !c.not_null && !existing.contains(&c.name))
            {
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    D.quote(&t.name),
                    D.quote(&c.name),
                    D.column_type(c.ty)
                )))
                .execute(&mut self.conn)
                .await?;
            }
        }
        self.conn
            .execute("DELETE FROM assets_sql_seen; DELETE FROM assets_sql_catalog;")
            .await?;
        self.write(&meta(CATALOG), CATALOG, &catalog_rows(plan, D), false)
            .await?;
        self.write(&meta(RUNS), RUNS, &[run_row(plan, run, None)], true)
            .await?;
        Ok(())
    }

    async fn seen(&mut self, table: &TypeTable, ids: &[String]) -> Result<()> {
        let rows: Vec<Vec<Value>> = ids
            .iter()
            .map(|id| vec![Value::Text(table.def.name.clone()), Value::Text(id.clone())])
            .collect();
        self.write(&meta(SEEN), SEEN, &rows, false).await
    }

    async fn rows(&mut self, table: &TypeTable, rows: &[ObjectRow]) -> Result<()> {
        let main: Vec<Vec<Value>> = rows.iter().map(|r| r.values.clone()).collect();
        self.write(&table.def, &table.def.name, &main, true).await?;
        for (i, link) in table.links.iter().enumerate() {
            for chunk in rows.chunks(LOAD_BATCH) {
                let marks: Vec<String> = chunk.iter().map(|_| "?".to_owned()).collect();
                let mut q = sqlx::query(AssertSqlSafe(D.delete_in(
                    &link.def.name,
                    "object_id",
                    &marks,
                )));
                for r in chunk {
                    q = q.bind(r.id.clone());
                }
                q.execute(&mut self.conn).await?;
            }
            self.write(&link.def, &link.def.name, &link_rows(rows, i), false)
                .await?;
        }
        Ok(())
    }

    async fn finish(&mut self, plan: &Plan, run: &RunInfo, counts: Counts) -> Result<()> {
        for t in &plan.types {
            for l in &t.links {
                sqlx::raw_sql(AssertSqlSafe(D.delete_unseen(&l.def.name, &t.def.name)))
                    .execute(&mut self.conn)
                    .await?;
            }
            sqlx::raw_sql(AssertSqlSafe(D.delete_unseen(&t.def.name, &t.def.name)))
                .execute(&mut self.conn)
                .await?;
        }
        self.write(&meta(RUNS), RUNS, &[run_row(plan, run, Some(counts))], true)
            .await?;
        self.conn.execute("DELETE FROM assets_sql_seen").await?;
        self.conn.execute("COMMIT").await?;
        self.open = false;
        Ok(())
    }

    async fn abort(&mut self) -> Result<()> {
        if self.open {
            self.open = false;
            self.conn.execute("ROLLBACK").await?;
        }
        Ok(())
    }
}
