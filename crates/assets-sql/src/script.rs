//! SQL scripts: DDL plus batched upserts, written to an async writer as objects arrive
//! (memory stays flat), re-runnable on an existing database.
//!
//! Shape: create tables if missing → clear the seen table and the catalog → catalog rows →
//! the run as `running` → per batch: seen ids, upsert, link rows replaced → delete rows
//! whose ids were not seen → the run as `succeeded` → clear seen. PostgreSQL and SQLite wrap
//! everything in one transaction; MySQL/MariaDB and SQL Server (whose DDL commits or cannot
//! be deferred) wrap the data part, after the DDL.

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::dialect::{DdlOptions, Dialect};
use crate::error::Result;
use crate::model::{CATALOG, Plan, RUNS, SEEN, TableDef, TypeTable, meta_tables};
use crate::sink::{Counts, RunInfo, Sink, catalog_rows, meta, run_row};
use crate::value::{ObjectRow, Value};

/// Rows per generated `INSERT` / `MERGE`.
pub const SCRIPT_BATCH: usize = 100;

/// Writes a script for one dialect.
pub struct ScriptSink<W> {
    out: W,
    dialect: Dialect,
}

impl<W: AsyncWrite + Unpin> ScriptSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W, dialect: Dialect) -> Self {
        ScriptSink { out, dialect }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }

    async fn put(&mut self, s: &str) -> Result<()> {
        self.out.write_all(s.as_bytes()).await?;
        self.out.write_all(b"\n").await?;
        Ok(())
    }

    async fn insert_rows(
        &mut self,
        t: &TableDef,
        table: &str,
        rows: &[Vec<Value>],
        upsert: bool,
    ) -> Result<()> {
        let d = self.dialect;
        for chunk in rows.chunks(SCRIPT_BATCH) {
            let cell = |r: usize, c: usize| {
                chunk
                    .get(r)
                    .and_then(|row| row.get(c))
                    .map_or_else(|| "NULL".to_owned(), |v| d.literal(v))
            };
            let sql = if upsert {
                d.upsert(t, table, chunk.len(), cell)
            } else {
                d.insert(t, table, chunk.len(), cell)
            };
            self.put(&sql).await?;
        }
        Ok(())
    }

    fn all_tables(plan: &Plan) -> Vec<TableDef> {
        let mut v = meta_tables();
        v.extend(plan.all_tables().into_iter().cloned());
        v
    }
}

impl<W: AsyncWrite + Unpin> Sink for ScriptSink<W> {
    async fn begin(&mut self, plan: &Plan, run: &RunInfo) -> Result<()> {
        let d = self.dialect;
        self.put(&format!(
            "-- Assets to SQL export ({}), run {} ({}), started {}.\n-- Re-runnable: tables are created if missing, rows upserted, rows of objects no longer in Assets deleted.",
            d.name(),
            run.run_id,
            run.mode.as_str(),
            run.started
        ))
        .await?;
        match d {
            Dialect::Postgres => {
                self.put(
                    "SET client_encoding = 'UTF8';\nSET client_min_messages = warning;\nBEGIN;\nSET CONSTRAINTS ALL DEFERRED;",
                )
                    .await?
            }
            Dialect::Sqlite => self.put("BEGIN;\nPRAGMA defer_foreign_keys = ON;").await?,
            Dialect::MySql => {
                self.put("SET NAMES utf8mb4;\nSET FOREIGN_KEY_CHECKS = 0;").await?
            }
            Dialect::MsSql => self.put("SET XACT_ABORT ON;\nSET NOCOUNT ON;").await?,
        }
        let opts = DdlOptions {
            add_missing_columns: true,
            ..DdlOptions::default()
        };
        let tables = Self::all_tables(plan);
        for t in &tables {
            for s in d.create_table(t, &opts) {
                self.put(&s).await?;
            }
        }
        for t in &tables {
            for s in d.add_foreign_keys(t, &opts) {
                self.put(&s).await?;
            }
        }
        match d {
            Dialect::MySql => self.put("START TRANSACTION;").await?,
            Dialect::MsSql => {
                self.put("BEGIN TRANSACTION;").await?;
                for t in plan.all_tables() {
                    if !t.foreign_keys.is_empty() {
                        self.put(&format!(
                            "ALTER TABLE {} NOCHECK CONSTRAINT ALL;",
                            d.quote(&t.name)
                        ))
                        .await?;
                    }
                }
            }
            _ => {}
        }
        self.put(&format!("DELETE FROM {};", d.quote(SEEN))).await?;
        self.put(&format!("DELETE FROM {};", d.quote(CATALOG)))
            .await?;
        let catalog = meta(CATALOG);
        self.insert_rows(&catalog, CATALOG, &catalog_rows(plan, d), false)
            .await?;
        let runs = meta(RUNS);
        self.insert_rows(&runs, RUNS, &[run_row(plan, run, None)], true)
            .await?;
        Ok(())
    }

    async fn seen(&mut self, table: &TypeTable, ids: &[String]) -> Result<()> {
        let seen = meta(SEEN);
        let rows: Vec<Vec<Value>> = ids
            .iter()
            .map(|id| vec![Value::Text(table.def.name.clone()), Value::Text(id.clone())])
            .collect();
        self.insert_rows(&seen, SEEN, &rows, false).await
    }

