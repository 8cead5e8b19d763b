//! `jsmkit bench board`: DispatchDesk's board data (`/dispatch/board/lanes`) under concurrent
//! load against a simulated site: latency p50/p99 and Atlassian calls per request, warm
//! (served within the cache's refresh interval), refreshing on every request (one
//! incremental search each), beside the cold first load as the baseline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use atlassian::client::AtlassianClient;
use atlassian_sim::server::oauth::OAuthClient;
use atlassian_sim::testkit::Browser;
use atlassian_sim::{Scale, SimConfig};
use dispatch::web::{DispatchState, router};
use platform::identity::{self, AuthContext, OAuthSettings};
use platform::permissions::{AccessData, ProjectKey, ProjectRole, RoleSource, protect_with_access};
use platform::store::scratch::scratch_sqlite;
use platform::store::{Keyring, SiteId, Store};
use platform::web::{AlwaysReady, AppRoutes, Section, WebConfig, shell_router_with};
use secrecy::SecretString;
use tokio::net::TcpListener;

use super::CliError;
use crate::cli::BenchBoardArgs;

struct Phase {
    name: &'static str,
    requests: usize,
    p50: Duration,
    p99: Duration,
    calls: u64,
    elapsed: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Runs `total` GETs of `path` spread over `concurrency` clients sharing one session.
async fn load(
    browser: &Browser,
    path: &str,
    total: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<Duration>> {
    let per = total.div_ceil(concurrency.max(1));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let mut b = browser.clone();
        let path = path.to_string();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(per);
            for _ in 0..per {
                let t = Instant::now();
                let resp = b.get(&path).await?;
                let status = resp.status();
                let _ = resp.bytes().await;
                anyhow::ensure!(status.is_success(), "{path} answered {status}");
                times.push(t.elapsed());
            }
            anyhow::Ok(times)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.context("a load task")??);
    }
    all.sort();
    Ok(all)
}

struct Site {
    label: String,
    lanes: usize,
    tickets: usize,
    bytes: usize,
    phases: Vec<Phase>,
}

/// Projects the benches dispatch.
const SITE_PROJECTS: [&str; 2] = ["FS", "FAC"];

/// A simulated site with DispatchDesk set up on a scratch store, as its admin would.
pub(super) struct DispatchSite {
    pub(super) sim: atlassian_sim::SimHandle,
    pub(super) store: Store,
    pub(super) site: SiteId,
    /// The admin's account id.
    pub(super) admin: String,
    /// Jira as the admin (basic auth).
    pub(super) client: AtlassianClient,
    /// The scratch store's folder (removed when dropped).
    pub(super) _dir: platform::store::scratch::ScratchDir,
}

/// Starts the simulator at `scale` and sets DispatchDesk up on it (quick set-up of
/// [`SITE_PROJECTS`] with the `technicians` group, Europe/London).
pub(super) async fn dispatch_site(
    seed: u64,
    scale: Scale,
    oauth_clients: Vec<OAuthClient>,
) -> anyhow::Result<DispatchSite> {
    eprintln!("generating the {scale:?} site (seed {seed})…");
    let sim = atlassian_sim::start(
        TcpListener::bind("127.0.0.1:0").await?,
        SimConfig {
            seed,
            scale,
            oauth_clients,
            ..SimConfig::default()
        },
    )
    .await
    .context("starting the simulator")?;
    let (url, dir) = scratch_sqlite().context("a scratch store")?;
    let store = Store::open_and_migrate(&url, Keyring::ephemeral()?).await?;
    let site = SiteId::new(&sim.cloud_id)?;
    let users = sim.users_summary();
    let admin = users.iter().find(|u| u.role == "admin").context("admin")?;
    let client = AtlassianClient::basic(
        url::Url::parse(&sim.base_url)?,
        admin.email.clone(),
        SecretString::from(admin.api_token.clone()),
    )?
    .build()?;
    dispatch::setup::quick_setup(
        &store,
        &site,
        &client,
        &SITE_PROJECTS.map(String::from),
        "technicians",
        "Europe/London",
    )
    .await
    .context("setting DispatchDesk up")?;
    Ok(DispatchSite {
        admin: admin.account_id.clone(),
        sim,
        store,
        site,
        client,
        _dir: dir,
    })
}

