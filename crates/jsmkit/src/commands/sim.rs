//! `jsmkit sim`: the Atlassian simulator on its own, and the banner `demo` prints for it.

use std::net::SocketAddr;

use anyhow::Context;
use atlassian_sim::{Scale, SimConfig, SimHandle, UserSummary};
use serde::Serialize;
use tokio::net::TcpListener;

use super::CliError;
use crate::cli::SimArgs;

/// One demo user as `--users-json` writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserEntry<'a> {
    role: &'a str,
    email: &'a str,
    account_id: &'a str,
    api_token: &'a str,
}

pub async fn run(args: SimArgs) -> Result<(), CliError> {
    let scale: Scale = args
        .scale
        .parse()
        .map_err(|e| CliError::Config(format!("--scale {:?}: {e}", args.scale)))?;
    let started = std::time::Instant::now();
    let cfg = SimConfig {
        seed: args.seed,
        scale,
        extra_sites: args
            .extra_sites
            .iter()
            .map(|name| atlassian_sim::ExtraSite::new(name.as_str(), args.seed))
            .collect(),
        ..SimConfig::default()
    };
    let sim = start_with(args.listen, cfg).await?;
    if let Some(path) = &args.users_json {
        let users = sim.users_summary();
        let entries: Vec<UserEntry<'_>> = users.iter().map(entry).collect();
        let json = serde_json::to_string_pretty(&entries).context("encoding the users")?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("--users-json {}: cannot write", path.display()))?;
    }
    println!(
        "Atlassian simulator: site {} (cloudId {}), seed {}, scale {}, generated in {} ms",
        sim.base_url,
        sim.cloud_id,
        args.seed,
        args.scale,
        started.elapsed().as_millis()
    );
    println!("{}", users_table(&sim.users_summary()));
    for site in &sim.extra_sites {
        println!(
            "Extra site {:?}: {} (cloudId {}); its users:",
            site.name, site.base_url, site.cloud_id
        );
        println!("{}", users_table(&site.users_summary()));
    }
    println!("Stop with Ctrl-C.");
    platform::web::shutdown_signal().await;
    sim.shutdown().await;
    Ok(())
}

/// Starts a seeded simulator on `listen`.
pub async fn start(listen: SocketAddr, seed: u64, scale: Scale) -> Result<SimHandle, CliError> {
    let cfg = SimConfig {
        seed,
        scale,
        ..SimConfig::default()
    };
    start_with(listen, cfg).await
}

/// Starts a simulator configured by `cfg` on `listen`.
async fn start_with(listen: SocketAddr, cfg: SimConfig) -> Result<SimHandle, CliError> {
    if let Err(e) = atlassian_sim::server::sites::validate(&cfg.extra_sites) {
        return Err(CliError::Config(format!("--extra-site: {e}")));
    }
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("--listen: cannot listen on {listen}"))?;
    Ok(atlassian_sim::start(listener, cfg)
        .await
        .context("starting the simulator")?)
}

fn entry(u: &UserSummary) -> UserEntry<'_> {
    UserEntry {
        role: &u.role,
        email: &u.email,
        account_id: &u.account_id,
        api_token: &u.api_token,
    }
}

/// The demo users as an aligned table (customers summarised, they are many).
pub fn users_table(users: &[UserSummary]) -> String {
    let staff: Vec<&UserSummary> = users.iter().filter(|u| u.role != "customer").collect();
    let customers = users.len() - staff.len();
    let w_role = staff.iter().map(|u| u.role.len()).max().unwrap_or(4).max(4);
    let w_email = staff
        .iter()
        .map(|u| u.email.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let w_id = staff
        .iter()
        .map(|u| u.account_id.len())
        .max()
        .unwrap_or(9)
        .max(9);
    let mut out = format!(
        "{:<w_role$}  {:<w_email$}  {:<w_id$}  API token\n",
        "role", "email", "accountId"
    );
    for u in staff {
        out.push_str(&format!(
            "{:<w_role$}  {:<w_email$}  {:<w_id$}  {}\n",
            u.role, u.email, u.account_id, u.api_token
        ));
    }
    if customers > 0 {
        out.push_str(&format!(
            "(+ {customers} customers; --users-json FILE lists everyone)"
        ));
    }
    out
}
