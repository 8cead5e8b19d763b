//! `platform::scheduler` over both store backends: two instances sharing one store run a due
//! job exactly once, an expired lease is taken over, run-now, failures, schedule changes
//! and removal. Time comes from the store's `ManualClock`; runs are awaited with
//! `Tick::wait`, so nothing depends on timing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use platform::scheduler::{
    GLOBAL_SITE, Job, JobKey, JobState, RunOutcome, Schedule, Scheduler, SchedulerConfig,
};
use platform::store::{Clock, Store};
use tokio::sync::oneshot;

use crate::harness::{Ctx, app, site};

conformance!(
    two_instances_run_each_occurrence_once,
    expired_lease_is_taken_over,
    run_now_runs_once_without_moving_the_schedule,
    failures_are_recorded_and_the_schedule_moves_on,
    schedule_changes_and_removal,
    site_scoped_jobs_keep_state_on_their_site,
    panics_are_failures,
    the_loop_runs_jobs_and_stops_on_shutdown,
);

fn config(instance: &str) -> SchedulerConfig {
    SchedulerConfig {
        lease: Duration::from_secs(60),
        instance_id: instance.to_owned(),
        ..SchedulerConfig::default()
    }
}

fn key(id: &str) -> JobKey {
    JobKey::global(app("techdesk"), id).unwrap()
}

fn counting_job(key: &JobKey, schedule: Schedule, runs: &Arc<AtomicUsize>) -> Job {
    let runs = Arc::clone(runs);
    Job::new(key.clone(), schedule, move |_ctx| {
        let runs = Arc::clone(&runs);
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    })
}

async fn second_store(ctx: &Ctx) -> Store {
    ctx.open(ctx.store.keyring().clone()).await
}

async fn two_instances_run_each_occurrence_once(ctx: &Ctx) {
    let a = Scheduler::new(ctx.store.clone(), config("a"));
    let b = Scheduler::new(second_store(ctx).await, config("b"));
    let k = key("report");
    let runs = Arc::new(AtomicUsize::new(0));
    let every = Schedule::every(Duration::from_secs(60)).unwrap();
    a.register(counting_job(&k, every.clone(), &runs));
    b.register(counting_job(&k, every, &runs));

    // The first ticks only record the next occurrence.
    let (ta, tb) = tokio::join!(a.tick(), b.tick());
    assert!(ta.started.is_empty() && tb.started.is_empty());
    let state = a.state(&k).await.unwrap().unwrap();
    assert!(state.next_run_at_ms.is_some());

    for occurrence in 1..=5 {
        // Not due yet: nothing runs.
        let (ta, tb) = tokio::join!(a.tick(), b.tick());
        assert_eq!(ta.started.len() + tb.started.len(), 0);
        ctx.clock.advance(Duration::from_secs(61));
        let (ta, tb) = tokio::join!(a.tick(), b.tick());
        assert_eq!(
            ta.started.len() + tb.started.len(),
            1,
            "exactly one instance claims occurrence {occurrence}"
        );
        let reports = [ta.wait().await, tb.wait().await].concat();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].outcome, RunOutcome::Ok);
        // Ticking again at the same instant runs nothing more.
        let (ta, tb) = tokio::join!(a.tick(), b.tick());
        assert_eq!(ta.started.len() + tb.started.len(), 0);
        assert_eq!(runs.load(Ordering::SeqCst), occurrence);
        let state = b.state(&k).await.unwrap().unwrap();
        assert_eq!(state.locked_by, None);
        assert!(state.next_run_at_ms.unwrap() > ctx.clock.now_ms());
        assert_eq!(
            state.last_run.as_ref().map(|r| r.outcome.clone()),
            Some(RunOutcome::Ok)
        );
    }
}

