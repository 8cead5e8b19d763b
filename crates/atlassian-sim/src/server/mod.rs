//! The HTTP server: Jira platform v3, JSM, OAuth 2.0 (3LO), Assets and `/sim` routes.

mod auth;
pub mod error;
mod gateway;
mod issues;
mod jsm;
mod jsm_sla;
mod meta;
pub mod oauth;
pub mod paging;
pub mod roles;
pub(crate) mod routes;
mod search;
mod sim;
pub mod sites;

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::Router;
use jiff::Timestamp;

use crate::clock::Clock;
use crate::faults::{FaultConfig, Faults};
use crate::model::Model;
use crate::seed::{self, Scale, UserSummary};

pub use oauth::OAuthClient;
pub use sites::ExtraSite;

/// Errors starting the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Could not read the listener address or serve.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The configuration is not usable (e.g. an extra site's name).
    #[error("configuration: {0}")]
    Config(String),
}

/// How to build and run a simulator.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed of all generated data.
    pub seed: u64,
    /// Data volume.
    pub scale: Scale,
    /// Public base URL (default `http://{listener address}`).
    pub base_url: Option<String>,
    /// Fault injection.
    pub faults: FaultConfig,
    /// Freeze the clock at this instant (default: the real time, running).
    pub now: Option<Timestamp>,
    /// OAuth clients (default: [`OAuthClient::demo`]).
    pub oauth_clients: Vec<OAuthClient>,
    /// Bearer token for the `/sim/*` admin endpoints (default derived from the seed).
    pub admin_token: Option<String>,
    /// Checks every exchange against the OpenAPI documents (contract tests); the recorder
    /// wraps the whole service, so it sees the `/ex/jira/{cloudId}` gateway paths as sent.
    pub contract: Option<crate::contract::ContractRecorder>,
    /// More sites served next to the primary one (default none), each with its own cloudId,
    /// data and URL `{base}/site/{slug}`; see [`sites`].
    pub extra_sites: Vec<ExtraSite>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            scale: Scale::Small,
            base_url: None,
            faults: FaultConfig::default(),
            now: None,
            oauth_clients: vec![OAuthClient::demo()],
            admin_token: None,
            contract: None,
            extra_sites: Vec::new(),
        }
    }
}

/// Shared server state.
#[derive(Clone)]
pub struct AppState {
    /// The model.
    pub model: Arc<RwLock<Model>>,
    /// OAuth state.
    pub oauth: Arc<std::sync::Mutex<oauth::OAuthState>>,
    /// Fault injector.
    pub faults: Faults,
    /// HTTP requests received so far (all paths, faulted ones included).
    pub requests: Arc<std::sync::atomic::AtomicU64>,
    /// Key of page tokens.
    pub secret: Arc<[u8; 32]>,
    /// Admin token of `/sim/*`.
    pub admin_token: Arc<str>,
    /// Clock.
    pub clock: Clock,
    /// The Assets routes' state, when the Assets side is seeded.
    pub assets: Option<crate::assets::AssetsState>,
    /// The extra sites (their own states; empty on the extra sites themselves).
    pub extra_sites: Arc<Vec<AppState>>,
}

impl AppState {
    /// Read access to the model.
    pub fn read(&self) -> RwLockReadGuard<'_, Model> {
        self.model.read().unwrap_or_else(PoisonError::into_inner)
    }
    /// Write access to the model.
    pub fn write(&self) -> RwLockWriteGuard<'_, Model> {
        self.model.write().unwrap_or_else(PoisonError::into_inner)
    }
    /// This site and then the extra sites.
    pub fn all_sites(&self) -> impl Iterator<Item = &AppState> {
        std::iter::once(self).chain(self.extra_sites.iter())
    }
}

/// One extra site of a running simulator.
#[derive(Clone)]
pub struct ExtraSiteHandle {
    /// The site's name (as `accessible-resources` reports it).
    pub name: String,
    /// Its cloudId (`/ex/jira/{cloudId}`).
    pub cloud_id: String,
    /// Its URL for basic auth, `{base}/site/{slug}`.
    pub base_url: String,
    /// Its Assets workspace id.
    pub workspace_id: String,
    /// Its state (model) for tests.
    pub state: AppState,
}

impl ExtraSiteHandle {
    fn new(state: &AppState) -> Self {
        let m = state.read();
        ExtraSiteHandle {
            name: m.site.name.clone(),
            cloud_id: m.site.cloud_id.clone(),
            base_url: m.site.url.clone(),
            workspace_id: m.site.assets_workspace_id.clone(),
            state: state.clone(),
        }
    }
    /// The site's users with credentials (the shared admin included).
    pub fn users_summary(&self) -> Vec<UserSummary> {
        seed::users_summary(&self.state.read())
    }
}

