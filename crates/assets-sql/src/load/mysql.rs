//! MariaDB/MySQL, whose DDL is not transactional: each table is built as a `…__stg` copy
//! (seeded from the live table in incremental runs), loaded with bound multi-row upserts,
//! and all copies replace the live tables in one atomic `RENAME TABLE`. Readers see the
//! old tables or the new ones, never a mix. Foreign-key checks are off in the loading
//! session only (objects may reference objects loaded later).

use std::collections::BTreeSet;

use sqlx::mysql::MySqlArguments;
use sqlx::{AssertSqlSafe, Connection, Executor, MySql, MySqlConnection, Row};

use crate::dialect::{DdlOptions, Dialect};
use crate::error::{Error, Result, redact};
use crate::model::{CATALOG, Plan, RUNS, SEEN, TableDef, TypeTable, meta_tables};
use crate::sink::{Counts, Mode, RunInfo, Sink, catalog_rows, meta, run_row};
use crate::value::{ObjectRow, Value};

use super::{LOAD_BATCH, PreviousState, link_rows, names_from_catalog};

const D: Dialect = Dialect::MySql;
const STG: &str = "__stg";
const OLD: &str = "__old";

/// Loads into MariaDB/MySQL.
pub struct MySqlSink {
    conn: MySqlConnection,
    staged: Vec<String>,
    run_id: Option<String>,
}

fn bind<'q>(
    q: sqlx::query::Query<'q, MySql, MySqlArguments>,
    v: &Value,
) -> sqlx::query::Query<'q, MySql, MySqlArguments> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Text(s) => q.bind(s.clone()),
        Value::Int(n) => q.bind(*n),
        Value::Bool(b) => q.bind(*b),
        Value::Double(d) => q.bind(*d),
        other => q.bind(D.temporal_text(other)),
    }
}

impl MySqlSink {
    /// Connects.
    pub async fn connect(url: &str) -> Result<Self> {
        let conn = MySqlConnection::connect(url)
            .await
            .map_err(|e| Error::Target {
                url: redact(url),
                reason: e.to_string(),
            })?;
        Ok(MySqlSink {
            conn,
            staged: Vec::new(),
            run_id: None,
        })
    }

    async fn exec(&mut self, sql: String) -> Result<()> {
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut self.conn)
            .await?;
        Ok(())
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

    async fn live_tables(&mut self) -> Result<BTreeSet<String>> {
        let rows = sqlx::query(
            "SELECT CAST(table_name AS CHAR) AS t FROM information_schema.tables WHERE table_schema = DATABASE()",
        )
        .fetch_all(&mut self.conn)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|r| r.try_get::<String, _>("t").ok())
            .collect())
    }

    async fn live_columns(&mut self, table: &str) -> Result<BTreeSet<String>> {
        let rows = sqlx::query(
            "SELECT CAST(column_name AS CHAR) AS c FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?",
        )
        .bind(table)
        .fetch_all(&mut self.conn)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|r| r.try_get::<String, _>("c").ok())
            .collect())
    }

    /// Names and last success recorded by earlier runs.
    pub async fn previous(&mut self) -> Result<PreviousState> {
        let live = self.live_tables().await?;
        if !live.contains(CATALOG) {
            return Ok(PreviousState::default());
        }
        let rows = sqlx::query(
            "SELECT CAST(table_name AS CHAR) AS table_name, CAST(column_name AS CHAR) AS column_name, CAST(role AS CHAR) AS role, CAST(object_type_id AS CHAR) AS object_type_id, CAST(attribute_id AS CHAR) AS attribute_id FROM assets_sql_catalog",
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
        let last: Option<String> = if live.contains(RUNS) {
            sqlx::query_scalar(
                "SELECT DATE_FORMAT(MAX(started), '%Y-%m-%dT%H:%i:%s.%fZ') FROM assets_sql_runs WHERE status = 'succeeded'",
            )
            .fetch_one(&mut self.conn)
            .await?
        } else {
            None
        };
        Ok(PreviousState {
            names: names_from_catalog(rows),
            last_success: last.and_then(|s| s.parse().ok()),
        })
    }
}

