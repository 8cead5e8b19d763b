//! Jobs of the platform itself.

use super::SchedulerError;
use super::cron::Schedule;
use super::job::{Job, JobError, JobKey};
use crate::audit::{AuditError, AuditLog};
use crate::permissions::platform_ns;
use crate::store::Store;

/// Id of the audit retention job (app `platform`, global).
pub const AUDIT_PURGE_JOB_ID: &str = "audit.purge";
/// When it runs: daily at 03:17 UTC.
pub const AUDIT_PURGE_CRON: &str = "17 3 * * *";

/// Deletes audit entries older than each site's retention, for every site with data in
/// the store. Carries on past a failing site and reports the first failure at the end.
/// Returns how many entries were deleted.
pub async fn purge_audit_logs(store: &Store) -> Result<u64, AuditError> {
    let log = AuditLog::new(store.clone());
    let mut deleted = 0u64;
    let mut first_error = None;
    for site in store.list_sites().await? {
        match log.purge(&site).await {
            Ok(n) => deleted += n,
            Err(e) => {
                tracing::warn!(%site, error = %e, "audit purge failed for a site");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(deleted),
    }
}

/// The daily audit retention job.
pub fn audit_purge_job(store: Store) -> Result<Job, SchedulerError> {
    let key = JobKey::global(platform_ns(), AUDIT_PURGE_JOB_ID)?;
    let schedule = Schedule::cron(AUDIT_PURGE_CRON, "UTC")?;
    Ok(Job::new(key, schedule, move |_ctx| {
        let store = store.clone();
        async move {
            let deleted = purge_audit_logs(&store)
                .await
                .map_err(|e| Box::new(e) as JobError)?;
            tracing::info!(deleted, "audit retention applied");
            Ok(())
        }
    }))
}