/// A running simulator.
pub struct SimHandle {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub base_url: String,
    /// Bound address.
    pub addr: SocketAddr,
    /// The site's cloudId.
    pub cloud_id: String,
    /// Admin token for `/sim/*`.
    pub admin_token: String,
    /// State (model, clock, faults) for tests.
    pub state: AppState,
    /// The extra sites ([`SimConfig::extra_sites`]), in configuration order.
    pub extra_sites: Vec<ExtraSiteHandle>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    /// The demo users with credentials.
    pub fn users_summary(&self) -> Vec<UserSummary> {
        seed::users_summary(&self.state.read())
    }
    /// The clock (freeze/advance in tests).
    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }
    /// The fault injector.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }
    /// HTTP requests received so far (all paths, faulted ones included).
    pub fn request_count(&self) -> u64 {
        self.state
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }
    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// Builds the model and state for `cfg` at `base_url` (no socket).
pub fn build_state(cfg: &SimConfig, base_url: &str) -> AppState {
    let clock = cfg.now.map_or_else(Clock::system, Clock::fixed);
    let mut model = seed::seed_site(cfg.seed, cfg.scale, clock.clone(), base_url);
    let (links, assets) = sim::assets_integration(&mut model, cfg);
    seed::seed_tickets(&mut model, cfg.seed, cfg.scale, &links);
    let mut rng = crate::rng::Rng::derive(cfg.seed, "server");
    let mut secret = [0u8; 32];
    for chunk in secret.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    let admin_token = cfg
        .admin_token
        .clone()
        .unwrap_or_else(|| format!("sim-admin-{}", rng.hex(12)));
    let primary_admin = model
        .users
        .iter()
        .find(|u| u.role == crate::model::DemoRole::Admin)
        .cloned();
    let model = Arc::new(RwLock::new(model));
    if let Some(a) = &assets {
        a.connect_tickets(Arc::new(sim::JiraConnectedTickets(Arc::clone(&model))));
    }
    let shared = sites::Shared {
        cfg,
        base_url,
        primary_admin,
        oauth: Arc::new(std::sync::Mutex::new(oauth::OAuthState::new(
            cfg.oauth_clients.clone(),
            cfg.seed,
        ))),
        faults: Faults::new(cfg.faults.clone()),
        requests: Arc::default(),
        admin_token: admin_token.into(),
        clock,
    };
    let extra_sites = sites::usable(&cfg.extra_sites)
        .iter()
        .map(|e| sites::build(&shared, e))
        .collect();
    AppState {
        model,
        oauth: shared.oauth,
        faults: shared.faults,
        requests: shared.requests,
        secret: Arc::new(secret),
        admin_token: shared.admin_token,
        clock: shared.clock,
        assets,
        extra_sites: Arc::new(extra_sites),
    }
}

