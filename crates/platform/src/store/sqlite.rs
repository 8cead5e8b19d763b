//! The embedded SQLite backend: WAL, `synchronous=FULL`, one writer connection (write
//! transactions start with `BEGIN IMMEDIATE`) and a small pool of readers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection as _, SqliteConnection};

use super::backend::{
    Backend, KeyRange, RawEntry, RawPurge, RawTx, RawWrite, SecretRow, split_counts, tally_purge,
};
use super::error::{Result, StoreError};
use super::types::{AppCounts, AppNs, SiteId, WriteOutcome};

const NAME: &str = "sqlite";
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READERS: u32 = 4;

type EntryRow = (String, String, i64, Option<i64>);
type SecretTuple = (String, String, String, String, Vec<u8>);

fn db(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database {
        backend: NAME,
        op,
        source,
    }
}

fn entry((key, value, version, expires_at_ms): EntryRow) -> RawEntry {
    RawEntry {
        key,
        value,
        version,
        expires_at_ms,
    }
}

fn secret((site, app, key, key_id, ciphertext): SecretTuple) -> SecretRow {
    SecretRow {
        site,
        app,
        key,
        key_id,
        ciphertext,
    }
}

/// SQLite store in one database file.
#[derive(Debug)]
pub struct SqliteBackend {
    path: PathBuf,
    write: SqlitePool,
    read: SqlitePool,
}

