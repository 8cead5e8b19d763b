//! Background jobs: cron (in an IANA time zone) or fixed-interval schedules, run by every
//! instance's [`Scheduler`] but at most once per occurrence across all instances sharing
//! the store.
//!
//! Each job's state lives in the store (namespace `platform`, key `sched:<app>:<id>`, under
//! the job's site or [`GLOBAL_SITE`]): next occurrence, pending run-now request, lease
//! (`locked_by`, `locked_until_ms`) and last outcome. A tick claims a due job by writing the
//! lease in a transaction conditioned on the version it read, so of two instances only one
//! wins; the winner renews the lease while the job runs and, when it ends, records the
//! outcome and moves to the next occurrence. If the instance dies, the lease expires and
//! another instance runs the occurrence again.
//!
//! ```text
//! let scheduler = Scheduler::new(store.clone(), SchedulerConfig::default());
//! scheduler.register(Job::new(key, Schedule::cron("0 6 * * *", "Europe/London")?, |ctx| async move {
//!     export(ctx.key.site()).await.map_err(Into::into)
//! }));
//! tokio::spawn(scheduler.clone().run(shutdown));
//! scheduler.run_now(&key).await?;
//! ```
//!
//! Tests drive it without sleeping: give the store a `ManualClock` and call
//! [`Scheduler::tick`] (or [`Scheduler::tick_at`]), then [`Tick::wait`].

mod cron;
mod job;
mod jobs;
mod runner;

pub use cron::{CronSchedule, Schedule, ScheduleError};
pub use job::{
    GLOBAL_SITE, Job, JobContext, JobError, JobFuture, JobKey, JobState, LastRun, MAX_JOB_ID,
    RunOutcome, STATE_PREFIX,
};
pub use jobs::{AUDIT_PURGE_CRON, AUDIT_PURGE_JOB_ID, audit_purge_job, purge_audit_logs};
pub use runner::{RunReport, Scheduler, SchedulerConfig, Tick};

use crate::store::StoreError;

/// Errors of the scheduler.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A schedule that cannot be used.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// A job id with characters outside `[A-Za-z0-9._:-]`, empty or too long.
    #[error("job id {0:?} is not valid: use 1 to 200 of A-Z a-z 0-9 . _ : -")]
    InvalidJobId(String),
    /// No such job here and no stored state.
    #[error("there is no job {0}")]
    UnknownJob(String),
    /// The job's state kept changing under us.
    #[error("job {0} is busy; try again")]
    Busy(String),
}
