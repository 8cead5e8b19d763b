//! Helpers for the apps' HTTP tests: a cookie-keeping client that follows no redirects, and
//! a sign-in that walks jsmkit's `/login/start` through the simulator's consent page and
//! back to jsmkit's callback, as a browser would.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};

/// What went wrong while driving a test browser.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// The HTTP request failed.
    #[error("request to {url} failed: {source}")]
    Http {
        /// Where.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// A step answered something unexpected.
    #[error("{0}")]
    Unexpected(String),
}

type Result<T> = std::result::Result<T, TestkitError>;

/// A browser for one origin: keeps that origin's cookies, sends `Origin` on posts, follows
/// no redirects by itself.
#[derive(Clone, Debug)]
pub struct Browser {
    /// The client.
    pub http: reqwest::Client,
    /// jsmkit's base URL, e.g. `http://127.0.0.1:4321`.
    pub base: String,
    /// Cookies set by jsmkit.
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    /// A browser with no cookies for the jsmkit at `base`.
    pub fn new(base: &str) -> Result<Browser> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|source| TestkitError::Http {
                url: base.into(),
                source,
            })?;
        Ok(Browser {
            http,
            base: base.trim_end_matches('/').to_string(),
            cookies: BTreeMap::new(),
        })
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn absorb(&mut self, url: &str, headers: &HeaderMap) {
        if !url.starts_with(&self.base) {
            return;
        }
        for value in headers.get_all(SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// The absolute URL of `target` (a path on jsmkit, or a full URL).
    pub fn url(&self, target: &str) -> String {
        if target.starts_with('/') {
            format!("{}{target}", self.base)
        } else {
            target.to_string()
        }
    }

    /// GET with jsmkit's cookies.
    pub async fn get(&mut self, target: &str) -> Result<reqwest::Response> {
        let url = self.url(target);
        let mut req = self.http.get(&url);
        if url.starts_with(&self.base) && !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        let resp = req.send().await.map_err(|source| TestkitError::Http {
            url: url.clone(),
            source,
        })?;
        self.absorb(&url, resp.headers());
        Ok(resp)
    }

    /// A same-origin form POST (with `Origin` and cookies) plus `extra` headers.
    pub async fn post_form(
        &mut self,
        target: &str,
        form: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Result<reqwest::Response> {
        let url = self.url(target);
        let mut req = self.http.post(&url).form(form);
        if url.starts_with(&self.base) {
            req = req.header("origin", &self.base);
            if !self.cookies.is_empty() {
                req = req.header("cookie", self.cookie_header());
            }
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.map_err(|source| TestkitError::Http {
            url: url.clone(),
            source,
        })?;
        self.absorb(&url, resp.headers());
        Ok(resp)
    }

    /// Signs in as `email` through `/login/start?next=…` and the simulator's consent page;
    /// returns the callback's response (303 to `next` when all went well).
    pub async fn sign_in(&mut self, email: &str, next: &str) -> Result<reqwest::Response> {
        let start = format!(
            "/login/start?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        );
        let resp = self.get(&start).await?;
        let authorize = location(&resp)?;
        let page = self.get(&authorize).await?;
        let html = page.text().await.map_err(|source| TestkitError::Http {
            url: authorize.clone(),
            source,
        })?;
        let form = consent_form(&html, email)?;
        let base = authorize.split('?').next().unwrap_or_default().to_owned();
        let fields: Vec<(&str, &str)> =
            form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let resp = self.post_form(&base, &fields, &[]).await?;
        let callback = location(&resp)?;
        self.get(&callback).await
    }

    /// The session's CSRF token, read from a page's `csrf_token` field.
    pub async fn csrf_token(&mut self, page: &str) -> Result<String> {
        let resp = self.get(page).await?;
        let html = resp.text().await.map_err(|source| TestkitError::Http {
            url: page.into(),
            source,
        })?;
        attr_after(&html, "name=\"csrf_token\"", "value")
            .ok_or_else(|| TestkitError::Unexpected(format!("no csrf_token field on {page}")))
    }
}

/// The `Location` of a redirect.
pub fn location(resp: &reqwest::Response) -> Result<String> {
    resp.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| {
            TestkitError::Unexpected(format!("expected a redirect, got {}", resp.status()))
        })
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `attr` in the tag that contains `marker`.
fn attr_after(html: &str, marker: &str, attr: &str) -> Option<String> {
    let at = html.find(marker)?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let key = format!("{attr}=\"");
    let start = tag.find(&key)? + key.len();
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

/// The hidden fields of the consent form for the user with `email`.
fn consent_form(html: &str, email: &str) -> Result<Vec<(String, String)>> {
    let form = html
        .split("<form")
        .find(|f| f.contains(&format!("data-email=\"{email}\"")))
        .ok_or_else(|| TestkitError::Unexpected(format!("no consent form for {email}")))?;
    let mut out = Vec::new();
    for input in form.split("<input").skip(1) {
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            let start = input.find(&key)? + key.len();
            let end = start + input[start..].find('"')?;
            Some(unescape(&input[start..end]))
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            out.push((n, v));
        }
    }
    Ok(out)
}

/// The shared folder of specs and data: `JSMKIT_SHARED_DIR` when set (the test command sets
/// it), else `shared/` beside the repository.
pub fn shared_dir() -> std::path::PathBuf {
    std::env::var_os("JSMKIT_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
        })
}