    async fn rows(&mut self, table: &TypeTable, rows: &[ObjectRow]) -> Result<()> {
        let d = self.dialect;
        let main: Vec<Vec<Value>> = rows.iter().map(|r| r.values.clone()).collect();
        self.insert_rows(&table.def, &table.def.name, &main, true)
            .await?;
        for (i, link) in table.links.iter().enumerate() {
            for chunk in rows.chunks(SCRIPT_BATCH) {
                let ids: Vec<String> = chunk.iter().map(|r| d.string(&r.id)).collect();
                if ids.is_empty() {
                    continue;
                }
                self.put(&d.delete_in(&link.def.name, "object_id", &ids))
                    .await?;
            }
            let link_rows: Vec<Vec<Value>> = rows
                .iter()
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
                .collect();
            self.insert_rows(&link.def, &link.def.name, &link_rows, false)
                .await?;
        }
        Ok(())
    }

    async fn finish(&mut self, plan: &Plan, run: &RunInfo, counts: Counts) -> Result<()> {
        let d = self.dialect;
        for t in &plan.types {
            for l in &t.links {
                self.put(&d.delete_unseen(&l.def.name, &t.def.name)).await?;
            }
            self.put(&d.delete_unseen(&t.def.name, &t.def.name)).await?;
        }
        let runs = meta(RUNS);
        self.insert_rows(&runs, RUNS, &[run_row(plan, run, Some(counts))], true)
            .await?;
        self.put(&format!("DELETE FROM {};", d.quote(SEEN))).await?;
        match d {
            Dialect::Postgres | Dialect::Sqlite => self.put("COMMIT;").await?,
            Dialect::MySql => self.put("COMMIT;\nSET FOREIGN_KEY_CHECKS = 1;").await?,
            Dialect::MsSql => {
                for t in plan.all_tables() {
                    if !t.foreign_keys.is_empty() {
                        self.put(&format!(
                            "ALTER TABLE {} WITH CHECK CHECK CONSTRAINT ALL;",
                            d.quote(&t.name)
                        ))
                        .await?;
                    }
                }
                self.put("COMMIT TRANSACTION;").await?
            }
        }
        self.out.flush().await?;
        Ok(())
    }

    async fn abort(&mut self) -> Result<()> {
        self.put("-- export failed: the script is incomplete and ends without COMMIT.")
            .await?;
        self.out.flush().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::NameMap;
    use crate::model::{Selection, plan};
    use crate::schema::{AttrKind, Attribute, DefaultType, Metadata, ObjectType};
    use crate::value::RawObject;
    use atlassian::client::{AttributeValue, Scalar};

    fn value(s: &str) -> AttributeValue {
        AttributeValue {
            value: Some(Scalar::Text(s.into())),
            ..AttributeValue::default()
        }
    }

    async fn script(d: Dialect) -> String {
        let meta = Metadata {
            workspace_id: "w".into(),
            schemas: vec![],
            types: vec![ObjectType {
                id: "1".into(),
                schema_id: "1".into(),
                name: "Host".into(),
                parent_id: None,
                attributes: vec![
                    Attribute {
                        id: "2".into(),
                        name: "Up".into(),
                        kind: AttrKind::Default(DefaultType::Boolean),
                        multi: false,
                    },
                    Attribute {
                        id: "3".into(),
                        name: "Tags".into(),
                        kind: AttrKind::Default(DefaultType::Select),
                        multi: true,
                    },
                ],
            }],
        };
        let p = plan(&meta, &Selection::default(), &mut NameMap::default(), true);
        let objects = (0..150).map(|i| RawObject {
            id: i.to_string(),
            label: Some(format!("h'{i}")),
            type_id: Some("1".into()),
            attributes: vec![
                ("2".into(), vec![value("true")]),
                ("3".into(), vec![value("a"), value("b")]),
            ],
            ..RawObject::default()
        });
        let mut sink = ScriptSink::new(Vec::new(), d);
        let counts = crate::run::run_objects(&p, &mut sink, objects).await;
        assert_eq!(counts.ok().map(|c| (c.objects, c.rows)), Some((150, 450)));
        String::from_utf8(sink.into_inner()).unwrap_or_default()
    }

    #[tokio::test]
    async fn scripts_have_the_expected_shape() {
        let pg = script(Dialect::Postgres).await;
        assert!(pg.contains("BEGIN;") && pg.trim_end().ends_with("COMMIT;"));
        assert!(pg.contains("CREATE TABLE IF NOT EXISTS \"host\""));
        assert_eq!(
            pg.matches("ON CONFLICT (\"object_id\") DO UPDATE").count(),
            2
        );
        assert!(pg.contains("'h''7'"));
        let my = script(Dialect::MySql).await;
        assert!(my.contains("ON DUPLICATE KEY UPDATE `object_key` = VALUES(`object_key`)"));
        assert!(my.contains("COLLATE=utf8mb4_bin"));
        let lite = script(Dialect::Sqlite).await;
        assert!(lite.contains("PRAGMA defer_foreign_keys = ON;"));
        let ms = script(Dialect::MsSql).await;
        assert_eq!(ms.matches("MERGE INTO [host] AS tgt").count(), 2);
        assert!(ms.contains("IF OBJECT_ID(N'host', N'U') IS NULL CREATE TABLE [host]"));
        assert!(ms.contains("DELETE FROM [host] WHERE NOT EXISTS"));
        assert!(ms.contains("CAST(NULL AS DATETIMEOFFSET(3))"));
    }
}
