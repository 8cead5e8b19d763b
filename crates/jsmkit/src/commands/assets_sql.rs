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
        after_help = "Examples:\n  jsmkit assets-sql export --site http://127.0.0.1:8090 --email admin@irwell.example --api-token TOKEN --dialect postgres --out assets.sql\n  jsmkit assets-sql export --site https://acme.atlassian.net --email me@acme.com --api-token TOKEN --target postgres://bi@db/cmdb --incremental\n  jsmkit assets-sql export --site URL --email EMAIL --api-token TOKEN --target sqlite://cmdb.db --schema 1 --where 'Status=Active'\n  jsmkit assets-sql export --dialect postgres --out assets.sql   (the site configured on this server)\n\nThe simulator (`jsmkit sim`) prints demo users with API tokens to try this against."
    )]
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Site root URL (e.g. https://acme.atlassian.net, or the simulator's URL). Without it,
    /// the site configured on this server is used, with its service credential.
    #[arg(long, value_name = "URL", requires_all = ["email", "api_token"])]
    pub site: Option<String>,
    /// Account e-mail for basic auth (with --site).
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,
    /// API token for basic auth (with --site).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "JSMKIT_ASSETS_API_TOKEN",
        hide_env_values = true
    )]
    pub api_token: Option<String>,
    /// Without --site: the configured site to export (its cloudId); needed when the store
    /// holds several sites.
    #[arg(long, value_name = "CLOUD_ID", conflicts_with = "site")]
    pub cloud_id: Option<String>,
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

pub async fn run(cmd: AssetsSqlCommand, config: &platform::config::Config) -> Result<(), CliError> {
    match cmd {
        AssetsSqlCommand::Export(args) => export(args, config).await,
    }
}

/// The Assets API of the site configured on this server, with its service credential.
async fn configured_site(
    config: &platform::config::Config,
    cloud_id: Option<&str>,
) -> Result<(atlassian::client::AssetsClient, String), CliError> {
    use platform::store::SiteId;
    let store = super::open_store(config).await?;
    let sites: Vec<SiteId> = store
        .list_sites()
        .await
        .context("listing the sites in the store")?
        .into_iter()
        .filter(|s| {
            s.as_str() != platform::scheduler::GLOBAL_SITE
                && s.as_str() != platform::identity::LOGIN_SITE
        })
        .collect();
    let site = match cloud_id {
        Some(id) => SiteId::new(id).map_err(|e| CliError::Config(format!("--cloud-id: {e}")))?,
        None => match sites.as_slice() {
            [only] => only.clone(),
            [] => {
                return Err(CliError::Config(
                    "no site is configured in the store; give --site, --email and --api-token"
                        .into(),
                ));
            }
            many => {
                let ids: Vec<&str> = many.iter().map(SiteId::as_str).collect();
                return Err(CliError::Config(format!(
                    "the store holds several sites; choose one with --cloud-id ({})",
                    ids.join(", ")
                )));
            }
        },
    };
    let public = config
        .server
        .public_url
        .clone()
        .or_else(|| url::Url::parse(&format!("http://{}", config.server.listen)).ok())
        .context("server.public_url")?;
    let client = match platform::identity::OAuthSettings::from_config(config, &public) {
        Some(oauth) => {
            let web = platform::web::WebConfig {
                public_url: config.server.public_url.clone(),
                ..platform::web::WebConfig::default()
            };
            let auth = platform::identity::AuthContext::new(store.clone(), &oauth, &web)
                .map_err(|e| CliError::Config(e.to_string()))?;
            auth.service_client(&site)
                .await
                .map_err(|e| CliError::Config(e.to_string()))?
        }
        None => {
            // Without an OAuth app only an API-token credential can be used.
            use platform::settings::{
                CREDENTIAL_META_KEY, CREDENTIAL_SECRET_KEY, CredentialKind, CredentialMeta,
            };
            let kv = store.kv(&site, &platform::permissions::platform_ns());
            let meta: CredentialMeta = kv
                .get(CREDENTIAL_META_KEY)
                .await
                .context("reading the service credential")?
                .ok_or_else(|| CliError::Config("no service credential is set for this site (Settings → Service credentials)".into()))?;
            if meta.kind != CredentialKind::ApiToken {
                return Err(CliError::Config(
                    "the service credential is an OAuth refresh token; configure oauth.client_id and JSMKIT_OAUTH_CLIENT_SECRET".into(),
                ));
            }
            let token = kv
                .get_secret(CREDENTIAL_SECRET_KEY)
                .await
                .context("reading the service credential")?
                .ok_or_else(|| {
                    CliError::Config("the service credential's token is missing".into())
                })?;
            let info = platform::identity::site_info(&store, &site)
                .await
                .context("reading the site")?
                .ok_or_else(|| {
                    CliError::Config("the site's URL is not known; sign in to jsmkit once".into())
                })?;
            let login = SiteLogin {
                url: info.url,
                email: meta.email,
                api_token: token,
                assets_root: None,
            };
            let assets = assets_sql::connect(&login)
                .await
                .context("connecting to Assets")?;
            return Ok((assets, site.as_str().to_string()));
        }
    };
    let assets = client.assets().await.context("connecting to Assets")?;
    Ok((assets, site.as_str().to_string()))
}

async fn export(args: ExportArgs, config: &platform::config::Config) -> Result<(), CliError> {
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
    let assets = match (&args.site, &args.email, &args.api_token) {
        (Some(url), Some(email), Some(token)) => {
            let site = SiteLogin {
                url: url.clone(),
                email: email.clone(),
                api_token: SecretString::from(token.clone()),
                assets_root: args.assets_root.clone(),
            };
            assets_sql::connect(&site)
                .await
                .with_context(|| format!("--site {url}"))?
        }
        (None, _, _) => configured_site(config, args.cloud_id.as_deref()).await?.0,
        _ => {
            return Err(CliError::Config(
                "--site needs --email and --api-token (or leave all three out to use the configured site)".into(),
            ));
        }
    };
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
