//! Transport: the per-site [`AtlassianClient`], request execution with
//! concurrency limit, timeouts, size cap, retries, metrics and tracing.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use super::auth::{Auth, TokenSource, join};
use super::error::{Error, Result};
use super::retry::{RetryPolicy, retry_hint, retryable_status};

/// Connect and total timeouts applied to every call.
#[derive(Debug, Clone)]
pub struct Timeouts {
    /// TCP + TLS connect timeout.
    pub connect: Duration,
    /// Whole-request timeout (one attempt, body included).
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            total: Duration::from_secs(60),
        }
    }
}

/// Installs rustls' ring provider once for the process (idempotent).
pub fn install_crypto_provider() {
    // An `Err` only means a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A connection pool to share between clients (e.g. one per signed-in user), so each new
/// [`AtlassianClient`] reuses open connections instead of dialling again. Cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpPool(reqwest::Client);

impl HttpPool {
    /// A pool whose requests use `timeouts` (clients built on it keep these timeouts).
    pub fn new(timeouts: &Timeouts) -> Result<HttpPool> {
        build_reqwest(timeouts).map(HttpPool)
    }
}

/// A reqwest client on rustls/ring: no proxy, no redirects, timeouts set.
pub(crate) fn build_reqwest(timeouts: &Timeouts) -> Result<reqwest::Client> {
    install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        .user_agent(concat!("jsmkit-atlassian/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(e.without_url().to_string()))
}

/// Reads a response body, failing once it exceeds `cap` bytes.
pub(crate) async fn read_capped(
    op: &'static str,
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>> {
    let too_big = || Error::Decode {
        op,
        reason: format!("response larger than {cap} bytes"),
    };
    if resp
        .content_length()
        .is_some_and(|len| len > u64::try_from(cap).unwrap_or(u64::MAX))
    {
        return Err(too_big());
    }
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| Error::from_reqwest(op, e))? {
        if buf.len() + chunk.len() > cap {
            return Err(too_big());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
    Put,
}

impl Verb {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
        }
    }
}

/// One API operation: name (metrics/tracing), method, path template and
/// whether it may be retried automatically.
#[derive(Debug)]
pub(crate) struct Op {
    pub name: &'static str,
    pub verb: Verb,
    /// Path template relative to the base, e.g. `/rest/api/3/issue/{issueIdOrKey}`.
    pub path: &'static str,
    pub idempotent: bool,
}

impl Op {
    pub const fn get(name: &'static str, path: &'static str) -> Op {
        Op {
            name,
            verb: Verb::Get,
            path,
            idempotent: true,
        }
    }
    pub const fn put(name: &'static str, path: &'static str) -> Op {
        Op {
            name,
            verb: Verb::Put,
            path,
            idempotent: true,
        }
    }
    /// A POST that only reads (search, bulk fetch, permission check): retried.
    pub const fn post_read(name: &'static str, path: &'static str) -> Op {
        Op {
            name,
            verb: Verb::Post,
            path,
            idempotent: true,
        }
    }
    /// A POST that creates or changes something: never retried.
    pub const fn post(name: &'static str, path: &'static str) -> Op {
        Op {
            name,
            verb: Verb::Post,
            path,
            idempotent: false,
        }
    }
}

/// Which base URL a call is relative to.
#[derive(Debug, Clone)]
pub(crate) enum Base {
    Jira,
    Url(Url),
}

/// One request: operation, path arguments (filled into `{…}` in order and
/// percent-encoded), query pairs and JSON body.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub op: &'static Op,
    pub base: Base,
    pub args: Vec<String>,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<serde_json::Value>,
}

impl Call {
    pub fn new(op: &'static Op) -> Self {
        Call {
            op,
            base: Base::Jira,
            args: Vec::new(),
            query: Vec::new(),
            body: None,
        }
    }
    pub fn base(mut self, base: Url) -> Self {
        self.base = Base::Url(base);
        self
    }
    pub fn arg(mut self, value: impl Into<String>) -> Self {
        self.args.push(value.into());
        self
    }
    pub fn query(mut self, name: &'static str, value: impl ToString) -> Self {
        self.query.push((name, value.to_string()));
        self
    }
    pub fn query_opt(self, name: &'static str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(name, v),
            None => self,
        }
    }
    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }
}

/// Fills a path template; every argument becomes exactly one encoded segment.
fn build_url(base: &Url, call: &Call) -> Result<Url> {
    let op = call.op.name;
    let mut url = base.clone();
    let mut args = call.args.iter();
    {
        let mut segs = url
            .path_segments_mut()
            .map_err(|()| Error::Config("base URL cannot have a path".into()))?;
        segs.pop_if_empty();
        for piece in call.op.path.split('/').filter(|p| !p.is_empty()) {
            if piece.starts_with('{') {
                let arg = args.next().ok_or_else(|| Error::InvalidArgument {
                    op,
                    reason: "missing path argument".into(),
                })?;
                if arg.is_empty() || arg == "." || arg == ".." {
                    return Err(Error::InvalidArgument {
                        op,
                        reason: "empty or dot path segment".into(),
                    });
                }
                segs.push(arg);
            } else {
                segs.push(piece);
            }
        }
    }
    if !call.query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in &call.query {
            pairs.append_pair(k, v);
        }
    }
    Ok(url)
}

