//! Benchmarks of the real [`atlassian`] client against an in-process simulator.
//!
//! [`bench_assets_stream`] streams every Assets object of a seeded site through
//! [`atlassian::client::AssetsClient::aql`] twice — once with the largest page the
//! simulator allows, once with the client's default page size — and reports objects per
//! second and the requests each run needed (counted by the simulator, not the client)
//! beside the minimum possible: one workspace discovery plus one AQL request per full
//! page of the largest size. Objects are fetched without attributes
//! (`includeAttributes=false`), so the figures measure paging rather than the rendering
//! of attribute values.

use std::fmt;
use std::time::{Duration, Instant};

use atlassian::aql::{Attribute, Query};
use atlassian::client::{ASSETS_PAGE_SIZE, AtlassianClient};
use futures_util::TryStreamExt;
use secrecy::SecretString;

use crate::assets::MAX_PAGE;
use crate::model::DemoRole;
use crate::seed::Scale;
use crate::server::{SimConfig, SimError, SimHandle};

/// Largest Assets page (`maxResults`) the simulator serves.
pub const ASSETS_MAX_PAGE_SIZE: u32 = MAX_PAGE as u32;

fn scale_name(scale: Scale) -> &'static str {
    match scale {
        Scale::Small => "small",
        Scale::Large => "large",
    }
}

/// What [`bench_assets_stream`] runs.
#[derive(Clone, Debug)]
pub struct BenchAssetsOptions {
    /// Data volume of the simulated site.
    pub scale: Scale,
    /// Seed of the simulated site.
    pub seed: u64,
    /// Page size of the main run (default and upper bound: [`ASSETS_MAX_PAGE_SIZE`]); the
    /// baseline run always uses the client's default ([`ASSETS_PAGE_SIZE`]).
    pub page_size: Option<u32>,
}

impl Default for BenchAssetsOptions {
    fn default() -> Self {
        BenchAssetsOptions {
            scale: Scale::Large,
            seed: 1,
            page_size: None,
        }
    }
}

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The simulator did not start.
    #[error("simulator: {0}")]
    Sim(#[from] SimError),
    /// Binding the loopback listener failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A client call failed.
    #[error("client: {0}")]
    Client(#[from] atlassian::client::Error),
    /// The seeded site has no admin user or no Assets workspace.
    #[error("the simulated site is missing {0}")]
    Site(&'static str),
}

/// One streaming run.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamRun {
    /// What the run is (`max page`, `client default`).
    pub label: &'static str,
    /// Objects requested per AQL page.
    pub page_size: u32,
    /// Objects the stream yielded.
    pub objects: u64,
    /// Distinct object ids among them.
    pub distinct: u64,
    /// Requests the simulator received during the run.
    pub requests: u64,
    /// Wall-clock time of the run (client build, discovery and stream).
    pub elapsed: Duration,
}

impl StreamRun {
    /// Objects per second (0 when nothing was measured).
    pub fn objects_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.objects as f64 / secs
        } else {
            0.0
        }
    }
}

/// Result of [`bench_assets_stream`].
#[derive(Clone, Debug, PartialEq)]
pub struct AssetsStreamReport {
    /// Scale of the site.
    pub scale: Scale,
    /// Seed of the site.
    pub seed: u64,
    /// Objects in the workspace.
    pub total_objects: u64,
    /// Largest page the simulator allows.
    pub max_page_size: u32,
    /// Fewest requests that can stream the workspace: discovery + `ceil(total / max page)`.
    pub min_requests: u64,
    /// The run with the requested (by default the largest) page size.
    pub tuned: StreamRun,
    /// The run with the client's default page size.
    pub baseline: StreamRun,
}

/// Requests needed to stream `total` objects in pages of `page_size` after one
/// workspace discovery (an empty result still takes one page).
pub fn min_requests(total: u64, page_size: u32) -> u64 {
    1 + total.div_ceil(u64::from(page_size.max(1))).max(1)
}

/// Starts a simulator for `opts` on `127.0.0.1:0` and streams every Assets object through
/// the client as a demo admin, first with `opts.page_size` (default: the largest page),
/// then with the client's default page size.
pub async fn bench_assets_stream(
    opts: BenchAssetsOptions,
) -> Result<AssetsStreamReport, BenchError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sim = crate::server::start(
        listener,
        SimConfig {
            seed: opts.seed,
            scale: opts.scale,
            ..SimConfig::default()
        },
    )
    .await?;
    let result = run_both(&sim, &opts).await;
    sim.shutdown().await;
    result
}

