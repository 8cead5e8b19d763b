//! `jsmkit assets-sql export`: Jira Assets objects as typed SQL, into a script of a
//! dialect or straight into a live database.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use assets_sql::dialect::Dialect;
use assets_sql::load::Target;
use assets_sql::model::Selection;
use assets_sql::run::ProgressFn;
use assets_sql::{ExportOptions, ExportState, Output, SiteLogin};
use clap::{Args, Subcommand};
use secrecy::SecretString;

use super::CliError;

#[derive(Debug, Subcommand)]
pub enum AssetsSqlCommand {
    /// Export Assets schemas, object types and objects as typed SQL: a re-runnable script
    /// (--dialect + --out) or a direct, all-or-nothing load into a database (--target).
    #[command(
        after_help = "Examples:\n  jsmkit assets-sql export --site http://127.0.0.1:8090 --email admin@irwell.example --api-token TOKEN --dialect postgres --out assets.sql\n  jsmkit assets-sql export --site https://acme.atlassian.net --email me@acme.com --api-token TOKEN --target postgres://bi@db/cmdb --incremental\n  jsmkit assets-sql export --site URL --email EMAIL --api-token TOKEN --target sqlite://cmdb.db --schema 1 --where 'Status=Active'\n\nThe simulator (`jsmkit sim`) prints demo users with API tokens to try this against."
    )]
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Site root URL (e.g. https://acme.atlassian.net, or the simulator's URL).
    #[arg(long, value_name = "URL")]
    pub site: String,
    /// Account e-mail for basic auth.
    #[arg(long, value_name = "EMAIL")]
    pub email: String,
    /// API token for basic auth.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "JSMKIT_ASSETS_API_TOKEN",
        hide_env_values = true
    )]
    pub api_token: String,
    /// Assets API root (default: Atlassian's gateway for *.atlassian.net, else SITE/jsm/assets).
    #[arg(long, value_name = "URL")]
    pub assets_root: Option<String>,
    /// Script dialect: postgres, mysql (MySQL/MariaDB), sqlite or mssql (SQL Server).
    #[arg(
        long,
        value_name = "DIALECT",
        requires = "out",
        conflicts_with = "target"
    )]
    pub dialect: Option<String>,
    /// Script file to write.
    #[arg(long, value_name = "FILE", requires = "dialect")]
    pub out: Option<PathBuf>,
    /// Load directly into this database: postgres://…, mysql://… (or mariadb://…), sqlite://PATH.
    #[arg(
        long,
        value_name = "URL",
        env = "JSMKIT_ASSETS_SQL_TARGET",
        hide_env_values = true
    )]
    pub target: Option<String>,
    /// Only these schema ids (repeatable).
    #[arg(long = "schema", value_name = "ID")]
    pub schemas: Vec<String>,
    /// Only these object type ids (repeatable).
    #[arg(long = "type", value_name = "ID")]
    pub types: Vec<String>,
    /// Only these attribute ids (repeatable; common columns are always exported).
    #[arg(long = "attribute", value_name = "ID")]
    pub attributes: Vec<String>,
    /// AQL filter ATTRIBUTE=VALUE (repeatable, ANDed; escaped by the AQL builder).
    #[arg(long = "where", value_name = "ATTRIBUTE=VALUE")]
    pub filters: Vec<String>,
    /// Fetch only objects updated since the last successful run (deletions are still found).
    #[arg(long)]
    pub incremental: bool,
    /// JSON file keeping table/column names and the last successful run between runs
    /// (databases keep them in their catalog too).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

fn set(v: &[String]) -> Option<BTreeSet<String>> {
    (!v.is_empty()).then(|| v.iter().cloned().collect())
}

pub async fn run(cmd: AssetsSqlCommand) -> Result<(), CliError> {
    match cmd {
        AssetsSqlCommand::Export(args) => export(args).await,
    }
}

async fn export(args: ExportArgs) -> Result<(), CliError> {
    let output_kind = match (&args.dialect, &args.out, &args.target) {
        (Some(d), Some(out), None) => {
            let dialect: Dialect = d
                .parse()
                .map_err(|e| CliError::Config(format!("--dialect: {e}")))?;
            Err((dialect, out.clone()))
        }
        (None, None, Some(t)) => {
            Ok(Target::parse(t).map_err(|e| CliError::Config(format!("--target: {e}")))?)
        }
        _ => {
            return Err(CliError::Config(
                "give either --dialect DIALECT --out FILE (a script) or --target URL (a database)"
                    .into(),
            ));
        }
    };
    let filter = assets_sql::equality_filter(&args.filters)
        .map_err(|e| CliError::Config(format!("--where: {e}")))?;
    let mut state: ExportState = match &args.state {
        Some(path) if path.exists() => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--state {}: cannot read", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("--state {}: not an export state", path.display()))?
        }
        _ => ExportState::default(),
    };
    let site = SiteLogin {
        url: args.site.clone(),
        email: args.email.clone(),
        api_token: SecretString::from(args.api_token.clone()),
        assets_root: args.assets_root.clone(),
    };
    let tty = std::io::stderr().is_terminal();
    let progress: Option<ProgressFn> = tty.then(|| {
        Box::new(|p: &assets_sql::run::Progress| {
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[2K[{}/{}] {} — {} objects",
                p.types_done + 1,
                p.types_total,
                p.type_name,
                p.objects
            );
            let _ = err.flush();
        }) as ProgressFn
    });
    let opts = ExportOptions {
        selection: Selection {
            schemas: set(&args.schemas),
            types: set(&args.types),
            attributes: set(&args.attributes),
        },
        filter,
        incremental: args.incremental,
        progress,
    };
    let assets = assets_sql::connect(&site)
        .await
        .with_context(|| format!("--site {}", args.site))?;
    let (output, described) = match output_kind {
        Ok(target) => {
            let d = target.redacted();
            (Output::Database(target), d)
        }
        Err((dialect, path)) => {
            let file = tokio::fs::File::create(&path)
                .await
                .with_context(|| format!("--out {}: cannot create", path.display()))?;
            let writer: Box<dyn tokio::io::AsyncWrite + Unpin + Send> =
                Box::new(tokio::io::BufWriter::new(file));
            (
                Output::Script(dialect, writer),
                format!("{} ({} script)", path.display(), dialect.name()),
            )
        }
    };
    let summary = assets_sql::export(&assets, output, opts, &mut state)
        .await
        .context("export failed")?;
    if tty {
        eprintln!();
    }
    if let Some(path) = &args.state {
        let json = serde_json::to_string_pretty(&state).context("encoding the state")?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("--state {}: cannot write", path.display()))?;
    }
    eprintln!(
        "exported to {described}: {} run, {} tables, {} objects, {} rows, {} requests, {:.1} s",
        summary.mode.as_str(),
        summary.tables,
        summary.objects,
        summary.rows,
        summary.requests,
        summary.elapsed.as_secs_f64()
    );
    Ok(())
}
