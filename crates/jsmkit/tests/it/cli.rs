//! Start-up validation and the operator commands.

use platform::store::{AppNs, Keyring, SiteId, Store, StoreUrl};
use secrecy::{ExposeSecret, SecretString};

use crate::helpers::*;

#[test]
fn every_command_has_help_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    let top = run(jsmkit(dir.path()).arg("--help"));
    assert!(top.status.success());
    for cmd in [
        vec!["serve"],
        vec!["demo"],
        vec!["migrate"],
        vec!["secrets", "rotate-key"],
        vec!["secrets", "prune-keys"],
        vec!["site", "list"],
        vec!["site", "purge"],
        vec!["bench", "store"],
        vec!["bench", "assets-stream"],
        vec!["sim"],
    ] {
        assert!(stdout(&top).contains(cmd[0]), "top help lacks {cmd:?}");
        let o = run(jsmkit(dir.path()).args(&cmd).arg("--help"));
        assert!(o.status.success(), "{cmd:?} --help failed");
        assert!(
            stdout(&o).contains("Example"),
            "{cmd:?} --help has no example"
        );
    }
}

#[test]
fn a_wrong_value_stops_start_up_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(jsmkit(dir.path())
        .args(["serve", "--check-config"])
        .env("JSMKIT_STORE_URL", "mysql://root:hunter2@db/x"));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: store.url (from JSMKIT_STORE_URL): "),
        "{err}"
    );
    assert!(err.contains("scheme \"mysql\" is not supported"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");

    std::fs::write(dir.path().join("jsmkit.toml"), "[server]\nlisten = \"x\"\n").unwrap();
    let o = run(jsmkit(dir.path()).args(["serve", "--check-config"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: server.listen (from jsmkit.toml): \"x\""),
        "{}",
        stderr(&o)
    );
}

#[test]
fn serve_refuses_to_start_without_a_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(jsmkit(dir.path()).args(["serve", "--listen", "127.0.0.1:0"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no master key is configured"),
        "{}",
        stderr(&o)
    );
    assert!(
        !dir.path().join("jsmkit-data").exists(),
        "nothing is created before the key check"
    );
}

#[test]
fn check_config_validates_and_reaches_the_store() {
    let dir = tempfile::tempdir().unwrap();
    Keyring::generate_file(dir.path().join("k")).unwrap();
    let o = run(jsmkit(dir.path())
        .args(["serve", "--check-config"])
        .env("JSMKIT_SECRETS_KEY_FILE", "k")
        .env("JSMKIT_STORE_URL", "sqlite://data/s.db"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("configuration is valid"));
    assert!(dir.path().join("data/s.db").exists());
}

async fn seeded_store(dir: &std::path::Path) -> Store {
    let keyring = Keyring::generate_file(dir.join("master.key")).unwrap();
    let url = StoreUrl::Sqlite {
        path: dir.join("s.db"),
    };
    let store = Store::open_and_migrate(&url, keyring).await.unwrap();
    for site in ["site-a", "site-b"] {
        let kv = store.kv(
            &SiteId::new(site).unwrap(),
            &AppNs::new("techdesk").unwrap(),
        );
        kv.set("settings:projects", &vec!["FS", "IT"])
            .await
            .unwrap();
        kv.set("view:1", &"mine").await.unwrap();
        kv.set_secret(
            "oauth:refresh",
            &SecretString::from(format!("token-of-{site}")),
        )
        .await
        .unwrap();
    }
    store
}

fn with_store(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env("JSMKIT_SECRETS_KEY_FILE", "master.key")
        .env("JSMKIT_STORE_URL", "sqlite://s.db")
}

#[tokio::test]
async fn site_purge_asks_first_then_removes_only_that_site() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded_store(dir.path()).await;

    let o = run(with_store(&mut jsmkit(dir.path())).args(["site", "list"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("site-a") && stdout(&o).contains("site-b"));

    // No terminal and no --yes: refused, nothing deleted.
    let o = run(with_store(&mut jsmkit(dir.path())).args(["site", "purge", "site-a"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("pass --yes"), "{}", stderr(&o));
    let a = store.kv(
        &SiteId::new("site-a").unwrap(),
        &AppNs::new("techdesk").unwrap(),
    );
    assert!(a.get_json("view:1").await.unwrap().is_some());

    let o = run(with_store(&mut jsmkit(dir.path())).args(["site", "purge", "site-a", "--yes"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("removed 2 entries and 1 secret"),
        "{}",
        stdout(&o)
    );
    assert!(a.get_json("view:1").await.unwrap().is_none());
    assert!(a.get_secret("oauth:refresh").await.unwrap().is_none());
    let b = store.kv(
        &SiteId::new("site-b").unwrap(),
        &AppNs::new("techdesk").unwrap(),
    );
    assert!(b.get_json("view:1").await.unwrap().is_some());
    assert_eq!(
        b.get_secret("oauth:refresh")
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "token-of-site-b"
    );

    let o =
        run(with_store(&mut jsmkit(dir.path())).args(["site", "purge", "not a site!", "--yes"]));
    assert_eq!(o.status.code(), Some(2));
}

#[tokio::test]
async fn rotate_key_re_encrypts_and_secrets_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded_store(dir.path()).await;
    store.close().await;

    let o = run(with_store(&mut jsmkit(dir.path())).args(["secrets", "rotate-key"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("2 secrets re-encrypted"),
        "{}",
        stdout(&o)
    );
    let keys = std::fs::read_to_string(dir.path().join("master.key")).unwrap();
    let key_lines = keys
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .count();
    assert_eq!(key_lines, 2);

    let o = run(with_store(&mut jsmkit(dir.path())).args(["secrets", "prune-keys"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("removed 1 unused key"),
        "{}",
        stdout(&o)
    );

    let keyring = Keyring::from_file(dir.path().join("master.key")).unwrap();
    let url = StoreUrl::Sqlite {
        path: dir.path().join("s.db"),
    };
    let store = Store::open_and_migrate(&url, keyring).await.unwrap();
    let kv = store.kv(
        &SiteId::new("site-b").unwrap(),
        &AppNs::new("techdesk").unwrap(),
    );
    assert_eq!(
        kv.get_secret("oauth:refresh")
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "token-of-site-b"
    );
    for line in keys.lines() {
        let secret_part = line.split(':').nth(1).unwrap_or_default();
        if secret_part.len() > 10 {
            assert!(!stdout(&o).contains(secret_part) && !stderr(&o).contains(secret_part));
        }
    }
}

#[test]
fn bench_store_prints_both_backends_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let pg = std::env::var("JSMKIT_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let o = run(jsmkit(dir.path())
        .args(["bench", "store", "--seconds", "1", "--pg-url"])
        .arg(pg));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for word in ["sqlite", "postgres", "get", "set", "query", "transaction"] {
        assert!(out.contains(word), "bench output lacks {word}: {out}");
    }
}
