//! Operator commands: migrate, key rotation, site listing and purge.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use platform::config::Config;
use platform::store::SiteId;

use super::{CliError, key_file, open_store};
use crate::cli::PurgeArgs;

pub async fn migrate(config: &Config) -> Result<(), CliError> {
    let store = open_store(config).await?;
    println!(
        "store {} is migrated to the current schema",
        config.store.url.redacted()
    );
    store.close().await;
    Ok(())
}

pub async fn rotate_key(config: &Config) -> Result<(), CliError> {
    let path = key_file(config)?;
    let store = open_store(config).await?;
    let report = store
        .rotate_key(path)
        .await
        .context("rotating the master key")?;
    println!("{report}");
    store.close().await;
    Ok(())
}

pub async fn prune_keys(config: &Config) -> Result<(), CliError> {
    let path = key_file(config)?;
    let store = open_store(config).await?;
    let removed = store
        .prune_keys(path)
        .await
        .context("pruning master keys")?;
    if removed.is_empty() {
        println!("no key to remove: every key in the file is still in use or current");
    } else {
        println!(
            "removed {} unused key(s): {}",
            removed.len(),
            removed.join(", ")
        );
    }
    store.close().await;
    Ok(())
}

pub async fn site_list(config: &Config) -> Result<(), CliError> {
    let store = open_store(config).await?;
    let sites = store.list_sites().await.context("listing sites")?;
    if sites.is_empty() {
        println!("no site has data in the store");
    }
    for site in sites {
        let summary = store.site_summary(&site).await.context("counting")?;
        println!("{site}\t{summary}");
    }
    store.close().await;
    Ok(())
}

pub async fn site_purge(config: &Config, args: PurgeArgs) -> Result<(), CliError> {
    let site: SiteId = args
        .cloud_id
        .parse()
        .map_err(|e| CliError::Config(format!("CLOUD_ID {:?}: {e}", args.cloud_id)))?;
    let store = open_store(config).await?;
    let summary = store.site_summary(&site).await.context("counting")?;
    if summary.is_empty() {
        println!("nothing is stored for site {site}");
        store.close().await;
        return Ok(());
    }
    if !args.yes {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Err(CliError::Config(format!(
                "site purge {site}: would delete {summary}; confirm by running in a terminal or pass --yes"
            )));
        }
        print!(
            "This deletes everything stored for site {site}: {summary}.\nType the cloudId to confirm: "
        );
        std::io::stdout().flush().context("writing the prompt")?;
        let mut answer = String::new();
        stdin
            .lock()
            .read_line(&mut answer)
            .context("reading the confirmation")?;
        if answer.trim() != site.as_str() {
            println!("not confirmed; nothing was deleted");
            store.close().await;
            return Ok(());
        }
    }
    let report = store.purge_site(&site).await.context("purging the site")?;
    println!("purged site {site}: {report}");
    store.close().await;
    Ok(())
}