async fn expired_lease_is_taken_over(ctx: &Ctx) {
    let a = Scheduler::new(ctx.store.clone(), config("a"));
    let b = Scheduler::new(second_store(ctx).await, config("b"));
    let k = key("slow");
    let every = Schedule::every(Duration::from_secs(3600)).unwrap();

    // A's run hangs until released (as if the instance had stalled or died).
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let release_rx = Arc::new(tokio::sync::Mutex::new(Some(release_rx)));
    a.register(Job::new(k.clone(), every.clone(), move |_ctx| {
        let rx = Arc::clone(&release_rx);
        async move {
            if let Some(rx) = rx.lock().await.take() {
                let _ = rx.await;
            }
            Ok(())
        }
    }));
    let runs_b = Arc::new(AtomicUsize::new(0));
    b.register(counting_job(&k, every, &runs_b));

    a.tick().await;
    ctx.clock.advance(Duration::from_secs(3601));
    let ta = a.tick().await;
    assert_eq!(ta.started, vec![k.clone()]);
    let leased = a.state(&k).await.unwrap().unwrap();
    assert_eq!(leased.locked_by.as_deref(), Some("a"));

    // While A's lease holds, B leaves the job alone.
    let tb = b.tick().await;
    assert!(tb.started.is_empty());
    ctx.clock.advance(Duration::from_secs(30));
    assert!(b.tick().await.started.is_empty());

    // The lease (60 s) has expired. A, still running it, does not start it twice; B takes
    // the same occurrence over.
    ctx.clock.advance(Duration::from_secs(31));
    assert!(a.tick().await.started.is_empty());
    let tb = b.tick().await;
    assert_eq!(tb.started, vec![k.clone()]);
    tb.wait().await;
    assert_eq!(runs_b.load(Ordering::SeqCst), 1);
    let after_b = b.state(&k).await.unwrap().unwrap();
    assert_eq!(after_b.last_run.as_ref().unwrap().instance, "b");
    assert_eq!(after_b.locked_by, None);

    // A finally ends: the lease is no longer its own, so it records nothing.
    release_tx.send(()).unwrap();
    ta.wait().await;
    assert_eq!(a.state(&k).await.unwrap().unwrap(), after_b);
}

