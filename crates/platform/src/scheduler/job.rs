//! Jobs: their key, handler and the state persisted per job in the store.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::SchedulerError;
use super::cron::Schedule;
use crate::store::{AppNs, SiteId};

/// Site id under which global jobs (no site scope) keep their state. Atlassian cloudIds
/// are UUIDs, so it cannot collide with a real site.
pub const GLOBAL_SITE: &str = "jsmkit-global";
/// Store key prefix of job states (namespace `platform`).
pub const STATE_PREFIX: &str = "sched:";
/// Longest job id.
pub const MAX_JOB_ID: usize = 200;

/// Identifies a job: optional site scope, the app that owns it and its id within the app
/// (e.g. `(Some(site), assets-sql, "export:42")`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobKey {
    site: Option<SiteId>,
    app: AppNs,
    id: String,
}

impl JobKey {
    /// A key; `id` is 1–200 characters of `[A-Za-z0-9._:-]`.
    pub fn new(site: Option<SiteId>, app: AppNs, id: &str) -> Result<Self, SchedulerError> {
        let ok = !id.is_empty()
            && id.len() <= MAX_JOB_ID
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if !ok {
            return Err(SchedulerError::InvalidJobId(id.chars().take(50).collect()));
        }
        Ok(Self {
            site,
            app,
            id: id.to_owned(),
        })
    }

    /// A job that is not scoped to a site.
    pub fn global(app: AppNs, id: &str) -> Result<Self, SchedulerError> {
        Self::new(None, app, id)
    }

    /// The site scope, if any.
    pub fn site(&self) -> Option<&SiteId> {
        self.site.as_ref()
    }

    /// The owning app.
    pub fn app(&self) -> &AppNs {
        &self.app
    }

    /// The id within the app.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The site whose store holds the state (the scope, or [`GLOBAL_SITE`]).
    pub(crate) fn state_site(&self) -> Result<SiteId, SchedulerError> {
        match &self.site {
            Some(s) => Ok(s.clone()),
            None => Ok(SiteId::new(GLOBAL_SITE)?),
        }
    }

    /// The store key of the state.
    pub(crate) fn state_key(&self) -> String {
        format!("{STATE_PREFIX}{}:{}", self.app, self.id)
    }
}

impl fmt::Display for JobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.site {
            Some(s) => write!(f, "{s}/{}/{}", self.app, self.id),
            None => write!(f, "*/{}/{}", self.app, self.id),
        }
    }
}

/// What a handler returns on failure.
pub type JobError = Box<dyn std::error::Error + Send + Sync>;
/// The future of one run.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
type Handler = Arc<dyn Fn(JobContext) -> JobFuture + Send + Sync>;

/// What a handler gets for one run.
#[derive(Clone, Debug)]
pub struct JobContext {
    /// Which job.
    pub key: JobKey,
    /// The occurrence being run (ms since the epoch), or the run-now request.
    pub scheduled_for_ms: i64,
    /// True when started by [`Scheduler::run_now`](super::Scheduler::run_now).
    pub manual: bool,
}

/// A job: key, schedule and async handler.
#[derive(Clone)]
pub struct Job {
    key: JobKey,
    schedule: Schedule,
    handler: Handler,
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("key", &self.key)
            .field("schedule", &self.schedule.to_string())
            .finish()
    }
}

impl Job {
    /// A job running `handler` on `schedule`.
    pub fn new<F, Fut>(key: JobKey, schedule: Schedule, handler: F) -> Self
    where
        F: Fn(JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        Self {
            key,
            schedule,
            handler: Arc::new(move |ctx| Box::pin(handler(ctx))),
        }
    }

    /// The key.
    pub fn key(&self) -> &JobKey {
        &self.key
    }

    /// The schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    pub(crate) fn start(&self, ctx: JobContext) -> JobFuture {
        (self.handler)(ctx)
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RunOutcome {
    /// The handler returned `Ok`.
    Ok,
    /// The handler failed (or panicked); the message is clipped.
    Failed {
        /// What the handler said.
        message: String,
    },
}

/// The last finished run of a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRun {
    /// Start (ms since the epoch).
    pub started_at_ms: i64,
    /// End (ms since the epoch).
    pub finished_at_ms: i64,
    /// The instance that ran it.
    pub instance: String,
    /// Result.
    #[serde(flatten)]
    pub outcome: RunOutcome,
}

/// What the store keeps per job (namespace `platform`, key `sched:<app>:<id>`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobState {
    /// The schedule this state was computed for (text form).
    pub schedule: String,
    /// The next due occurrence (ms); `None` when the schedule never fires again.
    pub next_run_at_ms: Option<i64>,
    /// A pending run-now request (ms when asked).
    #[serde(default)]
    pub run_now_at_ms: Option<i64>,
    /// The instance holding the lease.
    #[serde(default)]
    pub locked_by: Option<String>,
    /// When the lease ends (ms); another instance may take the job over after it.
    #[serde(default)]
    pub locked_until_ms: Option<i64>,
    /// The last finished run.
    #[serde(default)]
    pub last_run: Option<LastRun>,
}

impl JobState {
    /// Whether a lease is held at `now`.
    pub fn is_locked(&self, now_ms: i64) -> bool {
        self.locked_by.is_some() && self.locked_until_ms.is_some_and(|u| u > now_ms)
    }

    /// Whether a run is due at `now` (an occurrence passed, or run-now was asked).
    pub fn is_due(&self, now_ms: i64) -> bool {
        self.run_now_at_ms.is_some() || self.next_run_at_ms.is_some_and(|n| n <= now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_checked() {
        let app = AppNs::new("assets-sql").unwrap();
        assert!(JobKey::new(None, app.clone(), "export:42").is_ok());
        assert!(JobKey::new(None, app.clone(), "").is_err());
        assert!(JobKey::new(None, app.clone(), "a/b").is_err());
        assert!(JobKey::new(None, app.clone(), &"x".repeat(201)).is_err());
        let k = JobKey::new(Some(SiteId::new("s1").unwrap()), app, "e.1").unwrap();
        assert_eq!(k.to_string(), "s1/assets-sql/e.1");
        assert_eq!(k.state_key(), "sched:assets-sql:e.1");
    }

    #[test]
    fn due_and_locked() {
        let s = JobState {
            next_run_at_ms: Some(100),
            locked_by: Some("a".into()),
            locked_until_ms: Some(200),
            ..JobState::default()
        };
        assert!(!s.is_due(99));
        assert!(s.is_due(100));
        assert!(s.is_locked(199));
        assert!(!s.is_locked(200));
        let asked = JobState {
            run_now_at_ms: Some(5),
            ..JobState::default()
        };
        assert!(asked.is_due(0));
    }
}
