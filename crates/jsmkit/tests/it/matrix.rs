//! The permission matrix (`tests/permission-matrix.toml`) checked against the real server:
//! every route the server serves × every principal, signed in through the simulator's
//! consent page as a browser would.
//!
//! The route inventory cannot drift from the code: API routes come from the served OpenAPI
//! document (generated from the handlers), page routes from the `.route(…)` /
//! `.nest_service(…)` calls in the crates' sources, and every inventoried route is probed on
//! the live server (it must not reach the fallback).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde::Deserialize;

use crate::helpers::{Running, jsmkit, start_demo};

const PRINCIPALS: [&str; 5] = ["anonymous", "viewer", "technician", "dispatcher", "admin"];

fn email(principal: &str) -> Option<&'static str> {
    match principal {
        "viewer" => Some("viewer@irwell-field.example"),
        "technician" => Some("leo.ashworth@irwell-field.example"),
        "dispatcher" => Some("oscar.ashworth@irwell-field.example"),
        "admin" => Some("admin@irwell-field.example"),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Outcome {
    Allow,
    Login,
    Deny,
    Reject,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    probe: Option<String>,
    form: Option<String>,
    #[serde(default)]
    ends_session: bool,
    anonymous: Outcome,
    viewer: Outcome,
    technician: Outcome,
    dispatcher: Outcome,
    admin: Outcome,
}

impl Entry {
    fn expected(&self, principal: &str) -> Outcome {
        match principal {
            "anonymous" => self.anonymous,
            "viewer" => self.viewer,
            "technician" => self.technician,
            "dispatcher" => self.dispatcher,
            _ => self.admin,
        }
    }
}

fn load_matrix() -> BTreeMap<String, Entry> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/permission-matrix.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ------------------------------------------------------------------ the route inventory

/// Source folders of the crates whose routers the server mounts (the simulator and the
/// metrics listener are other servers).
const SOURCE_DIRS: [&str; 5] = [
    "crates/platform/src",
    "crates/techdesk/src",
    "crates/dispatch/src",
    "crates/assets-sql/src",
    "crates/jsmkit/src",
];
/// Routers that are not mounted on the main listener.
const OTHER_LISTENERS: [&str; 1] = ["crates/platform/src/web/metrics.rs"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text inside the parentheses that open at `open` (an index just after `(`).
fn balanced(text: &str, open: usize) -> &str {
    let mut depth = 1;
    let mut in_str = false;
    for (i, c) in text[open..].char_indices() {
        match c {
            '"' => in_str = !in_str,
            '(' | '[' | '{' if !in_str => depth += 1,
            ')' | ']' | '}' if !in_str => {
                depth -= 1;
                if depth == 0 {
                    return &text[open..open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced call at {open}")
}

/// The first top-level argument and the rest.
fn first_arg(args: &str) -> (&str, &str) {
    let mut depth = 0;
    for (i, c) in args.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => return (args[..i].trim(), &args[i + 1..]),
            _ => {}
        }
    }
    (args.trim(), "")
}

/// Whether `code` calls `func` (`func` ends in `(`): `get(`, `.get(`, `routing::get(`, but
/// not `forget(`.
fn calls(code: &str, func: &str) -> bool {
    code.match_indices(func).any(|(i, _)| {
        code[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

/// Page routes from the sources: (method, path template).
fn page_routes(root: &Path) -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    for dir in SOURCE_DIRS {
        rust_files(&root.join(dir), &mut files);
    }
    let mut sources = Vec::new();
    let mut consts = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(root).unwrap().display().to_string();
        if OTHER_LISTENERS.contains(&rel.as_str()) || rel.ends_with("/tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests build routers of their own.
        let text = match text.find("#[cfg(test)]\nmod tests") {
            Some(i) => text[..i].to_owned(),
            None => text,
        };
        for line in text.lines() {
            let line = line.trim();
            let Some(rest) = line
                .strip_prefix("pub const ")
                .or_else(|| line.strip_prefix("const "))
                .or_else(|| line.strip_prefix("pub(crate) const "))
            else {
                continue;
            };
            if let Some((name, value)) = rest.split_once(": &str = \"") {
                consts.insert(name.to_owned(), value.trim_end_matches("\";").to_owned());
            }
        }
        sources.push((rel, text));
    }
    let mut routes = BTreeSet::new();
    for (rel, text) in &sources {
        for call in [".route(", ".nest_service("] {
            let mut from = 0;
            while let Some(at) = text[from..].find(call) {
                let open = from + at + call.len();
                from = open;
                let (path_expr, handler) = first_arg(balanced(text, open));
                let paths: Vec<String> = if let Some(lit) = path_expr.strip_prefix('"') {
                    vec![lit.trim_end_matches('"').to_owned()]
                } else if let Some(value) =
                    consts.get(path_expr.rsplit("::").next().unwrap_or(path_expr))
                {
                    vec![value.clone()]
                } else if path_expr == "section.path()" {
                    // The shell's placeholders, one per section without pages.
                    platform::web::Section::ALL
                        .iter()
                        .map(|s| s.path().to_owned())
                        .collect()
                } else {
                    panic!(
                        "{rel}: cannot resolve the route path `{path_expr}`; teach the matrix test"
                    )
                };
                let methods: Vec<&str> = if call == ".nest_service(" {
                    vec!["GET"]
                } else {
                    ["get(", "post(", "put(", "patch(", "delete("]
                        .into_iter()
                        .filter(|m| calls(handler, m))
                        .map(|m| m.trim_end_matches('('))
                        .collect()
                };
                assert!(
                    !methods.is_empty(),
                    "{rel}: no method for route {path_expr}"
                );
                for path in paths {
                    let path = if call == ".nest_service(" {
                        format!("{path}/{{*path}}")
                    } else {
                        path
                    };
                    for m in &methods {
                        routes.insert((m.to_ascii_uppercase(), path.clone()));
                    }
                }
            }
        }
    }
    routes
}

// ------------------------------------------------------------------ a small browser

/// Keeps jsmkit's cookies (only jsmkit's: the simulator runs on the same host) and follows
/// no redirect by itself.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: BTreeMap<String, String>,
    csrf: String,
}

impl Browser {
    fn new(base: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookies: BTreeMap::new(),
            csrf: String::new(),
        }
    }

    fn url(&self, target: &str) -> String {
        if target.starts_with("http") {
            target.to_owned()
        } else {
            format!("{}{target}", self.base)
        }
    }

    fn keep(&mut self, url: &str, headers: &HeaderMap) {
        if !url.starts_with(&self.base) {
            return;
        }
        for value in headers.get_all(SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || value == "\"\"" {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    async fn send(&mut self, method: &str, target: &str, form: Option<&str>) -> reqwest::Response {
        let url = self.url(target);
        let mut req = if method == "POST" {
            let body = form.unwrap_or("").to_owned();
            self.http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", self.base.clone())
                .body(body)
        } else {
            self.http.get(&url)
        };
        if url.starts_with(&self.base) && !self.cookies.is_empty() {
            let cookie: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header("cookie", cookie.join("; "));
        }
        let resp = req.send().await.unwrap();
        self.keep(&url, resp.headers());
        resp
    }

    async fn get(&mut self, target: &str) -> reqwest::Response {
        self.send("GET", target, None).await
    }

    /// A POST carrying `form` plus this session's CSRF token.
    async fn post(&mut self, target: &str, form: &str) -> reqwest::Response {
        let mut body = format!("csrf_token={}", urlencode(&self.csrf));
        if !form.is_empty() {
            body = format!("{body}&{form}");
        }
        self.send("POST", target, Some(&body)).await
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `value` of the `<input>` named `name` in `html`.
fn attr<'a>(input: &'a str, name: &str) -> Option<&'a str> {
    let start = input.find(&format!("{name}=\""))? + name.len() + 2;
    let end = input[start..].find('"')? + start;
    Some(&input[start..end])
}

fn hidden_value(html: &str, name: &str) -> Option<String> {
    html.split("<input")
        .skip(1)
        .find(|i| attr(i, "name") == Some(name))
        .and_then(|i| attr(i, "value"))
        .map(html_unescape)
}

/// Signs `b` in as `email` through the simulator's consent page.
async fn sign_in(b: &mut Browser, email: &str) {
    let resp = b.get("/login/start?next=%2F").await;
    assert!(
        resp.status().is_redirection(),
        "login start: {}",
        resp.status()
    );
    let authorize = location(&resp);
    let page = b.get(&authorize).await.text().await.unwrap();
    let form = page
        .split("<form")
        .find(|f| f.contains(email))
        .unwrap_or_else(|| panic!("no consent form for {email}"));
    let fields: Vec<(String, String)> = form
        .split("<input")
        .skip(1)
        .filter_map(|i| {
            Some((
                attr(i, "name")?.to_owned(),
                html_unescape(attr(i, "value")?),
            ))
        })
        .collect();
    let resp = b
        .http
        .post(authorize.split('?').next().unwrap())
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "consent: {}", resp.status());
    let resp = b.get(&location(&resp)).await;
    assert!(
        resp.status().is_redirection(),
        "callback: {}",
        resp.status()
    );
    // The session's CSRF token, from the page's hidden field.
    // (The sign-in page shows the signed-in user's chrome, sign-out form included.)
    let page = b.get("/login").await.text().await.unwrap();
    b.csrf = hidden_value(&page, "csrf_token").expect("csrf_token on the sign-in page");
}

async fn browser(base: &str, principal: &str) -> Browser {
    let mut b = Browser::new(base);
    if let Some(email) = email(principal) {
        sign_in(&mut b, email).await;
    }
    b
}

fn classify(resp: &reqwest::Response) -> Option<Outcome> {
    let status = resp.status();
    if status.is_redirection() {
        // A page that needs a session sends to `/login?next=…`; signing out lands on
        // `/login?reason=…`, which is the route doing its job.
        let to = location(resp);
        if to == "/login" || to.starts_with("/login?next=") {
            Some(Outcome::Login)
        } else {
            Some(Outcome::Allow)
        }
    } else if status.is_success() {
        Some(Outcome::Allow)
    } else if status == 403 {
        Some(Outcome::Deny)
    } else if status.is_client_error() && status != 404 {
        Some(Outcome::Reject)
    } else {
        None
    }
}

/// What the settings pages show the admin: must not move after a denied write.
async fn settings_state(admin: &mut Browser) -> Vec<String> {
    let mut pages = Vec::new();
    for page in [
        "/settings/admins",
        "/settings/roles",
        "/settings/credentials",
    ] {
        let resp = admin.get(page).await;
        assert_eq!(resp.status(), 200, "{page}");
        pages.push(resp.text().await.unwrap());
    }
    pages
}

// ------------------------------------------------------------------ the test

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_principal_as_the_matrix_says() {
    atlassian::client::install_crypto_provider();
    let matrix = load_matrix();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");

    let dir = tempfile::tempdir().unwrap();
    let mut cmd = jsmkit(dir.path());
    cmd.args(["demo", "--listen", "127.0.0.1:0", "--data-dir", "demo-data"]);
    let server: Running = start_demo(cmd);
    let base = format!("http://{}", server.addr);

    // The inventory: API routes from the OpenAPI document, page routes from the sources.
    let mut inventory = page_routes(&root);
    let doc: serde_json::Value = reqwest::get(format!("{base}/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            inventory.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }

    let mut problems = Vec::new();
    let keys: BTreeSet<String> = inventory.iter().map(|(m, p)| format!("{m} {p}")).collect();
    for key in &keys {
        if !matrix.contains_key(key) {
            problems.push(format!(
                "{key}: served but missing from the permission matrix"
            ));
        }
    }
    for key in matrix.keys() {
        if !keys.contains(key) {
            problems.push(format!("{key}: in the permission matrix but not served"));
        }
    }

    let mut browsers = BTreeMap::new();
    for principal in PRINCIPALS {
        browsers.insert(principal, browser(&base, principal).await);
    }
    let mut admin_view = browser(&base, "admin").await;

    // Allowed writes that the settings pages showed: proves the "nothing changed" check
    // can see a change.
    let mut writes_seen = 0;
    // Routes that end sessions go last.
    let mut order: Vec<(&String, &Entry)> = matrix.iter().collect();
    order.sort_by_key(|(_, e)| e.ends_session);
    for (key, entry) in order {
        let (method, template) = key.split_once(' ').unwrap();
        let target = entry.probe.clone().unwrap_or_else(|| template.to_owned());
        let form = entry.form.clone().unwrap_or_default();
        for principal in PRINCIPALS {
            let expected = entry.expected(principal);
            let write = method != "GET" && !entry.ends_session && template != "/login/site";
            let before = if write {
                Some(settings_state(&mut admin_view).await)
            } else {
                None
            };
            let mut fresh;
            let b = if entry.ends_session {
                fresh = browser(&base, principal).await;
                &mut fresh
            } else {
                browsers.get_mut(principal).unwrap()
            };
            let resp = if method == "GET" {
                b.get(&target).await
            } else {
                b.post(&target, &form).await
            };
            let status = resp.status();
            let got = classify(&resp);
            if got != Some(expected) {
                problems.push(format!(
                    "{key} as {principal}: expected {expected:?}, got {status} ({got:?}, location {:?})",
                    location(&resp)
                ));
            }
            if let Some(before) = before {
                let changed = settings_state(&mut admin_view).await != before;
                if changed && expected != Outcome::Allow {
                    problems.push(format!(
                        "{key} as {principal}: denied ({status}) but the settings changed"
                    ));
                }
                writes_seen += usize::from(changed);
            }
        }
    }
    assert!(
        writes_seen > 0,
        "no allowed write changed the settings pages"
    );
    assert!(
        problems.is_empty(),
        "permission matrix:\n{}",
        problems.join("\n")
    );
}
