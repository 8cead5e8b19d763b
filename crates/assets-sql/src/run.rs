//! One export run: objects of every planned type streamed from Assets into a [`Sink`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use atlassian::aql::Clause;
use atlassian::client::AssetsClient;
use futures_util::TryStreamExt;

use crate::error::Result;
use crate::fetch::{Requests, type_query};
use crate::model::Plan;
use crate::sink::{Counts, Mode, RunInfo, Sink};
use crate::value::{ObjectRow, RawObject, object_row};

/// A progress callback.
pub type ProgressFn = Box<dyn Fn(&Progress) + Send + Sync>;

/// Objects per batch handed to the sink.
pub const BATCH: usize = 5000;

/// Options of one run.
#[derive(Default)]
pub struct RunOptions {
    /// Optional AQL filter (ANDed with each type's query).
    pub filter: Option<Clause>,
    /// `Some(t)`: incremental run fetching objects updated since `t` (the start of the
    /// last successful run); `None`: full run.
    pub since: Option<jiff::Timestamp>,
    /// Page size the client uses (for the request count); default 100.
    pub page_size: Option<u64>,
    /// Called after each batch.
    pub progress: Option<ProgressFn>,
}

/// Progress of a run.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Current object type.
    pub type_name: String,
    /// Tables done so far.
    pub types_done: usize,
    /// Tables in the plan.
    pub types_total: usize,
    /// Objects written so far.
    pub objects: u64,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunSummary {
    /// Run id.
    pub run_id: String,
    /// Full or incremental.
    pub mode: Mode,
    /// Object and link tables.
    pub tables: usize,
    /// Objects written.
    pub objects: u64,
    /// Rows written (object rows plus link rows).
    pub rows: u64,
    /// Assets API requests of the data phase (paged streams count one per page).
    pub requests: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Start instant.
    pub started: jiff::Timestamp,
}

/// Keeps the last row of each id (a page boundary may repeat an object).
fn dedupe(rows: Vec<ObjectRow>) -> Vec<ObjectRow> {
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<ObjectRow> = Vec::with_capacity(rows.len());
    for r in rows {
        match at.get(&r.id) {
            Some(&i) => {
                if let Some(slot) = out.get_mut(i) {
                    *slot = r;
                }
            }
            None => {
                at.insert(r.id.clone(), out.len());
                out.push(r);
            }
        }
    }
    out
}

/// Runs one export of `plan` into `sink`. On error the sink is aborted (nothing of the
/// run becomes visible where the sink supports it) and the error returned.
#[tracing::instrument(skip_all, fields(tables = plan.table_count(), incremental = opts.since.is_some()))]
pub async fn run<S: Sink>(
    assets: &AssetsClient,
    plan: &Plan,
    sink: &mut S,
    opts: &RunOptions,
) -> Result<RunSummary> {
    let started_at = Instant::now();
    let info = RunInfo {
        run_id: uuid::Uuid::new_v4().to_string(),
        mode: if opts.since.is_some() {
            Mode::Incremental
        } else {
            Mode::Full
        },
        started: jiff::Timestamp::now(),
    };
    let mut requests = Requests {
        count: 0,
        page_size: opts
            .page_size
            .unwrap_or(atlassian::client::ASSETS_PAGE_SIZE),
    };
    let result = body(assets, plan, sink, opts, &info, &mut requests).await;
    match result {
        Ok(counts) => {
            sink.finish(plan, &info, counts).await?;
            let summary = RunSummary {
                run_id: info.run_id,
                mode: info.mode,
                tables: plan.table_count(),
                objects: counts.objects,
                rows: counts.rows,
                requests: requests.count,
                elapsed: started_at.elapsed(),
                started: info.started,
            };
            tracing::info!(
                objects = summary.objects,
                rows = summary.rows,
                requests = summary.requests,
                "export run finished"
            );
            Ok(summary)
        }
        Err(e) => {
            if let Err(abort) = sink.abort().await {
                tracing::warn!(error = %abort, "aborting the export failed");
            }
            Err(e)
        }
    }
}

