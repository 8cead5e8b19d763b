//! One export run: objects of every planned type streamed from Assets into a [`Sink`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use atlassian::aql::Clause;
use atlassian::client::AssetsClient;
use futures_util::TryStreamExt;
use tracing::Instrument;

use crate::error::Result;
use crate::fetch::{Requests, type_query};
use crate::model::{Plan, TypeTable};
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

/// Rows a batch writes: one per object plus its link rows.
fn row_count(rows: &[ObjectRow]) -> u64 {
    rows.iter()
        .map(|r| 1 + r.links.iter().map(|l| l.len() as u64).sum::<u64>())
        .sum()
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

/// What a type's fetch task hands to the writer.
enum Msg {
    /// Ids that exist (incremental runs: the id-only scan).
    Seen(Vec<String>),
    /// Rows of objects (distinct ids within the batch).
    Rows(Vec<ObjectRow>),
    /// A paged stream ended after yielding this many items.
    Streamed(u64),
    /// The type is done.
    Done,
}

/// A type being fetched in the background; dropping it stops the fetch.
struct TypeFetch {
    rx: tokio::sync::mpsc::Receiver<Result<Msg>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TypeFetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts fetching one type: ids first (incremental runs), then objects converted to rows
/// in batches. At most one batch waits in the channel, so memory stays bounded.
fn spawn_type(
    assets: &AssetsClient,
    table: &TypeTable,
    workspace_id: &str,
    opts: &RunOptions,
) -> TypeFetch {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let assets = assets.clone();
    let table = table.clone();
    let workspace_id = workspace_id.to_owned();
    let filter = opts.filter.clone();
    let since = opts.since;
    let span = tracing::info_span!("export_type", table = %table.def.name);
    let task = tokio::spawn(
        async move {
            let work = fetch_type(&assets, &table, &workspace_id, filter.as_ref(), since, &tx);
            if let Err(e) = work.await {
                let _ = tx.send(Err(e)).await;
            }
        }
        .instrument(span),
    );
    TypeFetch { rx, task }
}

async fn fetch_type(
    assets: &AssetsClient,
    table: &TypeTable,
    workspace_id: &str,
    filter: Option<&Clause>,
    since: Option<jiff::Timestamp>,
    tx: &tokio::sync::mpsc::Sender<Result<Msg>>,
) -> Result<()> {
    // A closed channel means the writer gave up: stop quietly.
    let send = |m: Msg| async move { tx.send(Ok(m)).await.is_ok() };
    if since.is_some() {
        // Deletions: every id that still exists.
        let all = type_query(&table.type_id, filter, None)?.to_aql();
        let mut stream = assets.aql(&all, false);
        let mut ids = Vec::with_capacity(BATCH);
        let mut n = 0u64;
        while let Some(o) = stream.try_next().await? {
            n += 1;
            ids.push(o.id);
            if ids.len() >= BATCH && !send(Msg::Seen(std::mem::take(&mut ids))).await {
                return Ok(());
            }
        }
        if (!ids.is_empty() && !send(Msg::Seen(ids)).await) || !send(Msg::Streamed(n)).await {
            return Ok(());
        }
    }
    let query = type_query(&table.type_id, filter, since)?.to_aql();
    let mut stream = assets.aql(&query, true);
    let mut batch: Vec<ObjectRow> = Vec::with_capacity(BATCH);
    let mut n = 0u64;
    while let Some(o) = stream.try_next().await? {
        n += 1;
        let raw = RawObject::from_client(o);
        if raw.type_id.as_deref().is_some_and(|t| t != table.type_id) {
            continue;
        }
        batch.push(object_row(table, workspace_id, &raw));
        if batch.len() >= BATCH && !send(Msg::Rows(dedupe(std::mem::take(&mut batch)))).await {
            return Ok(());
        }
    }
    if !batch.is_empty() && !send(Msg::Rows(dedupe(batch))).await {
        return Ok(());
    }
    if send(Msg::Streamed(n)).await {
        send(Msg::Done).await;
    }
    Ok(())
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
    // While one type is written, the next one is already being fetched.
    let start = |t: &TypeTable| spawn_type(assets, t, &plan.workspace_id, opts);
    let mut next = plan.types.first().map(start);
    for (done, table) in plan.types.iter().enumerate() {
        let Some(mut current) = next.take() else {
            break;
        };
        next = plan.types.get(done + 1).map(start);
        let mut finished = false;
        while let Some(msg) = current.rx.recv().await {
            match msg? {
                Msg::Seen(ids) => sink.seen(table, &ids).await?,
                Msg::Rows(rows) => {
                    if opts.since.is_none() {
                        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
                        sink.seen(table, &ids).await?;
                    }
                    sink.rows(table, &rows).await?;
                    counts.objects += rows.len() as u64;
                    counts.rows += row_count(&rows);
                    if let Some(p) = &opts.progress {
                        p(&Progress {
                            type_name: table.type_name.clone(),
                            types_done: done,
                            types_total: plan.types.len(),
                            objects: counts.objects,
                        });
                    }
                }
                Msg::Streamed(n) => requests.stream(n),
                Msg::Done => finished = true,
            }
        }
        if !finished {
            return Err(crate::error::Error::Invalid(format!(
                "fetching the objects of {} stopped unexpectedly",
                table.type_name
            )));
        }
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
    // Rows are made on another thread while the sink writes the batch before.
    let work: Vec<(usize, TypeTable, Vec<RawObject>)> = plan
        .types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let objs = by_type.remove(&t.type_id).unwrap_or_default();
            (i, t.clone(), objs)
        })
        .collect();
    let workspace_id = plan.workspace_id.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(usize, Vec<ObjectRow>)>(1);
    let maker = tokio::task::spawn_blocking(move || {
        for (i, table, objs) in work {
            let mut objs = objs.into_iter();
            loop {
                let chunk: Vec<RawObject> = objs.by_ref().take(BATCH).collect();
                if chunk.is_empty() {
                    break;
                }
                let rows = dedupe(
                    chunk
                        .iter()
                        .map(|o| object_row(&table, &workspace_id, o))
                        .collect(),
                );
                if tx.blocking_send((i, rows)).is_err() {
                    return;
                }
            }
        }
    });
    while let Some((i, rows)) = rx.recv().await {
        let Some(table) = plan.types.get(i) else {
            continue;
        };
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let step = async {
            sink.seen(table, &ids).await?;
            sink.rows(table, &rows).await
        };
        if let Err(e) = step.await {
            drop(rx);
            let _ = sink.abort().await;
            return Err(e);
        }
        counts.objects += rows.len() as u64;
        counts.rows += row_count(&rows);
    }
    if let Err(e) = maker.await {
        let _ = sink.abort().await;
        return Err(crate::error::Error::Invalid(format!(
            "making rows failed: {e}"
        )));
    }
    sink.finish(plan, &info, counts).await?;
    Ok(counts)
}
