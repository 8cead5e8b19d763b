//! Command-line interface: every command, its flags and an example in its help.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// jsmkit — TechDesk, DispatchDesk and Assets to SQL for Jira Service Management, in one
/// self-hosted binary.
#[derive(Debug, Parser)]
#[command(
    name = "jsmkit",
    version,
    about,
    after_help = "Examples:\n  jsmkit demo                      run everything on this machine (SQLite store, generated key)\n  jsmkit serve --config jsmkit.toml\n  jsmkit serve --check-config\n\nConfiguration: jsmkit.toml (or --config FILE), overridden by JSMKIT_* environment variables; see README.md."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (TOML). Default: jsmkit.toml in the working directory, if present.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format on stderr: pretty, json or auto (pretty on a terminal). Overrides log.format.
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
// Parsed once at start: the size of the biggest variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run the jsmkit server with the configured store and secrets.
    #[command(
        after_help = "Example:\n  JSMKIT_STORE_URL=postgres://jsmkit@db/jsmkit JSMKIT_SECRETS_KEY_FILE=/etc/jsmkit/master.key jsmkit serve --listen 0.0.0.0:8080"
    )]
    Serve(ServeArgs),
    /// Run the whole product on this machine: embedded SQLite store, generated master key,
    /// no other set-up.
    #[command(
        after_help = "Example:\n  jsmkit demo --listen 127.0.0.1:8080 --data-dir ./jsmkit-demo"
    )]
    Demo(DemoArgs),
    /// Run the Atlassian simulator alone: a seeded Jira + JSM + Assets site on this machine,
    /// for trying jsmkit, third-party clients and tests. Prints the site URL and demo users.
    #[command(
        after_help = "Examples:\n  jsmkit sim --listen 127.0.0.1:8090 --seed 7 --scale small\n  jsmkit sim --scale large --users-json users.json\n  jsmkit sim --extra-site \"Mersey Facilities\""
    )]
    Sim(SimArgs),
    /// Apply the store's schema migrations and exit.
    #[command(
        after_help = "Example:\n  JSMKIT_STORE_URL=postgres://jsmkit@db/jsmkit jsmkit migrate"
    )]
    Migrate,
    /// Manage the master keys that encrypt stored secrets.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Inspect or remove what is stored for an Atlassian site.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Measure performance figures.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Assets to SQL: export Jira Assets objects as typed SQL (script or direct load).
    #[command(subcommand)]
    AssetsSql(crate::commands::assets_sql::AssetsSqlCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (overrides server.listen).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Validate the configuration (and that the store can be reached) and exit.
    #[arg(long)]
    pub check_config: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Folder for the demo's store and master key (created if missing).
    #[arg(long, value_name = "DIR", default_value = "jsmkit-demo")]
    pub data_dir: PathBuf,
    /// Address of the built-in Atlassian simulator (port 0: any free port).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:0")]
    pub sim_listen: SocketAddr,
    /// Seed of the simulated site.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub sim_seed: u64,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// Seed of the generated site: the same seed gives the same site.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Data volume: small (the demo: ~300 tickets, a few thousand Assets objects) or large
    /// (~20k tickets, ~100k Assets objects, for benchmarks).
    #[arg(long, value_name = "SCALE", default_value = "small", value_parser = ["small", "large"])]
    pub scale: String,
    /// Also write the demo users as a JSON array of {role, email, accountId, apiToken}.
    #[arg(long, value_name = "FILE")]
    pub users_json: Option<PathBuf>,
    /// Serve one more Atlassian site called NAME (repeatable): its own cloudId, data and URL
    /// {base}/site/{slug}; the admin account belongs to every site.
    #[arg(long = "extra-site", value_name = "NAME")]
    pub extra_sites: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Add a new master key to the key file and re-encrypt every stored secret under it.
    /// Running instances keep reading throughout: they load the new key when they meet it.
    #[command(
        after_help = "Example:\n  jsmkit secrets rotate-key --config /etc/jsmkit/jsmkit.toml"
    )]
    RotateKey,
    /// Remove keys that no stored secret uses any more from the key file.
    #[command(after_help = "Example:\n  jsmkit secrets prune-keys")]
    PruneKeys,
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// List the sites that have data in the store.
    #[command(after_help = "Example:\n  jsmkit site list")]
    List,
    /// Delete everything stored for a site (the uninstall path), after confirmation.
    #[command(
        after_help = "Example:\n  jsmkit site purge 0b8a7c1e-1111-2222-3333-444455556666\n  jsmkit site purge 0b8a7c1e-1111-2222-3333-444455556666 --yes   # no prompt, for scripts"
    )]
    Purge(PurgeArgs),
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The site's cloudId.
    pub cloud_id: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Store operations per second (get, set, query page, transaction) on SQLite and
    /// PostgreSQL side by side. Uses scratch databases; never touches the configured store.
    #[command(
        after_help = "Example:\n  jsmkit bench store --pg-url postgres://postgres@127.0.0.1:5432/postgres"
    )]
    Store(BenchStoreArgs),
    /// Stream every Assets object of a simulated site through the Atlassian client: objects/s
    /// and requests used beside the minimum possible, at the largest page size and at the
    /// client's default page size (the baseline).
    #[command(after_help = "Example:\n  jsmkit bench assets-stream --scale large")]
    AssetsStream(BenchAssetsArgs),
    /// DispatchDesk's board data under concurrent load: latency p50/p99 and Atlassian calls
    /// per request, warm and refreshing on every request, beside the cold first load, on the
    /// small site (one board of 25 technicians) and the large site (25 and 200 technicians).
    #[command(after_help = "Example:\n  jsmkit bench board --concurrency 8 --requests 2000")]
    Board(BenchBoardArgs),
    /// Assets to SQL end to end into PostgreSQL (objects/s, Assets requests beside the
    /// minimum, peak memory) beside `psql \copy` of the same rows from CSV in the same run.
    #[command(
        after_help = "Example:\n  jsmkit bench assets-sql --scale large --pg-url postgres://postgres@127.0.0.1:5432/postgres"
    )]
    AssetsSql(BenchAssetsSqlArgs),
    /// TechDesk's ticket view against a simulated site: server time p50/p99 and Atlassian
    /// calls per view, cold (first view) and warm (site metadata cached).
    #[command(after_help = "Example:\n  jsmkit bench ticket-view --views 500")]
    TicketView(BenchTicketViewArgs),
    /// DispatchDesk's automatic dispatch and route planning on the large simulated site's
    /// queue and technicians: jobs placed, days broken (late or after hours) and driving km
    /// beside the nearest-qualified-technician baseline; route km beside nearest neighbour.
    #[command(after_help = "Example:\n  jsmkit bench dispatch-plan")]
    DispatchPlan(BenchDispatchArgs),
}

