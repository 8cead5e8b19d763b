//! HTML pages of the shell: the base layout's chrome ([`PageChrome`]), the home page, the
//! placeholder page of each section that has no app in this build, the error page and the
//! 404 fallback.
//!
//! Templates live in `crates/platform/templates/` (askama, auto-escaped; no `|safe`, no
//! inline script or style: the CSP forbids them). An app crate that wants the same layout
//! adds `../platform/templates` to its askama `dirs`, extends `base.html` and puts a
//! [`PageChrome`] named `chrome` in its template struct.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::error::{ApiError, HtmlError, is_api_path};
use super::middleware::current_request_id;

/// jsmkit's version, shown in the footer and by `/api/platform/v1/info`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The sections of the navigation: the three apps and Settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    /// TechDesk, at `/techdesk`.
    TechDesk,
    /// DispatchDesk, at `/dispatch`.
    Dispatch,
    /// Assets to SQL, at `/assets-sql`.
    AssetsSql,
    /// Settings, at `/settings`.
    Settings,
}

impl Section {
    /// Every section, in navigation order.
    pub const ALL: [Section; 4] = [
        Section::TechDesk,
        Section::Dispatch,
        Section::AssetsSql,
        Section::Settings,
    ];

    /// The three apps (every section but Settings).
    pub const APPS: [Section; 3] = [Section::TechDesk, Section::Dispatch, Section::AssetsSql];

    /// Stable id, also the `<app>` segment of its API paths (`/api/<id>/v1/…`).
    pub const fn id(self) -> &'static str {
        match self {
            Section::TechDesk => "techdesk",
            Section::Dispatch => "dispatch",
            Section::AssetsSql => "assets-sql",
            Section::Settings => "settings",
        }
    }

    /// Path of its main page.
    pub const fn path(self) -> &'static str {
        match self {
            Section::TechDesk => "/techdesk",
            Section::Dispatch => "/dispatch",
            Section::AssetsSql => "/assets-sql",
            Section::Settings => "/settings",
        }
    }

    /// Name shown to people.
    pub const fn title(self) -> &'static str {
        match self {
            Section::TechDesk => "TechDesk",
            Section::Dispatch => "DispatchDesk",
            Section::AssetsSql => "Assets to SQL",
            Section::Settings => "Settings",
        }
    }

    /// One paragraph on what the section is for.
    pub const fn summary(self) -> &'static str {
        match self {
            Section::TechDesk => {
                "The technician's desk for Jira Service Management agents and field \
                 technicians: your queue, the ticket view with comments, time logging and \
                 transitions, service-request forms, and the Assets objects linked to each \
                 ticket."
            }
            Section::Dispatch => {
                "Field dispatch for dispatchers and their technicians: work moves through six \
                 status phases on a board, next to the technicians' availability, a schedule, \
                 a map with routing, and automatic dispatch."
            }
            Section::AssetsSql => {
                "Jira Assets (CMDB) schemas and objects exported as typed SQL into PostgreSQL, \
                 MySQL/MariaDB, SQLite or SQL Server: a pull endpoint with API keys, signed \
                 webhook pushes, cron schedules and direct loads into a live database. For \
                 CMDB owners and BI engineers."
            }
            Section::Settings => {
                "Connections to your Atlassian sites and the settings the apps keep: sites, \
                 projects, schedules and mappings. Credentials are stored encrypted and are \
                 never shown again once saved."
            }
        }
    }
}

/// One entry of the main navigation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NavItem {
    /// Link text.
    pub title: &'static str,
    /// Link target.
    pub path: &'static str,
    /// True for the section of the current page (rendered as `aria-current="page"`).
    pub current: bool,
}

/// What the base layout needs: page title, navigation with the current section, version.
#[derive(Clone, Debug)]
pub struct PageChrome {
    /// Text of `<title>` (before ` · jsmkit`).
    pub title: String,
    /// The main navigation.
    pub nav: Vec<NavItem>,
    /// True on the home page (the brand link gets `aria-current`).
    pub home_current: bool,
    /// jsmkit's version, for the footer.
    pub version: &'static str,
    /// The signed-in user (name and sign-out form), or `None` for a "Sign in" link.
    pub user: Option<UserChrome>,
}

/// The signed-in user as the base layout shows them. `platform::identity::CurrentUser::chrome`
/// builds it; pages pass it with [`PageChrome::with_user`].
#[derive(Clone, Debug)]
pub struct UserChrome {
    /// Name shown in the header.
    pub display_name: String,
    /// The session's CSRF token: a hidden field of the sign-out form and, through
    /// `hx-headers:inherited` on `<body>`, the `X-CSRF-Token` header of every htmx request.
    pub csrf_token: String,
}

impl UserChrome {
    /// The JSON object of the `hx-headers:inherited` attribute (askama escapes it).
    pub fn hx_headers(&self) -> String {
        serde_json::json!({ "X-CSRF-Token": self.csrf_token }).to_string()
    }
}