async fn body<S: Sink>(
    assets: &AssetsClient,
    plan: &Plan,
    sink: &mut S,
    opts: &RunOptions,
    info: &RunInfo,
    requests: &mut Requests,
) -> Result<Counts> {
    sink.begin(plan, info).await?;
    let mut counts = Counts::default();
    for (done, table) in plan.types.iter().enumerate() {
        let span = tracing::info_span!("export_type", table = %table.def.name);
        let _enter = span.enter();
        if opts.since.is_some() {
            // Deletions: every id that still exists.
            let all = type_query(&table.type_id, opts.filter.as_ref(), None)?.to_aql();
            let mut stream = assets.aql(&all, false);
            let mut ids = Vec::with_capacity(BATCH);
            let mut n = 0u64;
            while let Some(o) = stream.try_next().await? {
                n += 1;
                ids.push(o.id);
                if ids.len() >= BATCH {
                    sink.seen(table, &ids).await?;
                    ids.clear();
                }
            }
            requests.stream(n);
            if !ids.is_empty() {
                sink.seen(table, &ids).await?;
            }
        }
        let query = type_query(&table.type_id, opts.filter.as_ref(), opts.since)?.to_aql();
        let mut stream = assets.aql(&query, true);
        let mut batch: Vec<ObjectRow> = Vec::with_capacity(BATCH);
        let mut n = 0u64;
        loop {
            let next = stream.try_next().await?;
            let end = next.is_none();
            if let Some(o) = next {
                n += 1;
                let raw = RawObject::from_client(o);
                if raw.type_id.as_deref().is_some_and(|t| t != table.type_id) {
                    continue;
                }
                batch.push(object_row(table, &plan.workspace_id, &raw));
            }
            if (end && !batch.is_empty()) || batch.len() >= BATCH {
                let rows = dedupe(std::mem::take(&mut batch));
                if opts.since.is_none() {
                    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
                    sink.seen(table, &ids).await?;
                }
                sink.rows(table, &rows).await?;
                counts.objects += rows.len() as u64;
                counts.rows += rows
                    .iter()
                    .map(|r| 1 + r.links.iter().map(|l| l.len() as u64).sum::<u64>())
                    .sum::<u64>();
                if let Some(p) = &opts.progress {
                    p(&Progress {
                        type_name: table.type_name.clone(),
                        types_done: done,
                        types_total: plan.types.len(),
                        objects: counts.objects,
                    });
                }
            }
            if end {
                break;
            }
        }
        requests.stream(n);
    }
    Ok(counts)
}

/// Runs an export of pre-fetched objects (no API): for tests and for callers that already
/// hold the objects. `objects` yields (type id, object) pairs in any order.
pub async fn run_objects<S: Sink>(
    plan: &Plan,
    sink: &mut S,
    objects: impl IntoIterator<Item = RawObject>,
) -> Result<Counts> {
    let info = RunInfo {
        run_id: uuid::Uuid::new_v4().to_string(),
        mode: Mode::Full,
        started: jiff::Timestamp::now(),
    };
    sink.begin(plan, &info).await?;
    let mut counts = Counts::default();
    let mut by_type: HashMap<String, Vec<RawObject>> = HashMap::new();
    for o in objects {
        by_type
            .entry(o.type_id.clone().unwrap_or_default())
            .or_default()
            .push(o);
    }
    for table in &plan.types {
        let objs = by_type.remove(&table.type_id).unwrap_or_default();
        for chunk in objs.chunks(BATCH) {
            let rows = dedupe(
                chunk
                    .iter()
                    .map(|o| object_row(table, &plan.workspace_id, o))
                    .collect(),
            );
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let step = async {
                sink.seen(table, &ids).await?;
                sink.rows(table, &rows).await
            };
            if let Err(e) = step.await {
                let _ = sink.abort().await;
                return Err(e);
            }
            counts.objects += rows.len() as u64;
            counts.rows += rows
                .iter()
                .map(|r| 1 + r.links.iter().map(|l| l.len() as u64).sum::<u64>())
                .sum::<u64>();
        }
    }
    sink.finish(plan, &info, counts).await?;
    Ok(counts)
}
