//! `jsmkit bench assets-sql`: Assets to SQL end to end into PostgreSQL on a simulated site
//! (objects/s, Assets requests beside the minimum, peak memory of this process), beside the
//! same rows loaded by `psql \copy` from CSV in the same run (the baseline).
//!
//! The simulator runs as a child process (`jsmkit sim`), so the peak memory reported is the
//! exporter's alone.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use assets_sql::{ExportOptions, ExportState, Output, SiteLogin, connect, export};
use secrecy::SecretString;

use super::CliError;
use crate::cli::BenchAssetsSqlArgs;

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn psql(url: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t"])
        .args(args)
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!(
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn db_url(admin: &str, name: &str) -> anyhow::Result<String> {
    let mut u = url::Url::parse(admin).context("--pg-url")?;
    u.set_path(&format!("/{name}"));
    Ok(u.to_string())
}

struct Sim {
    child: std::process::Child,
    url: String,
    email: String,
    token: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sim(scale: &str, seed: u64, dir: &Path) -> anyhow::Result<Sim> {
    let users = dir.join("users.json");
    let exe = std::env::current_exe().context("the jsmkit executable")?;
    let mut child = Command::new(exe)
        .args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--scale",
            scale,
            "--seed",
            &seed.to_string(),
        ])
        .arg("--users-json")
        .arg(&users)
        .env("JSMKIT_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting jsmkit sim")?;
    let stdout = child.stdout.take().context("sim stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut url = None;
    for line in lines.by_ref() {
        let line = line?;
        if let Some(i) = line.find("http://") {
            let u: String = line[i..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            url = Some(u.trim_end_matches('/').to_string());
            break;
        }
    }
    // Keep draining what the simulator prints so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    for _ in 0..600 {
        if users.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let url = url.context("the simulator printed no URL")?;
    let list: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&users)?)?;
    let admin = list
        .iter()
        .find(|u| u["role"] == "admin")
        .context("no admin in the simulator's users")?;
    Ok(Sim {
        child,
        url,
        email: admin["email"].as_str().unwrap_or_default().to_string(),
        token: admin["apiToken"].as_str().unwrap_or_default().to_string(),
    })
}

pub async fn assets_sql(args: BenchAssetsSqlArgs) -> Result<(), CliError> {
    if !matches!(args.scale.as_str(), "small" | "large") {
        return Err(CliError::Config(format!(
            "--scale {:?}: use small or large",
            args.scale
        )));
    }
    let dir = tempfile::tempdir().context("a scratch folder")?;
    eprintln!(
        "starting the {} simulated site (seed {}) in a child process…",
        args.scale, args.seed
    );
    let sim = start_sim(&args.scale, args.seed, dir.path())?;
    let stamp = jiff::Timestamp::now().as_millisecond();
    let ours_db = format!("jsmkit_bench_assets_{stamp}");
    let base_db = format!("jsmkit_bench_copy_{stamp}");
    let load_db = format!("jsmkit_bench_load_{stamp}");
    let rows_db = format!("jsmkit_bench_rows_{stamp}");
    psql(
        &args.pg_url,
        &["-c", &format!("CREATE DATABASE \"{ours_db}\"")],
    )?;
    psql(
        &args.pg_url,
        &["-c", &format!("CREATE DATABASE \"{base_db}\"")],
    )?;
    psql(
        &args.pg_url,
        &["-c", &format!("CREATE DATABASE \"{load_db}\"")],
    )?;
    psql(
        &args.pg_url,
        &["-c", &format!("CREATE DATABASE \"{rows_db}\"")],
    )?;
    let dbs = Dbs {
        ours: &ours_db,
        base: &base_db,
        load: &load_db,
        rows: &rows_db,
    };
    let result = measure(&args, &sim, dir.path(), &dbs).await;
    for db in [&ours_db, &base_db, &load_db, &rows_db] {
        let _ = psql(
            &args.pg_url,
            &[
                "-c",
                &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
            ],
        );
    }
    result.map_err(CliError::from)
}

/// The scratch databases of one run.
struct Dbs<'a> {
    /// End-to-end export.
    ours: &'a str,
    /// `psql \\copy` baseline.
    base: &'a str,
    /// Loader alone (objects in memory), then re-runs.
    load: &'a str,
    /// Load stage alone (rows ready).
    rows: &'a str,
}

