//! The scheduler: a registry of jobs, a tick that claims due jobs with a lease in the
//! store, and a loop that ticks until shutdown.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::task::JoinHandle;
use tracing::Instrument;

use super::SchedulerError;
use super::job::{Job, JobContext, JobKey, JobState, LastRun, RunOutcome};
use crate::permissions::platform_ns;
use crate::store::{Condition, Kv, Store, StoreError};

/// Longest failure message kept in the job state.
const MAX_MESSAGE_CHARS: usize = 500;
/// Attempts to write the end of a run when run-now requests race with it.
const FINISH_ATTEMPTS: usize = 5;

/// Timings of a [`Scheduler`].
#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    /// How long a claimed run is leased; renewed every third of it while the job runs.
    /// After it ends without renewal (the instance died), another instance takes over.
    pub lease: Duration,
    /// How often the loop looks for due jobs.
    pub poll_interval: Duration,
    /// How long shutdown waits for running jobs before abandoning them (their leases
    /// then expire and another instance reruns them).
    pub shutdown_grace: Duration,
    /// This instance's name in leases (unique per process).
    pub instance_id: String,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(20),
            instance_id: format!("jsmkit-{}", uuid::Uuid::new_v4().simple()),
        }
    }
}

/// How one run ended, as reported by [`Tick::wait`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunReport {
    /// Which job.
    pub key: JobKey,
    /// Result.
    pub outcome: RunOutcome,
}

/// The runs one tick started.
#[derive(Debug, Default)]
pub struct Tick {
    /// Jobs claimed and started, in key order.
    pub started: Vec<JobKey>,
    handles: Vec<JoinHandle<RunReport>>,
}

impl Tick {
    /// Waits for every started run to end.
    pub async fn wait(self) -> Vec<RunReport> {
        let mut out = Vec::with_capacity(self.handles.len());
        for h in self.handles {
            if let Ok(r) = h.await {
                out.push(r);
            }
        }
        out
    }
}

struct Inner {
    store: Store,
    config: SchedulerConfig,
    jobs: Mutex<BTreeMap<JobKey, Job>>,
    /// Jobs running in this process: never claimed twice here, even if a lease renewal
    /// failed and the lease expired meanwhile.
    running: Mutex<BTreeSet<JobKey>>,
}

/// Marks a job as running in this process until dropped (also on panic or abort).
struct RunningGuard {
    inner: Arc<Inner>,
    key: JobKey,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

/// Runs registered jobs when due, at most once per occurrence across every instance that
/// shares the store. Cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("instance", &self.inner.config.instance_id)
            .field("jobs", &self.jobs().len())
            .finish()
    }
}