async fn run_both(
    sim: &SimHandle,
    opts: &BenchAssetsOptions,
) -> Result<AssetsStreamReport, BenchError> {
    let ws = sim
        .state
        .assets
        .as_ref()
        .ok_or(BenchError::Site("an Assets workspace"))?
        .workspace();
    let total_objects = ws.objects.len() as u64;
    let schema_ids: Vec<u32> = ws.schemas.iter().map(|s| s.id).collect();
    let query = Attribute::ObjectSchemaId
        .is_in(schema_ids)
        .map_err(|_| BenchError::Site("object schemas"))?;
    let query = Query::filter(query).to_aql();
    let page_size = opts
        .page_size
        .unwrap_or(ASSETS_MAX_PAGE_SIZE)
        .clamp(1, ASSETS_MAX_PAGE_SIZE);
    let label = if page_size == ASSETS_MAX_PAGE_SIZE {
        "max page"
    } else {
        "chosen page"
    };
    let tuned = stream_once(sim, &query, label, Some(page_size)).await?;
    let baseline = stream_once(sim, &query, "client default", None).await?;
    Ok(AssetsStreamReport {
        scale: opts.scale,
        seed: opts.seed,
        total_objects,
        max_page_size: ASSETS_MAX_PAGE_SIZE,
        min_requests: min_requests(total_objects, ASSETS_MAX_PAGE_SIZE),
        tuned,
        baseline,
    })
}

/// One run with a fresh client (so the workspace discovery is part of it).
async fn stream_once(
    sim: &SimHandle,
    query: &atlassian::aql::Aql,
    label: &'static str,
    page_size: Option<u32>,
) -> Result<StreamRun, BenchError> {
    let admin = sim
        .users_summary()
        .into_iter()
        .find(|u| u.role == DemoRole::Admin.as_str())
        .ok_or(BenchError::Site("an admin user"))?;
    let bad_url = |e: url::ParseError| atlassian::client::Error::Config(e.to_string());
    let site = url::Url::parse(&sim.base_url).map_err(bad_url)?;
    let assets_root = url::Url::parse(&format!("{}/jsm/assets", sim.base_url)).map_err(bad_url)?;
    let before = sim.request_count();
    let started = Instant::now();
    let mut builder =
        AtlassianClient::basic(site, admin.email, SecretString::from(admin.api_token))?
            .assets_root(assets_root);
    if let Some(n) = page_size {
        builder = builder.page_size(n);
    }
    let client = builder.build()?;
    let assets = client.assets().await?;
    let mut ids = std::collections::HashSet::new();
    let mut objects = 0u64;
    let mut stream = assets.aql(query, false);
    while let Some(o) = stream.try_next().await? {
        objects += 1;
        ids.insert(o.id);
    }
    let elapsed = started.elapsed();
    Ok(StreamRun {
        label,
        page_size: page_size.unwrap_or_else(|| u32::try_from(ASSETS_PAGE_SIZE).unwrap_or(u32::MAX)),
        objects,
        distinct: ids.len() as u64,
        requests: sim.request_count() - before,
        elapsed,
    })
}

impl fmt::Display for AssetsStreamReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Assets stream, {} site (seed {}): {} objects; minimum possible requests {} \
             (1 workspace discovery + ceil({} / {}) AQL pages)",
            scale_name(self.scale),
            self.seed,
            self.total_objects,
            self.min_requests,
            self.total_objects,
            self.max_page_size,
        )?;
        writeln!(
            f,
            "{:<15} {:>6} {:>9} {:>9} {:>8} {:>8} {:>10} {:>12}",
            "run", "page", "objects", "distinct", "requests", "x min", "elapsed", "objects/s"
        )?;
        for run in [&self.tuned, &self.baseline] {
            let ratio = run.requests as f64 / self.min_requests.max(1) as f64;
            writeln!(
                f,
                "{:<15} {:>6} {:>9} {:>9} {:>8} {:>8} {:>10} {:>12.0}",
                run.label,
                run.page_size,
                run.objects,
                run.distinct,
                run.requests,
                format!("{ratio:.2}"),
                format!("{:.3} s", run.elapsed.as_secs_f64()),
                run.objects_per_sec(),
            )?;
        }
        Ok(())
    }
}
