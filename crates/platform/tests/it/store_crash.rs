//! Crash safety: a child process writing acknowledged entries is killed with SIGKILL; every
//! write it acknowledged must be there afterwards and the store must open cleanly.
//!
//! The child is this very test binary, re-run with the test's exact name and
//! `JSMKIT_IT_CRASH_CHILD` set, so it works the same under `cargo test` and `cargo nextest`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use platform::store::{Keyring, Store, StoreUrl};
use secrecy::ExposeSecret;

use crate::harness::{Ctx, Kind, app, site};

const CHILD_ENV: &str = "JSMKIT_IT_CRASH_CHILD";
const URL_ENV: &str = "JSMKIT_IT_CRASH_URL";
const KILL_AFTER: usize = 300;

fn url_string(url: &StoreUrl) -> String {
    match url {
        StoreUrl::Sqlite { path } => format!("sqlite://{}", path.display()),
        StoreUrl::Postgres { url } => url.expose_secret().to_string(),
    }
}

/// The child: writes k000001, k000002, … and prints `ACK <key>` after each write returns.
async fn child_writer() {
    let url: StoreUrl = std::env::var(URL_ENV)
        .expect("store URL for the child")
        .parse()
        .expect("URL");
    let store = Store::open(&url, Keyring::ephemeral().expect("keyring"))
        .await
        .expect("open");
    let kv = store.kv(&site("crash"), &app("platform"));
    let mut out = std::io::stdout().lock();
    writeln!(out).expect("stdout");
    let started = Instant::now();
    // bounded, in case the parent died without killing us
    for i in 1..=200_000u32 {
        let key = format!("k{i:06}");
        kv.set(&key, &serde_json::json!({ "i": i, "pad": "p".repeat(200) }))
            .await
            .expect("write");
        writeln!(out, "ACK {key}").expect("stdout");
        out.flush().expect("stdout");
        if started.elapsed() > Duration::from_secs(120) {
            break;
        }
    }
}

async fn crash_test(kind: Kind, test_name: &str) {
    if std::env::var_os(CHILD_ENV).is_some() {
        return child_writer().await;
    }
    let ctx = Ctx::new(kind).await;
    let url = url_string(&ctx.url);
    ctx.store.close().await;

    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env(URL_ENV, &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the writer child");
    let stdout = child.stdout.take().expect("child stdout");

    let (acked, killed) = tokio::task::spawn_blocking(move || {
        let mut acked: Vec<String> = Vec::new();
        let mut killed = false;
        // lines keep coming after the kill until the pipe is drained: those were acked too
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest may print its "test … ..." header on the same line as the first ack
            if let Some(key) = line.split("ACK ").nth(1) {
                acked.push(key.to_string());
                if acked.len() == KILL_AFTER && !killed {
                    child.kill().expect("SIGKILL the child");
                    killed = true;
                }
            }
        }
        let status = child.wait().expect("reap the child");
        (acked, killed && !status.success())
    })
    .await
    .expect("reader");
    assert!(
        killed,
        "the child stopped before {KILL_AFTER} acks ({} acked)",
        acked.len()
    );
    assert!(acked.len() >= KILL_AFTER);

    // reopen: migrations and the store must be clean, and every acked write present
    let store = Store::open_and_migrate(&ctx.url, Keyring::ephemeral().unwrap())
        .await
        .expect("reopen");
    store.ping().await.unwrap();
    let kv = store.kv(&site("crash"), &app("platform"));
    for (n, key) in acked.iter().enumerate() {
        assert_eq!(key, &format!("k{:06}", n + 1), "acks come in order");
        let v = kv.get_json(key).await.unwrap();
        let v = v.unwrap_or_else(|| panic!("acknowledged write {key} is missing after SIGKILL"));
        assert_eq!(v["i"], serde_json::json!(n + 1));
    }
    // at most one unacknowledged write (in flight at the kill) may have committed
    let summary = store.site_summary(&site("crash")).await.unwrap();
    let total = summary.total_entries() as usize;
    assert!(
        total == acked.len() || total == acked.len() + 1,
        "{total} stored, {} acked",
        acked.len()
    );
    // and the store takes writes again
    kv.set("after-crash", &true).await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn sqlite_acked_writes_survive_sigkill() {
    crash_test(
        Kind::Sqlite,
        "store_crash::sqlite_acked_writes_survive_sigkill",
    )
    .await;
}

#[tokio::test]
async fn postgres_acked_writes_survive_sigkill() {
    crash_test(
        Kind::Postgres,
        "store_crash::postgres_acked_writes_survive_sigkill",
    )
    .await;
}