impl PageChrome {
    /// Chrome for a page inside `section` (or outside every section with `None`).
    pub fn new(title: impl Into<String>, section: Option<Section>) -> Self {
        Self {
            title: title.into(),
            nav: Section::ALL
                .iter()
                .map(|s| NavItem {
                    title: s.title(),
                    path: s.path(),
                    current: Some(*s) == section,
                })
                .collect(),
            home_current: false,
            version: VERSION,
            user: None,
        }
    }

    /// The same chrome for a signed-in user.
    #[must_use]
    pub fn with_user(mut self, user: Option<UserChrome>) -> Self {
        self.user = user;
        self
    }

    /// Chrome for the home page.
    pub fn home() -> Self {
        Self {
            home_current: true,
            ..Self::new("Home", None)
        }
    }
}

/// An app card on the home page.
struct AppCard {
    title: &'static str,
    path: &'static str,
    summary: &'static str,
    enabled: bool,
}

#[derive(Template)]
#[template(path = "pages/home.html")]
struct HomePage {
    chrome: PageChrome,
    apps: Vec<AppCard>,
}

#[derive(Template)]
#[template(path = "pages/section.html")]
struct SectionPage {
    chrome: PageChrome,
    title: &'static str,
    summary: &'static str,
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage {
    chrome: PageChrome,
    heading: String,
    message: String,
    path: Option<String>,
    request_id: Option<String>,
}

/// Renders a template to an HTML response, or the error page if rendering fails.
pub fn render(template: &impl Template) -> Result<Html<String>, HtmlError> {
    Ok(Html(template.render()?))
}

/// The home page and a placeholder page for each section in `placeholders`.
pub(crate) fn shell_pages(enabled: &[Section], placeholders: &[Section]) -> Router {
    let enabled: Arc<[Section]> = enabled.into();
    let mut router = Router::new().route(
        "/",
        get(move || {
            let enabled = Arc::clone(&enabled);
            async move { home(&enabled) }
        }),
    );
    for &section in placeholders {
        router = router.route(
            section.path(),
            get(move || async move { placeholder(section) }),
        );
    }
    router
}

fn home(enabled: &[Section]) -> Result<Html<String>, HtmlError> {
    let page = HomePage {
        chrome: PageChrome::home(),
        apps: Section::APPS
            .iter()
            .map(|s| AppCard {
                title: s.title(),
                path: s.path(),
                summary: s.summary(),
                enabled: enabled.contains(s),
            })
            .collect(),
    };
    render(&page)
}

fn placeholder(section: Section) -> Result<Html<String>, HtmlError> {
    render(&SectionPage {
        chrome: PageChrome::new(section.title(), Some(section)),
        title: section.title(),
        summary: section.summary(),
    })
}

/// The error page with `status`, a message safe to show, and optionally the requested path.
pub(crate) fn error_page(status: StatusCode, message: &str, path: Option<&str>) -> Response {
    let heading = match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    };
    let page = ErrorPage {
        chrome: PageChrome::new(heading.clone(), None),
        heading,
        message: message.to_owned(),
        path: path.map(str::to_owned),
        request_id: current_request_id().map(|id| id.to_string()),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot render the error page");
            (status, message.to_owned()).into_response()
        }
    }
}

/// Longest part of an unknown path echoed on the 404 page.
const MAX_ECHOED_PATH: usize = 300;

/// Answers every request no route matched: 404 in the JSON shape under `/api/`, the HTML 404
/// page (echoing the decoded path, escaped) elsewhere.
pub(crate) async fn not_found(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if is_api_path(path) {
        return ApiError::NotFound(format!("no API route for {method} {path}")).into_response();
    }
    let mut shown = percent_decode_lossy(path);
    if let Some((cut, _)) = shown.char_indices().nth(MAX_ECHOED_PATH) {
        shown.truncate(cut);
        shown.push('…');
    }
    error_page(
        StatusCode::NOT_FOUND,
        "There is no page at this address.",
        Some(&shown),
    )
}

/// Decodes `%XX` escapes for display; invalid escapes stay as they are, invalid UTF-8 is
/// replaced.
fn percent_decode_lossy(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex_value(h).zip(hex_value(l)).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_for_display() {
        assert_eq!(percent_decode_lossy("/a%3Cb%3E"), "/a<b>");
        assert_eq!(percent_decode_lossy("/%zz%4"), "/%zz%4");
        assert_eq!(percent_decode_lossy("/%C3%A4"), "/ä");
        assert_eq!(percent_decode_lossy("/%FF"), "/\u{fffd}");
    }

    #[test]
    fn chrome_marks_only_the_current_section() {
        let chrome = PageChrome::new("x", Some(Section::Dispatch));
        let current: Vec<_> = chrome.nav.iter().filter(|n| n.current).collect();
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].path, "/dispatch");
        assert!(!chrome.home_current);
        assert!(PageChrome::home().nav.iter().all(|n| !n.current));
    }
}
