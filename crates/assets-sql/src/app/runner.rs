//! Running an export: one run at a time per export (a lease in the store, so also across
//! instances), the run history with progress while running, and the deliveries: webhook push
//! and direct load. The pull endpoint generates on request (see `pull`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atlassian::client::AssetsClient;
use platform::egress::{self, EgressClient, EgressConfig};
use platform::store::{Condition, Kv, SiteId, Store, StoreError};
use serde::{Deserialize, Serialize};

use super::defs::{Defs, ExportDef};
use super::webhook::{RetryPolicy, WebhookSink};
use crate::error::{Error, Result};
use crate::export::{ExportOptions, Output, equality_filter, export};
use crate::fetch::{Requests, metadata};
use crate::load::Target;
use crate::model::plan;
use crate::run::{Progress, RunOptions, run};

/// How long a lease lasts without renewal.
const LEASE: Duration = Duration::from_secs(300);
/// How often a running export renews its lease and saves its progress.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Going on.
    Running,
    /// Done.
    Succeeded,
    /// Failed (see the error); nothing half-written was left behind.
    Failed,
}

impl RunStatus {
    /// Text shown.
    pub fn label(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        }
    }
}

/// One run in the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Run id.
    pub id: String,
    /// Export id.
    pub export_id: String,
    /// `schedule` or the name of who pressed "Run now".
    pub trigger: String,
    /// Start (ms).
    pub started_ms: i64,
    /// End (ms).
    pub finished_ms: Option<i64>,
    /// Status.
    pub status: RunStatus,
    /// Objects written per delivery (summed).
    pub objects: u64,
    /// Rows written (summed).
    pub rows: u64,
    /// Assets API requests.
    pub requests: u64,
    /// What is being done now (while running).
    pub progress: String,
    /// The error, if it failed (never a secret).
    pub error: Option<String>,
    /// Deliveries done, e.g. `webhook`, `database postgres://…`.
    pub outputs: Vec<String>,
}

impl RunRecord {
    /// The start as text (UTC).
    pub fn started_text(&self) -> String {
        jiff::Timestamp::from_millisecond(self.started_ms)
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default()
    }

    /// Seconds it took (or has taken so far).
    pub fn seconds(&self) -> f64 {
        let end = self
            .finished_ms
            .unwrap_or_else(|| jiff::Timestamp::now().as_millisecond());
        (end - self.started_ms).max(0) as f64 / 1000.0
    }
}

fn run_key(export_id: &str, started_ms: i64, id: &str) -> String {
    let inverted = 9_999_999_999_999i64 - started_ms;
    format!("run:{export_id}:{inverted:013}:{}", &id[..id.len().min(8)])
}

/// The last `limit` runs of an export, newest first.
pub async fn runs(
    kv: &Kv,
    export_id: &str,
    limit: u32,
) -> std::result::Result<Vec<RunRecord>, StoreError> {
    let page = kv
        .query()
        .begins_with(format!("run:{export_id}:"))
        .limit(limit.clamp(1, 100))
        .fetch_as::<RunRecord>()
        .await?;
    Ok(page.entries.into_iter().map(|e| e.value).collect())
}

#[derive(Serialize, Deserialize)]
struct Lease {
    holder: String,
    until_ms: i64,
}

/// Why a run did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Another run of this export holds the lease.
    #[error("a run of this export is already in progress")]
    Busy,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Takes the export's lease for `holder`, or says who has it.
pub async fn acquire(
    kv: &Kv,
    export_id: &str,
    holder: &str,
) -> std::result::Result<(), StartError> {
    let key = format!("lease:{export_id}");
    let now = jiff::Timestamp::now().as_millisecond();
    let until = now + LEASE.as_millis() as i64;
    let lease = Lease {
        holder: holder.into(),
        until_ms: until,
    };
    match kv.get_entry::<Lease>(&key).await? {
        Some(e) if e.value.until_ms > now && e.value.holder != holder => Err(StartError::Busy),
        Some(e) => kv
            .transaction()
            .check(&key, Condition::VersionEquals(e.version))
            .set(&key, &lease)
            .commit()
            .await
            .map(|_| ())
            .map_err(|err| match err {
                StoreError::ConditionFailed { .. } => StartError::Busy,
                other => other.into(),
            }),
        None => kv
            .transaction()
            .check(&key, Condition::Absent)
            .set(&key, &lease)
            .commit()
            .await
            .map(|_| ())
            .map_err(|err| match err {
                StoreError::ConditionFailed { .. } => StartError::Busy,
                other => other.into(),
            }),
    }
}

