//! `jsmkit bench ticket-view`: TechDesk's ticket view against a simulated site — server time
//! (building and rendering the page, no HTTP) p50/p99 and the Atlassian calls per view, cold
//! (first view) and warm (site metadata cached). Goal: at most 3 calls and p99 < 30 ms warm.

use std::sync::Arc;

use anyhow::Context;
use atlassian::client::AtlassianClient;
use platform::permissions::{AccessContext, Principal};
use platform::store::scratch::scratch_sqlite;
use platform::store::{Keyring, SiteId, Store};
use secrecy::SecretString;

use super::CliError;
use crate::cli::BenchTicketViewArgs;

pub async fn ticket_view(args: BenchTicketViewArgs) -> Result<(), CliError> {
    if args.views == 0 || args.views > 100_000 {
        return Err(CliError::Config(format!(
            "--views {}: use a whole number from 1 to 100000",
            args.views
        )));
    }
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let sim = super::sim::start(listen, args.seed, atlassian_sim::Scale::Small).await?;
    let tech = sim
        .users_summary()
        .into_iter()
        .find(|u| u.role == "technician")
        .context("the simulated site has no technician")?;
    // A request of the technician's with linked Assets objects: the fullest view.
    let key = {
        let m = sim.state.read();
        let mine = |i: &&atlassian_sim::model::Issue| {
            i.assignee.as_deref() == Some(tech.account_id.as_str())
        };
        let with_assets = |i: &&atlassian_sim::model::Issue| {
            i.request_type.is_some()
                && i.custom
                    .get("customfield_10060")
                    .and_then(|v| v.as_array())
                    .is_some_and(|a| !a.is_empty())
        };
        m.issues
            .iter()
            .filter(mine)
            .find(with_assets)
            .or_else(|| m.issues.iter().find(mine))
            .map(|i| i.key.clone())
            .context("the technician has no tickets")?
    };
    let base = url::Url::parse(&sim.base_url).context("simulator URL")?;
    let assets_root = base.join("jsm/assets").context("simulator URL")?;
    let client = AtlassianClient::basic(
        base,
        tech.email.clone(),
        SecretString::from(tech.api_token.clone()),
    )
    .context("Atlassian client")?
    .assets_root(assets_root)
    .build()
    .context("Atlassian client")?;
    let (url, _dir) = scratch_sqlite().context("creating a scratch SQLite store")?;
    let store = Store::open_and_migrate(&url, Keyring::ephemeral().context("creating a keyring")?)
        .await
        .context("opening the scratch store")?;
    let site = SiteId::new(sim.cloud_id.clone()).context("the simulator's cloud id")?;
    let ctx = AccessContext {
        site: site.clone(),
        principal: Principal::User {
            site,
            account_id: tech.account_id.clone(),
            display_name: tech.display_name.clone(),
        },
        jira: Arc::new(client.clone()),
    };
    let state = techdesk::TechDeskState::new(store.clone());
    eprintln!(
        "viewing {key} as {} ({} warm views)…",
        tech.email, args.views
    );
    let report =
        techdesk::bench::bench_ticket_view(&state, &ctx, &client, &key, args.views, &|| {
            sim.request_count()
        })
        .await
        .map_err(|e| CliError::Config(e.to_string()))?;
    println!("{report}");
    let ok = report.max_warm_calls <= 3 && report.p99 < std::time::Duration::from_millis(30);
    println!(
        "goal (warm: at most 3 Atlassian calls, p99 < 30 ms): {}",
        if ok { "met" } else { "NOT met" }
    );
    store.close().await;
    sim.shutdown().await;
    Ok(())
}
