//! Conformance: site summary and purge (the uninstall path), site listing, migrations that
//! can run again, readiness.

use std::time::Duration;

use platform::store::{AppCounts, Keyring, Store};
use secrecy::SecretString;

use crate::harness::{Ctx, Kind, app, site};

async fn summary_and_purge(ctx: &Ctx) {
    let s = site("cloud-0001");
    let keep = site("cloud-0002");
    let techdesk = ctx.store.kv(&s, &app("techdesk"));
    let dispatch = ctx.store.kv(&s, &app("dispatch"));
    let kept = ctx.store.kv(&keep, &app("techdesk"));
    for i in 0..5 {
        techdesk.set(&format!("t:{i}"), &i).await.unwrap();
    }
    dispatch.set("d:1", &1).await.unwrap();
    dispatch
        .set_with_ttl("d:ttl", &1, Duration::from_secs(1))
        .await
        .unwrap();
    techdesk
        .set_secret("token", &SecretString::from("x"))
        .await
        .unwrap();
    ctx.store
        .kv(&s, &app("platform"))
        .set_secret("webhook", &SecretString::from("y"))
        .await
        .unwrap();
    kept.set("k", &1).await.unwrap();
    kept.set_secret("token", &SecretString::from("z"))
        .await
        .unwrap();
    ctx.clock.advance(Duration::from_secs(2));

    let summary = ctx.store.site_summary(&s).await.unwrap();
    assert_eq!(summary.site, "cloud-0001");
    assert_eq!(
        summary.apps,
        vec![
            AppCounts {
                app: "dispatch".into(),
                entries: 1,
                secrets: 0
            },
            AppCounts {
                app: "platform".into(),
                entries: 0,
                secrets: 1
            },
            AppCounts {
                app: "techdesk".into(),
                entries: 5,
                secrets: 1
            },
        ]
    );
    assert_eq!((summary.total_entries(), summary.total_secrets()), (6, 2));
    // the summary deleted nothing
    assert_eq!(ctx.store.site_summary(&s).await.unwrap(), summary);

    let sites: Vec<String> = ctx
        .store
        .list_sites()
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(sites, vec!["cloud-0001", "cloud-0002"]);

    let report = ctx.store.purge_site(&s).await.unwrap();
    assert_eq!(report.apps, summary.apps);
    assert_eq!(report.expired_entries, 1);
    assert!(ctx.store.site_summary(&s).await.unwrap().is_empty());
    assert!(techdesk.query().fetch().await.unwrap().entries.is_empty());
    assert!(techdesk.get_secret("token").await.unwrap().is_none());
    assert_eq!(
        ctx.store.purge_site(&s).await.unwrap().total_entries(),
        0,
        "purging twice is fine"
    );

    let other = ctx.store.site_summary(&keep).await.unwrap();
    assert_eq!((other.total_entries(), other.total_secrets()), (1, 1));
    let sites: Vec<String> = ctx
        .store
        .list_sites()
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(sites, vec!["cloud-0002"]);
}

async fn migrations_are_idempotent(ctx: &Ctx) {
    let kv = ctx.store.kv(&site("m"), &app("platform"));
    kv.set("before", &1).await.unwrap();
    ctx.store.migrate().await.unwrap();
    ctx.store.migrate().await.unwrap();
    // open (and migrate) the same database again, as a restart or a second instance does
    let again = Store::open_and_migrate(&ctx.url, Keyring::ephemeral().unwrap())
        .await
        .unwrap();
    again.migrate().await.unwrap();
    assert_eq!(
        again
            .kv(&site("m"), &app("platform"))
            .get::<i32>("before")
            .await
            .unwrap(),
        Some(1)
    );
    again.ping().await.unwrap();
    ctx.store.ping().await.unwrap();
    let name = match ctx.kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
    };
    assert_eq!(again.backend_name(), name);
    assert_eq!(ctx.url.backend(), name);
    assert!(format!("{again:?}").contains(name));
    again.close().await;
    assert!(again.ping().await.is_err(), "a closed store is not ready");
    ctx.store.ping().await.unwrap();
}

conformance!(summary_and_purge, migrations_are_idempotent);

/// The SQLite file's folder is created when missing; a fresh file is WAL with full sync.
#[tokio::test]
async fn sqlite_creates_folder_and_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/c/store.db");
    let url: platform::store::StoreUrl = format!("sqlite://{}", path.display()).parse().unwrap();
    let store = Store::open_and_migrate(&url, Keyring::ephemeral().unwrap())
        .await
        .unwrap();
    store
        .kv(&site("s"), &app("platform"))
        .set("k", &1)
        .await
        .unwrap();
    assert!(path.exists());
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&opts)
        .await
        .unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    store.close().await;
}
