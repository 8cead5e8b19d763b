//! A tower layer that checks every HTTP exchange passing through it against the contract.
//!
//! [`ContractRecorder`] buffers each request and response body (up to a bound), finds the
//! operation in the first [`Spec`] that knows the method and path (give the specs in order of
//! preference: Jira subset, full Jira document, JSM, Assets), validates request and response
//! and records every violation and every operation seen. It never changes the exchange.
//!
//! Paths that are not Atlassian REST operations at all — the simulator's own `/sim/…` admin
//! routes and the OAuth 2.0 (3LO) endpoints `/authorize`, `/oauth/…` and `/me`, which have no
//! OpenAPI document — are recorded as unchecked ([`Exchange::template`] is `None`) instead of
//! being reported; tests check the OAuth responses with hand-written assertions.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use atlassian_sim::contract::ContractRecorder;
//! use atlassian_sim::SimConfig;
//!
//! let recorder = ContractRecorder::atlassian("../shared/specs")?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let cfg = SimConfig { contract: Some(recorder.clone()), ..SimConfig::default() };
//! let sim = atlassian_sim::start(listener, cfg).await?;
//! // … drive `sim` …
//! assert!(recorder.violations().is_empty(), "{}", recorder.report());
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::{Location, Spec, SpecError, Strictness, Violation, ViolationKind};

/// Default bound of a buffered request or response body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Path prefixes served by the simulator that are not Atlassian REST operations: `/sim/…`
/// (simulator administration) and the OAuth 2.0 authorization server (`/authorize`,
/// `/oauth/token`, `/oauth/token/accessible-resources`, `/me`), which Atlassian documents in
/// prose only.
pub const NON_REST_PREFIXES: &[&str] = &["/sim/", "/authorize", "/oauth/", "/me"];

/// Whether `path` is one of the [`NON_REST_PREFIXES`] (exact segment match, so `/metrics`
/// is not `/me`).
pub fn is_non_rest(path: &str) -> bool {
    NON_REST_PREFIXES.iter().any(|p| {
        path.strip_prefix(p.trim_end_matches('/'))
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Which half of an exchange a recorded violation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The request the client sent.
    Request,
    /// The response the server returned.
    Response,
}

/// One violation with the exchange it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedViolation {
    /// Upper-case method.
    pub method: String,
    /// Concrete path (no query).
    pub path: String,
    /// Response status.
    pub status: u16,
    /// Request or response.
    pub side: Side,
    /// The mismatch.
    pub violation: Violation,
}

impl fmt::Display for RecordedViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            Side::Request => "request",
            Side::Response => "response",
        };
        write!(
            f,
            "{} {} -> {} ({side}): {}",
            self.method, self.path, self.status, self.violation
        )
    }
}

/// One exchange seen by the recorder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Upper-case method.
    pub method: String,
    /// Concrete path (no query).
    pub path: String,
    /// The operation's path template in its document; `None` when the path is not a REST
    /// operation ([`NON_REST_PREFIXES`]) or no document has it.
    pub template: Option<String>,
    /// Response status.
    pub status: u16,
}

#[derive(Default)]
struct Log {
    exchanges: Vec<Exchange>,
    violations: Vec<RecordedViolation>,
}

struct Inner {
    specs: Vec<Spec>,
    max_body_bytes: usize,
    log: Mutex<Log>,
}

/// Records contract violations of every exchange passing through [`ContractRecorder::layer`].
/// Cheap to clone; clones share the record.
#[derive(Clone)]
pub struct ContractRecorder {
    inner: Arc<Inner>,
}

