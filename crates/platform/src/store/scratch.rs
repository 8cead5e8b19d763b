//! Throwaway stores for benchmarks and tests: a SQLite file in a temporary folder, or a fresh
//! PostgreSQL database created on a server and dropped afterwards.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use super::error::{Result, StoreError};
use super::url::{StoreUrl, redact_url};

fn db(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database {
        backend: "postgres",
        op,
        source,
    }
}

fn scratch(reason: String) -> StoreError {
    StoreError::Scratch { reason }
}

fn random_u64() -> Result<u64> {
    getrandom::u64().map_err(|e| scratch(format!("no randomness from the OS: {e}")))
}

/// A fresh PostgreSQL database named `jsmkit_<purpose>_<random hex>`; call
/// [`ScratchPostgres::drop_database`] when done (it is not dropped implicitly, since dropping
/// needs an async connection).
pub struct ScratchPostgres {
    admin_url: SecretString,
    name: String,
    url: StoreUrl,
}

impl ScratchPostgres {
    /// Creates the database through `admin_url` (a connection URL to any database of the
    /// server, e.g. `postgres://postgres@127.0.0.1:5432/postgres`). `purpose` must be 1-16
    /// lowercase ASCII letters.
    pub async fn create(admin_url: &str, purpose: &str) -> Result<ScratchPostgres> {
        if purpose.is_empty()
            || purpose.len() > 16
            || !purpose.bytes().all(|b| b.is_ascii_lowercase())
        {
            return Err(scratch(format!(
                "purpose {purpose:?} must be 1-16 lowercase letters"
            )));
        }
        let name = format!("jsmkit_{purpose}_{:016x}", random_u64()?);
        let mut url = url::Url::parse(admin_url).map_err(|e| {
            scratch(format!(
                "{}: not a PostgreSQL URL ({e})",
                redact_url(admin_url)
            ))
        })?;
        let mut conn = PgConnection::connect(admin_url)
            .await
            .map_err(db("connect"))?;
        // The name is made of lowercase letters, '_' and hex digits only (checked above).
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .map_err(db("create a scratch database"))?;
        conn.close().await.map_err(db("disconnect"))?;
        url.set_path(&name);
        Ok(ScratchPostgres {
            admin_url: SecretString::from(admin_url.to_string()),
            url: StoreUrl::Postgres {
                url: SecretString::from(url.to_string()),
            },
            name,
        })
    }

    /// The store URL of the new database.
    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// Drops the database (closing other sessions on it first).
    pub async fn drop_database(self) -> Result<()> {
        let mut conn = PgConnection::connect(self.admin_url.expose_secret())
            .await
            .map_err(db("connect"))?;
        sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await
        .map_err(db("drop a scratch database"))?;
        conn.close().await.map_err(db("disconnect"))?;
        Ok(())
    }
}

/// A SQLite store URL in a new temporary folder, removed when the returned guard drops.
pub fn scratch_sqlite() -> Result<(StoreUrl, ScratchDir)> {
    let dir = std::env::temp_dir().join(format!("jsmkit-scratch-{:016x}", random_u64()?));
    std::fs::create_dir_all(&dir)
        .map_err(|e| scratch(format!("cannot create {}: {e}", dir.display())))?;
    let url = StoreUrl::Sqlite {
        path: dir.join("scratch.db"),
    };
    Ok((url, ScratchDir(dir)))
}

/// Removes its folder when dropped.
pub struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