async fn release(kv: &Kv, export_id: &str, holder: &str) {
    let key = format!("lease:{export_id}");
    if let Ok(Some(e)) = kv.get_entry::<Lease>(&key).await
        && e.value.holder == holder
    {
        let _ = kv
            .transaction()
            .check(&key, Condition::VersionEquals(e.version))
            .delete(&key)
            .commit()
            .await;
    }
}

/// Checks that a database target's host may be reached: public addresses, or hosts an
/// admin allow-listed on Settings → Outbound connections.
pub async fn check_target_host(
    url: &str,
    policy: &egress::EgressPolicy,
) -> std::result::Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|_| "the target URL cannot be read".to_string())?;
    let host = parsed
        .host_str()
        .map(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .to_lowercase()
        })
        .ok_or_else(|| "the target URL has no host".to_string())?;
    let port = parsed.port().unwrap_or(match parsed.scheme() {
        "mysql" | "mariadb" => 3306,
        _ => 5432,
    });
    if policy.allows(&host, port) {
        return Ok(());
    }
    let addrs: Vec<std::net::IpAddr> = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| format!("{host} could not be resolved"))?
            .map(|a| a.ip())
            .collect(),
    };
    for ip in addrs {
        if let Some(reason) = egress::classify(ip) {
            return Err(format!(
                "{host} may not be reached ({reason}); an admin can allow it on Settings → Outbound connections"
            ));
        }
    }
    Ok(())
}

/// Everything a run needs.
pub struct RunContext<'a> {
    /// The app store.
    pub store: &'a Store,
    /// The site.
    pub site: &'a SiteId,
    /// The export.
    pub def: &'a ExportDef,
    /// The Assets API as the service credential.
    pub assets: &'a AssetsClient,
    /// `schedule` or who pressed "Run now".
    pub trigger: String,
    /// This instance (lease holder).
    pub instance: String,
    /// Webhook retries.
    pub retry: RetryPolicy,
}

/// Runs one export with its lease held; the record ends as succeeded or failed.
#[tracing::instrument(skip_all, fields(site = %cx.site, export = %cx.def.id, trigger = %cx.trigger))]
pub async fn run_export(cx: RunContext<'_>) -> std::result::Result<RunRecord, StartError> {
    let defs = Defs::new(cx.store, cx.site);
    let kv = defs.kv().clone();
    acquire(&kv, &cx.def.id, &cx.instance).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let started_ms = jiff::Timestamp::now().as_millisecond();
    let key = run_key(&cx.def.id, started_ms, &id);
    let record = Arc::new(Mutex::new(RunRecord {
        id,
        export_id: cx.def.id.clone(),
        trigger: cx.trigger.clone(),
        started_ms,
        finished_ms: None,
        status: RunStatus::Running,
        objects: 0,
        rows: 0,
        requests: 0,
        progress: "starting".into(),
        error: None,
        outputs: Vec::new(),
    }));
    let snapshot = |r: &Arc<Mutex<RunRecord>>| match r.lock() {
        Ok(g) => g.clone(),
        Err(p) => p.into_inner().clone(),
    };
    kv.set(&key, &snapshot(&record)).await?;
    // Heartbeat: renew the lease and save the progress while the run goes on.
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let beat = {
        let kv = kv.clone();
        let key = key.clone();
        let record = Arc::clone(&record);
        let export_id = cx.def.id.clone();
        let instance = cx.instance.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stop_rx => break,
                    () = tokio::time::sleep(HEARTBEAT) => {
                        let _ = acquire(&kv, &export_id, &instance).await;
                        let r = match record.lock() { Ok(g) => g.clone(), Err(p) => p.into_inner().clone() };
                        let _ = kv.set(&key, &r).await;
                    }
                }
            }
        })
    };
    let outcome = deliver(&cx, &defs, &record).await;
    let _ = stop_tx.send(());
    let _ = beat.await;
    {
        let mut r = match record.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        r.finished_ms = Some(jiff::Timestamp::now().as_millisecond());
        match &outcome {
            Ok(()) => {
                r.status = RunStatus::Succeeded;
                r.progress = "done".into();
            }
            Err(e) => {
                r.status = RunStatus::Failed;
                r.progress = "failed".into();
                r.error = Some(crate::error::redact(&e.to_string()));
            }
        }
    }
    let done = snapshot(&record);
    kv.set(&key, &done).await?;
    release(&kv, &cx.def.id, &cx.instance).await;
    match &outcome {
        Ok(()) => tracing::info!(
            objects = done.objects,
            rows = done.rows,
            "export run succeeded"
        ),
        Err(e) => tracing::warn!(error = %e, "export run failed"),
    }
    Ok(done)
}