/// A claimed run.
struct Claim {
    scheduled_for_ms: i64,
    run_now_at_ms: Option<i64>,
    started_at_ms: i64,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn next_due(job: &Job, from_ms: i64) -> Option<i64> {
    let from = jiff::Timestamp::from_millisecond(from_ms).ok()?;
    job.schedule().next_after(from).map(|t| t.as_millisecond())
}

impl Scheduler {
    /// A scheduler keeping job state in `store` (namespace `platform`) and reading time
    /// from the store's clock.
    pub fn new(store: Store, config: SchedulerConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                config,
                jobs: Mutex::new(BTreeMap::new()),
                running: Mutex::new(BTreeSet::new()),
            }),
        }
    }

    /// This instance's id in leases.
    pub fn instance_id(&self) -> &str {
        &self.inner.config.instance_id
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, BTreeMap<JobKey, Job>> {
        self.inner
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `job`, replacing a job with the same key (a changed schedule takes effect at
    /// the next tick).
    pub fn register(&self, job: Job) {
        tracing::debug!(job = %job.key(), schedule = %job.schedule(), "job registered");
        self.registry().insert(job.key().clone(), job);
    }

    /// Removes a job from this instance; with `forget`, deletes its stored state too (do
    /// that when the job is gone for good, e.g. an export was deleted). Returns whether it
    /// was registered.
    pub async fn unregister(&self, key: &JobKey, forget: bool) -> Result<bool, SchedulerError> {
        let was = self.registry().remove(key).is_some();
        if forget {
            self.kv(key)?.delete(&key.state_key()).await?;
        }
        Ok(was)
    }

    /// Keys of the registered jobs, sorted.
    pub fn jobs(&self) -> Vec<JobKey> {
        self.registry().keys().cloned().collect()
    }

    fn is_running_here(&self, key: &JobKey) -> bool {
        self.inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(key)
    }

    fn job(&self, key: &JobKey) -> Option<Job> {
        self.registry().get(key).cloned()
    }

    fn kv(&self, key: &JobKey) -> Result<Kv, SchedulerError> {
        Ok(self.inner.store.kv(&key.state_site()?, &platform_ns()))
    }

    fn now_ms(&self) -> i64 {
        self.inner.store.now_ms()
    }

    /// The stored state of a job (next run, lease, last outcome).
    pub async fn state(&self, key: &JobKey) -> Result<Option<JobState>, SchedulerError> {
        Ok(self.kv(key)?.get(&key.state_key()).await?)
    }

    /// Asks for a run as soon as possible (the next tick of any instance), whatever the
    /// schedule. The job must be registered here or have stored state.
    pub async fn run_now(&self, key: &JobKey) -> Result<(), SchedulerError> {
        let kv = self.kv(key)?;
        let skey = key.state_key();
        for _ in 0..FINISH_ATTEMPTS {
            let now = self.now_ms();
            let entry = kv.get_entry::<JobState>(&skey).await?;
            let tx = match entry {
                Some(e) => {
                    let mut state = e.value;
                    state.run_now_at_ms = Some(now);
                    kv.transaction()
                        .check(&skey, Condition::VersionEquals(e.version))
                        .set(&skey, &state)
                }
                None => {
                    let job = self
                        .job(key)
                        .ok_or_else(|| SchedulerError::UnknownJob(key.to_string()))?;
                    let state = JobState {
                        schedule: job.schedule().to_string(),
                        next_run_at_ms: next_due(&job, now),
                        run_now_at_ms: Some(now),
                        ..JobState::default()
                    };
                    kv.transaction()
                        .check(&skey, Condition::Absent)
                        .set(&skey, &state)
                }
            };
            match tx.commit().await {
                Ok(_) => {
                    tracing::info!(job = %key, "run requested");
                    return Ok(());
                }
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(SchedulerError::Busy(key.to_string()))
    }

    /// Claims and starts every due job at the store clock's "now".
    pub async fn tick(&self) -> Tick {
        self.tick_at(self.now_ms()).await
    }

    /// Claims and starts every due job as if it were `now_ms`. The runs go on in tasks;
    /// [`Tick::wait`] waits for them.
    pub async fn tick_at(&self, now_ms: i64) -> Tick {
        let jobs: Vec<Job> = self.registry().values().cloned().collect();
        let mut tick = Tick::default();
        for job in jobs {
            if self.is_running_here(job.key()) {
                continue;
            }
            match self.try_claim(&job, now_ms).await {
                Ok(Some(claim)) => {
                    tick.started.push(job.key().clone());
                    self.inner
                        .running
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(job.key().clone());
                    let guard = RunningGuard {
                        inner: Arc::clone(&self.inner),
                        key: job.key().clone(),
                    };
                    let this = self.clone();
                    tick.handles.push(tokio::spawn(async move {
                        let _guard = guard;
                        this.run_claimed(job, claim).await
                    }));
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(job = %job.key(), error = %e, "job could not be claimed"),
            }
        }
        tick
    }

    /// Initialises the state, or takes the lease when the job is due and not leased.
    async fn try_claim(&self, job: &Job, now: i64) -> Result<Option<Claim>, SchedulerError> {
        let key = job.key();
        let kv = self.kv(key)?;
        let skey = key.state_key();
        let schedule = job.schedule().to_string();
        let Some(entry) = kv.get_entry::<JobState>(&skey).await? else {
            let state = JobState {
                schedule,
                next_run_at_ms: next_due(job, now),
                ..JobState::default()
            };
            let r = kv
                .transaction()
                .check(&skey, Condition::Absent)
                .set(&skey, &state)
                .commit()
                .await;
            return match r {
                Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            };
        };
        let mut state = entry.value;
        if state.is_locked(now) {
            return Ok(None);
        }
        let rescheduled = state.schedule != schedule;
        if rescheduled {
            state.schedule = schedule;
            state.next_run_at_ms = next_due(job, now);
        }
        let scheduled_for_ms = match (state.run_now_at_ms, state.next_run_at_ms) {
            (Some(asked), _) => asked,
            (None, Some(next)) if next <= now => next,
            _ => {
                if rescheduled {
                    let r = kv
                        .transaction()
                        .check(&skey, Condition::VersionEquals(entry.version))
                        .set(&skey, &state)
                        .commit()
                        .await;
                    match r {
                        Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                return Ok(None);
            }
        };
        state.locked_by = Some(self.inner.config.instance_id.clone());
        state.locked_until_ms = Some(now.saturating_add(ms(self.inner.config.lease)));
        let r = kv
            .transaction()
            .check(&skey, Condition::VersionEquals(entry.version))
            .set(&skey, &state)
            .commit()
            .await;
        match r {
            Ok(_) => Ok(Some(Claim {
                scheduled_for_ms,
                run_now_at_ms: state.run_now_at_ms,
                started_at_ms: now,
            })),
            Err(StoreError::ConditionFailed { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs a claimed job in its own span, renewing the lease until it ends, then records
    /// the outcome and the next occurrence.
    async fn run_claimed(self, job: Job, claim: Claim) -> RunReport {
        let key = job.key().clone();
        let span = tracing::info_span!(
            "job",
            job = %key,
            instance = %self.inner.config.instance_id,
            manual = claim.run_now_at_ms.is_some(),
            scheduled_for_ms = claim.scheduled_for_ms,
        );
        async move {
            let ctx = JobContext {
                key: key.clone(),
                scheduled_for_ms: claim.scheduled_for_ms,
                manual: claim.run_now_at_ms.is_some(),
            };
            tracing::info!("job started");
            // Its own task, so a panic ends the run, not the scheduler.
            let mut handle =
                tokio::spawn(job.start(ctx).instrument(tracing::Span::current()));
            let renew_every = (self.inner.config.lease / 3).max(Duration::from_millis(100));
            let result = loop {
                tokio::select! {
                    r = &mut handle => break r,
                    () = tokio::time::sleep(renew_every) => {
                        match self.renew(&key).await {
                            Ok(true) => {}
                            Ok(false) => tracing::warn!("lease lost; another instance may run this job"),
                            Err(e) => tracing::warn!(error = %e, "lease renewal failed"),
                        }
                    }
                }
            };
            let outcome = match result {
                Ok(Ok(())) => RunOutcome::Ok,
                Ok(Err(e)) => RunOutcome::Failed {
                    message: e.to_string().chars().take(MAX_MESSAGE_CHARS).collect(),
                },
                Err(join) if join.is_panic() => RunOutcome::Failed {
                    message: "the job panicked".into(),
                },
                Err(_) => RunOutcome::Failed {
                    message: "the job was cancelled".into(),
                },
            };
            match &outcome {
                RunOutcome::Ok => tracing::info!("job finished"),
                RunOutcome::Failed { message } => tracing::warn!(%message, "job failed"),
            }
            metrics::counter!(
                "jsmkit_job_runs_total",
                "app" => key.app().to_string(),
                "outcome" => if outcome == RunOutcome::Ok { "ok" } else { "failed" },
            )
            .increment(1);
            if let Err(e) = self.finish(&job, &claim, outcome.clone()).await {
                tracing::warn!(error = %e, "job outcome could not be recorded");
            }
            RunReport { key, outcome }
        }
        .instrument(span)
        .await
    }

    /// Extends this instance's lease; `false` when the lease is no longer ours.
    async fn renew(&self, key: &JobKey) -> Result<bool, SchedulerError> {
        let kv = self.kv(key)?;
        let skey = key.state_key();
        let Some(entry) = kv.get_entry::<JobState>(&skey).await? else {
            return Ok(false);
        };
        let mut state = entry.value;
        if state.locked_by.as_deref() != Some(self.instance_id()) {
            return Ok(false);
        }
        state.locked_until_ms = Some(self.now_ms().saturating_add(ms(self.inner.config.lease)));
        match kv
            .transaction()
            .check(&skey, Condition::VersionEquals(entry.version))
            .set(&skey, &state)
            .commit()
            .await
        {
            Ok(_) => Ok(true),
            // A run-now request raced: try again at the next renewal.
            Err(StoreError::ConditionFailed { .. }) => Ok(true),
            Err(e) => Err(e.into()),
        }
    }

    /// Records the outcome, releases the lease and moves to the next occurrence — unless
    /// the lease was taken over meanwhile.
    async fn finish(
        &self,
        job: &Job,
        claim: &Claim,
        outcome: RunOutcome,
    ) -> Result<(), SchedulerError> {
        let key = job.key();
        let kv = self.kv(key)?;
        let skey = key.state_key();
        for _ in 0..FINISH_ATTEMPTS {
            let now = self.now_ms();
            let Some(entry) = kv.get_entry::<JobState>(&skey).await? else {
                // Unregistered with `forget` while running.
                return Ok(());
            };
            let mut state = entry.value;
            if state.locked_by.as_deref() != Some(self.instance_id()) {
                tracing::warn!(job = %key, "the lease was taken over before the run ended; outcome not recorded");
                return Ok(());
            }
            state.locked_by = None;
            state.locked_until_ms = None;
            state.last_run = Some(LastRun {
                started_at_ms: claim.started_at_ms,
                finished_at_ms: now,
                instance: self.instance_id().to_owned(),
                outcome: outcome.clone(),
            });
            if claim.run_now_at_ms.is_some() && state.run_now_at_ms == claim.run_now_at_ms {
                state.run_now_at_ms = None;
            }
            if state.next_run_at_ms.is_some_and(|n| n <= now) {
                // The occurrence ran (or was due anyway during a manual run): move on, past
                // anything missed while running.
                let from = state.next_run_at_ms.unwrap_or(now);
                let mut next = next_due(job, from);
                if next.is_some_and(|n| n <= now) {
                    next = next_due(job, now);
                }
                state.next_run_at_ms = next;
            }
            match kv
                .transaction()
                .check(&skey, Condition::VersionEquals(entry.version))
                .set(&skey, &state)
                .commit()
                .await
            {
                Ok(_) => return Ok(()),
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(SchedulerError::Busy(key.to_string()))
    }

    /// Ticks every `poll_interval` until `shutdown` completes, then waits up to
    /// `shutdown_grace` for running jobs (abandoned ones are rerun elsewhere once their
    /// lease expires).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let mut interval = tokio::time::interval(self.inner.config.poll_interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut running: Vec<JoinHandle<RunReport>> = Vec::new();
        tokio::pin!(shutdown);
        tracing::info!(instance = %self.instance_id(), jobs = self.jobs().len(), "scheduler started");
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = interval.tick() => {
                    let tick = self.tick().await;
                    running.retain(|h| !h.is_finished());
                    running.extend(tick.handles);
                }
            }
        }
        running.retain(|h| !h.is_finished());
        if !running.is_empty() {
            tracing::info!(running = running.len(), "waiting for running jobs");
            let aborts: Vec<_> = running.iter().map(JoinHandle::abort_handle).collect();
            let all = futures_util::future::join_all(running);
            if tokio::time::timeout(self.inner.config.shutdown_grace, all)
                .await
                .is_err()
            {
                tracing::warn!("running jobs abandoned at shutdown; their leases will expire");
                for a in aborts {
                    a.abort();
                }
            }
        }
        tracing::info!("scheduler stopped");
    }
}
