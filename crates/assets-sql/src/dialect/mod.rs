//! SQL dialects: identifier quoting, literals for every value type, column types,
//! idempotent DDL, batched upserts and deletes. Every value in generated SQL text goes
//! through [`Dialect::literal`]; loaders bind values instead (see [`crate::load`]).

mod mssql;
mod mysql;
pub(crate) mod postgres;
mod sqlite;

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::model::{ColumnType, SEEN, TableDef};
use crate::value::Value;

/// A target SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Dialect {
    /// PostgreSQL 12+.
    Postgres,
    /// MySQL 8 / MariaDB 10.5+.
    MySql,
    /// SQLite 3.24+.
    Sqlite,
    /// SQL Server 2016+ (scripts only).
    MsSql,
}

/// Unknown dialect name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dialect {0:?}; use postgres, mysql, sqlite or mssql")]
pub struct UnknownDialect(pub String);

impl std::str::FromStr for Dialect {
    type Err = UnknownDialect;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Ok(Self::Postgres),
            "mysql" | "mariadb" => Ok(Self::MySql),
            "sqlite" | "sqlite3" => Ok(Self::Sqlite),
            "mssql" | "sqlserver" | "sql-server" | "tsql" => Ok(Self::MsSql),
            _ => Err(UnknownDialect(s.to_owned())),
        }
    }
}

/// Options of [`Dialect::create_table`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DdlOptions {
    /// Appended to every table name (the MariaDB loader's staging tables).
    pub table_suffix: String,
    /// Mixed into constraint names (they are database-wide in some dialects).
    pub constraint_tag: String,
    /// Also emit statements adding columns that an older table lacks (where the dialect
    /// can say "if not exists").
    pub add_missing_columns: bool,
}

