//! The Assets to SQL app on the server: export definitions and their pages (`/assets-sql`),
//! API keys, runs (schedule, "Run now", history with progress), webhook push, direct load,
//! and the pull endpoint (`/api/assets-sql/v1/exports/{id}/sql|json`).
//!
//! Pages sit behind `protect_with_access` (admins of the app); the pull endpoint is
//! authenticated by API keys instead ([`api_router`]). Background runs use the site's service
//! credential, never a user's session.

pub mod defs;
mod keys;
mod pages;
pub mod pull;
pub mod runner;
pub mod webhook;

use axum::Router;
use axum::routing::{get, post};
use platform::apikeys::{ApiKeys, RateLimiter};
use platform::audit::AuditLog;
use platform::identity::AuthContext;
use platform::permissions::Authorizer;
use platform::scheduler::{Job, JobKey, Schedule, Scheduler};
use platform::store::{SiteId, Store};

use self::defs::{Defs, ExportDef, ns};
use self::runner::{RunContext, run_export};
use self::webhook::RetryPolicy;

/// What the app's routes and jobs share.
#[derive(Clone)]
pub struct AssetsSqlState {
    /// The app store.
    pub store: Store,
    /// Role checks.
    pub authorizer: Authorizer,
    /// Where changes are recorded.
    pub log: AuditLog,
    /// API keys of the pull endpoint.
    pub keys: ApiKeys,
    /// Per-key rate limit of the pull endpoint.
    pub limiter: RateLimiter,
    /// Service credentials (background runs) and the OAuth app.
    pub auth: AuthContext,
    /// Schedules of the exports (absent in tests that drive runs themselves).
    pub scheduler: Option<Scheduler>,
    /// This instance, as lease holder.
    pub instance: String,
    /// Webhook retries.
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for AssetsSqlState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssetsSqlState")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl AssetsSqlState {
    /// The state over `store`, calling Atlassian with the service credentials of `auth`.
    pub fn new(store: Store, auth: AuthContext, scheduler: Option<Scheduler>) -> Self {
        Self {
            authorizer: Authorizer::new(store.clone()),
            log: AuditLog::new(store.clone()),
            keys: ApiKeys::new(store.clone(), ns()),
            // 10 pulls at once, then one every 6 s per key.
            limiter: RateLimiter::new(10, 10),
            auth,
            scheduler,
            instance: format!("jsmkit-{}", uuid::Uuid::new_v4()),
            retry: RetryPolicy::default(),
            store,
        }
    }
}

/// The pages (behind sign-in).
pub fn pages(state: AssetsSqlState) -> Router {
    Router::new()
        .route("/assets-sql", get(pages::index))
        .route("/assets-sql/exports", post(pages::create))
        .route("/assets-sql/exports/new", get(pages::new_page))
        .route(
            "/assets-sql/exports/{id}",
            get(pages::detail).post(pages::update),
        )
        .route("/assets-sql/exports/{id}/runs", get(pages::runs_fragment))
        .route("/assets-sql/exports/{id}/run", post(pages::run_now))
        .route("/assets-sql/exports/{id}/delete", post(pages::delete))
        .route(
            "/assets-sql/exports/{id}/webhook/rotate",
            post(pages::rotate_secret),
        )
        .route(
            "/assets-sql/exports/{id}/webhook/drop-old",
            post(pages::drop_old_secret),
        )
        .route("/assets-sql/keys", get(keys::keys).post(keys::issue_key))
        .route("/assets-sql/keys/revoke", post(keys::revoke_key))
        .with_state(state)
}

/// The pull endpoint (API keys; no session, so no CSRF: it only reads).
pub fn api_router(state: AssetsSqlState) -> Router {
    Router::new()
        .route("/api/assets-sql/v1/exports/{id}/sql", get(pull::sql))
        .route("/api/assets-sql/v1/exports/{id}/json", get(pull::json))
        .with_state(state)
}

fn job_key(site: &SiteId, id: &str) -> Option<JobKey> {
    JobKey::new(Some(site.clone()), ns(), &format!("export:{id}")).ok()
}

/// Runs an export now with the site's service credential.
pub async fn run_with_service_credential(
    st: &AssetsSqlState,
    site: &SiteId,
    def: &ExportDef,
    trigger: String,
) -> Result<runner::RunRecord, String> {
    let client = st
        .auth
        .service_client(site)
        .await
        .map_err(|e| e.to_string())?;
    let assets = client.assets().await.map_err(|e| format!("Assets: {e}"))?;
    run_export(RunContext {
        store: &st.store,
        site,
        def,
        assets: &assets,
        trigger,
        instance: st.instance.clone(),
        retry: st.retry.clone(),
    })
    .await
    .map_err(|e| e.to_string())
}

/// (Re)registers the schedule of `def` (or removes it when it has none).
pub async fn schedule(st: &AssetsSqlState, site: &SiteId, def: &ExportDef) {
    let Some(scheduler) = &st.scheduler else {
        return;
    };
    let Some(key) = job_key(site, &def.id) else {
        return;
    };
    let Some(s) = &def.schedule else {
        let _ = scheduler.unregister(&key, true).await;
        return;
    };
    let Ok(sched) = Schedule::cron(&s.cron, &s.zone) else {
        tracing::warn!(export = %def.id, "stored schedule no longer parses; not scheduled");
        return;
    };
    let st2 = st.clone();
    let site2 = site.clone();
    let id = def.id.clone();
    scheduler.register(Job::new(key, sched, move |_ctx| {
        let st = st2.clone();
        let site = site2.clone();
        let id = id.clone();
        async move {
            let found = Defs::new(&st.store, &site).get(&id).await?;
            let Some((def, _)) = found else {
                return Ok(());
            };
            let r = run_with_service_credential(&st, &site, &def, "schedule".into()).await?;
            match r.status {
                runner::RunStatus::Failed => {
                    Err(r.error.unwrap_or_else(|| "the run failed".into()).into())
                }
                _ => Ok(()),
            }
        }
    }));
}

/// Registers the schedules of every export of every site (at start).
pub async fn schedule_all(st: &AssetsSqlState) -> Result<usize, platform::store::StoreError> {
    let mut n = 0;
    for site in st.store.list_sites().await? {
        for def in Defs::new(&st.store, &site).list().await? {
            if def.schedule.is_some() {
                schedule(st, &site, &def).await;
                n += 1;
            }
        }
    }
    Ok(n)
}
