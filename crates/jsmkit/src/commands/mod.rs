//! One function per command. Errors become one line on stderr and an exit code.

mod admin;
pub(crate) mod assets_sql;
mod bench;
mod bench_assets;
mod bench_board;
mod bench_dispatch;
mod bench_ticket;
mod demo_setup;
mod server;
mod sim;

use std::path::Path;

use platform::config::{Config, ConfigError, LoadOptions, LogFormatChoice};
use platform::store::{Keyring, Store};

use crate::cli::{BenchCommand, Cli, Command, SecretsCommand, SiteCommand};

/// A command's failure.
#[derive(Debug)]
pub enum CliError {
    /// The configuration is wrong (exit code 2).
    Config(String),
    /// Anything else (exit code 1).
    Other(anyhow::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) => 2,
            CliError::Other(_) => 1,
        }
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        CliError::Config(e.to_string())
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError::Other(e)
    }
}

impl From<platform::store::StoreError> for CliError {
    fn from(e: platform::store::StoreError) -> Self {
        CliError::Other(e.into())
    }
}

/// The error as one line: the causes joined with ": ".
pub fn one_line(e: &CliError) -> String {
    match e {
        CliError::Config(m) => m.clone(),
        CliError::Other(e) => format!("{e:#}").replace('\n', " "),
    }
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let Cli { global, command } = cli;
    let mut opts = LoadOptions::from_process(global.config.clone());
    if let Some(f) = global.log_format.clone() {
        opts = opts.flag("log.format", "--log-format", f);
    }
    match command {
        Command::Serve(args) => {
            if let Some(listen) = args.listen {
                opts = opts.flag("server.listen", "--listen", listen.to_string());
            }
            let config = Config::load(opts)?;
            init_logging(&config)?;
            server::serve(config, args.check_config).await
        }
        Command::Demo(args) => server::demo(opts, args).await,
        Command::Sim(args) => {
            let config = Config::load(opts)?;
            init_logging(&config)?;
            sim::run(args).await
        }
        Command::Migrate => {
            let config = Config::load(opts)?;
            init_logging(&config)?;
            admin::migrate(&config).await
        }
        Command::Secrets(cmd) => {
            let config = Config::load(opts)?;
            init_logging(&config)?;
            match cmd {
                SecretsCommand::RotateKey => admin::rotate_key(&config).await,
                SecretsCommand::PruneKeys => admin::prune_keys(&config).await,
            }
        }
        Command::Site(cmd) => {
            let config = Config::load(opts)?;
            init_logging(&config)?;
            match cmd {
                SiteCommand::List => admin::site_list(&config).await,
                SiteCommand::Purge(args) => admin::site_purge(&config, args).await,
            }
        }
        Command::AssetsSql(cmd) => {
            let config = Config::load(opts)?;
            init_logging(&config)?;
            assets_sql::run(cmd, &config).await
        }
        Command::Bench(BenchCommand::Store(args)) => {
            let config = Config::load(opts)?;
            init_logging(&config)?;
            bench::store(args).await
        }
        Command::Bench(BenchCommand::TicketView(args)) => {
            let config = Config::load(opts)?;
            init_logging(&config)?;
            bench_ticket::ticket_view(args).await
        }
        Command::Bench(BenchCommand::AssetsSql(args)) => {
            let config = Config::load(opts)?;
            init_logging(&config)?;
            bench_assets::assets_sql(args).await
        }
        Command::Bench(BenchCommand::Board(args)) => {
            let config = Config::load(opts)?;
            init_logging(&config)?;
            bench_board::board(args).await
        }
        Command::Bench(BenchCommand::DispatchPlan(args)) => {
            let config = Config::load(opts)?;
            init_logging(&config)?;
            bench_dispatch::dispatch_plan(args).await
        }
        Command::Bench(BenchCommand::AssetsStream(args)) => {
            let config = Config::load(opts)?;
            init_logging(&config)?;
            bench::assets_stream(args).await
        }
    }
}

fn init_logging(config: &Config) -> Result<(), CliError> {
    use std::io::IsTerminal;
    let format = match config.log.format {
        LogFormatChoice::Pretty => platform::telemetry::LogFormat::Pretty,
        LogFormatChoice::Json => platform::telemetry::LogFormat::Json,
        LogFormatChoice::Auto if std::io::stderr().is_terminal() => {
            platform::telemetry::LogFormat::Pretty
        }
        LogFormatChoice::Auto => platform::telemetry::LogFormat::Json,
    };
    platform::telemetry::init(format, &config.log.filter)
        .map_err(|e| CliError::Config(format!("log.filter: {e}")))?;
    for name in &config.unknown_env {
        tracing::warn!(variable = %name, "environment variable starts with JSMKIT_ but names no setting; ignored");
    }
    Ok(())
}

/// The keyring for a configured server: from `secrets.key_file` or `JSMKIT_SECRETS_KEY`.
/// `serve` refuses to run without one.
fn keyring(config: &Config) -> Result<Keyring, CliError> {
    match (&config.secrets.key_file, &config.secrets.key) {
        (Some(_), Some(_)) => Err(CliError::Config(
            "secrets.key_file and JSMKIT_SECRETS_KEY are both set; set only one".into(),
        )),
        (Some(path), None) => Keyring::from_file(path).map_err(|e| {
            CliError::Config(format!("secrets.key_file ({}): {e}", path.display()))
        }),
        (None, Some(key)) => Keyring::from_base64(key)
            .map_err(|e| CliError::Config(format!("secrets.key (from JSMKIT_SECRETS_KEY): {e}"))),
        (None, None) => Err(CliError::Config(
            "secrets.key_file: no master key is configured; set secrets.key_file (JSMKIT_SECRETS_KEY_FILE) to a key file or JSMKIT_SECRETS_KEY to a base64 key (`jsmkit demo` generates one for the demo)".into(),
        )),
    }
}

/// Opens the configured store (migrating it) with the configured keyring.
async fn open_store(config: &Config) -> Result<Store, CliError> {
    let keyring = keyring(config)?;
    Store::open_and_migrate(&config.store.url, keyring)
        .await
        .map_err(|e| {
            CliError::Other(anyhow::anyhow!(
                "store.url ({}): {e}",
                config.store.url.redacted()
            ))
        })
}

/// The key file `rotate-key`/`prune-keys` work on.
fn key_file(config: &Config) -> Result<&Path, CliError> {
    config.secrets.key_file.as_deref().ok_or_else(|| {
        CliError::Config(
            "secrets.key_file: key rotation needs a key file (JSMKIT_SECRETS_KEY_FILE); a key given through JSMKIT_SECRETS_KEY is rotated by the deployment that injects it".into(),
        )
    })
}