/// Builder for [`AtlassianClient`].
#[derive(Debug)]
pub struct ClientBuilder {
    jira_base: Url,
    assets_root: Url,
    assets_workspace: Option<String>,
    auth: Auth,
    max_concurrency: usize,
    timeouts: Timeouts,
    retry: RetryPolicy,
    max_response_bytes: usize,
    max_pages: usize,
    page_size: Option<u32>,
    pool: Option<HttpPool>,
}

impl ClientBuilder {
    /// Sends through a shared [`HttpPool`] (its timeouts apply, not [`Self::timeouts`]).
    pub fn pool(mut self, pool: HttpPool) -> Self {
        self.pool = Some(pool);
        self
    }
    /// Overrides the Assets root (everything before `/workspace/{id}/v1`).
    pub fn assets_root(mut self, url: Url) -> Self {
        self.assets_root = url;
        self
    }
    /// Uses a known Assets workspace id instead of discovering it.
    pub fn assets_workspace(mut self, id: impl Into<String>) -> Self {
        self.assets_workspace = Some(id.into());
        self
    }
    /// Concurrent requests allowed to this site (default 8, at least 1).
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n.max(1);
        self
    }
    /// Connect and total timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }
    /// Retry policy for idempotent calls.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// Largest response body accepted (default 32 MiB).
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }
    /// Most pages one stream fetches before failing with a paging error.
    pub fn max_pages(mut self, n: usize) -> Self {
        self.max_pages = n.max(1);
        self
    }
    /// Items requested per page by the paged streams that take no page size
    /// of their own (Assets AQL and schemas, JSM lists, changelogs, comments,
    /// worklogs, projects, statuses, users); default: each endpoint's usual
    /// size. Servers may cap it; JQL search uses [`super::SearchRequest::page_size`].
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n.max(1));
        self
    }
    /// Builds the client (installs the ring crypto provider if needed).
    pub fn build(self) -> Result<AtlassianClient> {
        let http = match self.pool {
            Some(HttpPool(c)) => c,
            None => build_reqwest(&self.timeouts)?,
        };
        Ok(AtlassianClient {
            inner: Arc::new(Inner {
                http,
                jira_base: self.jira_base,
                assets_root: self.assets_root,
                workspace: tokio::sync::OnceCell::new_with(self.assets_workspace),
                auth: self.auth,
                limit: tokio::sync::Semaphore::new(self.max_concurrency),
                retry: self.retry,
                max_response_bytes: self.max_response_bytes,
                max_pages: self.max_pages,
                page_size: self.page_size,
            }),
        })
    }
}

/// One Atlassian Cloud site: Jira platform, JSM and Assets APIs. Build once
/// per site and clone freely (clones share the connection pool and limit).
#[derive(Clone, Debug)]
pub struct AtlassianClient {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    http: reqwest::Client,
    jira_base: Url,
    pub(crate) assets_root: Url,
    pub(crate) workspace: tokio::sync::OnceCell<String>,
    auth: Auth,
    limit: tokio::sync::Semaphore,
    retry: RetryPolicy,
    max_response_bytes: usize,
    pub(crate) max_pages: usize,
    page_size: Option<u32>,
}

fn parse_url(s: &str) -> Result<Url> {
    Url::parse(s).map_err(|e| Error::Config(e.to_string()))
}

impl AtlassianClient {
    /// Site-root shape (`https://x.atlassian.net`) with email + API token.
    /// Assets defaults to `https://api.atlassian.com/jsm/assets/workspace/{id}/v1`.
    pub fn basic(
        site: Url,
        email: impl Into<String>,
        api_token: SecretString,
    ) -> Result<ClientBuilder> {
        Ok(Self::with_base(
            site,
            parse_url("https://api.atlassian.com/jsm/assets")?,
            Auth::basic(email, api_token),
        ))
    }

    /// Gateway shape (`{api_root}/ex/jira/{cloudId}`) with OAuth bearer tokens.
    /// `api_root` is normally `https://api.atlassian.com`; Assets defaults to
    /// `{api_root}/ex/jira/{cloudId}/jsm/assets/workspace/{id}/v1`.
    pub fn oauth(api_root: &Url, cloud_id: &str, tokens: TokenSource) -> Result<ClientBuilder> {
        if cloud_id.is_empty()
            || cloud_id.contains(['/', '?', '#', '%'])
            || cloud_id.starts_with('.')
        {
            return Err(Error::Config("invalid cloud id".into()));
        }
        let jira = join(api_root, &format!("ex/jira/{cloud_id}"));
        let assets = join(&jira, "jsm/assets");
        Ok(Self::with_base(jira, assets, Auth::OAuth(tokens)))
    }

