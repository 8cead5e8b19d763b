//! The app store, modelled on Atlassian Forge's Key-Value Store: JSON values and encrypted
//! secrets per site (cloudId) and app namespace, with Forge's limits, versions, TTLs, prefix
//! queries with opaque cursors, batches and conditional transactions.
//!
//! [`Store`] validates, serializes and encrypts, then calls a [`Backend`]: SQLite (embedded,
//! the default) or PostgreSQL (shared by several instances). Apps get a [`Kv`] handle scoped
//! to one (site, app) with [`Store::kv`].
//!
//! ```text
//! let store = Store::open_and_migrate(&"sqlite://data/jsmkit.db".parse()?, keyring).await?;
//! let kv = store.kv(&SiteId::new("cloud-1")?, &AppNs::new("techdesk")?);
//! let version = kv.set("ticket:42", &json!({"state": "open"})).await?;
//! let page = kv.query().begins_with("ticket:").limit(50).fetch().await?;
//! kv.transaction().check("ticket:42", Condition::VersionEquals(version)).delete("ticket:42").commit().await?;
//! ```

mod backend;
pub mod bench;
mod crypto;
mod error;
mod keyfile;
mod keys;
mod kv;
mod postgres;
pub mod scratch;
mod secrets;
mod sqlite;
mod types;
mod url;

use std::fmt;
use std::sync::Arc;

pub use backend::{Backend, KeyRange, RawEntry, RawPurge, RawTx, RawWrite, SecretRow};
pub use crypto::{ENV_VAR as SECRETS_KEY_ENV, Keyring, KeyringError};
pub use error::{Result, StoreError};
pub use keys::{
    DEFAULT_QUERY_LIMIT, MAX_BATCH, MAX_KEY_LEN, MAX_QUERY_LIMIT, MAX_TRANSACTION, MAX_TTL_DAYS,
    MAX_VALUE_BYTES, validate_key,
};
pub use kv::{Kv, Query, Transaction};
pub use postgres::PgBackend;
pub use sqlite::SqliteBackend;
pub use types::{
    AppCounts, AppNs, Clock, Condition, Entry, ManualClock, Page, PurgeReport, RotationReport,
    SecretLocation, SiteId, SiteSummary, SystemClock, WriteOutcome,
};
pub use url::{StoreUrl, redact_url};

struct Inner {
    backend: Arc<dyn Backend>,
    keyring: Keyring,
    clock: Arc<dyn Clock>,
}

/// The app store. Cheap to clone (an `Arc` inside); clones share the connection pools.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend_name())
            .field("keyring", &self.inner.keyring)
            .field("clock", &self.inner.clock)
            .finish()
    }
}

impl Store {
    /// Opens the store at `url` without migrating it.
    #[tracing::instrument(skip_all, fields(url = %url.redacted()))]
    pub async fn open(url: &StoreUrl, keyring: Keyring) -> Result<Store> {
        let backend: Arc<dyn Backend> = match url {
            StoreUrl::Sqlite { path } => Arc::new(SqliteBackend::open(path).await?),
            StoreUrl::Postgres { url } => Arc::new(PgBackend::open(url).await?),
        };
        Ok(Self::from_backend(backend, keyring))
    }

    /// Opens the store and applies any pending migrations.
    pub async fn open_and_migrate(url: &StoreUrl, keyring: Keyring) -> Result<Store> {
        let store = Self::open(url, keyring).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// A store over an already opened backend.
    pub fn from_backend(backend: Arc<dyn Backend>, keyring: Keyring) -> Store {
        Store {
            inner: Arc::new(Inner {
                backend,
                keyring,
                clock: Arc::new(SystemClock),
            }),
        }
    }

    /// The same store (same pools and keyring) reading time from `clock`.
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> Store {
        Store {
            inner: Arc::new(Inner {
                backend: Arc::clone(&self.inner.backend),
                keyring: self.inner.keyring.clone(),
                clock,
            }),
        }
    }

    /// Applies the backend's pending migrations; running it again is a no-op.
    #[tracing::instrument(skip_all, fields(backend = self.backend_name()))]
    pub async fn migrate(&self) -> Result<()> {
        self.inner.backend.migrate().await
    }

    /// Readiness: one round trip to the database.
    pub async fn ping(&self) -> Result<()> {
        self.inner.backend.ping().await
    }

    /// Closes the connection pools (all clones stop working).
    pub async fn close(&self) {
        self.inner.backend.close().await;
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        self.inner.backend.name()
    }

    pub fn keyring(&self) -> &Keyring {
        &self.inner.keyring
    }

    /// The key-value and secrets API of one app on one site.
    pub fn kv(&self, site: &SiteId, app: &AppNs) -> Kv {
        Kv::new(self.clone(), site.clone(), app.clone())
    }

    pub(crate) fn backend(&self) -> &dyn Backend {
        self.inner.backend.as_ref()
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    pub(crate) fn count(&self, op: &'static str) {
        metrics::counter!("jsmkit_store_operations_total", "op" => op, "backend" => self.backend_name())
            .increment(1);
    }

    /// Deletes every expired entry (they are already invisible); returns how many.
    #[tracing::instrument(skip_all, fields(backend = self.backend_name()))]
    pub async fn purge_expired(&self) -> Result<u64> {
        self.count("purge_expired");
        let n = self.backend().purge_expired(self.now_ms()).await?;
        tracing::debug!(purged = n, "expired entries purged");
        Ok(n)
    }

    /// Sites that have entries or secrets, sorted.
    pub async fn list_sites(&self) -> Result<Vec<SiteId>> {
        self.count("list_sites");
        let sites = self.backend().list_sites(self.now_ms()).await?;
        Ok(sites
            .into_iter()
            .filter_map(|s| SiteId::new(s).ok())
            .collect())
    }

    /// What is stored for `site`, per app, without deleting anything.
    #[tracing::instrument(skip_all, fields(site = %site))]
    pub async fn site_summary(&self, site: &SiteId) -> Result<SiteSummary> {
        self.count("site_summary");
        let apps = self.backend().site_summary(site, self.now_ms()).await?;
        Ok(SiteSummary {
            site: site.to_string(),
            apps,
        })
    }

    /// Deletes everything stored for `site` (entries and secrets of every app): the
    /// uninstall path. Atomic; other sites are untouched.
    #[tracing::instrument(skip_all, fields(site = %site))]
    pub async fn purge_site(&self, site: &SiteId) -> Result<PurgeReport> {
        self.count("purge_site");
        let raw = self.backend().purge_site(site, self.now_ms()).await?;
        let report = PurgeReport {
            site: site.to_string(),
            apps: raw.apps,
            expired_entries: raw.expired_entries,
        };
        tracing::info!(
            entries = report.total_entries(),
            secrets = report.total_secrets(),
            "site purged from the store"
        );
        Ok(report)
    }
}