async fn run_now_runs_once_without_moving_the_schedule(ctx: &Ctx) {
    let a = Scheduler::new(ctx.store.clone(), config("a"));
    let b = Scheduler::new(second_store(ctx).await, config("b"));
    let k = key("yearly");
    let yearly = Schedule::cron("0 0 1 1 *", "Europe/London").unwrap();
    let manual = Arc::new(AtomicUsize::new(0));
    for s in [&a, &b] {
        let manual = Arc::clone(&manual);
        s.register(Job::new(k.clone(), yearly.clone(), move |ctx| {
            let manual = Arc::clone(&manual);
            async move {
                assert!(ctx.manual);
                manual.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }));
    }
    // Run-now before any tick initialises the state itself.
    a.run_now(&k).await.unwrap();
    let before = a.state(&k).await.unwrap().unwrap();
    assert!(before.run_now_at_ms.is_some());
    let (ta, tb) = tokio::join!(a.tick(), b.tick());
    assert_eq!(ta.started.len() + tb.started.len(), 1);
    ta.wait().await;
    tb.wait().await;
    assert_eq!(manual.load(Ordering::SeqCst), 1);
    let after = b.state(&k).await.unwrap().unwrap();
    assert_eq!(after.run_now_at_ms, None);
    assert_eq!(after.next_run_at_ms, before.next_run_at_ms);
    let (ta, tb) = tokio::join!(a.tick(), b.tick());
    assert_eq!(ta.started.len() + tb.started.len(), 0);

    // Unknown jobs cannot be run.
    assert!(a.run_now(&key("nope")).await.is_err());
}

async fn failures_are_recorded_and_the_schedule_moves_on(ctx: &Ctx) {
    let s = Scheduler::new(ctx.store.clone(), config("a"));
    let k = key("flaky");
    s.register(Job::new(
        k.clone(),
        Schedule::every(Duration::from_secs(10)).unwrap(),
        |_ctx| async move { Err("upstream said no".into()) },
    ));
    s.tick().await;
    ctx.clock.advance(Duration::from_secs(11));
    let reports = s.tick().await.wait().await;
    assert_eq!(
        reports[0].outcome,
        RunOutcome::Failed {
            message: "upstream said no".into()
        }
    );
    let state = s.state(&k).await.unwrap().unwrap();
    assert!(matches!(
        state.last_run.unwrap().outcome,
        RunOutcome::Failed { .. }
    ));
    assert!(state.next_run_at_ms.unwrap() > ctx.clock.now_ms());
    assert!(s.tick().await.started.is_empty());
}

async fn schedule_changes_and_removal(ctx: &Ctx) {
    let s = Scheduler::new(ctx.store.clone(), config("a"));
    let k = key("export:7");
    let runs = Arc::new(AtomicUsize::new(0));
    s.register(counting_job(
        &k,
        Schedule::every(Duration::from_secs(3600)).unwrap(),
        &runs,
    ));
    s.tick().await;
    let first = s.state(&k).await.unwrap().unwrap();
    // Re-registered with a shorter interval: the next occurrence is recomputed.
    s.register(counting_job(
        &k,
        Schedule::every(Duration::from_secs(60)).unwrap(),
        &runs,
    ));
    s.tick().await;
    let second = s.state(&k).await.unwrap().unwrap();
    assert_eq!(second.schedule, "every 60s");
    assert!(second.next_run_at_ms < first.next_run_at_ms);
    ctx.clock.advance(Duration::from_secs(61));
    s.tick().await.wait().await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    assert_eq!(s.jobs(), vec![k.clone()]);
    assert!(s.unregister(&k, true).await.unwrap());
    assert!(s.jobs().is_empty());
    assert_eq!(s.state(&k).await.unwrap(), None::<JobState>);
    ctx.clock.advance(Duration::from_secs(61));
    assert!(s.tick().await.started.is_empty());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

async fn site_scoped_jobs_keep_state_on_their_site(ctx: &Ctx) {
    let s = Scheduler::new(ctx.store.clone(), config("a"));
    let scoped = JobKey::new(Some(site("cloud-1")), app("assets-sql"), "export:1").unwrap();
    let global = JobKey::global(app("platform"), "g").unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let every = Schedule::every(Duration::from_secs(60)).unwrap();
    s.register(counting_job(&scoped, every.clone(), &runs));
    s.register(counting_job(&global, every, &runs));
    s.tick().await;
    let on_site: Option<serde_json::Value> = ctx
        .store
        .kv(&site("cloud-1"), &app("platform"))
        .get("sched:assets-sql:export:1")
        .await
        .unwrap();
    assert!(on_site.is_some());
    let on_global: Option<serde_json::Value> = ctx
        .store
        .kv(&site(GLOBAL_SITE), &app("platform"))
        .get("sched:platform:g")
        .await
        .unwrap();
    assert!(on_global.is_some());
}

async fn panics_are_failures(ctx: &Ctx) {
    let s = Scheduler::new(ctx.store.clone(), config("a"));
    let k = key("panics");
    s.register(Job::new(
        k.clone(),
        Schedule::every(Duration::from_secs(10)).unwrap(),
        |ctx| async move {
            if ctx.manual {
                panic!("boom");
            }
            Ok(())
        },
    ));
    s.run_now(&k).await.unwrap();
    let reports = s.tick().await.wait().await;
    assert_eq!(
        reports[0].outcome,
        RunOutcome::Failed {
            message: "the job panicked".into()
        }
    );
    let state = s.state(&k).await.unwrap().unwrap();
    assert_eq!(state.locked_by, None);
    assert_eq!(state.run_now_at_ms, None);
    // The scheduler goes on: the next occurrence runs normally.
    ctx.clock.advance(Duration::from_secs(11));
    let reports = s.tick().await.wait().await;
    assert_eq!(reports[0].outcome, RunOutcome::Ok);
}

async fn the_loop_runs_jobs_and_stops_on_shutdown(ctx: &Ctx) {
    let s = Scheduler::new(ctx.store.clone(), config("a"));
    let k = key("looped");
    let (ran_tx, ran_rx) = oneshot::channel::<bool>();
    let ran_tx = Arc::new(std::sync::Mutex::new(Some(ran_tx)));
    s.register(Job::new(
        k.clone(),
        Schedule::cron("0 0 1 1 *", "UTC").unwrap(),
        move |ctx| {
            let tx = ran_tx.lock().unwrap().take();
            async move {
                if let Some(tx) = tx {
                    let _ = tx.send(ctx.manual);
                }
                Ok(())
            }
        },
    ));
    s.run_now(&k).await.unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(s.clone().run(async move {
        let _ = stop_rx.await;
    }));
    // The loop ticks as it starts and runs the requested job.
    assert!(ran_rx.await.unwrap());
    stop_tx.send(()).unwrap();
    task.await.unwrap();
    // It waited for the run to be recorded before stopping.
    let state = s.state(&k).await.unwrap().unwrap();
    assert_eq!(state.run_now_at_ms, None);
    assert_eq!(state.last_run.unwrap().outcome, RunOutcome::Ok);
}