fn progress_fn(record: &Arc<Mutex<RunRecord>>, what: &'static str) -> crate::run::ProgressFn {
    let record = Arc::clone(record);
    Box::new(move |p: &Progress| {
        if let Ok(mut r) = record.lock() {
            r.progress = format!(
                "{what}: {} ({}/{} tables), {} objects",
                p.type_name, p.types_done, p.types_total, p.objects
            );
        }
    })
}

async fn deliver(cx: &RunContext<'_>, defs: &Defs, record: &Arc<Mutex<RunRecord>>) -> Result<()> {
    let def = cx.def;
    let mut states = defs
        .states(&def.id)
        .await
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let add = |objects: u64, rows: u64, requests: u64, output: String| {
        if let Ok(mut r) = record.lock() {
            r.objects += objects;
            r.rows += rows;
            r.requests += requests;
            r.outputs.push(output);
        }
    };
    if let Some(w) = &def.webhook {
        let policy = egress::load_policy(cx.store, cx.site)
            .await
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let client = EgressClient::new(policy, EgressConfig::default())
            .map_err(|e| Error::Invalid(e.to_string()))?;
        // The current secret, and the previous one until an admin drops it (rotation).
        let mut secrets = Vec::new();
        for v in [w.secret_version, w.secret_version.saturating_sub(1)] {
            if v == 0 || (v != w.secret_version && secrets.is_empty()) {
                continue;
            }
            if let Some(s) = defs
                .webhook_secret(&def.id, v)
                .await
                .map_err(|e| Error::Invalid(e.to_string()))?
            {
                secrets.push(s);
            }
        }
        if secrets.is_empty() {
            return Err(Error::Invalid(
                "the webhook has no signing secret; rotate it on the export's page".into(),
            ));
        }
        let mut sink = WebhookSink::new(
            client,
            w.url.clone(),
            secrets,
            def.id.clone(),
            defs.kv().clone(),
            cx.retry.clone(),
        );
        let mut requests = Requests {
            count: 0,
            page_size: crate::export::PAGE_SIZE,
        };
        let meta = metadata(cx.assets, &def.selection, &mut requests).await?;
        let filter = equality_filter(&def.filters)?;
        let mut names = states.webhook.names.clone();
        let p = plan(&meta, &def.selection, &mut names, filter.is_none());
        let since = if def.incremental && names == states.webhook.names {
            states.webhook.last_success
        } else {
            None
        };
        let opts = RunOptions {
            filter,
            since,
            page_size: Some(crate::export::PAGE_SIZE),
            progress: Some(progress_fn(record, "webhook")),
        };
        let s = run(cx.assets, &p, &mut sink, &opts).await?;
        states.webhook.names = names;
        states.webhook.last_success = Some(s.started);
        defs.set_states(&def.id, &states)
            .await
            .map_err(|e| Error::Invalid(e.to_string()))?;
        add(
            s.objects,
            s.rows,
            s.requests + requests.count,
            "webhook".into(),
        );
    }
    if def.target.is_some() {
        let url = defs
            .target(&def.id)
            .await
            .map_err(|e| Error::Invalid(e.to_string()))?
            .ok_or_else(|| {
                Error::Invalid("the target database URL is missing; set it again".into())
            })?;
        let url = secrecy::ExposeSecret::expose_secret(&url).to_string();
        let policy = egress::load_policy(cx.store, cx.site)
            .await
            .map_err(|e| Error::Invalid(e.to_string()))?;
        check_target_host(&url, &policy)
            .await
            .map_err(Error::Invalid)?;
        let target = Target::parse(&url)?;
        let shown = target.redacted();
        let mut state = crate::export::ExportState::default();
        let opts = ExportOptions {
            selection: def.selection.clone(),
            filter: equality_filter(&def.filters)?,
            incremental: def.incremental,
            progress: Some(progress_fn(record, "database")),
        };
        let s = export(cx.assets, Output::Database(target), opts, &mut state).await?;
        add(s.objects, s.rows, s.requests, format!("database {shown}"));
    }
    Ok(())
}
