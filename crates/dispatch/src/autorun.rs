//! Automatic dispatch running by itself: every few minutes (an admin's setting), today's
//! waiting jobs are planned ([`crate::auto`]) and the proposals are assigned and scheduled in
//! Jira with the site's service credential. Each assignment re-reads the ticket first and
//! leaves it alone when someone assigned it or its phase moved on since the plan (no
//! double-booking); every run is audited as jsmkit and its outcome kept for the pages.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use platform::audit::{Action, Actor, AuditLog, NewEntry, Outcome};
use platform::store::{SiteId, Store};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::board::{Filter, Ticket, build};
use crate::cache::BoardCache;
use crate::dayplan;
use crate::phase::Phase;
use crate::store::DispatchStore;

/// Shortest and longest interval an admin may choose, in minutes.
pub const EVERY_MINUTES: std::ops::RangeInclusive<u32> = 15..=240;

/// Name of the actor in the audit log.
pub const ACTOR: &str = "automatic dispatch";

/// What one run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// When it ran.
    pub at: Option<Timestamp>,
    /// Jobs assigned and scheduled.
    pub assigned: usize,
    /// Jobs the plan gave but Jira or a change in between refused, with why.
    pub refused: Vec<(String, String)>,
    /// Jobs left in the queue (nobody could take them).
    pub left: usize,
    /// Why the run could not plan at all.
    pub error: Option<String>,
}

