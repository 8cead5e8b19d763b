//! `serve` and `demo`: build the store and the web shell, run until SIGTERM/Ctrl-C.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use platform::config::{Config, LoadOptions};
use platform::identity::{self, AuthContext, OAuthSettings};
use platform::permissions::protect_with_access;
use platform::scheduler::{self, Scheduler, SchedulerConfig};
use platform::settings;
use platform::store::{Keyring, Store};
use platform::web::{self, AppRoutes, ReadinessCheck, Section, WebConfig};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{CliError, init_logging, open_store};
use crate::cli::DemoArgs;

/// How often expired store entries are swept.
const EXPIRY_SWEEP: Duration = Duration::from_secs(60);

pub async fn serve(config: Config, check_only: bool) -> Result<(), CliError> {
    let store = open_store(&config).await?;
    store
        .ping()
        .await
        .with_context(|| format!("store.url ({}): not reachable", config.store.url.redacted()))?;
    if check_only {
        println!(
            "configuration is valid; the {} store at {} is reachable and migrated",
            store.backend_name(),
            config.store.url.redacted()
        );
        store.close().await;
        return Ok(());
    }
    run(config, store, None, None).await
}

pub async fn demo(opts: LoadOptions, args: DemoArgs) -> Result<(), CliError> {
    let dir = &args.data_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--data-dir {}: cannot create the folder", dir.display()))?;
    let key_file = dir.join("master.key");
    let new_key = !key_file.exists();
    if new_key {
        Keyring::generate_file(&key_file)
            .with_context(|| format!("--data-dir: cannot write {}", key_file.display()))?;
    }
    let db = dir.join("jsmkit.db");
    // The demo always runs on its own data folder, whatever the environment says.
    let mut opts = opts;
    opts.env.retain(|(name, _)| {
        name != "JSMKIT_SECRETS_KEY"
            && name != "JSMKIT_STORE_URL"
            && name != "JSMKIT_SECRETS_KEY_FILE"
    });
    let opts = opts
        .flag("server.listen", "--listen", args.listen.to_string())
        .flag(
            "store.url",
            "--data-dir",
            format!("sqlite://{}", db.display()),
        )
        .flag(
            "secrets.key_file",
            "--data-dir",
            key_file.display().to_string(),
        );
    let config = Config::load(opts)?;
    init_logging(&config)?;
    if new_key {
        tracing::info!(path = %key_file.display(), "generated the demo's master key");
    }
    let store = open_store(&config).await?;
    let sim =
        super::sim::start(args.sim_listen, args.sim_seed, atlassian_sim::Scale::Small).await?;
    super::demo_setup::set_up(&store, &sim).await?;
    let banner = format!(
        "jsmkit demo is running at http://{{addr}}/ (data in {}; stop with Ctrl-C)\n\
         Simulated Atlassian site (seed {}): {} (cloudId {})\n{}",
        display_dir(dir),
        args.sim_seed,
        sim.base_url,
        sim.cloud_id,
        super::sim::users_table(&sim.users_summary())
    );
    // Sign-in goes through the simulator's consent page, as the real flow would through
    // Atlassian's; its demo OAuth client accepts any loopback redirect URI.
    let sim_url = url::Url::parse(&sim.base_url).context("simulator URL")?;
    let oauth = OAuthSettings {
        client_id: "jsmkit-demo".into(),
        client_secret: SecretString::from("jsmkit-demo-secret"),
        auth_base: sim_url.clone(),
        api_root: sim_url.clone(),
        // Replaced in `run` once the listener's real address is known.
        redirect_uri: identity::callback_url(&sim_url),
    };
    let result = run(config, store, Some(banner), Some(oauth)).await;
    sim.shutdown().await;
    result
}