async fn measure(
    args: &BenchAssetsSqlArgs,
    sim: &Sim,
    dir: &Path,
    dbs: &Dbs<'_>,
) -> anyhow::Result<()> {
    let (ours_db, base_db, load_db) = (dbs.ours, dbs.base, dbs.load);
    let ours_url = db_url(&args.pg_url, ours_db)?;
    let base_url = db_url(&args.pg_url, base_db)?;
    let assets = connect(&SiteLogin {
        url: sim.url.clone(),
        email: sim.email.clone(),
        api_token: SecretString::from(sim.token.clone()),
        assets_root: None,
    })
    .await
    .context("connecting to the simulated Assets")?;
    // Minimum requests: one per 1,000 objects of each type, plus the metadata calls.
    let before = peak_mib();
    eprintln!("exporting into PostgreSQL…");
    let t = Instant::now();
    let mut state = ExportState::default();
    let summary = export(
        &assets,
        Output::Database(assets_sql::load::Target::parse(&ours_url)?),
        ExportOptions::default(),
        &mut state,
    )
    .await
    .context("the export")?;
    let ours = t.elapsed();
    let peak = peak_mib();
    // Per-type counts give the minimum number of data pages (the catalog names the object
    // tables: role `table`).
    let tables: Vec<String> = psql(
        &ours_url,
        &[
            "-c",
            "SELECT DISTINCT table_name FROM assets_sql_catalog WHERE role = 'table' ORDER BY 1",
        ],
    )?
    .lines()
    .map(str::to_string)
    .filter(|l| !l.is_empty())
    .collect();
    let mut min_pages = 0u64;
    for t in &tables {
        let n: u64 = psql(&ours_url, &["-c", &format!("SELECT count(*) FROM \"{t}\"")])?
            .trim()
            .parse()
            .unwrap_or(0);
        min_pages += n.div_ceil(1000);
    }
    // Baseline: the same tables' rows to CSV, the schema copied, then `\copy` timed.
    eprintln!("dumping the same rows to CSV and loading them with psql \\copy…");
    let schema = Command::new("pg_dump")
        .args(["--schema-only", "--no-owner", &ours_url])
        .output()
        .context("pg_dump")?;
    if !schema.status.success() {
        bail!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&schema.stderr).trim()
        );
    }
    let schema_file = dir.join("schema.sql");
    std::fs::write(&schema_file, &schema.stdout)?;
    psql(&base_url, &["-f", &schema_file.display().to_string()])?;
    let mut script = String::new();
    let mut all: Vec<String> = psql(
        &ours_url,
        &[
            "-c",
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        ],
    )?
    .lines()
    .filter(|l| !l.is_empty())
    .map(str::to_string)
    .collect();
    all.sort();
    for t in &all {
        let file = dir.join(format!("{t}.csv"));
        psql(
            &ours_url,
            &["-c", &format!("\\copy \"{t}\" TO '{}' CSV", file.display())],
        )?;
        script.push_str(&format!("\\copy \"{t}\" FROM '{}' CSV\n", file.display()));
    }
    let load_file = dir.join("load.sql");
    // Constraints are checked at the end, as our load does (deferred in one transaction).
    std::fs::write(
        &load_file,
        format!("SET session_replication_role = replica;\nBEGIN;\n{script}COMMIT;\n"),
    )?;
    let t = Instant::now();
    psql(&base_url, &["-f", &load_file.display().to_string()])?;
    let baseline = t.elapsed();
    // The loader alone: the same objects, fetched into memory first, loaded into a fresh
    // database (what `\copy` is compared with; the end-to-end run also waits for the API).
    eprintln!("fetching every object into memory, then timing the load alone…");
    let load_url = db_url(&args.pg_url, load_db)?;
    let mut requests = assets_sql::fetch::Requests {
        count: 0,
        page_size: assets_sql::PAGE_SIZE,
    };
    let selection = assets_sql::model::Selection::default();
    let meta = assets_sql::fetch::metadata(&assets, &selection, &mut requests).await?;
    let mut names = assets_sql::ident::NameMap::default();
    let plan = assets_sql::model::plan(&meta, &selection, &mut names, true);
    let mut objects = Vec::new();
    let t_fetch = Instant::now();
    for t in &plan.types {
        let q = assets_sql::fetch::type_query(&t.type_id, None, None)?.to_aql();
        let mut stream = assets.aql(&q, true);
        while let Some(o) = futures_util::TryStreamExt::try_next(&mut stream).await? {
            let raw = assets_sql::value::RawObject::from_client(o);
            if raw.type_id.as_deref() == Some(t.type_id.as_str()) {
                objects.push(raw);
            }
        }
    }
    let fetch_only = t_fetch.elapsed();
    let mut sink =
        assets_sql::load::DbSink::connect(&assets_sql::load::Target::parse(&load_url)?).await?;
    // Copies are made before each timed run: the loader is timed, not the copying.
    let first = objects.clone();
    let t = Instant::now();
    let loaded = assets_sql::run::run_objects(&plan, &mut sink, first).await?;
    let load_only = t.elapsed();
    // The same full run again into the loaded database: nothing changed, then one object
    // in ten relabelled (what a scheduled sync does on a live target).
    eprintln!("running the load again on the loaded database (unchanged, then 10% changed)…");
    let same = objects.clone();
    let t = Instant::now();
    assets_sql::run::run_objects(&plan, &mut sink, same).await?;
    let rerun_same = t.elapsed();
    let changed: Vec<_> = objects
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, mut o)| {
            if i % 10 == 0 {
                o.label = Some(format!("{} (changed)", o.label.unwrap_or_default()));
            }
            o
        })
        .collect();
    let t = Instant::now();
    assets_sql::run::run_objects(&plan, &mut sink, changed).await?;
    let rerun_changed = t.elapsed();
    drop(sink);
    // The load stage alone, like `psql \\copy` starting from rows ready to write: the
    // objects converted to rows first, then only the sink's work timed (begin, batches,
    // finish and commit) into a fresh database.
    eprintln!("timing the load stage alone (rows ready) into a fresh database…");
    let mut batches = Vec::new();
    for t in &plan.types {
        let rows: Vec<_> = objects
            .iter()
            .filter(|o| o.type_id.as_deref() == Some(t.type_id.as_str()))
            .map(|o| assets_sql::value::object_row(t, &plan.workspace_id, o))
            .collect();
        for chunk in rows.chunks(assets_sql::run::BATCH) {
            batches.push((t, chunk.to_vec()));
        }
    }
    let rows_url = db_url(&args.pg_url, dbs.rows)?;
    let stage_only = time_stage(&rows_url, &plan, &batches, loaded).await?;
    // sqlx 0.9.0 leaves Nagle's algorithm on for TCP (transact-rs/sqlx#4335, fixed upstream
    // but unreleased): each COPY can wait ~40 ms for a delayed ACK. When the server is on
    // this machine, the same stage over its Unix socket shows the cost without that.
    let mut stage_socket = None;
    if let Some(socket_url) = unix_socket_url(&rows_url) {
        psql(
            &args.pg_url,
            &[
                "-c",
                &format!("DROP DATABASE \"{}\" WITH (FORCE)", dbs.rows),
            ],
        )?;
        psql(
            &args.pg_url,
            &["-c", &format!("CREATE DATABASE \"{}\"", dbs.rows)],
        )?;
        eprintln!("timing the load stage again over the local Unix socket…");
        stage_socket = Some(time_stage(&socket_url, &plan, &batches, loaded).await?);
    }
    let objects = summary.objects as f64;
    let rate = |secs: f64| if secs > 0.0 { objects / secs } else { 0.0 };
    println!(
        "Assets to SQL into PostgreSQL, {} site (seed {}): {} objects, {} rows, {} tables",
        args.scale, args.seed, summary.objects, summary.rows, summary.tables
    );
    println!(
        "{:<42} {:>10} {:>12} {:>10}",
        "run", "seconds", "objects/s", "x copy"
    );
    println!(
        "{:<42} {:>10.3} {:>12.0} {:>10.2}",
        "jsmkit export (Assets API -> PostgreSQL)",
        ours.as_secs_f64(),
        rate(ours.as_secs_f64()),
        baseline.as_secs_f64() / ours.as_secs_f64().max(1e-9)
    );
    println!(
        "{:<42} {:>10.3} {:>12.0} {:>10.2}",
        "Assets API alone (objects into memory)",
        fetch_only.as_secs_f64(),
        rate(fetch_only.as_secs_f64()),
        baseline.as_secs_f64() / fetch_only.as_secs_f64().max(1e-9)
    );
    println!(
        "{:<42} {:>10.3} {:>12.0} {:>10.2}",
        "jsmkit loader alone (objects in memory)",
        load_only.as_secs_f64(),
        loaded.objects as f64 / load_only.as_secs_f64().max(1e-9),
        baseline.as_secs_f64() / load_only.as_secs_f64().max(1e-9)
    );
    for (label, d) in [
        ("  again, full run, nothing changed", rerun_same),
        ("  again, full run, 10% of objects changed", rerun_changed),
    ] {
        println!(
            "{:<42} {:>10.3} {:>12.0} {:>10.2}",
            label,
            d.as_secs_f64(),
            loaded.objects as f64 / d.as_secs_f64().max(1e-9),
            baseline.as_secs_f64() / d.as_secs_f64().max(1e-9)
        );
    }
    println!(
        "{:<42} {:>10.3} {:>12.0} {:>10.2}",
        "psql \\copy of the same rows from CSV",
        baseline.as_secs_f64(),
        rate(baseline.as_secs_f64()),
        1.0
    );
    println!(
        "{:<42} {:>10.3} {:>12.0} {:>10.2}",
        "load stage alone (rows ready, like \\copy)",
        stage_only.as_secs_f64(),
        loaded.objects as f64 / stage_only.as_secs_f64().max(1e-9),
        baseline.as_secs_f64() / stage_only.as_secs_f64().max(1e-9)
    );
    if let Some(d) = stage_socket {
        println!(
            "{:<42} {:>10.3} {:>12.0} {:>10.2}",
            "  the same over the local Unix socket",
            d.as_secs_f64(),
            loaded.objects as f64 / d.as_secs_f64().max(1e-9),
            baseline.as_secs_f64() / d.as_secs_f64().max(1e-9)
        );
    }
    let mut goals = vec![
        ("end to end", ours),
        ("loader (objects in memory)", load_only),
        ("load stage (rows ready)", stage_only),
    ];
    if let Some(d) = stage_socket {
        goals.push(("load stage (rows ready), Unix socket", d));
    }
    for (what, d) in goals {
        let ratio = baseline.as_secs_f64() / d.as_secs_f64().max(1e-9);
        println!(
            "goal >= 0.80x psql \\copy, {what}: {ratio:.2}x ({})",
            if ratio >= 0.8 { "met" } else { "not met" }
        );
    }
    println!(
        "Assets API requests: {} (minimum for the data: {} pages of 1,000 objects; the rest is schema discovery)",
        summary.requests, min_pages
    );
    match (before, peak) {
        (Some(b), Some(p)) => {
            println!("peak memory of the exporter: {p:.1} MiB (before the export: {b:.1} MiB)")
        }
        _ => println!("peak memory: not available on this system"),
    }
    Ok(())
}

