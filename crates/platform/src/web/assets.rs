//! Static front-end files at `/static/`, served from `WebConfig::assets_dir` (`web/static`).
//!
//! `static/app/` holds the project's own CSS and ES modules (committed); `static/vendor/` is
//! filled by `npm ci && node scripts/vendor.mjs` in `web/` (not committed). A missing vendor
//! folder is a warning at start-up, not a crash: pages still render, without htmx.

use std::fmt;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::services::ServeDir;

/// URL prefix of the static files.
pub const STATIC_PREFIX: &str = "/static";

/// Files the base layout loads, relative to the assets folder.
pub const REQUIRED_ASSETS: &[&str] = &["app/app.css", "app/app.js", "vendor/htmx.esm.min.js"];

/// `Cache-Control` of vendored files: their names carry no hash, but they change only when
/// `web/package.json` does, so a day is a fair trade.
const VENDOR_CACHE: &str = "public, max-age=86400";
/// `Cache-Control` of the project's own files: always revalidate (cheap, `ServeDir` answers
/// `304` from the `ETag`), so a new release is picked up at once.
const APP_CACHE: &str = "no-cache";

/// What is wrong with the assets folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssetsProblem {
    /// The folder itself does not exist.
    DirMissing(PathBuf),
    /// Some files the pages load are missing.
    FilesMissing(Vec<PathBuf>),
}

impl fmt::Display for AssetsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DirMissing(dir) => write!(
                f,
                "assets folder {} does not exist; set server.assets_dir to jsmkit's web/static \
                 folder (pages will render without styles and scripts)",
                dir.display()
            ),
            Self::FilesMissing(files) => {
                let list: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
                write!(f, "front-end files missing: {}", list.join(", "))?;
                if files
                    .iter()
                    .any(|p| p.components().any(|c| c.as_os_str() == "vendor"))
                {
                    write!(
                        f,
                        "; run `npm ci && node scripts/vendor.mjs` in web/ to install the \
                         vendored files (pages work without htmx until then)"
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// Checks that `dir` exists and holds [`REQUIRED_ASSETS`].
pub fn check_assets(dir: &Path) -> Result<(), AssetsProblem> {
    if !dir.is_dir() {
        return Err(AssetsProblem::DirMissing(dir.to_path_buf()));
    }
    let missing: Vec<PathBuf> = REQUIRED_ASSETS
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| !p.is_file())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AssetsProblem::FilesMissing(missing))
    }
}

/// The `/static/` router over `dir`, with `Cache-Control` on successful responses.
pub(crate) fn static_router(dir: &Path) -> Router {
    let serve = ServeDir::new(dir).append_index_html_on_directories(false);
    Router::new()
        .nest_service(STATIC_PREFIX, serve)
        .layer(middleware::from_fn(cache_control))
}

async fn cache_control(req: Request, next: Next) -> Response {
    let vendor = req
        .uri()
        .path()
        .starts_with(&format!("{STATIC_PREFIX}/vendor/"));
    let mut response = next.run(req).await;
    let status = response.status();
    if status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED {
        let value = if vendor { VENDOR_CACHE } else { APP_CACHE };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}