async fn run_scale(
    args: &BenchBoardArgs,
    scale: Scale,
    keep_techs: Option<usize>,
) -> anyhow::Result<Site> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let public = url::Url::parse(&format!("http://{}", listener.local_addr()?))?;
    let callback = identity::callback_url(&public);
    let oauth = vec![OAuthClient {
        client_id: "jsmkit-bench".into(),
        client_secret: "jsmkit-bench-secret".into(),
        redirect_uris: vec![callback.to_string()],
    }];
    let DispatchSite {
        sim,
        store,
        site,
        admin: _,
        client: _,
        _dir,
    } = dispatch_site(args.seed, scale, oauth).await?;
    let projects = SITE_PROJECTS.map(String::from);
    let users = sim.users_summary();
    let dispatcher = users
        .iter()
        .find(|u| u.role == "dispatcher")
        .context("dispatcher")?;
    let ds = dispatch::store::DispatchStore::new(&store, &site);
    if let Some(keep) = keep_techs {
        for t in ds.technicians().await?.into_iter().skip(keep) {
            ds.delete_technician(&t.account_id).await?;
        }
    }
    let access = AccessData::new(&store, &site);
    for p in &projects {
        access
            .assign(
                &ProjectKey::new(p)?,
                ProjectRole::Dispatcher,
                RoleSource::Group {
                    name: "dispatchers".into(),
                },
            )
            .await?;
    }
    let web = WebConfig {
        public_url: Some(public.clone()),
        ..WebConfig::default()
    };
    let sim_url = url::Url::parse(&sim.base_url)?;
    let auth = AuthContext::new(
        store.clone(),
        &OAuthSettings {
            client_id: "jsmkit-bench".into(),
            client_secret: SecretString::from("jsmkit-bench-secret"),
            auth_base: sim_url.clone(),
            api_root: sim_url,
            redirect_uri: callback,
        },
        &web,
    )?;
    let run = |interval: Duration| {
        let mut state = DispatchState::new(store.clone());
        state.cache = dispatch::cache::BoardCache::new(interval);
        shell_router_with(
            &web,
            Arc::new(AlwaysReady),
            vec![
                AppRoutes::new(Section::Dispatch).pages(protect_with_access(router(state), &auth)),
            ],
            identity::routes(&auth),
        )
    };
    // One server whose cache answers from memory between refreshes (every 2 s), one that
    // goes to Jira on every request; both behind the same session.
    let warm_app = run(Duration::from_secs(2));
    let every_app = run(Duration::ZERO);
    let every_listener = TcpListener::bind("127.0.0.1:0").await?;
    let every_base = format!("http://{}", every_listener.local_addr()?);
    tokio::spawn(platform::web::serve(
        listener,
        warm_app,
        std::future::pending(),
    ));
    tokio::spawn(platform::web::serve(
        every_listener,
        every_app,
        std::future::pending(),
    ));
    let mut b = Browser::new(public.as_str())?;
    let signed = b.sign_in(&dispatcher.email, "/dispatch").await?;
    anyhow::ensure!(
        signed.status().as_u16() == 303,
        "sign-in answered {}",
        signed.status()
    );
    let path = "/dispatch/board/lanes";
    let mut phases = Vec::new();

    // Cold: the first load of the board (full search of every open ticket).
    let before = sim.request_count();
    let t = Instant::now();
    let first = b.get(path).await?;
    let cold = t.elapsed();
    let body = first.text().await?;
    phases.push(Phase {
        name: "cold first load (baseline)",
        requests: 1,
        p50: cold,
        p99: cold,
        calls: sim.request_count() - before,
        elapsed: cold,
    });
    let lanes = body.matches("class=\"lane tech").count();
    let tickets = body.matches("<li class=\"card").count();

    // Warm: concurrent requests within the refresh interval.
    let before = sim.request_count();
    let t = Instant::now();
    let times = load(&b, path, args.requests, args.concurrency).await?;
    phases.push(Phase {
        name: "warm (cache refresh every 2 s)",
        requests: times.len(),
        p50: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
        calls: sim.request_count() - before,
        elapsed: t.elapsed(),
    });

    // Every request refreshes from Jira: one incremental search each.
    let mut e = b.clone();
    e.base = every_base;
    let _ = e.get(path).await?; // its own cold load
    let before = sim.request_count();
    let t = Instant::now();
    let n = (args.requests / 4).max(args.concurrency);
    let times = load(&e, path, n, args.concurrency).await?;
    phases.push(Phase {
        name: "refresh on every request",
        requests: times.len(),
        p50: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
        calls: sim.request_count() - before,
        elapsed: t.elapsed(),
    });
    sim.shutdown().await;
    store.close().await;
    Ok(Site {
        label: match (scale, keep_techs) {
            (Scale::Small, _) => "small site: one board".into(),
            (_, Some(k)) => format!("large site, {k} technicians"),
            _ => "large site: whole site".into(),
        },
        lanes,
        tickets,
        bytes: body.len(),
        phases,
    })
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Board data latency and Atlassian calls per request under concurrent load.
pub async fn board(args: BenchBoardArgs) -> Result<(), CliError> {
    if args.concurrency == 0
        || args.concurrency > 64
        || args.requests == 0
        || args.requests > 100_000
    {
        return Err(CliError::Config(
            "--concurrency 1..=64 and --requests 1..=100000".into(),
        ));
    }
    let mut sites = Vec::new();
    sites.push(run_scale(&args, Scale::Small, None).await?);
    if !args.small_only {
        sites.push(run_scale(&args, Scale::Large, Some(25)).await?);
        sites.push(run_scale(&args, Scale::Large, None).await?);
    }
    println!(
        "DispatchDesk board data (GET /dispatch/board/lanes), {} concurrent clients; goal: p99 < 20 ms warm, <= 2 Atlassian calls per refresh",
        args.concurrency
    );
    println!(
        "{:<28} {:>6} {:>8} {:>9}  {:<32} {:>8} {:>9} {:>9} {:>7} {:>10}",
        "board",
        "lanes",
        "tickets",
        "KiB",
        "run",
        "requests",
        "p50 ms",
        "p99 ms",
        "calls",
        "calls/req"
    );
    for s in &sites {
        for p in &s.phases {
            println!(
                "{:<28} {:>6} {:>8} {:>9}  {:<32} {:>8} {:>9} {:>9} {:>7} {:>10.3}",
                s.label,
                s.lanes,
                s.tickets,
                s.bytes / 1024,
                p.name,
                p.requests,
                ms(p.p50),
                ms(p.p99),
                p.calls,
                p.calls as f64 / p.requests.max(1) as f64
            );
            let _ = p.elapsed;
        }
    }
    Ok(())
}