fn display_dir(dir: &Path) -> String {
    dir.canonicalize()
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

/// The store answers: the server can take traffic.
struct StoreReady(Store);

#[async_trait::async_trait]
impl ReadinessCheck for StoreReady {
    async fn check(&self) -> Result<(), String> {
        self.0
            .ping()
            .await
            .map_err(|e| format!("store not reachable: {e}"))
    }
}

/// The apps mounted in this build. Each app crate contributes its routes as it lands.
/// The Settings section (admins, roles, credentials, audit log) replaces its placeholder
/// when users can sign in.
fn apps(
    store: &Store,
    auth: Option<&AuthContext>,
    jobs: &Scheduler,
) -> (Vec<AppRoutes>, Option<assets_sql::app::AssetsSqlState>) {
    let mut apps = Vec::new();
    let mut assets = None;
    if let Some(auth) = auth {
        let pages = settings::router(settings::SettingsState::new(store.clone()));
        apps.push(AppRoutes::new(Section::Settings).pages(protect_with_access(pages, auth)));
        let techdesk = techdesk::TechDeskState::new(store.clone());
        apps.push(
            AppRoutes::new(Section::TechDesk)
                .pages(protect_with_access(techdesk::pages(techdesk.clone()), auth))
                .api(techdesk::api_with(techdesk, |r| {
                    protect_with_access(r, auth)
                })),
        );
        let dispatch = dispatch::web::router(
            dispatch::web::DispatchState::new(store.clone()).with_jobs(auth.clone(), jobs.clone()),
        );
        apps.push(AppRoutes::new(Section::Dispatch).pages(protect_with_access(dispatch, auth)));
        let state =
            assets_sql::app::AssetsSqlState::new(store.clone(), auth.clone(), Some(jobs.clone()));
        // The pull endpoint authenticates API keys itself (no session, read-only).
        let pages = protect_with_access(assets_sql::app::pages(state.clone()), auth)
            .merge(assets_sql::app::api_router(state.clone()));
        apps.push(AppRoutes::new(Section::AssetsSql).pages(pages));
        assets = Some(state);
    }
    (apps, assets)
}

/// How users sign in: the OAuth app from the configuration (`oauth.*`), or the one `demo`
/// passes (the simulator's). Without one nobody can sign in, which is logged loudly.
fn auth_context(
    config: &Config,
    store: &Store,
    web_config: &WebConfig,
    public_url: &url::Url,
    oauth: Option<OAuthSettings>,
) -> Result<Option<AuthContext>, CliError> {
    let settings = match oauth {
        Some(mut given) => {
            given.redirect_uri = identity::callback_url(public_url);
            Some(given)
        }
        None => OAuthSettings::from_config(config, public_url),
    };
    let Some(settings) = settings else {
        tracing::warn!(
            "oauth.client_id / JSMKIT_OAUTH_CLIENT_SECRET are not set: nobody can sign in"
        );
        return Ok(None);
    };
    AuthContext::new(store.clone(), &settings, web_config)
        .map(Some)
        .map_err(|e| CliError::Config(e.to_string()))
}

/// Pages of the platform itself outside every section: signing in and out. (The settings
/// pages, audit log included, are the Settings section's, see [`apps`].)
fn platform_pages(auth: Option<&AuthContext>) -> axum::Router {
    auth.map(identity::routes).unwrap_or_default()
}

async fn run(
    config: Config,
    store: Store,
    banner: Option<String>,
    oauth: Option<OAuthSettings>,
) -> Result<(), CliError> {
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("server.listen: cannot listen on {}", config.server.listen))?;
    let local = listener
        .local_addr()
        .context("server.listen: no local address")?;
    // The URL users reach us at: configured, or this listener's own address.
    let public_url = match &config.server.public_url {
        Some(u) => u.clone(),
        None => url::Url::parse(&format!("http://{local}"))
            .with_context(|| format!("server.listen: {local} gives no URL"))?,
    };
    if config.server.public_url.is_none() && local.ip().is_unspecified() {
        tracing::warn!(
            "server.listen is a wildcard address; set server.public_url so sign-in can send users back here"
        );
    }
    let web_config = WebConfig {
        body_limit_bytes: config.server.body_limit_bytes,
        request_timeout: config.server.request_timeout,
        assets_dir: config.server.assets_dir.clone(),
        public_url: config.server.public_url.clone(),
    };
    let auth = auth_context(&config, &store, &web_config, &public_url, oauth)?;
    let metrics = web::install_metrics_recorder();
    // Background jobs (at most once per occurrence across instances sharing the store).
    let jobs = Scheduler::new(store.clone(), SchedulerConfig::default());
    let (app_routes, assets_sql) = apps(&store, auth.as_ref(), &jobs);
    let router = web::shell_router_with(
        &web_config,
        Arc::new(StoreReady(store.clone())),
        app_routes,
        platform_pages(auth.as_ref()),
    );
    if let Some(state) = &assets_sql {
        let n = assets_sql::app::schedule_all(state)
            .await
            .context("scheduling the Assets to SQL exports")?;
        tracing::info!(exports = n, "Assets to SQL schedules registered");
    }
    if let Some(auth) = &auth {
        let n = dispatch::autorun::schedule_all(&store, auth, &jobs)
            .await
            .context("scheduling automatic dispatch")?;
        tracing::info!(sites = n, "automatic dispatch schedules registered");
    }
    let metrics_listener = match config.server.metrics_listen {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("server.metrics_listen: cannot listen on {addr}"))?,
        ),
        None => None,
    };

    // One signal stops everything: the web server, the metrics listener and background jobs.
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    tokio::spawn(async move {
        web::shutdown_signal().await;
        let _ = stop_tx.send(true);
    });

    let sweeper = tokio::spawn(expiry_sweeper(store.clone(), stopped(stop_rx.clone())));
    jobs.register(scheduler::audit_purge_job(store.clone()).context("audit retention job")?);
    let jobs_task = tokio::spawn(jobs.run(stopped(stop_rx.clone())));
    let metrics_task = metrics_listener
        .map(|l| tokio::spawn(web::serve_metrics(l, metrics, stopped(stop_rx.clone()))));
    if let Some(b) = banner {
        let addr = local.to_string();
        // Not println!: a closed stdout (a supervisor that stopped reading) must not stop
        // the server.
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", b.replace("{addr}", &addr)).and_then(|()| out.flush());
    }
    web::serve(listener, router, stopped(stop_rx))
        .await
        .context("web server failed")?;
    if let Some(task) = metrics_task {
        let _ = task.await;
    }
    let _ = sweeper.await;
    let _ = jobs_task.await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Deletes expired store entries now and then (they are already invisible to reads).
async fn expiry_sweeper(store: Store, stop: impl std::future::Future<Output = ()>) {
    let mut tick = tokio::time::interval(EXPIRY_SWEEP);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = tick.tick() => {
                let span = tracing::info_span!("job", name = "store.purge_expired");
                let _guard = span.enter();
                match store.purge_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "expired entries purged"),
                    Err(e) => tracing::warn!(error = %e, "expiry sweep failed"),
                }
            }
        }
    }
}
