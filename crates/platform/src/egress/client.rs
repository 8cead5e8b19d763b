//! The client: URL checks, the checking resolver, the redirect policy and capped reads.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use tracing::Instrument;
use url::{Host, Url};

use super::classify::{BlockReason, classify};
use super::{EgressError, EgressPolicy};

/// Longest URL accepted.
const MAX_URL_LEN: usize = 4096;

/// Timeouts and limits of an [`EgressClient`].
#[derive(Clone, Debug)]
pub struct EgressConfig {
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Whole request, body included.
    pub total_timeout: Duration,
    /// Largest response body read.
    pub max_body_bytes: usize,
    /// Redirects followed at most (each one checked); 0 disables them.
    pub max_redirects: usize,
}

impl Default for EgressConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(15),
            max_body_bytes: 1024 * 1024,
            max_redirects: 3,
        }
    }
}

/// What a [`Lookup`] returns.
pub type LookupFuture = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;

/// Resolves host names to addresses; the client checks what it returns.
pub trait Lookup: Send + Sync + fmt::Debug {
    /// Every address of `host`.
    fn lookup(&self, host: &str) -> LookupFuture;
}

/// The system resolver (`getaddrinfo` on a blocking thread).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> LookupFuture {
        let host = host.to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// Fixed answers (tests, or pinning names); names it does not know fail to resolve.
#[derive(Clone, Debug, Default)]
pub struct StaticLookup {
    names: HashMap<String, Vec<IpAddr>>,
}

impl StaticLookup {
    /// Adds `host` → `ips`.
    pub fn with(mut self, host: &str, ips: &[IpAddr]) -> Self {
        self.names.insert(host.to_ascii_lowercase(), ips.to_vec());
        self
    }
}

impl Lookup for StaticLookup {
    fn lookup(&self, host: &str) -> LookupFuture {
        let found = self.names.get(&host.to_ascii_lowercase()).cloned();
        Box::pin(async move {
            found.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "unknown host"))
        })
    }
}

/// A refusal raised inside reqwest (resolver or redirect policy), found again in the
/// error's source chain.
#[derive(Clone, Debug)]
enum Refusal {
    InvalidUrl(&'static str),
    Scheme(String),
    Credentials,
    Blocked { host: String, reason: BlockReason },
    PortNotAllowed { host: String },
    Resolve { host: String },
    TooManyRedirects(usize),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", EgressError::from(self.clone()))
    }
}

impl std::error::Error for Refusal {}

impl From<Refusal> for EgressError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::InvalidUrl(m) => EgressError::InvalidUrl(m),
            Refusal::Scheme(s) => EgressError::Scheme(s),
            Refusal::Credentials => EgressError::Credentials,
            Refusal::Blocked { host, reason } => EgressError::Blocked { host, reason },
            Refusal::PortNotAllowed { host } => EgressError::PortNotAllowed { host },
            Refusal::Resolve { host } => EgressError::Resolve { host },
            Refusal::TooManyRedirects(n) => EgressError::TooManyRedirects(n),
        }
    }
}

/// Checks one target (the first URL or a redirect hop): scheme, credentials, IP literals
/// against the classifier (unless allow-listed) and the port of allow-listed names.
fn check_target(url: &Url, policy: &EgressPolicy) -> Result<(), Refusal> {
    let scheme = url.scheme();
    if scheme != "http" && scheme != "https" {
        // Only the scheme name, clipped: never the rest of the URL.
        return Err(Refusal::Scheme(scheme.chars().take(20).collect()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::Credentials);
    }
    let port = url
        .port_or_known_default()
        .ok_or(Refusal::InvalidUrl("it has no port"))?;
    let ip = match url.host() {
        None => return Err(Refusal::InvalidUrl("it has no host")),
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(Host::Domain(d)) => {
            let name = d.trim_end_matches('.').to_ascii_lowercase();
            if name.is_empty() {
                return Err(Refusal::InvalidUrl("it has no host"));
            }
            if policy.names_host(&name) && !policy.allows(&name, port) {
                return Err(Refusal::PortNotAllowed { host: name });
            }
            return Ok(());
        }
    };
    let host = ip.to_string();
    if policy.allows(&host, port) {
        return Ok(());
    }
    match classify(ip) {
        Some(reason) => Err(Refusal::Blocked { host, reason }),
        None => Ok(()),
    }
}

/// Parses `url` and checks what can be checked without resolving: http/https, no
/// credentials, IP-literal hosts public or allow-listed, allow-listed names on their port.
/// Host names are checked again when resolved.
pub fn validate_url(url: &str, policy: &EgressPolicy) -> Result<Url, EgressError> {
    if url.len() > MAX_URL_LEN {
        return Err(EgressError::InvalidUrl("it is too long"));
    }
    let parsed =
        Url::parse(url.trim()).map_err(|_| EgressError::InvalidUrl("it cannot be parsed"))?;
    check_target(&parsed, policy)?;
    Ok(parsed)
}

/// The resolver reqwest uses: looks names up, then refuses the whole answer when any
/// address is not public — unless the name is allow-listed (its port is checked before).
struct CheckingResolver {
    lookup: Arc<dyn Lookup>,
    trusted: Arc<HashSet<String>>,
}

impl reqwest::dns::Resolve for CheckingResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let lookup = Arc::clone(&self.lookup);
        let trusted = self.trusted.contains(&host);
        Box::pin(async move {
            let ips = match lookup.lookup(&host).await {
                Ok(ips) if !ips.is_empty() => ips,
                _ => return Err(Box::new(Refusal::Resolve { host }) as _),
            };
            if !trusted {
                for ip in &ips {
                    if let Some(reason) = classify(*ip) {
                        tracing::warn!(%host, %ip, %reason, "outbound request refused");
                        return Err(Box::new(Refusal::Blocked { host, reason }) as _);
                    }
                }
            }
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// One outbound request.
#[derive(Clone, Debug)]
pub struct EgressRequest {
    /// Method.
    pub method: Method,
    /// Target URL (checked before sending).
    pub url: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Body, if any.
    pub body: Option<Vec<u8>>,
}

impl EgressRequest {
    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            url: url.into(),
            headers: HeaderMap::new(),
            body: None,
        }
    }

    /// `POST url` with `body`.
    pub fn post(url: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self {
            method: Method::POST,
            url: url.into(),
            headers: HeaderMap::new(),
            body: Some(body.into()),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, EgressError> {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| EgressError::InvalidHeader(name.chars().take(100).collect()))?;
        let v = HeaderValue::from_str(value)
            .map_err(|_| EgressError::InvalidHeader(name.chars().take(100).collect()))?;
        self.headers.append(n, v);
        Ok(self)
    }
}

/// A response read whole (up to the cap).
#[derive(Clone, Debug)]
pub struct EgressResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

/// The SSRF-safe client of one policy. Cheap to clone.
#[derive(Clone)]
pub struct EgressClient {
    http: reqwest::Client,
    policy: Arc<EgressPolicy>,
    config: EgressConfig,
}

impl fmt::Debug for EgressClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EgressClient")
            .field("policy", &self.policy)
            .field("config", &self.config)
            .finish()
    }
}

