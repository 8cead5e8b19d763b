//! `jsmkit demo` end to end: starts with no set-up, serves the shell, stops on SIGTERM.

use crate::helpers::*;

#[test]
fn demo_starts_with_no_setup_serves_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = jsmkit(dir.path());
    cmd.args(["demo", "--listen", "127.0.0.1:0", "--data-dir", "demo-data"]);
    let mut server = start_demo(cmd);
    let addr = server.addr.clone();

    let (status, _, body) = http(&addr, "GET", "/healthz", None);
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = http(&addr, "GET", "/readyz", None);
    assert_eq!(status, 200, "{body}");
    let (status, headers, body) = http(&addr, "GET", "/", None);
    assert_eq!(status, 200);
    assert!(headers.contains("content-security-policy:"));
    for nav in ["/techdesk", "/dispatch", "/assets-sql", "/settings"] {
        assert!(
            body.contains(&format!("href=\"{nav}\"")),
            "home lacks {nav}"
        );
    }
    let (status, _, body) = http(&addr, "GET", "/api/openapi.json", None);
    assert_eq!(status, 200);
    assert!(body.contains("\"openapi\""));
    let (status, _, body) = http(&addr, "GET", "/api/nope/v1/x", None);
    assert_eq!(status, 404);
    assert!(body.contains("\"error\""));

    assert!(dir.path().join("demo-data/master.key").exists());
    assert!(dir.path().join("demo-data/jsmkit.db").exists());

    sigterm(&server.child);
    let status = server.child.wait().expect("wait");
    assert!(status.success(), "demo exited with {status}");

    // A second start reuses the same key and store.
    let key = std::fs::read(dir.path().join("demo-data/master.key")).unwrap();
    let mut cmd = jsmkit(dir.path());
    cmd.args(["demo", "--listen", "127.0.0.1:0", "--data-dir", "demo-data"]);
    let server = start_demo(cmd);
    let (status, _, _) = http(&server.addr, "GET", "/readyz", None);
    assert_eq!(status, 200);
    assert_eq!(
        key,
        std::fs::read(dir.path().join("demo-data/master.key")).unwrap()
    );
}