impl SqliteBackend {
    /// Opens (creating the file and its folder if missing) the database at `path`.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let base = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Full);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(
                base.clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal),
            )
            .await
            .map_err(db("open the database"))?;
        let read = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(base)
            .await
            .map_err(db("open the database"))?;
        Ok(SqliteBackend {
            path: path.to_path_buf(),
            write,
            read,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

const SELECT_ONE: &str = "SELECT key, value, version, expires_at_ms FROM kv_entries \
     WHERE site = ?1 AND app = ?2 AND key = ?3 AND (expires_at_ms IS NULL OR expires_at_ms > ?4)";

const UPSERT: &str = "INSERT INTO kv_entries \
     (site, app, key, value, version, created_at_ms, updated_at_ms, expires_at_ms) \
     VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, ?6) \
     ON CONFLICT (site, app, key) DO UPDATE SET \
       value = excluded.value, \
       version = CASE WHEN kv_entries.expires_at_ms IS NOT NULL AND kv_entries.expires_at_ms <= ?5 \
                      THEN 1 ELSE kv_entries.version + 1 END, \
       created_at_ms = CASE WHEN kv_entries.expires_at_ms IS NOT NULL AND kv_entries.expires_at_ms <= ?5 \
                      THEN excluded.created_at_ms ELSE kv_entries.created_at_ms END, \
       updated_at_ms = excluded.updated_at_ms, \
       expires_at_ms = excluded.expires_at_ms \
     RETURNING version";

const DELETE_ONE: &str = "DELETE FROM kv_entries WHERE site = ?1 AND app = ?2 AND key = ?3 \
     RETURNING (expires_at_ms IS NULL OR expires_at_ms > ?4)";

async fn write_one(
    conn: &mut SqliteConnection,
    site: &SiteId,
    app: &AppNs,
    write: &RawWrite,
    now_ms: i64,
) -> Result<WriteOutcome> {
    match write {
        RawWrite::Set {
            key,
            value,
            expires_at_ms,
        } => {
            let (version,): (i64,) = sqlx::query_as(UPSERT)
                .bind(site.as_str())
                .bind(app.as_str())
                .bind(key)
                .bind(value)
                .bind(now_ms)
                .bind(*expires_at_ms)
                .fetch_one(&mut *conn)
                .await
                .map_err(db("write an entry"))?;
            Ok(WriteOutcome::Set { version })
        }
        RawWrite::Delete { key } => {
            let live: Option<(bool,)> = sqlx::query_as(DELETE_ONE)
                .bind(site.as_str())
                .bind(app.as_str())
                .bind(key)
                .bind(now_ms)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db("delete an entry"))?;
            Ok(WriteOutcome::Deleted {
                existed: live.is_some_and(|(l,)| l),
            })
        }
    }
}

#[async_trait]
impl Backend for SqliteBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.write)
            .await
            .map_err(|source| StoreError::Migrate {
                backend: NAME,
                source,
            })
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(db("answer a ping"))?;
        Ok(())
    }

    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    async fn get(
        &self,
        site: &SiteId,
        app: &AppNs,
        keys: &[String],
        now_ms: i64,
    ) -> Result<Vec<RawEntry>> {
        if let [key] = keys {
            let row: Option<EntryRow> = sqlx::query_as(SELECT_ONE)
                .bind(site.as_str())
                .bind(app.as_str())
                .bind(key)
                .bind(now_ms)
                .fetch_optional(&self.read)
                .await
                .map_err(db("read an entry"))?;
            return Ok(row.map(entry).into_iter().collect());
        }
        let keys_json = serde_json::Value::from(keys.to_vec()).to_string();
        let rows: Vec<EntryRow> = sqlx::query_as(
            "SELECT key, value, version, expires_at_ms FROM kv_entries \
             WHERE site = ?1 AND app = ?2 AND key IN (SELECT value FROM json_each(?3)) \
               AND (expires_at_ms IS NULL OR expires_at_ms > ?4)",
        )
        .bind(site.as_str())
        .bind(app.as_str())
        .bind(keys_json)
        .bind(now_ms)
        .fetch_all(&self.read)
        .await
        .map_err(db("read entries"))?;
        Ok(rows.into_iter().map(entry).collect())
    }

    async fn query(
        &self,
        site: &SiteId,
        app: &AppNs,
        range: &KeyRange,
        limit: u32,
        now_ms: i64,
    ) -> Result<Vec<RawEntry>> {
        let rows: Vec<EntryRow> = sqlx::query_as(
            "SELECT key, value, version, expires_at_ms FROM kv_entries \
             WHERE site = ?1 AND app = ?2 AND key >= ?3 AND key < ?4 AND key > ?5 \
               AND (expires_at_ms IS NULL OR expires_at_ms > ?6) \
             ORDER BY key LIMIT ?7",
        )
        .bind(site.as_str())
        .bind(app.as_str())
        .bind(&range.lower)
        .bind(&range.upper)
        .bind(&range.after)
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(db("query entries"))?;
        Ok(rows.into_iter().map(entry).collect())
    }

    async fn apply(&self, tx: RawTx<'_>) -> Result<Vec<WriteOutcome>> {
        let mut conn = self.write.acquire().await.map_err(db("start a write"))?;
        // One statement with no condition is its own transaction: an INSERT/DELETE takes the
        // write lock before it reads (so the busy timeout applies, like BEGIN IMMEDIATE),
        // and saves two round trips to the connection's worker thread.
        if let ([write], []) = (tx.writes, tx.conditions) {
            return Ok(vec![
                write_one(&mut conn, tx.site, tx.app, write, tx.now_ms).await?,
            ]);
        }
        let mut t = conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("start a transaction"))?;
        for (key, condition) in tx.conditions {
            let row: Option<EntryRow> = sqlx::query_as(SELECT_ONE)
                .bind(tx.site.as_str())
                .bind(tx.app.as_str())
                .bind(key)
                .bind(tx.now_ms)
                .fetch_optional(&mut *t)
                .await
                .map_err(db("check a condition"))?;
            let actual = row.map(|r| r.2);
            if !condition.holds(actual) {
                return Err(StoreError::ConditionFailed {
                    key: key.clone(),
                    condition: *condition,
                    actual,
                });
            }
        }
        let mut outcomes = Vec::with_capacity(tx.writes.len());
        for write in tx.writes {
            outcomes.push(write_one(&mut t, tx.site, tx.app, write, tx.now_ms).await?);
        }
        t.commit().await.map_err(db("commit a transaction"))?;
        Ok(outcomes)
    }

    async fn purge_expired(&self, now_ms: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM kv_entries WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= ?1",
        )
        .bind(now_ms)
        .execute(&self.write)
        .await
        .map_err(db("purge expired entries"))?;
        Ok(done.rows_affected())
    }

    async fn get_secret(&self, site: &SiteId, app: &AppNs, key: &str) -> Result<Option<SecretRow>> {
        let row: Option<SecretTuple> = sqlx::query_as(
            "SELECT site, app, key, key_id, ciphertext FROM kv_secrets \
             WHERE site = ?1 AND app = ?2 AND key = ?3",
        )
        .bind(site.as_str())
        .bind(app.as_str())
        .bind(key)
        .fetch_optional(&self.read)
        .await
        .map_err(db("read a secret"))?;
        Ok(row.map(secret))
    }

    async fn put_secret(
        &self,
        site: &SiteId,
        app: &AppNs,
        key: &str,
        key_id: &str,
        ciphertext: &[u8],
        now_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO kv_secrets (site, app, key, key_id, ciphertext, created_at_ms, updated_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) \
             ON CONFLICT (site, app, key) DO UPDATE SET \
               key_id = excluded.key_id, ciphertext = excluded.ciphertext, \
               updated_at_ms = excluded.updated_at_ms",
        )
        .bind(site.as_str())
        .bind(app.as_str())
        .bind(key)
        .bind(key_id)
        .bind(ciphertext)
        .bind(now_ms)
        .execute(&self.write)
        .await
        .map_err(db("write a secret"))?;
        Ok(())
    }

    async fn delete_secret(&self, site: &SiteId, app: &AppNs, key: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM kv_secrets WHERE site = ?1 AND app = ?2 AND key = ?3")
            .bind(site.as_str())
            .bind(app.as_str())
            .bind(key)
            .execute(&self.write)
            .await
            .map_err(db("delete a secret"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn secrets_not_under(
        &self,
        key_id: &str,
        after: Option<&SecretRow>,
        limit: u32,
    ) -> Result<Vec<SecretRow>> {
        let (s, a, k) = after.map_or(("", "", ""), |r| {
            (r.site.as_str(), r.app.as_str(), r.key.as_str())
        });
        let rows: Vec<SecretTuple> = sqlx::query_as(
            "SELECT site, app, key, key_id, ciphertext FROM kv_secrets \
             WHERE key_id <> ?1 AND (site, app, key) > (?2, ?3, ?4) \
             ORDER BY site, app, key LIMIT ?5",
        )
        .bind(key_id)
        .bind(s)
        .bind(a)
        .bind(k)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(db("list secrets to re-encrypt"))?;
        Ok(rows.into_iter().map(secret).collect())
    }

    async fn swap_secret(
        &self,
        old: &SecretRow,
        key_id: &str,
        ciphertext: &[u8],
        now_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE kv_secrets SET key_id = ?1, ciphertext = ?2, updated_at_ms = ?3 \
             WHERE site = ?4 AND app = ?5 AND key = ?6 AND ciphertext = ?7",
        )
        .bind(key_id)
        .bind(ciphertext)
        .bind(now_ms)
        .bind(&old.site)
        .bind(&old.app)
        .bind(&old.key)
        .bind(&old.ciphertext)
        .execute(&self.write)
        .await
        .map_err(db("re-encrypt a secret"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn secret_key_ids(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT key_id FROM kv_secrets ORDER BY key_id")
                .fetch_all(&self.read)
                .await
                .map_err(db("list key ids in use"))?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn list_sites(&self, now_ms: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT site FROM kv_entries WHERE expires_at_ms IS NULL OR expires_at_ms > ?1 \
             UNION SELECT site FROM kv_secrets ORDER BY 1",
        )
        .bind(now_ms)
        .fetch_all(&self.read)
        .await
        .map_err(db("list sites"))?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    async fn site_summary(&self, site: &SiteId, now_ms: i64) -> Result<Vec<AppCounts>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT app, 'entries', COUNT(*) FROM kv_entries \
               WHERE site = ?1 AND (expires_at_ms IS NULL OR expires_at_ms > ?2) GROUP BY app \
             UNION ALL \
             SELECT app, 'secrets', COUNT(*) FROM kv_secrets WHERE site = ?1 GROUP BY app",
        )
        .bind(site.as_str())
        .bind(now_ms)
        .fetch_all(&self.read)
        .await
        .map_err(db("count a site's data"))?;
        Ok(split_counts(rows))
    }

    async fn purge_site(&self, site: &SiteId, now_ms: i64) -> Result<RawPurge> {
        let mut conn = self.write.acquire().await.map_err(db("start a write"))?;
        let mut t = conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("start a transaction"))?;
        let entries: Vec<(String, bool)> = sqlx::query_as(
            "DELETE FROM kv_entries WHERE site = ?1 \
             RETURNING app, (expires_at_ms IS NULL OR expires_at_ms > ?2)",
        )
        .bind(site.as_str())
        .bind(now_ms)
        .fetch_all(&mut *t)
        .await
        .map_err(db("purge a site's entries"))?;
        let secrets: Vec<(String,)> =
            sqlx::query_as("DELETE FROM kv_secrets WHERE site = ?1 RETURNING app")
                .bind(site.as_str())
                .fetch_all(&mut *t)
                .await
                .map_err(db("purge a site's secrets"))?;
        t.commit().await.map_err(db("commit a site purge"))?;
        Ok(tally_purge(entries, secrets))
    }
}