/// Starts the simulator on `listener`.
pub async fn start(
    listener: tokio::net::TcpListener,
    cfg: SimConfig,
) -> Result<SimHandle, SimError> {
    sites::validate(&cfg.extra_sites).map_err(SimError::Config)?;
    let addr = listener.local_addr()?;
    let base_url = cfg
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let state = build_state(&cfg, &base_url);
    let app = tower::Layer::layer(
        &tower::util::option_layer(cfg.contract.as_ref().map(|r| r.layer())),
        app(state.clone()),
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let svc = axum::ServiceExt::<axum::extract::Request>::into_make_service(app);
        let _ = axum::serve(listener, svc)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    let cloud_id = state.read().site.cloud_id.clone();
    let extra_sites = state.extra_sites.iter().map(ExtraSiteHandle::new).collect();
    Ok(SimHandle {
        base_url,
        addr,
        cloud_id,
        admin_token: state.admin_token.to_string(),
        extra_sites,
        state,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// The complete service: every site's [`router`], requests dispatched by cloudId
/// (`/ex/jira/{cloudId}`), site path (`/site/{slug}`) or Assets workspace id
/// (see [`sites`]); everything else reaches the primary site.
pub fn app(
    state: AppState,
) -> impl tower::Service<
    axum::extract::Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    gateway::dispatcher(state)
}

/// Path prefix of the Assets routes.
pub const ASSETS_PREFIX: &str = "/jsm/assets/workspace/{workspaceId}/v1";

/// Every `(method, path template)` the simulator routes, in axum's template syntax and at the
/// site root (the `/ex/jira/{cloudId}` gateway serves the same set). Built from the same
/// tables as [`router`], so it cannot drift from what is served. Includes the non-REST
/// routes (`/authorize`, `/oauth/…`, `/me`, `/sim/…`).
pub fn served_operations() -> Vec<(axum::http::Method, String)> {
    let mut out: Vec<_> = api_routes()
        .operations()
        .iter()
        .chain(open_routes().operations())
        .map(|(m, p)| (m.clone(), (*p).to_string()))
        .collect();
    out.extend(
        crate::assets::routes::table()
            .operations()
            .iter()
            .map(|(m, p)| (m.clone(), format!("{ASSETS_PREFIX}{p}"))),
    );
    out
}

/// Jira and JSM REST routes behind authentication.
fn api_routes() -> routes::RouteTable<AppState> {
    routes::RouteTable::new()
        .get("/rest/api/3/search/jql", search::search_get)
        .post("/rest/api/3/search/jql", search::search_post)
        .post(
            "/rest/api/3/search/approximate-count",
            search::approximate_count,
        )
        .post("/rest/api/3/issue/bulkfetch", issues::bulkfetch)
        .get("/rest/api/3/issue/{key}", issues::get_issue)
        .put("/rest/api/3/issue/{key}", issues::edit_issue)
        .get("/rest/api/3/issue/{key}/changelog", issues::changelog)
        .post("/rest/api/3/changelog/bulkfetch", issues::changelog_bulk)
        .put("/rest/api/3/issue/{key}/assignee", issues::assign)
        // Jira Cloud still answers the unversioned `latest` alias (clients such as pycontribs'
        // `jira` assign through it); this operation's contract is the same in v2 and v3.
        .put("/rest/api/latest/issue/{key}/assignee", issues::assign)
        .get("/rest/api/3/issue/{key}/transitions", issues::transitions)
        .post("/rest/api/3/issue/{key}/transitions", issues::do_transition)
        .get("/rest/api/3/issue/{key}/comment", issues::comments)
        .post("/rest/api/3/issue/{key}/comment", issues::add_comment)
        .get("/rest/api/3/issue/{key}/worklog", issues::worklogs)
        .post("/rest/api/3/issue/{key}/worklog", issues::add_worklog)
        .get("/rest/api/3/myself", meta::myself)
        .get("/rest/api/3/user", meta::user)
        .get("/rest/api/3/user/search", meta::user_search)
        .get("/rest/api/3/user/assignable/search", meta::assignable)
        .get("/rest/api/3/user/properties/{prop}", meta::user_property)
        .get("/rest/api/3/group/member", meta::group_member)
        .get("/rest/api/3/project", meta::projects)
        .get("/rest/api/3/project/search", meta::project_search)
        .get("/rest/api/3/project/{key}", meta::project)
        .get("/rest/api/3/project/{key}/statuses", meta::project_statuses)
        .get("/rest/api/3/project/{key}/role", roles::project_roles)
        .get("/rest/api/3/project/{key}/role/{id}", roles::project_role)
        .get("/rest/api/3/statuses/search", meta::statuses_search)
        .get("/rest/api/3/field", meta::fields)
        .get("/rest/api/3/mypermissions", meta::my_permissions)
        .post("/rest/api/3/permissions/check", meta::permissions_check)
        .get("/rest/servicedeskapi/servicedesk", jsm::service_desks)
        .get(
            "/rest/servicedeskapi/servicedesk/{id}/requesttype",
            jsm::request_types,
        )
        .get(
            "/rest/servicedeskapi/servicedesk/{id}/requesttype/{rt}/field",
            jsm::request_type_fields,
        )
        .post("/rest/servicedeskapi/request", jsm::create_request)
        .get("/rest/servicedeskapi/request/{key}", jsm::get_request)
        .get("/rest/servicedeskapi/request/{key}/comment", jsm::comments)
        .post(
            "/rest/servicedeskapi/request/{key}/comment",
            jsm::add_comment,
        )
        .get("/rest/servicedeskapi/request/{key}/sla", jsm_sla::slas)
        .get(
            "/rest/servicedeskapi/request/{key}/participant",
            jsm_sla::participants,
        )
        .post(
            "/rest/servicedeskapi/request/{key}/participant",
            jsm_sla::add_participants,
        )
        .get(
            "/rest/servicedeskapi/assets/workspace",
            jsm::assets_workspace,
        )
}

/// Routes without the auth middleware: `serverInfo`, OAuth 2.0 (3LO) and `/sim/*` (which
/// check their own credentials).
fn open_routes() -> routes::RouteTable<AppState> {
    routes::RouteTable::new()
        .get("/rest/api/3/serverInfo", meta::server_info)
        .get("/authorize", oauth::authorize_page)
        .post("/authorize", oauth::authorize_submit)
        .post("/oauth/token", oauth::token)
        .get(
            "/oauth/token/accessible-resources",
            oauth::accessible_resources,
        )
        .get("/me", oauth::me)
        .post("/sim/faults", sim::set_faults)
        .get("/sim/users", sim::users)
        .get("/sim/technicians", sim::technicians)
        .get("/sim/clock", sim::clock)
}

/// All routes (site-root shape); `/ex/jira/{cloudId}` is handled by [`app`].
pub fn router(state: AppState) -> Router {
    let api = api_routes()
        .into_router()
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_auth,
        ));
    let assets = state.assets.clone().map(|a| {
        crate::assets::router(a).route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_auth,
        ))
    });
    let app = Router::new().merge(api).merge(open_routes().into_router());
    let mut app: Router = app
        .fallback(|| async { error::ApiError::not_found("No such endpoint.") })
        .with_state(state.clone());
    if let Some(a) = assets {
        app = app.nest(ASSETS_PREFIX, a);
    }
    app.layer(axum::middleware::from_fn_with_state(state, crate::faults::inject))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
            tracing::info_span!("sim_request", method = %req.method(), path = %req.uri().path())
        }))
}
