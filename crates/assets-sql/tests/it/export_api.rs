//! The one-call API the CLI uses: state between runs, incremental scripts, names kept
//! when an attribute is renamed in Assets.

use assets_sql::dialect::Dialect;
use assets_sql::load::DbSink;
use assets_sql::model::{Selection, plan};
use assets_sql::run::{RunOptions, run};
use assets_sql::sink::Mode;
use assets_sql::{ExportOptions, ExportState, Output, export};

use crate::harness::{Scratch, demo_site};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_drives_incremental_scripts_and_loads() {
    let site = demo_site().await;
    let dir = tempfile::tempdir().unwrap();

    // Scripts: the first run is full, the second (with the state) incremental.
    let mut state = ExportState::default();
    let file = tokio::fs::File::create(dir.path().join("a.sql"))
        .await
        .unwrap();
    let full = export(
        &site.assets,
        Output::Script(Dialect::Sqlite, Box::new(file)),
        ExportOptions {
            incremental: true,
            ..ExportOptions::default()
        },
        &mut state,
    )
    .await
    .unwrap();
    assert_eq!(full.mode, Mode::Full);
    assert!(state.last_success.is_some());
    let json = serde_json::to_string(&state).unwrap();
    let mut state: ExportState = serde_json::from_str(&json).unwrap();
    let file = tokio::fs::File::create(dir.path().join("b.sql"))
        .await
        .unwrap();
    let inc = export(
        &site.assets,
        Output::Script(Dialect::Sqlite, Box::new(file)),
        ExportOptions {
            incremental: true,
            ..ExportOptions::default()
        },
        &mut state,
    )
    .await
    .unwrap();
    assert_eq!(inc.mode, Mode::Incremental);
    assert!(inc.objects < full.objects);
    // Both scripts, in order, into one database: every object is there.
    let scratch = Scratch::new(Dialect::Sqlite).await;
    crate::scripts::load_with_client(&scratch, &dir.path().join("a.sql"));
    crate::scripts::load_with_client(&scratch, &dir.path().join("b.sql"));
    let mut db = scratch.connect().await;
    let (p, _) = crate::harness::full_plan(&site.meta);
    assert_eq!(
        crate::demo_site::check_counts(&site, &p, &mut db).await,
        full.objects
    );

    // A filtered, selected export into a fresh database.
    let target = Scratch::new(Dialect::Postgres).await;
    let laptop = site.meta.types.iter().find(|t| t.name == "Laptop").unwrap();
    let mut state = ExportState::default();
    let s = export(
        &site.assets,
        Output::Database(target.target.clone()),
        ExportOptions {
            selection: Selection {
                types: Some([laptop.id.clone()].into()),
                ..Selection::default()
            },
            filter: assets_sql::equality_filter(&["Status=Active".into()]).unwrap(),
            ..ExportOptions::default()
        },
        &mut state,
    )
    .await
    .unwrap();
    assert_eq!(s.tables, 1);
    let want = site
        .assets
        .aql_count(
            &assets_sql::fetch::type_query(
                &laptop.id,
                assets_sql::equality_filter(&["Status=Active".into()])
                    .unwrap()
                    .as_ref(),
                None,
            )
            .unwrap()
            .to_aql(),
        )
        .await
        .unwrap();
    assert!(want > 0 && want < 600, "{want}");
    assert_eq!(s.objects, want);
    let mut db = target.connect().await;
    assert_eq!(db.count("SELECT object_id FROM laptop").await as u64, want);
    drop(db);
    target.drop().await;
    scratch.drop().await;
    site.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renamed_attribute_keeps_its_column_and_data() {
    let site = demo_site().await;
    let scratch = Scratch::new(Dialect::Sqlite).await;
    let (first, _) = crate::harness::full_plan(&site.meta);
    let mut sink = DbSink::connect(&scratch.target).await.unwrap();
    run(&site.assets, &first, &mut sink, &RunOptions::default())
        .await
        .unwrap();

    // The same workspace after "Serial Number" was renamed and a type renamed.
    let mut renamed = site.meta.clone();
    for t in &mut renamed.types {
        if t.name == "Laptop" {
            t.name = "Notebook".into();
        }
        for a in &mut t.attributes {
            if a.name == "Serial Number" {
                a.name = "Serial no.".into();
            }
        }
    }
    let mut sink = DbSink::connect(&scratch.target).await.unwrap();
    let mut names = sink.previous().await.unwrap().names;
    let second = plan(&renamed, &Selection::default(), &mut names, true);
    assert_eq!(
        second.types.iter().map(|t| &t.def).collect::<Vec<_>>(),
        first.types.iter().map(|t| &t.def).collect::<Vec<_>>(),
        "same tables and columns"
    );
    run(&site.assets, &second, &mut sink, &RunOptions::default())
        .await
        .unwrap();
    let mut db = scratch.connect().await;
    let n = db
        .count("SELECT serial_number FROM laptop WHERE serial_number IS NOT NULL")
        .await;
    assert!(n > 500, "{n}");
    let catalog = db
        .texts("SELECT attribute_name FROM assets_sql_catalog WHERE table_name = 'laptop' AND column_name = 'serial_number'")
        .await;
    assert_eq!(catalog, vec![vec![Some("Serial no.".to_owned())]]);
    drop(db);
    scratch.drop().await;
    site.sim.shutdown().await;
}

/// An export that gains an AQL filter on a database an unfiltered export filled: the
/// references that now point outside the export must not fail the load.
async fn filter_after_full(dialect: Dialect) {
    let site = demo_site().await;
    let scratch = Scratch::new(dialect).await;
    let mut state = ExportState::default();
    export(
        &site.assets,
        Output::Database(scratch.target.clone()),
        ExportOptions::default(),
        &mut state,
    )
    .await
    .unwrap();
    let ids: std::collections::BTreeSet<String> = site
        .meta
        .types
        .iter()
        .filter(|t| t.name == "Printer" || t.name == "Network device")
        .map(|t| t.id.clone())
        .collect();
    let filter = || assets_sql::equality_filter(&["Status=Active".into()]).unwrap();
    let s = export(
        &site.assets,
        Output::Database(scratch.target.clone()),
        ExportOptions {
            selection: Selection {
                types: Some(ids.clone()),
                ..Selection::default()
            },
            filter: filter(),
            ..ExportOptions::default()
        },
        &mut state,
    )
    .await
    .unwrap();
    let mut want = 0;
    for id in &ids {
        let q = assets_sql::fetch::type_query(id, filter().as_ref(), None)
            .unwrap()
            .to_aql();
        want += site.assets.aql_count(&q).await.unwrap();
    }
    assert_eq!(s.objects, want);
    let mut db = scratch.connect().await;
    let got = db.count("SELECT object_id FROM printer").await
        + db.count("SELECT object_id FROM network_device").await;
    assert_eq!(got as u64, want);
    drop(db);
    scratch.drop().await;
    site.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_after_full_postgres() {
    filter_after_full(Dialect::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_after_full_mariadb() {
    filter_after_full(Dialect::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_after_full_sqlite() {
    filter_after_full(Dialect::Sqlite).await;
}