/// FNV-1a, for short stable constraint names.
fn short_hash(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

/// The name of the foreign key on `table.column` (stable whatever other keys exist).
pub fn fk_name(table: &str, column: &str, tag: &str) -> String {
    format!("fk_{}{tag}", short_hash(&format!("{table}.{column}")))
}

/// The name of the n-th index of a table.
pub fn index_name(table: &str, n: usize, tag: &str) -> String {
    format!("ix_{}_{n}{tag}", short_hash(table))
}

impl Dialect {
    /// Every dialect.
    pub const ALL: [Dialect; 4] = [Self::Postgres, Self::MySql, Self::Sqlite, Self::MsSql];

    /// Lower-case name (`postgres`, `mysql`, `sqlite`, `mssql`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
            Self::Sqlite => "sqlite",
            Self::MsSql => "mssql",
        }
    }

    /// Quotes an identifier.
    pub fn quote(self, ident: &str) -> String {
        match self {
            Self::Postgres | Self::Sqlite => format!("\"{}\"", ident.replace('"', "\"\"")),
            Self::MySql => format!("`{}`", ident.replace('`', "``")),
            Self::MsSql => format!("[{}]", ident.replace(']', "]]")),
        }
    }

    /// The column type.
    pub fn column_type(self, ty: ColumnType) -> &'static str {
        match self {
            Self::Postgres => postgres::column_type(ty),
            Self::MySql => mysql::column_type(ty),
            Self::Sqlite => sqlite::column_type(ty),
            Self::MsSql => mssql::column_type(ty),
        }
    }

    /// A string literal.
    pub fn string(self, s: &str) -> String {
        match self {
            Self::Postgres => postgres::string(s),
            Self::MySql => mysql::string(s),
            Self::Sqlite => sqlite::string(s),
            Self::MsSql => mssql::string(s),
        }
    }

    /// A literal of any value.
    pub fn literal(self, v: &Value) -> String {
        match v {
            Value::Null => "NULL".into(),
            Value::Text(s) => self.string(s),
            Value::Int(i) => i.to_string(),
            Value::Bool(b) => match (self, b) {
                (Self::Postgres | Self::MySql, true) => "TRUE".into(),
                (Self::Postgres | Self::MySql, false) => "FALSE".into(),
                (_, true) => "1".into(),
                (_, false) => "0".into(),
            },
            Value::Double(d) if d.is_finite() => format!("{d:?}"),
            Value::Double(_) => "NULL".into(),
            Value::Date(_) | Value::Time(_) | Value::DateTime(_) => {
                self.string(&self.temporal_text(v).unwrap_or_default())
            }
        }
    }

    /// The text form of a date, time or instant this dialect reads back exactly.
    pub fn temporal_text(self, v: &Value) -> Option<String> {
        match v {
            Value::Date(d) => Some(d.strftime("%Y-%m-%d").to_string()),
            Value::Time(t) => Some(t.strftime("%H:%M:%S").to_string()),
            Value::DateTime(ts) => {
                let utc = ts.to_zoned_datetime(jiff::tz::TimeZone::UTC);
                Some(match self {
                    Self::Postgres => utc.strftime("%Y-%m-%d %H:%M:%S%.3f+00").to_string(),
                    Self::MySql => utc.strftime("%Y-%m-%d %H:%M:%S%.3f").to_string(),
                    Self::Sqlite => utc.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                    Self::MsSql => utc.strftime("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string(),
                })
            }
            _ => None,
        }
    }

    fn column_sql(self, c: &crate::model::ColumnDef) -> String {
        let mut s = format!("{} {}", self.quote(&c.name), self.column_type(c.ty));
        if c.not_null {
            s.push_str(" NOT NULL");
        }
        s
    }

    /// Idempotent statements creating `t` (if missing), its indexes and foreign keys.
    pub fn create_table(self, t: &TableDef, o: &DdlOptions) -> Vec<String> {
        let name = format!("{}{}", t.name, o.table_suffix);
        let q = |s: &str| self.quote(s);
        let mut items: Vec<String> = t.columns.iter().map(|c| self.column_sql(c)).collect();
        if !t.primary_key.is_empty() {
            let pk: Vec<String> = t.primary_key.iter().map(|c| q(c)).collect();
            items.push(format!("PRIMARY KEY ({})", pk.join(", ")));
        }
        let fk_sql = |fk: &crate::model::ForeignKey| {
            format!(
                "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
                q(&fk_name(&t.name, &fk.column, &o.constraint_tag)),
                q(&fk.column),
                q(&format!("{}{}", fk.table, o.table_suffix)),
                q("object_id")
            )
        };
        let mut out = Vec::new();
        match self {
            Self::Sqlite => {
                for fk in &t.foreign_keys {
                    items.push(format!("{} DEFERRABLE INITIALLY DEFERRED", fk_sql(fk)));
                }
                out.push(format!(
                    "CREATE TABLE IF NOT EXISTS {} (\n  {}\n);",
                    q(&name),
                    items.join(",\n  ")
                ));
            }
            Self::MySql => {
                for fk in &t.foreign_keys {
                    items.push(fk_sql(fk));
                }
                for (i, ix) in t.indexes.iter().enumerate() {
                    let cols: Vec<String> = ix.iter().map(|c| q(c)).collect();
                    items.push(format!(
                        "KEY {} ({})",
                        q(&index_name(&t.name, i, "")),
                        cols.join(", ")
                    ));
                }
                out.push(format!(
                    "CREATE TABLE IF NOT EXISTS {} (\n  {}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;",
                    q(&name),
                    items.join(",\n  ")
                ));
            }
            Self::Postgres => {
                out.push(format!(
                    "CREATE TABLE IF NOT EXISTS {} (\n  {}\n);",
                    q(&name),
                    items.join(",\n  ")
                ));
            }
            Self::MsSql => {
                out.push(format!(
                    "IF OBJECT_ID({}, N'U') IS NULL CREATE TABLE {} (\n  {}\n);",
                    self.string(&name),
                    q(&name),
                    items.join(",\n  ")
                ));
            }
        }
        if o.add_missing_columns {
            for c in t.columns.iter().filter(|c| !c.not_null) {
                match self {
                    Self::Postgres => out.push(format!(
                        "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {};",
                        q(&name),
                        self.column_sql(c)
                    )),
                    Self::MsSql => out.push(format!(
                        "IF COL_LENGTH({}, {}) IS NULL ALTER TABLE {} ADD {};",
                        self.string(&name),
                        self.string(&c.name),
                        q(&name),
                        self.column_sql(c)
                    )),
                    // No `ADD COLUMN IF NOT EXISTS` in MySQL: the statement is chosen by
                    // a look at information_schema and run as a prepared statement.
                    Self::MySql => out.push(format!(
                        "SET @jsmkit_ddl = IF((SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = {} AND column_name = {}) = 0, {}, 'DO 0');\nPREPARE jsmkit_ddl FROM @jsmkit_ddl;\nEXECUTE jsmkit_ddl;\nDEALLOCATE PREPARE jsmkit_ddl;",
                        self.string(&name),
                        self.string(&c.name),
                        self.string(&format!(
                            "ALTER TABLE {} ADD COLUMN {}",
                            q(&name),
                            self.column_sql(c)
                        )),
                    )),
                    Self::Sqlite => {}
                }
            }
        }
        match self {
            Self::Postgres | Self::Sqlite => {
                for (i, ix) in t.indexes.iter().enumerate() {
                    let cols: Vec<String> = ix.iter().map(|c| q(c)).collect();
                    out.push(format!(
                        "CREATE INDEX IF NOT EXISTS {} ON {} ({});",
                        q(&index_name(&t.name, i, &o.constraint_tag)),
                        q(&name),
                        cols.join(", ")
                    ));
                }
            }
            Self::MsSql => {
                for (i, ix) in t.indexes.iter().enumerate() {
                    let cols: Vec<String> = ix.iter().map(|c| q(c)).collect();
                    let ixn = index_name(&t.name, i, &o.constraint_tag);
                    out.push(format!(
                        "IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = {}) CREATE INDEX {} ON {} ({});",
                        self.string(&ixn),
                        q(&ixn),
                        q(&name),
                        cols.join(", ")
                    ));
                }
            }
            Self::MySql => {}
        }
        out
    }

    /// Idempotent statements adding the foreign keys of `t` (PostgreSQL: deferrable, in a
    /// `DO` block; SQL Server: guarded by `OBJECT_ID`). Empty for SQLite and MySQL, which
    /// declare them in `CREATE TABLE`.
    pub fn add_foreign_keys(self, t: &TableDef, o: &DdlOptions) -> Vec<String> {
        let name = format!("{}{}", t.name, o.table_suffix);
        let q = |s: &str| self.quote(s);
        t.foreign_keys
            .iter()
            .filter_map(|fk| {
                let fkn = fk_name(&t.name, &fk.column, &o.constraint_tag);
                let add = format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
                    q(&name),
                    q(&fkn),
                    q(&fk.column),
                    q(&format!("{}{}", fk.table, o.table_suffix)),
                    q("object_id")
                );
                match self {
                    Self::Postgres => Some(format!(
                        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = {}) THEN {} DEFERRABLE INITIALLY DEFERRED; END IF; END $$;",
                        self.string(&fkn),
                        add
                    )),
                    Self::MsSql => Some(format!(
                        "IF OBJECT_ID({}, N'F') IS NULL {};",
                        self.string(&fkn),
                        add
                    )),
                    Self::MySql | Self::Sqlite => None,
                }
            })
            .collect()
    }

    /// `INSERT` of several rows that replaces rows with the same primary key; `cell`
    /// renders row `r`, column `c` (a literal, or a placeholder for bound loads).
    pub fn upsert(
        self,
        t: &TableDef,
        table: &str,
        rows: usize,
        mut cell: impl FnMut(usize, usize) -> String,
    ) -> String {
        let q = |s: &str| self.quote(s);
        let cols: Vec<String> = t.columns.iter().map(|c| q(&c.name)).collect();
        let mut values = String::new();
        for r in 0..rows {
            if r > 0 {
                values.push_str(",\n  ");
            }
            values.push('(');
            for c in 0..t.columns.len() {
                if c > 0 {
                    values.push_str(", ");
                }
                let v = cell(r, c);
                match (self, t.columns.get(c)) {
                    // A source column of NULLs is typed int, which SQL Server will not
                    // convert to date/time types: give NULLs the target's type.
                    (Self::MsSql, Some(col)) if v == "NULL" => {
                        values.push_str(&format!("CAST(NULL AS {})", self.column_type(col.ty)));
                    }
                    _ => values.push_str(&v),
                }
            }
            values.push(')');
        }
        let rest: Vec<&str> = t
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .filter(|c| !t.primary_key.iter().any(|p| p == c))
            .collect();
        let pk: Vec<String> = t.primary_key.iter().map(|c| q(c)).collect();
        match self {
            Self::Postgres | Self::Sqlite => {
                let action = if rest.is_empty() || pk.is_empty() {
                    "DO NOTHING".to_owned()
                } else {
                    let sets: Vec<String> = rest
                        .iter()
                        .map(|c| format!("{} = excluded.{}", q(c), q(c)))
                        .collect();
                    format!("DO UPDATE SET {}", sets.join(", "))
                };
                let target = if pk.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", pk.join(", "))
                };
                format!(
                    "INSERT INTO {} ({}) VALUES\n  {}\nON CONFLICT{} {};",
                    q(table),
                    cols.join(", "),
                    values,
                    target,
                    action
                )
            }
            Self::MySql => {
                let sets: Vec<String> = if rest.is_empty() {
                    t.primary_key
                        .iter()
                        .take(1)
                        .map(|c| format!("{} = {}", q(c), q(c)))
                        .collect()
                } else {
                    rest.iter()
                        .map(|c| format!("{} = VALUES({})", q(c), q(c)))
                        .collect()
                };
                format!(
                    "INSERT INTO {} ({}) VALUES\n  {}\nON DUPLICATE KEY UPDATE {};",
                    q(table),
                    cols.join(", "),
                    values,
                    sets.join(", ")
                )
            }
            Self::MsSql => {
                let on: Vec<String> = t
                    .primary_key
                    .iter()
                    .map(|c| format!("tgt.{} = src.{}", q(c), q(c)))
                    .collect();
                let src_cols: Vec<String> = t
                    .columns
                    .iter()
                    .map(|c| format!("src.{}", q(&c.name)))
                    .collect();
                let mut s = format!(
                    "MERGE INTO {} AS tgt\nUSING (VALUES\n  {}\n) AS src ({})\nON {}\n",
                    q(table),
                    values,
                    cols.join(", "),
                    on.join(" AND ")
                );
                if !rest.is_empty() {
                    let sets: Vec<String> = rest
                        .iter()
                        .map(|c| format!("tgt.{} = src.{}", q(c), q(c)))
                        .collect();
                    let _ = writeln!(s, "WHEN MATCHED THEN UPDATE SET {}", sets.join(", "));
                }
                let _ = write!(
                    s,
                    "WHEN NOT MATCHED THEN INSERT ({}) VALUES ({});",
                    cols.join(", "),
                    src_cols.join(", ")
                );
                s
            }
        }
    }

    /// Plain multi-row `INSERT`.
    pub fn insert(
        self,
        t: &TableDef,
        table: &str,
        rows: usize,
        mut cell: impl FnMut(usize, usize) -> String,
    ) -> String {
        let cols: Vec<String> = t.columns.iter().map(|c| self.quote(&c.name)).collect();
        let rows: Vec<String> = (0..rows)
            .map(|r| {
                let cells: Vec<String> = (0..t.columns.len()).map(|c| cell(r, c)).collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        format!(
            "INSERT INTO {} ({}) VALUES\n  {};",
            self.quote(table),
            cols.join(", "),
            rows.join(",\n  ")
        )
    }

    /// `DELETE FROM table WHERE column IN (…)`; `items` are rendered literals or placeholders.
    pub fn delete_in(self, table: &str, column: &str, items: &[String]) -> String {
        format!(
            "DELETE FROM {} WHERE {} IN ({});",
            self.quote(table),
            self.quote(column),
            items.join(", ")
        )
    }

    /// Deletes the rows of `table` whose `object_id` was not recorded in the seen table
    /// under `seen_name` during this run.
    pub fn delete_unseen(self, table: &str, seen_name: &str) -> String {
        let q = |s: &str| self.quote(s);
        format!(
            "DELETE FROM {t} WHERE NOT EXISTS (SELECT 1 FROM {seen} s WHERE s.{tn} = {name} AND s.{oid} = {t}.{oid});",
            t = q(table),
            seen = q(SEEN),
            tn = q("table_name"),
            oid = q("object_id"),
            name = self.string(seen_name),
        )
    }
}

#[cfg(test)]
mod tests;