/// The URL of the same database over the server's Unix socket, when the server listens on
/// this machine and its socket is in a usual place.
fn unix_socket_url(tcp_url: &str) -> Option<String> {
    let u = url::Url::parse(tcp_url).ok()?;
    if !matches!(u.host_str()?, "127.0.0.1" | "localhost" | "::1" | "[::1]") {
        return None;
    }
    let port = u.port().unwrap_or(5432);
    let dir = ["/var/run/postgresql", "/run/postgresql", "/tmp"]
        .into_iter()
        .find(|d| Path::new(d).join(format!(".s.PGSQL.{port}")).exists())?;
    let mut s = u.clone();
    s.set_host(Some("localhost")).ok()?;
    s.query_pairs_mut()
        .append_pair("host", dir)
        .append_pair("port", &port.to_string());
    Some(s.to_string())
}

/// Times the sink's work alone (begin, every batch, finish and commit) for rows made
/// beforehand, into the empty database at `url`.
async fn time_stage(
    url: &str,
    plan: &assets_sql::model::Plan,
    batches: &[(
        &assets_sql::model::TypeTable,
        Vec<assets_sql::value::ObjectRow>,
    )],
    counts: assets_sql::sink::Counts,
) -> anyhow::Result<std::time::Duration> {
    use assets_sql::sink::Sink;
    let mut sink =
        assets_sql::load::DbSink::connect(&assets_sql::load::Target::parse(url)?).await?;
    let info = assets_sql::sink::RunInfo {
        run_id: "bench".into(),
        mode: assets_sql::sink::Mode::Full,
        started: jiff::Timestamp::now(),
    };
    let t = Instant::now();
    sink.begin(plan, &info).await?;
    for (table, rows) in batches {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        sink.seen(table, &ids).await?;
        sink.rows(table, rows).await?;
    }
    sink.finish(plan, &info, counts).await?;
    Ok(t.elapsed())
}
