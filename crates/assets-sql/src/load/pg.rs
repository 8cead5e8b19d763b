//! PostgreSQL: one transaction per run; rows go through `COPY` into temporary staging
//! tables and are upserted from there; link rows and seen ids are copied directly.

use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, Row};

use crate::dialect::postgres::copy_field;
use crate::dialect::{DdlOptions, Dialect, fk_name};
use crate::error::{Error, Result, redact};
use crate::model::{CATALOG, Plan, RUNS, SEEN, TableDef, TypeTable, meta_tables};
use crate::sink::{Counts, RunInfo, Sink, catalog_rows, meta, run_row};
use crate::value::{ObjectRow, Value};

use super::{PreviousState, link_rows, names_from_catalog};

const D: Dialect = Dialect::Postgres;

/// Loads into PostgreSQL.
pub struct PgSink {
    conn: PgConnection,
    staged: std::collections::HashMap<String, String>,
    open: bool,
}

fn copy_text(rows: &[Vec<Value>]) -> String {
    let mut out = String::new();
    for row in rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                out.push('\t');
            }
            match v {
                Value::Null => out.push_str("\\N"),
                Value::Text(s) => copy_field(s, &mut out),
                Value::Int(n) => out.push_str(&n.to_string()),
                Value::Bool(b) => out.push(if *b { 't' } else { 'f' }),
                Value::Double(d) if d.is_finite() => out.push_str(&format!("{d:?}")),
                Value::Double(_) => out.push_str("\\N"),
                other => copy_field(&D.temporal_text(other).unwrap_or_default(), &mut out),
            }
        }
        out.push('\n');
    }
    out
}

impl PgSink {
    /// Connects.
    pub async fn connect(url: &str) -> Result<Self> {
        let conn = PgConnection::connect(url)
            .await
            .map_err(|e| Error::Target {
                url: redact(url),
                reason: e.to_string(),
            })?;
        Ok(PgSink {
            conn,
            staged: std::collections::HashMap::new(),
            open: false,
        })
    }

    async fn copy(&mut self, table: &str, t: &TableDef, rows: &[Vec<Value>]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let cols: Vec<String> = t.columns.iter().map(|c| D.quote(&c.name)).collect();
        let stmt = format!("COPY {} ({}) FROM STDIN", D.quote(table), cols.join(", "));
        let mut copy = self.conn.copy_in_raw(&stmt).await?;
        let data = copy_text(rows);
        if let Err(e) = copy.send(data.as_bytes()).await {
            let _ = copy.abort("send failed").await;
            return Err(e.into());
        }
        copy.finish().await?;
        Ok(())
    }

    /// Drops foreign keys an earlier plan declared on this plan's tables that this plan
    /// does not (e.g. an export that now has an AQL filter, whose references may point
    /// outside the export).
    async fn drop_unplanned_foreign_keys(&mut self, plan: &Plan) -> Result<()> {
        let wanted: std::collections::BTreeSet<String> = plan
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
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "ALTER TABLE {} DROP CONSTRAINT {}",
                    D.quote(&table),
                    D.quote(&name)
                )))
                .execute(&mut self.conn)
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
}

