//! Liveness (`/healthz`) and readiness (`/readyz`) probes.
//!
//! Liveness answers 200 whenever the server is serving. Readiness asks a
//! [`ReadinessCheck`] (the binary plugs the store in) and answers 503 in the error shape when
//! it fails.

use async_trait::async_trait;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::Json;
use super::openapi::ShellState;

/// Something `/readyz` asks before answering "ready": typically "can the store be reached".
///
/// The error text is sent to the caller (in the 503 body) and logged, so it must say what is
/// wrong without secrets: write "store unreachable: connection refused", not a connection
/// string.
///
/// ```
/// use platform::web::ReadinessCheck;
///
/// struct StoreReady;
///
/// #[async_trait::async_trait]
/// impl ReadinessCheck for StoreReady {
///     async fn check(&self) -> Result<(), String> {
///         Ok(()) // e.g. `store.ping().await.map_err(|e| format!("store: {e}"))`
///     }
/// }
/// ```
#[async_trait]
pub trait ReadinessCheck: Send + Sync + 'static {
    /// `Ok(())` when the service can take traffic, otherwise why not.
    async fn check(&self) -> Result<(), String>;
}

/// A [`ReadinessCheck`] that is always ready (for tests and for binaries without a store).
#[derive(Clone, Copy, Debug, Default)]
pub struct AlwaysReady;

#[async_trait]
impl ReadinessCheck for AlwaysReady {
    async fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Body of a successful probe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProbeStatus {
    /// `ok` for liveness, `ready` for readiness.
    #[schema(example = "ok")]
    pub status: String,
}

/// Liveness: 200 while the process serves requests.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "platform",
    operation_id = "healthz",
    responses((status = 200, description = "The process is serving", body = ProbeStatus))
)]
pub(crate) async fn healthz() -> Json<ProbeStatus> {
    Json(ProbeStatus {
        status: "ok".to_owned(),
    })
}

/// Readiness: 200 when the readiness check passes, 503 in the error shape otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "platform",
    operation_id = "readyz",
    responses(
        (status = 200, description = "Ready to take traffic", body = ProbeStatus),
        (status = 503, description = "Not ready; the message says why", body = ErrorBody)
    )
)]
pub(crate) async fn readyz(State(state): State<ShellState>) -> Result<Json<ProbeStatus>, ApiError> {
    match state.readiness.check().await {
        Ok(()) => Ok(Json(ProbeStatus {
            status: "ready".to_owned(),
        })),
        Err(reason) => {
            tracing::warn!(%reason, "readiness check failed");
            Err(ApiError::Unavailable(format!("not ready: {reason}")))
        }
    }
}
