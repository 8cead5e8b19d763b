//! Which site a request is for: `api.atlassian.com/ex/jira/{cloudId}/…` by cloudId,
//! `{base}/site/{slug}/…` (an extra site's own URL) by path, and
//! `/jsm/assets/workspace/{workspaceId}/v1/…` by workspace; anything else is the primary
//! site's (which also serves the OAuth authorization server and `/sim/*`).

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use axum::response::IntoResponse as _;
use tower::ServiceExt as _;

use super::{AppState, auth, router};

/// One site's router and the ids that lead to it.
struct SiteRoute {
    cloud_id: String,
    /// Path segment under `/site/` (`None` for the primary site, served at the root).
    slug: Option<String>,
    workspace_id: String,
    router: Router,
}

/// Where a request goes, decided from its path.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// Site `index`, path unchanged (gateway rewriting still applies).
    Site(usize),
    /// Site `index` at its own URL: serve `path` there (the `/site/{slug}` prefix removed).
    SitePath(usize, String),
}

/// Picks the site of `path` among `(cloud_id, slug, workspace_id)` (index 0 is the
/// primary site, the fallback).
pub(super) fn target(sites: &[(&str, Option<&str>, &str)], path: &str) -> Target {
    let segment = |prefix: &str| -> Option<(String, String)> {
        let rest = path.strip_prefix(prefix)?;
        let (first, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        Some((first.to_owned(), tail.to_owned()))
    };
    if let Some((cid, _)) = segment("/ex/jira/") {
        if let Some(i) = sites.iter().position(|s| s.0 == cid) {
            return Target::Site(i);
        }
    } else if let Some((slug, tail)) = segment("/site/") {
        if let Some(i) = sites.iter().position(|s| s.1 == Some(slug.as_str())) {
            let tail = if tail.is_empty() {
                "/".to_owned()
            } else {
                tail
            };
            return Target::SitePath(i, tail);
        }
    } else if let Some((ws, _)) = segment("/jsm/assets/workspace/")
        && let Some(i) = sites.iter().position(|s| s.2 == ws)
    {
        return Target::Site(i);
    }
    Target::Site(0)
}

/// The whole simulator as one service.
pub(super) fn dispatcher(
    state: AppState,
) -> impl tower::Service<
    Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    let sites: Arc<[SiteRoute]> = state
        .all_sites()
        .enumerate()
        .map(|(i, s)| {
            let (cloud_id, workspace_id, slug) = {
                let m = s.read();
                let slug = m
                    .site
                    .url
                    .rsplit_once("/site/")
                    .map(|(_, slug)| slug.to_owned());
                (
                    m.site.cloud_id.clone(),
                    m.site.assets_workspace_id.clone(),
                    slug,
                )
            };
            SiteRoute {
                cloud_id,
                slug: if i == 0 { None } else { slug },
                workspace_id,
                router: router(s.clone()),
            }
        })
        .collect();
    tower::service_fn(move |req: Request| {
        let sites = Arc::clone(&sites);
        async move {
            let keys: Vec<(&str, Option<&str>, &str)> = sites
                .iter()
                .map(|s| {
                    (
                        s.cloud_id.as_str(),
                        s.slug.as_deref(),
                        s.workspace_id.as_str(),
                    )
                })
                .collect();
            let (index, req, gateway) = match target(&keys, req.uri().path()) {
                Target::Site(i) => (i, req, true),
                Target::SitePath(i, path) => (i, with_path(req, &path), false),
            };
            let Some(site) = sites.get(index).or_else(|| sites.first()) else {
                return Ok(super::error::ApiError::not_found("No such site.").into_response());
            };
            // At a site's own URL the gateway shape is not served (as on `*.atlassian.net`).
            let req = if gateway {
                auth::rewrite_gateway(&site.cloud_id, req)
            } else {
                req
            };
            site.router.clone().oneshot(req).await
        }
    })
}

/// `req` with its path replaced (query kept).
fn with_path(mut req: Request, path: &str) -> Request {
    let pq = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    if let Ok(uri) = pq.parse::<Uri>() {
        *req.uri_mut() = uri;
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITES: &[(&str, Option<&str>, &str)] =
        &[("cid-a", None, "ws-a"), ("cid-b", Some("bee"), "ws-b")];

    #[test]
    fn requests_reach_the_site_that_owns_the_id() {
        let t = |p: &str| target(SITES, p);
        assert_eq!(t("/ex/jira/cid-b/rest/api/3/myself"), Target::Site(1));
        assert_eq!(t("/ex/jira/cid-a/rest/api/3/myself"), Target::Site(0));
        assert_eq!(
            t("/jsm/assets/workspace/ws-b/v1/objectschema/list"),
            Target::Site(1)
        );
        assert_eq!(
            t("/site/bee/rest/api/3/myself"),
            Target::SitePath(1, "/rest/api/3/myself".into())
        );
        assert_eq!(t("/site/bee"), Target::SitePath(1, "/".into()));
        // Unknown ids, the primary's own paths and near misses: the primary site.
        for p in [
            "/ex/jira/cid-c/rest/api/3/myself",
            "/ex/jira/",
            "/site/nobody/rest/api/3/myself",
            "/site/beex/rest",
            "/jsm/assets/workspace/ws-bx/v1",
            "/authorize",
            "/rest/api/3/myself",
            "/",
            "",
        ] {
            assert_eq!(t(p), Target::Site(0), "{p}");
        }
        // The primary site has no `/site/` path, even under its own name.
        assert_eq!(t("/site/irwell-field/rest"), Target::Site(0));
    }
}