impl fmt::Debug for ContractRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContractRecorder")
            .field("specs", &self.inner.specs.len())
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl ContractRecorder {
    /// A recorder over `specs`, tried in order for each exchange.
    pub fn new(specs: Vec<Spec>) -> ContractRecorder {
        ContractRecorder::with_max_body_bytes(specs, DEFAULT_MAX_BODY_BYTES)
    }

    /// A recorder whose buffered bodies are bounded by `max_body_bytes`; a larger body is
    /// passed on unvalidated and recorded as a violation.
    pub fn with_max_body_bytes(specs: Vec<Spec>, max_body_bytes: usize) -> ContractRecorder {
        ContractRecorder {
            inner: Arc::new(Inner {
                specs,
                max_body_bytes,
                log: Mutex::new(Log::default()),
            }),
        }
    }

    /// The four documents of `shared/specs` in `dir`, in lookup order (Jira subset, full Jira,
    /// JSM, Assets), strict about undeclared properties and accepting the
    /// `/ex/jira/{cloudId}` gateway prefix and the unversioned `/rest/api/latest` alias
    /// (validated as `/rest/api/3`: the simulator serves it only where v2 and v3 agree).
    pub fn atlassian(dir: impl AsRef<Path>) -> Result<ContractRecorder, SpecError> {
        let dir = dir.as_ref();
        let load = |name: &str| -> Result<Spec, SpecError> {
            Ok(Spec::load(dir.join(name))?
                .with_strip_prefix("/ex/jira/{cloudId}")
                .with_path_alias("/rest/api/latest", "/rest/api/3")
                .with_strictness(Strictness::NoUnknownProperties))
        };
        Ok(ContractRecorder::new(vec![
            load("jira-platform-v3.subset.openapi.json")?,
            load("jira-platform-v3.openapi.json")?,
            load("jsm-servicedesk.openapi.json")?,
            load("jsm-assets.openapi.json")?,
        ]))
    }

    /// The tower layer; wrap a router or any service of `Request -> Response`.
    pub fn layer(&self) -> ContractLayer {
        ContractLayer {
            recorder: self.clone(),
        }
    }

    /// Every violation recorded so far, in order.
    pub fn violations(&self) -> Vec<RecordedViolation> {
        self.log().violations.clone()
    }

    /// Every exchange recorded so far, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log().exchanges.clone()
    }

    /// The `(METHOD, template)` pairs of the REST operations seen so far.
    pub fn operations_seen(&self) -> BTreeSet<(String, String)> {
        self.log()
            .exchanges
            .iter()
            .filter_map(|e| Some((e.method.clone(), e.template.clone()?)))
            .collect()
    }

    /// All violations, one per line (empty when there are none).
    pub fn report(&self) -> String {
        let v = self.violations();
        let mut out = format!("{} contract violation(s):\n", v.len());
        for x in &v {
            out.push_str("  - ");
            out.push_str(&x.to_string());
            out.push('\n');
        }
        out
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.inner
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn spec_for(&self, method: &str, path: &str) -> Option<(&Spec, String)> {
        self.inner.specs.iter().find_map(|s| {
            s.find_operation(method, path)
                .map(|op| (s, op.template().to_string()))
        })
    }

    fn record(&self, req: &Captured, status: u16, resp: &Captured) {
        let mut found = Vec::new();
        let template = if is_non_rest(&req.path) {
            None
        } else if let Some((spec, template)) = self.spec_for(&req.method, &req.path) {
            found.extend(
                check_request(spec, req)
                    .into_iter()
                    .map(|v| (Side::Request, v)),
            );
            found.extend(
                check_response(spec, req, status, resp)
                    .into_iter()
                    .map(|v| (Side::Response, v)),
            );
            Some(template)
        } else {
            let message = format!(
                "no operation for {} {} in any of the {} documents",
                req.method,
                req.path,
                self.inner.specs.len()
            );
            found.push((
                Side::Request,
                plain(Location::Operation, ViolationKind::NoOperation, message),
            ));
            None
        };
        let mut log = self.log();
        log.exchanges.push(Exchange {
            method: req.method.clone(),
            path: req.path.clone(),
            template,
            status,
        });
        for (side, violation) in found {
            log.violations.push(RecordedViolation {
                method: req.method.clone(),
                path: req.path.clone(),
                status,
                side,
                violation,
            });
        }
    }
}

fn plain(location: Location, kind: ViolationKind, message: String) -> Violation {
    Violation {
        location,
        pointer: String::new(),
        schema_path: String::new(),
        kind,
        message,
    }
}

/// A buffered request or response.
struct Captured {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    content_type: Option<String>,
    body: Result<Bytes, String>,
}

