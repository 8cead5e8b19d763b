//! `jsmkit bench …`: performance figures printed side by side with their baseline.

use anyhow::Context;
use platform::store::bench::{self, BenchOptions, BenchReport};
use platform::store::scratch::{ScratchPostgres, scratch_sqlite};
use platform::store::{Keyring, Store, StoreUrl, redact_url};

use super::CliError;
use crate::cli::{BenchAssetsArgs, BenchStoreArgs};

/// Store operations per second on a scratch SQLite file and a scratch PostgreSQL database.
pub async fn store(args: BenchStoreArgs) -> Result<(), CliError> {
    if args.seconds == 0 || args.seconds > 60 {
        return Err(CliError::Config(format!(
            "--seconds {}: use a whole number from 1 to 60",
            args.seconds
        )));
    }
    let opts = BenchOptions {
        budget: std::time::Duration::from_secs(args.seconds),
        ..BenchOptions::default()
    };
    let mut reports: Vec<(&str, BenchReport)> = Vec::new();

    let (url, _dir) = scratch_sqlite().context("creating a scratch SQLite store")?;
    eprintln!("benchmarking sqlite ({})", url.redacted());
    reports.push(("sqlite", run_on(&url, &opts).await?));

    if args.pg_url.eq_ignore_ascii_case("off") {
        eprintln!("PostgreSQL skipped (--pg-url off)");
    } else {
        let scratch = ScratchPostgres::create(&args.pg_url, "bench")
            .await
            .with_context(|| format!("--pg-url {}", redact_url(&args.pg_url)))?;
        eprintln!("benchmarking postgres ({})", scratch.url().redacted());
        let result = run_on(scratch.url(), &opts).await;
        scratch
            .drop_database()
            .await
            .context("dropping the scratch database")?;
        reports.push(("postgres", result?));
    }
    println!(
        "store operations per second ({} s per operation, {} keys under the queried prefix)",
        args.seconds, opts.keys
    );
    println!("{}", bench::render_side_by_side(&reports));
    Ok(())
}

async fn run_on(url: &StoreUrl, opts: &BenchOptions) -> Result<BenchReport, CliError> {
    let keyring = Keyring::ephemeral().context("creating a keyring")?;
    let store = Store::open_and_migrate(url, keyring)
        .await
        .with_context(|| format!("opening {}", url.redacted()))?;
    let report = bench::run(&store, opts)
        .await
        .with_context(|| format!("benchmarking {}", url.backend()))?;
    store.close().await;
    Ok(report)
}

/// Every Assets object of a simulated site streamed through the client.
pub async fn assets_stream(args: BenchAssetsArgs) -> Result<(), CliError> {
    let scale: atlassian_sim::Scale = args
        .scale
        .parse()
        .map_err(|e| CliError::Config(format!("--scale {:?}: {e}", args.scale)))?;
    if let Some(n) = args.page_size
        && (n == 0 || n > 1000)
    {
        return Err(CliError::Config(format!(
            "--page-size {n}: use a whole number from 1 to 1000"
        )));
    }
    eprintln!("generating the {} site (seed {})…", args.scale, args.seed);
    let report = atlassian_sim::bench_assets_stream(atlassian_sim::BenchAssetsOptions {
        scale,
        seed: args.seed,
        page_size: args.page_size,
    })
    .await
    .context("streaming the Assets objects")?;
    println!("{report}");
    Ok(())
}