impl EgressClient {
    /// A client resolving with the system resolver.
    pub fn new(policy: EgressPolicy, config: EgressConfig) -> Result<Self, EgressError> {
        Self::with_lookup(policy, config, Arc::new(SystemLookup))
    }

    /// A client resolving names with `lookup` (its answers are checked all the same).
    pub fn with_lookup(
        policy: EgressPolicy,
        config: EgressConfig,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, EgressError> {
        // An `Err` only means a provider is already installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = Arc::new(policy);
        let trusted: HashSet<String> = policy
            .allowed()
            .iter()
            .filter(|e| e.host().parse::<IpAddr>().is_err())
            .map(|e| e.host().to_owned())
            .collect();
        let hop_policy = Arc::clone(&policy);
        let max = config.max_redirects;
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max {
                return attempt.error(Refusal::TooManyRedirects(max));
            }
            match check_target(attempt.url(), &hop_policy) {
                Ok(()) => attempt.follow(),
                Err(refusal) => {
                    tracing::warn!(error = %refusal, "redirect refused");
                    attempt.error(refusal)
                }
            }
        });
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(redirect)
            .dns_resolver(CheckingResolver {
                lookup,
                trusted: Arc::new(trusted),
            })
            .connect_timeout(config.connect_timeout)
            .timeout(config.total_timeout)
            .referer(false)
            .user_agent(concat!("jsmkit/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| EgressError::Build(e.without_url().to_string()))?;
        Ok(Self {
            http,
            policy,
            config,
        })
    }

    /// The policy in force.
    pub fn policy(&self) -> &EgressPolicy {
        &self.policy
    }

    /// Checks `url` as [`send`](Self::send) would before resolving.
    pub fn check_url(&self, url: &str) -> Result<Url, EgressError> {
        validate_url(url, &self.policy)
    }

    /// Sends `req` and reads the response body (at most `max_body_bytes`).
    pub async fn send(&self, req: EgressRequest) -> Result<EgressResponse, EgressError> {
        let url = self.check_url(&req.url)?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let span = tracing::info_span!("egress", host = %host, method = %req.method);
        async move {
            let mut rb = self.http.request(req.method, url).headers(req.headers);
            if let Some(body) = req.body {
                rb = rb.body(body);
            }
            let mut resp = rb.send().await.map_err(|e| transport_error(&host, e))?;
            let cap = self.config.max_body_bytes;
            if resp
                .content_length()
                .is_some_and(|n| n > u64::try_from(cap).unwrap_or(u64::MAX))
            {
                return Err(EgressError::TooLarge { limit: cap });
            }
            let status = resp.status();
            let headers = resp.headers().clone();
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(&host, e))? {
                if body.len().saturating_add(chunk.len()) > cap {
                    return Err(EgressError::TooLarge { limit: cap });
                }
                body.extend_from_slice(&chunk);
            }
            tracing::debug!(
                status = status.as_u16(),
                bytes = body.len(),
                "egress response"
            );
            Ok(EgressResponse {
                status,
                headers,
                body: Bytes::from(body),
            })
        }
        .instrument(span)
        .await
    }
}

/// Maps a reqwest error: a refusal of ours anywhere in its sources wins; the rest is
/// described without the URL.
fn transport_error(host: &str, err: reqwest::Error) -> EgressError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = source {
        if let Some(r) = e.downcast_ref::<Refusal>() {
            return r.clone().into();
        }
        source = e.source();
    }
    let host = host.to_owned();
    if err.is_timeout() {
        EgressError::Timeout { host }
    } else if err.is_connect() {
        EgressError::Connect { host }
    } else {
        EgressError::Http {
            host,
            reason: err.without_url().to_string(),
        }
    }
}
