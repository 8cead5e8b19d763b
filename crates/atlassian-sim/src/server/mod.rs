//! The HTTP server: Jira platform v3, JSM, OAuth 2.0 (3LO), Assets and `/sim` routes.

mod auth;
pub mod error;
mod issues;
mod jsm;
mod meta;
pub mod oauth;
pub mod paging;
mod search;
mod sim;

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::Router;
use axum::routing::{get, post, put};
use jiff::Timestamp;

use crate::clock::Clock;
use crate::faults::{FaultConfig, Faults};
use crate::model::Model;
use crate::seed::{self, Scale, UserSummary};

pub use oauth::OAuthClient;

/// Errors starting the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Could not read the listener address or serve.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
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
    /// Key of page tokens.
    pub secret: Arc<[u8; 32]>,
    /// Admin token of `/sim/*`.
    pub admin_token: Arc<str>,
    /// Clock.
    pub clock: Clock,
    /// The Assets routes' state, when the Assets side is seeded.
    pub assets: Option<crate::assets::AssetsState>,
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
    AppState {
        model: Arc::new(RwLock::new(model)),
        oauth: Arc::new(std::sync::Mutex::new(oauth::OAuthState::new(
            cfg.oauth_clients.clone(),
            cfg.seed,
        ))),
        faults: Faults::new(cfg.faults.clone()),
        secret: Arc::new(secret),
        admin_token: admin_token.into(),
        clock,
        assets,
    }
}

/// Starts the simulator on `listener`.
pub async fn start(
    listener: tokio::net::TcpListener,
    cfg: SimConfig,
) -> Result<SimHandle, SimError> {
    let addr = listener.local_addr()?;
    let base_url = cfg
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let state = build_state(&cfg, &base_url);
    let app = app(state.clone());
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
    Ok(SimHandle {
        base_url,
        addr,
        cloud_id,
        admin_token: state.admin_token.to_string(),
        state,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// The complete service: `/ex/jira/{cloudId}` rewriting around [`router`].
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
    let cloud_id = state.read().site.cloud_id.clone();
    let r = router(state);
    tower::ServiceExt::<axum::extract::Request>::map_request(r, move |req| {
        auth::rewrite_gateway(&cloud_id, req)
    })
}

/// All routes (site-root shape); `/ex/jira/{cloudId}` is handled by [`app`].
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/rest/api/3/search/jql",
            get(search::search_get).post(search::search_post),
        )
        .route(
            "/rest/api/3/search/approximate-count",
            post(search::approximate_count),
        )
        .route("/rest/api/3/issue/bulkfetch", post(issues::bulkfetch))
        .route(
            "/rest/api/3/issue/{key}",
            get(issues::get_issue).put(issues::edit_issue),
        )
        .route("/rest/api/3/issue/{key}/changelog", get(issues::changelog))
        .route(
            "/rest/api/3/changelog/bulkfetch",
            post(issues::changelog_bulk),
        )
        .route("/rest/api/3/issue/{key}/assignee", put(issues::assign))
        .route(
            "/rest/api/3/issue/{key}/transitions",
            get(issues::transitions).post(issues::do_transition),
        )
        .route(
            "/rest/api/3/issue/{key}/comment",
            get(issues::comments).post(issues::add_comment),
        )
        .route(
            "/rest/api/3/issue/{key}/worklog",
            get(issues::worklogs).post(issues::add_worklog),
        )
        .route("/rest/api/3/myself", get(meta::myself))
        .route("/rest/api/3/user", get(meta::user))
        .route("/rest/api/3/user/search", get(meta::user_search))
        .route("/rest/api/3/user/assignable/search", get(meta::assignable))
        .route(
            "/rest/api/3/user/properties/{prop}",
            get(meta::user_property),
        )
        .route("/rest/api/3/group/member", get(meta::group_member))
        .route("/rest/api/3/project/search", get(meta::project_search))
        .route("/rest/api/3/project/{key}", get(meta::project))
        .route(
            "/rest/api/3/project/{key}/statuses",
            get(meta::project_statuses),
        )
        .route("/rest/api/3/statuses/search", get(meta::statuses_search))
        .route("/rest/api/3/field", get(meta::fields))
        .route("/rest/api/3/mypermissions", get(meta::my_permissions))
        .route(
            "/rest/api/3/permissions/check",
            post(meta::permissions_check),
        )
        .route("/rest/servicedeskapi/servicedesk", get(jsm::service_desks))
        .route(
            "/rest/servicedeskapi/servicedesk/{id}/requesttype",
            get(jsm::request_types),
        )
        .route(
            "/rest/servicedeskapi/servicedesk/{id}/requesttype/{rt}/field",
            get(jsm::request_type_fields),
        )
        .route("/rest/servicedeskapi/request", post(jsm::create_request))
        .route("/rest/servicedeskapi/request/{key}", get(jsm::get_request))
        .route(
            "/rest/servicedeskapi/request/{key}/comment",
            get(jsm::comments).post(jsm::add_comment),
        )
        .route(
            "/rest/servicedeskapi/assets/workspace",
            get(jsm::assets_workspace),
        )
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
    let app = Router::new()
        .merge(api)
        .route("/rest/api/3/serverInfo", get(meta::server_info))
        .route(
            "/authorize",
            get(oauth::authorize_page).post(oauth::authorize_submit),
        )
        .route("/oauth/token", post(oauth::token))
        .route(
            "/oauth/token/accessible-resources",
            get(oauth::accessible_resources),
        )
        .route("/me", get(oauth::me))
        .route("/sim/faults", post(sim::set_faults))
        .route("/sim/users", get(sim::users))
        .route("/sim/technicians", get(sim::technicians))
        .route("/sim/clock", get(sim::clock));
    let mut app: Router = app
        .fallback(|| async { error::ApiError::not_found("No such endpoint.") })
        .with_state(state.clone());
    if let Some(a) = assets {
        app = app.nest("/jsm/assets/workspace/{workspaceId}/v1", a);
    }
    app.layer(axum::middleware::from_fn_with_state(state, crate::faults::inject))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
            tracing::info_span!("sim_request", method = %req.method(), path = %req.uri().path())
        }))
}