    /// Any Jira base and auth (tests, simulator, unusual gateways).
    pub fn with_base(jira_base: Url, assets_root: Url, auth: Auth) -> ClientBuilder {
        ClientBuilder {
            jira_base,
            assets_root,
            assets_workspace: None,
            auth,
            max_concurrency: 8,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            max_response_bytes: 32 * 1024 * 1024,
            max_pages: 10_000,
            page_size: None,
            pool: None,
        }
    }

    /// The Jira base URL.
    pub fn jira_base(&self) -> &Url {
        &self.inner.jira_base
    }

    /// Page size of a stream whose endpoint's usual size is `default`.
    pub(crate) fn page_size(&self, default: u64) -> u64 {
        self.inner.page_size.map_or(default, u64::from)
    }

    /// Sends a call and decodes a JSON answer.
    pub(crate) async fn json<T: DeserializeOwned>(&self, call: Call) -> Result<T> {
        let op = call.op.name;
        let bytes = self.execute(call).await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
            op,
            reason: e.to_string(),
        })
    }

    /// Sends a call whose answer body is ignored.
    pub(crate) async fn unit(&self, call: Call) -> Result<()> {
        self.execute(call).await.map(|_| ())
    }

    /// Sends a call with the concurrency limit, retries, metrics and a span.
    pub(crate) async fn execute(&self, call: Call) -> Result<Vec<u8>> {
        let op = call.op;
        let span = tracing::info_span!(
            "atlassian.call",
            op = op.name,
            method = op.verb.as_str(),
            path = op.path
        );
        self.execute_inner(&call).instrument(span).await
    }

    async fn execute_inner(&self, call: &Call) -> Result<Vec<u8>> {
        let op = call.op;
        let base = match &call.base {
            Base::Jira => &self.inner.jira_base,
            Base::Url(u) => u,
        };
        let url = build_url(base, call)?;
        let policy = &self.inner.retry;
        let mut backoff = policy.backoff();
        let mut waited = Duration::ZERO;
        let mut attempt: u32 = 0;
        let mut reauthed = false;
        loop {
            attempt += 1;
            let (err, hint) = match self.attempt(call, &url).await {
                Ok((status, _, body)) if (200..300).contains(&status) => {
                    count(op.name, &status.to_string());
                    return Ok(body);
                }
                Ok((status, headers, body)) => {
                    count(op.name, &status.to_string());
                    let hint = if retryable_status(status) {
                        retry_hint(&headers)
                    } else {
                        None
                    };
                    if status == 429 {
                        metrics::counter!("atlassian_rate_limited_total", "op" => op.name)
                            .increment(1);
                    }
                    // 401 means the request was not processed: safe to resend once.
                    if status == 401
                        && !reauthed
                        && let Auth::OAuth(ts) = &self.inner.auth
                    {
                        reauthed = true;
                        ts.invalidate().await;
                        continue;
                    }
                    let err = Error::from_status(op.name, status, &body, hint);
                    if !retryable_status(status) {
                        return Err(err);
                    }
                    (err, hint)
                }
                Err(err) => {
                    count(
                        op.name,
                        if matches!(err, Error::Timeout { .. }) {
                            "timeout"
                        } else {
                            "error"
                        },
                    );
                    if !err.is_transient() {
                        return Err(err);
                    }
                    (err, None)
                }
            };
            if !op.idempotent || attempt >= policy.max_attempts {
                return Err(err);
            }
            let jittered = backoff.next().unwrap_or(policy.max_delay);
            // Never earlier than the server asked; a little jitter on top.
            let delay = hint.map_or(jittered, |h| {
                h + jittered.min(h / 10 + Duration::from_millis(100))
            });
            if waited + delay > policy.max_total_delay {
                return Err(err);
            }
            waited += delay;
            metrics::counter!("atlassian_retries_total", "op" => op.name).increment(1);
            tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        call: &Call,
        url: &Url,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>)> {
        let op = call.op.name;
        let _permit = self
            .inner
            .limit
            .acquire()
            .await
            .map_err(|_| Error::Config("client closed".into()))?;
        let http = &self.inner.http;
        let mut rb = match call.op.verb {
            Verb::Get => http.get(url.clone()),
            Verb::Post => http.post(url.clone()),
            Verb::Put => http.put(url.clone()),
        };
        rb = rb.header(reqwest::header::ACCEPT, "application/json");
        rb = match &self.inner.auth {
            Auth::Basic { email, token } => rb.basic_auth(email, Some(token.expose_secret())),
            Auth::OAuth(ts) => rb.bearer_auth(bearer(ts).await?.expose_secret()),
        };
        if let Some(body) = &call.body {
            rb = rb.json(body);
        }
        let resp = rb.send().await.map_err(|e| Error::from_reqwest(op, e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = read_capped(op, resp, self.inner.max_response_bytes).await?;
        Ok((status, headers, body))
    }
}

async fn bearer(ts: &TokenSource) -> Result<SecretString> {
    ts.access_token().await
}

fn count(op: &'static str, status: &str) {
    metrics::counter!("atlassian_requests_total", "op" => op, "status" => status.to_owned())
        .increment(1);
}