#[derive(Debug, Args)]
pub struct BenchDispatchArgs {
    /// Seed of the simulated site.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct BenchTicketViewArgs {
    /// Warm views to measure (after the cold one).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub views: usize,
    /// Seed of the simulated site.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct BenchBoardArgs {
    /// Concurrent clients (1 to 64).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
    /// Requests of the warm run (the every-request run makes a quarter as many).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub requests: usize,
    /// Seed of the simulated sites.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Only the small site (quick check).
    #[arg(long)]
    pub small_only: bool,
}

#[derive(Debug, Args)]
pub struct BenchAssetsArgs {
    /// Size of the simulated site: small (~3,100 objects) or large (~100,000 objects).
    #[arg(long, value_name = "SCALE", default_value = "large", value_parser = ["small", "large"])]
    pub scale: String,
    /// Seed of the simulated site.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Page size of the measured run (1 to the simulator's maximum, 1000).
    #[arg(long, value_name = "N")]
    pub page_size: Option<u32>,
}

#[derive(Debug, Args)]
pub struct BenchStoreArgs {
    /// PostgreSQL server to create a scratch database on ("off" to bench SQLite only).
    #[arg(
        long,
        value_name = "URL",
        env = "JSMKIT_BENCH_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub pg_url: String,
    /// Seconds to spend on each operation.
    #[arg(long, default_value_t = 2)]
    pub seconds: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_an_example() {
        fn walk(cmd: &clap::Command, path: &str) {
            let name = format!("{path} {}", cmd.get_name());
            if cmd.get_subcommands().next().is_none() {
                let help = cmd
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                assert!(help.contains("Example"), "{name} has no example");
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &name);
                }
            }
        }
        walk(&Cli::command(), "");
    }
}

#[derive(Debug, Args)]
pub struct BenchAssetsSqlArgs {
    /// Size of the simulated site: small (~3,100 objects) or large (~100,000 objects).
    #[arg(long, value_name = "SCALE", default_value = "large")]
    pub scale: String,
    /// Seed of the simulated site.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// PostgreSQL server (an admin connection; two scratch databases are created and dropped).
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub pg_url: String,
}