/// Why a proposal was not applied.
fn check_still_waiting(
    issue: &atlassian::client::Issue,
    mapping: &crate::phase::PhaseMapping,
) -> Result<Phase, String> {
    let assignee = issue
        .fields
        .get("assignee")
        .and_then(|a| a.get("accountId"))
        .and_then(serde_json::Value::as_str);
    if let Some(a) = assignee {
        return Err(format!("assigned to {a} in the meantime"));
    }
    let status = issue
        .fields
        .get("status")
        .and_then(|s| s.get("id"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    let phase = mapping.phase(status);
    if phase == Phase::Done || mapping.lock_phases.contains(&phase) {
        return Err(format!("now {}", phase.label()));
    }
    Ok(phase)
}

/// One run for `site` at `now` with `client` (the service credential). Returns what it did;
/// the summary is also stored for the pages and the run audited.
pub async fn run_once(
    store: &Store,
    site: &SiteId,
    client: &atlassian::client::AtlassianClient,
    now: Timestamp,
) -> RunSummary {
    let summary = match plan_and_apply(store, site, client, now).await {
        Ok(s) => s,
        Err(e) => RunSummary {
            at: Some(now),
            error: Some(e),
            ..RunSummary::default()
        },
    };
    let ds = DispatchStore::new(store, site);
    if let Err(e) = ds.save_auto_run(&summary).await {
        tracing::error!(error = %e, "could not store the automatic dispatch run");
    }
    let outcome = if summary.error.is_some() || !summary.refused.is_empty() {
        Outcome::Error
    } else {
        Outcome::Ok
    };
    let entry = NewEntry {
        actor: Actor::system(ACTOR),
        action: Action::JIRA_WRITE,
        target: "auto-dispatch".into(),
        detail: json!({
            "assigned": summary.assigned,
            "refused": summary.refused,
            "left": summary.left,
            "error": summary.error,
        }),
        outcome,
        request_id: None,
    };
    if let Err(e) = AuditLog::new(store.clone()).record(site, entry).await {
        tracing::error!(error = %e, "could not record the automatic dispatch run");
    }
    summary
}

async fn plan_and_apply(
    store: &Store,
    site: &SiteId,
    client: &atlassian::client::AtlassianClient,
    now: Timestamp,
) -> Result<RunSummary, String> {
    let ds = DispatchStore::new(store, site);
    let (config, _) = ds.config().await.map_err(|e| e.to_string())?;
    if config.projects.is_empty() {
        return Err("no dispatched projects".into());
    }
    let zone = TimeZone::get(&config.board_zone).unwrap_or(TimeZone::UTC);
    let day = now.to_zoned_datetime(zone.clone()).date();
    let tickets = BoardCache::default()
        .tickets(site, ACTOR, client, &config)
        .await
        .map_err(|e| format!("Jira did not answer the search: {e}"))?;
    let techs = ds.technicians().await.map_err(|e| e.to_string())?;
    let board = build(
        &tickets.tickets,
        &techs,
        &config.mapping,
        day,
        &zone,
        &Filter::default(),
    );
    let queue: Vec<&Ticket> = board.queue.iter().map(|c| &c.ticket).collect();
    let jobs = dayplan::waiting(&queue, &config.mapping, day, &zone);
    let crews: Vec<_> = techs
        .iter()
        .map(|t| dayplan::crew(t, &tickets.tickets, &config.mapping, day, &zone, now))
        .collect();
    let plan = crate::auto::plan(&jobs, &crews, &config.planning.rules());
    let mut out = RunSummary {
        at: Some(now),
        left: plan.left.len(),
        ..RunSummary::default()
    };
    let fields: Vec<&str> = ["status", "assignee"].into();
    for p in &plan.proposals {
        let issue = match client.issue(&p.key, &fields, None).await {
            Ok(i) => i,
            Err(e) => {
                out.refused
                    .push((p.key.clone(), format!("could not be read ({e})")));
                continue;
            }
        };
        let phase = match check_still_waiting(&issue, &config.mapping) {
            Ok(ph) => ph,
            Err(why) => {
                out.refused.push((p.key.clone(), why));
                continue;
            }
        };
        if let Err(e) = client.assign(&p.key, Some(&p.account_id)).await {
            out.refused
                .push((p.key.clone(), format!("Jira refused the assignment ({e})")));
            continue;
        }
        if let (Some(to), Phase::Planned) = (&config.assign_status, phase)
            && let Err(why) = crate::writes::transition_to(client, &p.key, to).await
        {
            tracing::warn!(key = %p.key, %why, "assigned, not moved to the Assigned status");
        }
        if let Err(why) =
            crate::writes::write_schedule(client, &config.fields, &p.key, p.start, p.end).await
        {
            tracing::warn!(key = %p.key, %why, "assigned, schedule not written");
        }
        out.assigned += 1;
    }
    Ok(out)
}

/// The scheduler's job of `site`.
pub fn job_key(site: &SiteId) -> Option<platform::scheduler::JobKey> {
    platform::scheduler::JobKey::new(Some(site.clone()), crate::store::ns(), "auto-dispatch").ok()
}

/// (Re)registers `site`'s automatic dispatch every `every` minutes, or removes it (`None`).
/// Runs use the site's service credential.
pub async fn schedule(
    store: &Store,
    auth: &platform::identity::AuthContext,
    scheduler: &platform::scheduler::Scheduler,
    site: &SiteId,
    every: Option<u32>,
) {
    use platform::scheduler::{Job, Schedule};
    let Some(key) = job_key(site) else {
        return;
    };
    let Some(minutes) = every.filter(|m| EVERY_MINUTES.contains(m)) else {
        let _ = scheduler.unregister(&key, true).await;
        return;
    };
    let Ok(schedule) = Schedule::every(std::time::Duration::from_secs(u64::from(minutes) * 60))
    else {
        return;
    };
    let (store, auth, site) = (store.clone(), auth.clone(), site.clone());
    scheduler.register(Job::new(key, schedule, move |_ctx| {
        let (store, auth, site) = (store.clone(), auth.clone(), site.clone());
        async move {
            let client = auth
                .service_client(&site)
                .await
                .map_err(|e| format!("the service credential: {e}"))?;
            let run = run_once(&store, &site, &client, Timestamp::now()).await;
            match run.error {
                Some(e) => Err(e.into()),
                None => Ok(()),
            }
        }
    }));
}

/// Registers every site's automatic dispatch (at start). Returns how many run by themselves.
pub async fn schedule_all(
    store: &Store,
    auth: &platform::identity::AuthContext,
    scheduler: &platform::scheduler::Scheduler,
) -> Result<usize, platform::store::StoreError> {
    let mut n = 0;
    for site in store.list_sites().await? {
        let (config, _) = DispatchStore::new(store, &site).config().await?;
        if config.auto_every_minutes.is_some() {
            schedule(store, auth, scheduler, &site, config.auto_every_minutes).await;
            n += 1;
        }
    }
    Ok(n)
}