impl Sink for MySqlSink {
    async fn begin(&mut self, plan: &Plan, run: &RunInfo) -> Result<()> {
        self.conn.execute("SET FOREIGN_KEY_CHECKS = 0").await?;
        self.conn.execute("SET time_zone = '+00:00'").await?;
        let tag: String = run
            .run_id
            .chars()
            .filter(char::is_ascii_hexdigit)
            .take(8)
            .collect();
        let live_opts = DdlOptions::default();
        for t in meta_tables().iter().filter(|t| t.name != CATALOG) {
            for s in D.create_table(t, &live_opts) {
                self.exec(s).await?;
            }
        }
        let stg_opts = DdlOptions {
            table_suffix: STG.into(),
            constraint_tag: format!("_{tag}"),
            add_missing_columns: false,
        };
        let mut tables = vec![meta(CATALOG)];
        tables.extend(plan.all_tables().into_iter().cloned());
        let live = self.live_tables().await?;
        self.staged.clear();
        for t in &tables {
            let stg = format!("{}{STG}", t.name);
            self.exec(format!("DROP TABLE IF EXISTS {}", D.quote(&stg)))
                .await?;
            for s in D.create_table(t, &stg_opts) {
                self.exec(s).await?;
            }
            self.staged.push(t.name.clone());
            if run.mode == Mode::Incremental && t.name != CATALOG && live.contains(&t.name) {
                let have = self.live_columns(&t.name).await?;
                let cols: Vec<String> = t
                    .columns
                    .iter()
                    .filter(|c| have.contains(&c.name))
                    .map(|c| D.quote(&c.name))
                    .collect();
                if !cols.is_empty() {
                    self.exec(format!(
                        "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
                        D.quote(&stg),
                        D.quote(&t.name),
                        cols = cols.join(", ")
                    ))
                    .await?;
                }
            }
        }
        self.conn.execute("DELETE FROM assets_sql_seen").await?;
        let catalog_stg = format!("{CATALOG}{STG}");
        self.write(&meta(CATALOG), &catalog_stg, &catalog_rows(plan, D), false)
            .await?;
        self.write(&meta(RUNS), RUNS, &[run_row(plan, run, None)], true)
            .await?;
        self.run_id = Some(run.run_id.clone());
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
        let stg = format!("{}{STG}", table.def.name);
        self.write(&table.def, &stg, &main, true).await?;
        for (i, link) in table.links.iter().enumerate() {
            let link_stg = format!("{}{STG}", link.def.name);
            for chunk in rows.chunks(LOAD_BATCH) {
                let marks: Vec<String> = chunk.iter().map(|_| "?".to_owned()).collect();
                let mut q = sqlx::query(AssertSqlSafe(D.delete_in(&link_stg, "object_id", &marks)));
                for r in chunk {
                    q = q.bind(r.id.clone());
                }
                q.execute(&mut self.conn).await?;
            }
            self.write(&link.def, &link_stg, &link_rows(rows, i), false)
                .await?;
        }
        Ok(())
    }

    async fn finish(&mut self, plan: &Plan, run: &RunInfo, counts: Counts) -> Result<()> {
        for t in &plan.types {
            for l in &t.links {
                self.exec(D.delete_unseen(&format!("{}{STG}", l.def.name), &t.def.name))
                    .await?;
            }
            self.exec(D.delete_unseen(&format!("{}{STG}", t.def.name), &t.def.name))
                .await?;
        }
        let live = self.live_tables().await?;
        let mut renames = Vec::new();
        for name in self.staged.clone() {
            let old = format!("{name}{OLD}");
            self.exec(format!("DROP TABLE IF EXISTS {}", D.quote(&old)))
                .await?;
            if live.contains(&name) {
                renames.push(format!("{} TO {}", D.quote(&name), D.quote(&old)));
            }
            renames.push(format!(
                "{} TO {}",
                D.quote(&format!("{name}{STG}")),
                D.quote(&name)
            ));
        }
        // The one atomic switch.
        self.exec(format!("RENAME TABLE {}", renames.join(", ")))
            .await?;
        for name in std::mem::take(&mut self.staged) {
            self.exec(format!(
                "DROP TABLE IF EXISTS {}",
                D.quote(&format!("{name}{OLD}"))
            ))
            .await?;
        }
        self.write(&meta(RUNS), RUNS, &[run_row(plan, run, Some(counts))], true)
            .await?;
        self.run_id = None;
        self.conn.execute("DELETE FROM assets_sql_seen").await?;
        self.conn.execute("SET FOREIGN_KEY_CHECKS = 1").await?;
        Ok(())
    }

    async fn abort(&mut self) -> Result<()> {
        for name in std::mem::take(&mut self.staged) {
            self.exec(format!(
                "DROP TABLE IF EXISTS {}",
                D.quote(&format!("{name}{STG}"))
            ))
            .await?;
        }
        // The runs table is live here (not swapped): record the failure.
        if let Some(id) = self.run_id.take() {
            let now = D.temporal_text(&Value::DateTime(jiff::Timestamp::now()));
            sqlx::query(
                "UPDATE assets_sql_runs SET status = 'failed', finished = ? WHERE run_id = ?",
            )
            .bind(now)
            .bind(id)
            .execute(&mut self.conn)
            .await?;
        }
        self.conn.execute("SET FOREIGN_KEY_CHECKS = 1").await?;
        Ok(())
    }
}
