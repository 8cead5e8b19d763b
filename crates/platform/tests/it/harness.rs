//! A fresh store per test on either backend: SQLite in a temp folder, or a fresh PostgreSQL
//! database `jsmkit_t_<random>` (dropped at the end, even when the test fails).

use std::path::PathBuf;
use std::sync::Arc;

use platform::store::{
    AppNs, Backend, Keyring, ManualClock, PgBackend, SiteId, SqliteBackend, Store, StoreUrl,
};
use secrecy::{ExposeSecret, SecretString};
use sqlx::AssertSqlSafe;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn pg_admin_url() -> String {
    std::env::var("JSMKIT_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// Drops the per-test PostgreSQL database when the test ends (also on panic).
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // A separate thread and runtime: Drop cannot await, and the test's runtime may be
        // shutting down.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let mut conn =
                    <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url).await?;
                sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await?;
                Ok::<_, sqlx::Error>(())
            })
            .map_err(std::io::Error::other)
        })
        .join();
    }
}

pub struct Ctx {
    pub kind: Kind,
    pub store: Store,
    pub url: StoreUrl,
    pub clock: ManualClock,
    /// A scratch folder (the SQLite file and key files live here).
    pub dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

pub fn site(s: &str) -> SiteId {
    SiteId::new(s).expect("valid site id")
}

pub fn app(s: &str) -> AppNs {
    AppNs::new(s).expect("valid app namespace")
}

impl Ctx {
    pub async fn new(kind: Kind) -> Ctx {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg) = match kind {
            Kind::Sqlite => (
                StoreUrl::Sqlite {
                    path: dir.path().join("data/store.db"),
                },
                None,
            ),
            Kind::Postgres => {
                let admin_url = pg_admin_url();
                let name = format!("jsmkit_t_{:016x}", getrandom::u64().expect("random"));
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
                    .await
                    .expect("connect to the test PostgreSQL server (JSMKIT_TEST_PG_URL)");
                sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let mut u = url::Url::parse(&admin_url).expect("admin URL");
                u.set_path(&name);
                let url = StoreUrl::Postgres {
                    url: SecretString::from(u.to_string()),
                };
                (url, Some(PgDatabase { admin_url, name }))
            }
        };
        let clock = ManualClock::starting_now();
        let keyring = Keyring::ephemeral().expect("keyring");
        let store = Store::open_and_migrate(&url, keyring)
            .await
            .expect("open store")
            .with_clock(Arc::new(clock.clone()));
        Ctx {
            kind,
            store,
            url,
            clock,
            dir,
            _pg: pg,
        }
    }

    /// Another store on the same database (own pools, like another process).
    pub async fn open(&self, keyring: Keyring) -> Store {
        Store::open_and_migrate(&self.url, keyring)
            .await
            .expect("open second store")
            .with_clock(Arc::new(self.clock.clone()))
    }

    /// The raw backend on the same database, for tests of the backend contract.
    pub async fn backend(&self) -> Arc<dyn Backend> {
        match &self.url {
            StoreUrl::Sqlite { path } => {
                Arc::new(SqliteBackend::open(path).await.expect("open sqlite"))
            }
            StoreUrl::Postgres { url } => {
                Arc::new(PgBackend::open(url).await.expect("open postgres"))
            }
        }
    }

    /// Copies a secret's stored row (ciphertext and key id) to another (site, app, key),
    /// straight in SQL, as an attacker with database access could.
    pub async fn copy_secret_row(&self, from: (&str, &str, &str), to: (&str, &str, &str)) {
        match &self.url {
            StoreUrl::Sqlite { path } => {
                let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
                let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&opts)
                    .await
                    .expect("raw sqlite");
                sqlx::query(
                    "INSERT OR REPLACE INTO kv_secrets \
                     (site, app, key, key_id, ciphertext, created_at_ms, updated_at_ms) \
                     SELECT ?4, ?5, ?6, key_id, ciphertext, created_at_ms, updated_at_ms \
                     FROM kv_secrets WHERE site = ?1 AND app = ?2 AND key = ?3",
                )
                .bind(from.0)
                .bind(from.1)
                .bind(from.2)
                .bind(to.0)
                .bind(to.1)
                .bind(to.2)
                .execute(&mut conn)
                .await
                .expect("copy row");
            }
            StoreUrl::Postgres { url } => {
                let mut conn =
                    <sqlx::PgConnection as sqlx::Connection>::connect(url.expose_secret())
                        .await
                        .expect("raw postgres");
                sqlx::query(
                    "INSERT INTO kv_secrets \
                     (site, app, key, key_id, ciphertext, created_at_ms, updated_at_ms) \
                     SELECT $4, $5, $6, key_id, ciphertext, created_at_ms, updated_at_ms \
                     FROM kv_secrets WHERE site = $1 AND app = $2 AND key = $3 \
                     ON CONFLICT (site, app, key) DO UPDATE SET \
                       key_id = excluded.key_id, ciphertext = excluded.ciphertext",
                )
                .bind(from.0)
                .bind(from.1)
                .bind(from.2)
                .bind(to.0)
                .bind(to.1)
                .bind(to.2)
                .execute(&mut conn)
                .await
                .expect("copy row");
            }
        }
    }

    pub fn key_file(&self) -> PathBuf {
        self.dir.path().join("secrets.keys")
    }
}
