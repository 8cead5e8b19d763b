//! One call for callers such as the CLI: connect to a site, discover, plan with the
//! persisted names, run into a script or a database, and hand back the new state.

use atlassian::aql::{AqlString, Attribute, Clause};
use atlassian::client::{AssetsClient, AtlassianClient};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWrite;

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::fetch::{self, Requests};
use crate::ident::NameMap;
use crate::load::{DbSink, Target};
use crate::model::{Selection, plan};
use crate::run::{ProgressFn, RunOptions, RunSummary, run};
use crate::script::ScriptSink;

/// A site reached with basic auth (email + API token) at its root.
pub struct SiteLogin {
    /// Site root, e.g. `https://example.atlassian.net` or the simulator's URL.
    pub url: String,
    /// Account e-mail.
    pub email: String,
    /// API token.
    pub api_token: SecretString,
    /// Assets API root (`…/jsm/assets`); default: Atlassian's gateway for
    /// `*.atlassian.net` sites, else `{url}/jsm/assets` (the simulator's shape).
    pub assets_root: Option<String>,
}

/// The Assets client of a site.
pub async fn connect(site: &SiteLogin) -> Result<AssetsClient> {
    let bad = |what: &str, e: url::ParseError| Error::Invalid(format!("{what}: {e}"));
    let root = url::Url::parse(&site.url).map_err(|e| bad("site URL", e))?;
    let mut builder =
        AtlassianClient::basic(root.clone(), site.email.clone(), site.api_token.clone())?
            .page_size(PAGE_SIZE as u32);
    let assets_root = match &site.assets_root {
        Some(r) => Some(r.clone()),
        None if root
            .host_str()
            .is_some_and(|h| h.ends_with(".atlassian.net")) =>
        {
            None
        }
        None => Some(format!("{}/jsm/assets", site.url.trim_end_matches('/'))),
    };
    if let Some(r) = assets_root {
        builder = builder.assets_root(url::Url::parse(&r).map_err(|e| bad("Assets root", e))?);
    }
    Ok(builder.build()?.assets().await?)
}

/// Page size the CLI's client asks for (servers may cap it).
pub const PAGE_SIZE: u64 = 1000;

/// What a caller persists between runs of a script export (database targets keep it in
/// their own catalog and runs tables).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportState {
    /// Names given so far.
    #[serde(default)]
    pub names: NameMap,
    /// Start of the last successful run.
    #[serde(default)]
    pub last_success: Option<jiff::Timestamp>,
}

/// `NAME=VALUE` filters ANDed together (`"NAME" = "VALUE"` in AQL, built and escaped by
/// the AQL builder).
pub fn equality_filter(pairs: &[String]) -> Result<Option<Clause>> {
    let mut clauses = Vec::new();
    for p in pairs {
        let Some((name, value)) = p.split_once('=') else {
            return Err(Error::Invalid(format!("filter {p:?}: use ATTRIBUTE=VALUE")));
        };
        clauses.push(Attribute::named(name.trim())?.eq(AqlString::new(value.trim())?));
    }
    Ok(Clause::all(clauses))
}

/// Where the rows go.
pub enum Output {
    /// A script of a dialect.
    Script(Dialect, Box<dyn AsyncWrite + Unpin + Send>),
    /// A live database.
    Database(Target),
}

/// Options of [`export`].
#[derive(Default)]
pub struct ExportOptions {
    /// What to export.
    pub selection: Selection,
    /// AQL filter.
    pub filter: Option<Clause>,
    /// Fetch only objects updated since the last successful run (full run when there is
    /// none).
    pub incremental: bool,
    /// Called after each batch.
    pub progress: Option<ProgressFn>,
}

/// Runs one export; `state` is updated on success (names, last success).
#[tracing::instrument(skip_all)]
pub async fn export(
    assets: &AssetsClient,
    output: Output,
    opts: ExportOptions,
    state: &mut ExportState,
) -> Result<RunSummary> {
    let mut requests = Requests {
        count: 0,
        page_size: PAGE_SIZE,
    };
    let meta = fetch::metadata(assets, &opts.selection, &mut requests).await?;
    let fks = opts.filter.is_none();
    let mut run_opts = RunOptions {
        filter: opts.filter,
        since: None,
        page_size: Some(PAGE_SIZE),
        progress: opts.progress,
    };
    let mut summary = match output {
        Output::Script(dialect, w) => {
            let mut names = state.names.clone();
            let p = plan(&meta, &opts.selection, &mut names, fks);
            // A table or column new to the target needs every object: run in full.
            if opts.incremental && names == state.names {
                run_opts.since = state.last_success;
            }
            let mut sink = ScriptSink::new(w, dialect);
            let s = run(assets, &p, &mut sink, &run_opts).await?;
            state.names = names;
            s
        }
        Output::Database(target) => {
            let mut sink = DbSink::connect(&target).await?;
            let previous = sink.previous().await?;
            let mut names = previous.names;
            // Names the caller persisted win over the catalog's.
            names.tables.extend(state.names.tables.clone());
            names.columns.extend(state.names.columns.clone());
            names.links.extend(state.names.links.clone());
            let before = names.clone();
            let p = plan(&meta, &opts.selection, &mut names, fks);
            if opts.incremental && names == before {
                run_opts.since = previous.last_success;
            }
            let s = run(assets, &p, &mut sink, &run_opts).await?;
            state.names = names;
            s
        }
    };
    summary.requests += requests.count;
    state.last_success = Some(summary.started);
    Ok(summary)
}