impl Captured {
    /// The JSON body: `Ok(None)` when empty, `Err` when too large or not JSON.
    fn json(&self) -> Result<Option<Value>, Violation> {
        let bytes = self
            .body
            .as_ref()
            .map_err(|e| plain(Location::Body, ViolationKind::Bounds, e.clone()))?;
        if bytes.is_empty() {
            return Ok(None);
        }
        serde_json::from_slice(bytes).map(Some).map_err(|e| {
            plain(
                Location::Body,
                ViolationKind::MediaType,
                format!(
                    "body is not JSON ({e}; content-type {:?})",
                    self.content_type.as_deref().unwrap_or("none")
                ),
            )
        })
    }
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn decode_query(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| url_pairs(q).map(|(k, v)| (decode(k), decode(v))).collect())
        .unwrap_or_default()
}

fn url_pairs(q: &str) -> impl Iterator<Item = (&str, &str)> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
}

/// Percent-decodes `application/x-www-form-urlencoded` text (`+` is a space).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn check_request(spec: &Spec, req: &Captured) -> Vec<Violation> {
    let body = match req.json() {
        Ok(b) => b,
        Err(v) => return vec![v],
    };
    spec.validate_request(
        &req.method,
        &req.path,
        &req.query,
        &req.headers,
        body.as_ref(),
    )
    .err()
    .map(|v| v.0)
    .unwrap_or_default()
}

fn check_response(spec: &Spec, req: &Captured, status: u16, resp: &Captured) -> Vec<Violation> {
    let body = match resp.json() {
        Ok(b) => b.unwrap_or(Value::Null),
        Err(v) => return vec![v],
    };
    let ct = if body.is_null() {
        None
    } else {
        resp.content_type.as_deref()
    };
    spec.validate_response(&req.method, &req.path, status, ct, &body)
        .err()
        .map(|v| v.0)
        .unwrap_or_default()
}

async fn buffer(body: Body, limit: usize) -> (Body, Result<Bytes, String>) {
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => (Body::from(bytes.clone()), Ok(bytes)),
        Err(e) => (
            Body::empty(),
            Err(format!(
                "body not validated: larger than the recorder's {limit}-byte bound or unreadable ({e})"
            )),
        ),
    }
}

/// The [`tower::Layer`] of a [`ContractRecorder`].
#[derive(Clone, Debug)]
pub struct ContractLayer {
    recorder: ContractRecorder,
}

impl<S> tower::Layer<S> for ContractLayer {
    type Service = ContractService<S>;
    fn layer(&self, inner: S) -> ContractService<S> {
        ContractService {
            inner,
            recorder: self.recorder.clone(),
        }
    }
}

/// The service produced by [`ContractLayer`].
#[derive(Clone, Debug)]
pub struct ContractService<S> {
    inner: S,
    recorder: ContractRecorder,
}

impl<S> tower::Service<Request> for ContractService<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The clone is not ready; swap so the ready service handles this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let recorder = self.recorder.clone();
        Box::pin(async move {
            let limit = recorder.inner.max_body_bytes;
            let (parts, body) = req.into_parts();
            let (body, bytes) = buffer(body, limit).await;
            let captured = Captured {
                method: parts.method.as_str().to_ascii_uppercase(),
                path: parts.uri.path().to_string(),
                query: decode_query(parts.uri.query()),
                headers: header_pairs(&parts.headers),
                content_type: content_type(&parts.headers),
                body: bytes,
            };
            let resp = inner.call(Request::from_parts(parts, body)).await?;
            let (rparts, rbody) = resp.into_parts();
            let (rbody, rbytes) = buffer(rbody, limit).await;
            let resp_captured = Captured {
                method: captured.method.clone(),
                path: captured.path.clone(),
                query: Vec::new(),
                headers: Vec::new(),
                content_type: content_type(&rparts.headers),
                body: rbytes,
            };
            recorder.record(&captured, rparts.status.as_u16(), &resp_captured);
            Ok(Response::from_parts(rparts, rbody))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{decode, is_non_rest};

    #[test]
    fn non_rest_prefixes_match_whole_segments() {
        for p in ["/sim/users", "/authorize", "/oauth/token", "/me"] {
            assert!(is_non_rest(p), "{p}");
        }
        for p in ["/metrics", "/rest/api/3/myself", "/simulate", "/authorized"] {
            assert!(!is_non_rest(p), "{p}");
        }
    }

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(decode("project+%3D+HD"), "project = HD");
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%zz"), "%zz");
    }
}
