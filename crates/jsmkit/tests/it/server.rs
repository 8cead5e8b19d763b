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

#[test]
fn sim_serves_a_seeded_site_and_writes_its_users() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = jsmkit(dir.path());
    cmd.args([
        "sim",
        "--listen",
        "127.0.0.1:0",
        "--seed",
        "3",
        "--users-json",
        "users.json",
    ]);
    // The banner is the first line: "Atlassian simulator: site http://ADDR (cloudId …)…".
    let sim = start_demo(cmd);
    let users: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("users.json")).unwrap())
            .unwrap();
    let users = users.as_array().unwrap();
    let roles: Vec<&str> = users.iter().map(|u| u["role"].as_str().unwrap()).collect();
    for role in ["admin", "dispatcher", "technician", "viewer", "customer"] {
        assert!(roles.contains(&role), "no {role} in {roles:?}");
    }
    for u in users {
        let keys: Vec<&String> = u.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["accountId", "apiToken", "email", "role"]);
    }
    let admin = users.iter().find(|u| u["role"] == "admin").unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        admin["email"].as_str().unwrap(),
        admin["apiToken"].as_str().unwrap()
    ));
    let (status, _, body) = http_with(
        &sim.addr,
        "GET",
        "/rest/api/3/myself",
        &format!("Authorization: Basic {auth}\r\n"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(admin["accountId"].as_str().unwrap()));
    let (status, _, _) = http(&sim.addr, "GET", "/rest/api/3/myself", None);
    assert_eq!(status, 401);
}