impl Sink for PgSink {
    async fn begin(&mut self, plan: &Plan, run: &RunInfo) -> Result<()> {
        self.conn.execute("BEGIN").await?;
        self.open = true;
        self.conn.execute("SET CONSTRAINTS ALL DEFERRED").await?;
        // No `ADD COLUMN IF NOT EXISTS`: it locks the table exclusively even when the
        // column exists, which would block readers for the whole run.
        let opts = DdlOptions::default();
        let mut tables = meta_tables();
        tables.extend(plan.all_tables().into_iter().cloned());
        let mut ddl = Vec::new();
        for t in &tables {
            ddl.extend(D.create_table(t, &opts));
        }
        for s in std::mem::take(&mut ddl) {
            sqlx::raw_sql(AssertSqlSafe(s))
                .execute(&mut self.conn)
                .await?;
        }
        for t in &tables {
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
                ddl.push(format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    D.quote(&t.name),
                    D.quote(&c.name),
                    D.column_type(c.ty)
                ));
            }
        }
        for t in &tables {
            ddl.extend(D.add_foreign_keys(t, &opts));
        }
        for s in ddl {
            sqlx::raw_sql(AssertSqlSafe(s))
                .execute(&mut self.conn)
                .await?;
        }
        self.conn.execute("SET CONSTRAINTS ALL DEFERRED").await?;
        self.drop_unplanned_foreign_keys(plan).await?;
        self.staged.clear();
        for (i, t) in plan.types.iter().enumerate() {
            let stg = format!("assets_sql_stg_{i}");
            sqlx::raw_sql(AssertSqlSafe(format!(
                "CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP",
                D.quote(&stg),
                D.quote(&t.def.name)
            )))
            .execute(&mut self.conn)
            .await?;
            self.staged.insert(t.def.name.clone(), stg);
        }
        sqlx::raw_sql(AssertSqlSafe(
            "DELETE FROM assets_sql_seen; DELETE FROM assets_sql_catalog;",
        ))
        .execute(&mut self.conn)
        .await?;
        let catalog = meta(CATALOG);
        self.copy(CATALOG, &catalog, &catalog_rows(plan, D)).await?;
        let runs = meta(RUNS);
        self.copy(RUNS, &runs, &[run_row(plan, run, None)]).await?;
        Ok(())
    }

    async fn seen(&mut self, table: &TypeTable, ids: &[String]) -> Result<()> {
        let rows: Vec<Vec<Value>> = ids
            .iter()
            .map(|id| vec![Value::Text(table.def.name.clone()), Value::Text(id.clone())])
            .collect();
        self.copy(SEEN, &meta(SEEN), &rows).await
    }

    async fn rows(&mut self, table: &TypeTable, rows: &[ObjectRow]) -> Result<()> {
        let Some(stg) = self.staged.get(&table.def.name).cloned() else {
            return Err(Error::Invalid(format!(
                "table {} is not in the plan",
                table.def.name
            )));
        };
        sqlx::raw_sql(AssertSqlSafe(format!("TRUNCATE {}", D.quote(&stg))))
            .execute(&mut self.conn)
            .await?;
        let main: Vec<Vec<Value>> = rows.iter().map(|r| r.values.clone()).collect();
        self.copy(&stg, &table.def, &main).await?;
        let cols: Vec<String> = table.def.columns.iter().map(|c| D.quote(&c.name)).collect();
        let sets: Vec<String> = table
            .def
            .columns
            .iter()
            .skip(1)
            .map(|c| format!("{} = excluded.{}", D.quote(&c.name), D.quote(&c.name)))
            .collect();
        sqlx::raw_sql(AssertSqlSafe(format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ON CONFLICT (\"object_id\") DO UPDATE SET {}",
            D.quote(&table.def.name),
            D.quote(&stg),
            sets.join(", "),
            cols = cols.join(", "),
        )))
        .execute(&mut self.conn)
        .await?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        for (i, link) in table.links.iter().enumerate() {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {} WHERE \"object_id\" = ANY($1)",
                D.quote(&link.def.name)
            )))
            .bind(&ids)
            .execute(&mut self.conn)
            .await?;
            self.copy(&link.def.name, &link.def, &link_rows(rows, i))
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
        let row = run_row(plan, run, Some(counts));
        let runs = meta(RUNS);
        let sql = D.upsert(&runs, RUNS, 1, |_, c| {
            let ty = runs
                .columns
                .get(c)
                .map_or("text", |col| D.column_type(col.ty));
            format!("${}::{ty}", c + 1)
        });
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for v in &row {
            q = bind_pg(q, v);
        }
        q.execute(&mut self.conn).await?;
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
