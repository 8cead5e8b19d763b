//! Pages (layout, navigation, placeholders, error pages, escaping) and static files.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use axum::http::StatusCode;
use platform::web::{AlwaysReady, AssetsProblem, WebConfig, check_assets, shell_router};

use super::{Reply, app_router, bare_router, config, get_path};

fn assert_layout(reply: &Reply) {
    let html = reply.text();
    assert!(reply.header("content-type").starts_with("text/html"));
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains(r##"<a class="skip-link" href="#main">"##));
    assert!(html.contains(r#"<nav class="site-nav" aria-label="Main">"#));
    assert!(html.contains(r#"<main id="main""#));
    for (path, title) in [
        ("/techdesk", "TechDesk"),
        ("/dispatch", "DispatchDesk"),
        ("/assets-sql", "Assets to SQL"),
        ("/settings", "Settings"),
    ] {
        assert!(
            html.contains(&format!(r#"<a href="{path}""#)) && html.contains(title),
            "nav link {path} missing"
        );
    }
    assert!(
        html.contains(r#"<script type="module" src="/static/vendor/htmx.esm.min.js"></script>"#)
    );
    assert!(html.contains(r#"<script type="module" src="/static/app/app.js"></script>"#));
    assert!(html.contains(r#"<link rel="stylesheet" href="/static/app/app.css">"#));
    assert!(!html.contains("<script>"), "inline script");
    assert!(!html.contains("style="), "inline style");
}

#[tokio::test]
async fn home_presents_the_three_apps() {
    let reply = get_path(&bare_router(), "/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_layout(&reply);
    let html = reply.text();
    assert!(html.contains(r#"<a class="brand" href="/" aria-current="page">"#));
    for needle in [
        "TechDesk",
        "DispatchDesk",
        "Assets to SQL",
        "typed SQL",
        "dispatch",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert_eq!(html.matches("Not configured in this build").count(), 3);
    assert_eq!(html.matches(r#"aria-current="page""#).count(), 1);

    let with_app = get_path(&app_router(&config()), "/").await.text();
    assert_eq!(with_app.matches("Not configured in this build").count(), 2);
    assert_eq!(with_app.matches(">Available<").count(), 1);
}

#[tokio::test]
async fn each_section_has_an_honest_placeholder() {
    let router = bare_router();
    for (path, title) in [
        ("/techdesk", "TechDesk"),
        ("/dispatch", "DispatchDesk"),
        ("/assets-sql", "Assets to SQL"),
        ("/settings", "Settings"),
    ] {
        let reply = get_path(&router, path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_layout(&reply);
        let html = reply.text();
        assert!(html.contains(&format!("<h1>{title}</h1>")), "{path}");
        assert!(html.contains("Not configured yet"), "{path}");
        assert!(
            html.contains(&format!(r#"<a href="{path}" aria-current="page">"#)),
            "{path}: active nav item"
        );
        assert_eq!(html.matches(r#"aria-current="page""#).count(), 1, "{path}");
    }
}

#[tokio::test]
async fn an_app_page_router_replaces_the_placeholder() {
    let router = app_router(&config());
    let reply = get_path(&router, "/techdesk").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "the real techdesk");
    // The other sections keep their placeholders.
    assert!(
        get_path(&router, "/dispatch")
            .await
            .text()
            .contains("Not configured yet")
    );
}

#[tokio::test]
async fn unknown_pages_get_an_escaped_404_page() {
    let router = bare_router();
    let reply = get_path(&router, "/%3Cscript%3Ealert(1)%3C/script%3E").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_layout(&reply);
    let html = reply.text();
    // askama writes `<` and `>` as the numeric references `&#60;` / `&#62;` (the same
    // characters as `&lt;` / `&gt;`); accept either spelling.
    let escaped = html.replace("&#60;", "&lt;").replace("&#62;", "&gt;");
    assert!(
        escaped.contains("/&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert"), "{html}");

    let quotes = get_path(&router, "/a%22onmouseover=%22x").await.text();
    assert!(!quotes.contains(r#""onmouseover="x"#), "{quotes}");
    assert!(
        quotes.contains("&#34;onmouseover=&#34;x") || quotes.contains("&quot;onmouseover"),
        "{quotes}"
    );
}

#[tokio::test]
async fn html_errors_render_the_error_page() {
    let reply = get_path(&app_router(&config()), "/techdesk/tickets/missing").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_layout(&reply);
    let html = reply.text();
    assert!(html.contains("404 Not Found"));
    assert!(html.contains("no such ticket"));
}

#[tokio::test]
async fn static_files_are_served_with_cache_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("app")).expect("mkdir");
    fs::create_dir_all(dir.path().join("vendor")).expect("mkdir");
    fs::write(dir.path().join("app/app.css"), "body { color: black; }").expect("write");
    fs::write(dir.path().join("app/app.js"), "export {};").expect("write");
    fs::write(
        dir.path().join("vendor/htmx.esm.min.js"),
        "export default {};",
    )
    .expect("write");
    let cfg = WebConfig {
        assets_dir: dir.path().to_path_buf(),
        ..config()
    };
    assert_eq!(check_assets(dir.path()), Ok(()));
    let router = shell_router(&cfg, Arc::new(AlwaysReady), Vec::new());

    let css = get_path(&router, "/static/app/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), "text/css");
    assert_eq!(css.header("cache-control"), "no-cache");
    assert_eq!(css.text(), "body { color: black; }");

    let htmx = get_path(&router, "/static/vendor/htmx.esm.min.js").await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(htmx.header("content-type").contains("javascript"));
    assert_eq!(htmx.header("cache-control"), "public, max-age=86400");

    let missing = get_path(&router, "/static/app/nope.css").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("cache-control"), "no-store");

    let escape = get_path(&router, "/static/../Cargo.toml").await;
    assert_ne!(escape.status, StatusCode::OK);
    let escape = get_path(&router, "/static/%2e%2e/%2e%2e/etc/passwd").await;
    assert_ne!(escape.status, StatusCode::OK);
}

#[tokio::test]
async fn the_committed_app_assets_are_served() {
    let router = bare_router();
    let js = get_path(&router, "/static/app/app.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.header("content-type").contains("javascript"));
    let css = get_path(&router, "/static/app/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
}

#[tokio::test]
async fn missing_assets_are_reported_not_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gone = dir.path().join("gone");
    assert!(matches!(
        check_assets(&gone),
        Err(AssetsProblem::DirMissing(_))
    ));

    fs::create_dir_all(dir.path().join("app")).expect("mkdir");
    fs::write(dir.path().join("app/app.css"), "").expect("write");
    fs::write(dir.path().join("app/app.js"), "").expect("write");
    let problem = check_assets(dir.path()).expect_err("vendor missing");
    assert!(matches!(&problem, AssetsProblem::FilesMissing(f) if f.len() == 1));
    assert!(
        problem.to_string().contains("node scripts/vendor.mjs"),
        "{problem}"
    );

    // The shell still starts and serves pages.
    let cfg = WebConfig {
        assets_dir: gone,
        ..config()
    };
    let router = shell_router(&cfg, Arc::new(AlwaysReady), Vec::new());
    assert_eq!(get_path(&router, "/").await.status, StatusCode::OK);
    assert_eq!(
        get_path(&router, "/static/app/app.css").await.status,
        StatusCode::NOT_FOUND
    );
}

/// The CSP forbids inline script and style, and `|safe` would bypass escaping: keep all
/// three out of the templates.
#[test]
fn templates_have_no_inline_script_style_or_safe_filter() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut stack = vec![dir];
    let mut seen = 0;
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read templates") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            seen += 1;
            let text = fs::read_to_string(&path).expect("read");
            let name = path.display();
            assert!(
                !text.contains("|safe") && !text.contains("| safe"),
                "{name}: |safe"
            );
            assert!(!text.contains("style="), "{name}: style attribute");
            assert!(!text.contains("<style"), "{name}: style element");
            assert!(!text.contains("<script>"), "{name}: inline script");
            assert!(
                !has_event_handler_attribute(&text),
                "{name}: inline event handler"
            );
            for (i, _) in text.match_indices("<script") {
                let tag_end = text[i..].find('>').map_or(text.len(), |e| i + e);
                assert!(text[i..tag_end].contains("src="), "{name}: inline script");
            }
        }
    }
    assert!(seen >= 4, "templates found: {seen}");
}

/// True when `text` has something like ` onclick=`.
fn has_event_handler_attribute(text: &str) -> bool {
    text.match_indices(" on").any(|(i, _)| {
        let rest = &text[i + 3..];
        let letters = rest.bytes().take_while(u8::is_ascii_lowercase).count();
        letters > 0 && rest[letters..].starts_with('=')
    })
}

#[test]
fn event_handler_detection() {
    assert!(has_event_handler_attribute(r#"<a onclick="x">"#));
    assert!(!has_event_handler_attribute(
        "one self-hosted binary, on time"
    ));
}
