//! The demo site's Assets exported into real PostgreSQL, MariaDB and SQLite databases,
//! then checked against the Assets API.

use assets_sql::dialect::Dialect;
use assets_sql::load::DbSink;
use assets_sql::model::{ColumnType, Plan, Source};
use assets_sql::run::{RunOptions, run};
use assets_sql::value::{RawObject, Value, object_row, parse_as};
use atlassian::aql::Attribute;
use futures_util::TryStreamExt;

use crate::harness::{Db, Scratch, Site, demo_site, full_plan};

/// Row counts per type equal the Assets counts.
pub async fn check_counts(site: &Site, plan: &Plan, db: &mut Db) -> u64 {
    let mut total = 0;
    for t in &plan.types {
        let want = site
            .assets
            .aql_count(
                &Attribute::ObjectTypeId
                    .eq(t.type_id.parse::<i64>().unwrap())
                    .to_aql(),
            )
            .await
            .unwrap();
        let sql = format!("SELECT object_id FROM {}", db.q(&t.def.name));
        let got = db.count(&sql).await;
        assert_eq!(got as u64, want, "rows of {} ({})", t.def.name, t.type_name);
        total += want;
    }
    assert!(
        total > 3000,
        "the demo site has a few thousand objects, got {total}"
    );
    total
}

/// Every foreign key resolves (object tables and link tables).
pub async fn check_foreign_keys(plan: &Plan, db: &mut Db) -> usize {
    let mut fks = 0;
    for t in plan.all_tables() {
        for fk in &t.foreign_keys {
            fks += 1;
            let sql = format!(
                "SELECT a.{c} FROM {t} a LEFT JOIN {r} b ON a.{c} = b.{oid} WHERE a.{c} IS NOT NULL AND b.{oid} IS NULL",
                c = db.q(&fk.column),
                t = db.q(&t.name),
                r = db.q(&fk.table),
                oid = db.q("object_id"),
            );
            assert_eq!(
                db.count(&sql).await,
                0,
                "dangling {}.{} → {}",
                t.name,
                fk.column,
                fk.table
            );
            let used = format!(
                "SELECT a.{c} FROM {t} a WHERE a.{c} IS NOT NULL",
                c = db.q(&fk.column),
                t = db.q(&t.name)
            );
            if t.name != "assets_sql_catalog" {
                let _ = db.count(&used).await;
            }
        }
    }
    fks
}

fn same(ty: ColumnType, want: &Value, got: Option<&str>, dialect: Dialect) -> bool {
    match (want, got) {
        (Value::Null, None) => true,
        (Value::Null, Some(_)) | (_, None) => false,
        (Value::Double(a), Some(g)) => match parse_as(ColumnType::Double, g) {
            Value::Double(b) => (a - b).abs() <= a.abs() * 1e-12,
            _ => false,
        },
        (Value::Bool(b), Some(g)) => {
            let g = if dialect == Dialect::Postgres {
                g.to_owned()
            } else {
                (g == "1").to_string()
            };
            g == b.to_string()
        }
        (w, Some(g)) => parse_as(ty, g) == *w,
    }
}

/// Objects of every type, every column and link compared with the API's values.
pub async fn check_round_trip(site: &Site, plan: &Plan, db: &mut Db) -> usize {
    let mut compared = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for t in &plan.types {
        let aql = Attribute::ObjectTypeId
            .eq(t.type_id.parse::<i64>().unwrap())
            .to_aql();
        let objects: Vec<_> = site.assets.aql(&aql, true).take_n(25).await;
        for o in objects {
            let raw = RawObject::from_client(o);
            let want = object_row(t, &plan.workspace_id, &raw);
            let cols: Vec<String> = t
                .def
                .columns
                .iter()
                .map(|c| db.as_text(&db.q(&c.name)))
                .collect();
            let sql = format!(
                "SELECT {} FROM {} WHERE {} = {}",
                cols.join(", "),
                db.q(&t.def.name),
                db.q("object_id"),
                db.dialect().string(&raw.id)
            );
            let rows = db.texts(&sql).await;
            assert_eq!(rows.len(), 1, "object {} in {}", raw.id, t.def.name);
            for ((c, w), g) in t.def.columns.iter().zip(&want.values).zip(&rows[0]) {
                assert!(
                    same(c.ty, w, g.as_deref(), db.dialect()),
                    "{}.{} of {}: want {w:?}, got {g:?}",
                    t.def.name,
                    c.name,
                    raw.id
                );
                if *w != Value::Null {
                    compared += 1;
                }
            }
            for (src, w) in t.sources.iter().zip(&want.values) {
                if let (Source::Attribute(a), false) = (src, *w == Value::Null) {
                    kinds.insert(a.kind.catalog_name());
                }
            }
            for (l, w) in t.links.iter().zip(&want.links) {
                let v = &l.def.columns[2];
                let sql = format!(
                    "SELECT {} FROM {} WHERE {} = {} ORDER BY {}",
                    db.as_text(&db.q(&v.name)),
                    db.q(&l.def.name),
                    db.q("object_id"),
                    db.dialect().string(&raw.id),
                    db.q("position")
                );
                let got = db.texts(&sql).await;
                assert_eq!(got.len(), w.len(), "{} of {}", l.def.name, raw.id);
                for (g, w) in got.iter().zip(w) {
                    assert!(
                        same(v.ty, w, g[0].as_deref(), db.dialect()),
                        "{}: {w:?} vs {g:?}",
                        l.def.name
                    );
                    compared += 1;
                }
                if !w.is_empty() {
                    kinds.insert(l.attr.kind.catalog_name());
                }
            }
        }
    }
    for k in [
        "text",
        "integer",
        "boolean",
        "double",
        "date",
        "time",
        "datetime",
        "url",
        "email",
        "textarea",
        "select",
        "ip_address",
        "status",
        "user",
        "group",
        "reference",
    ] {
        assert!(
            kinds.contains(k),
            "no {k} value compared; compared {kinds:?}"
        );
    }
    compared
}

/// Link tables hold exactly as many rows as the API has values.
pub async fn check_link_totals(site: &Site, plan: &Plan, db: &mut Db) {
    for t in plan.types.iter().filter(|t| !t.links.is_empty()) {
        let aql = Attribute::ObjectTypeId
            .eq(t.type_id.parse::<i64>().unwrap())
            .to_aql();
        let mut want = vec![0usize; t.links.len()];
        let mut stream = site.assets.aql(&aql, true);
        while let Some(o) = stream.try_next().await.unwrap() {
            let row = object_row(t, &plan.workspace_id, &RawObject::from_client(o));
            for (i, l) in row.links.iter().enumerate() {
                want[i] += l.len();
            }
        }
        for (l, w) in t.links.iter().zip(want) {
            let got = db
                .count(&format!("SELECT object_id FROM {}", db.q(&l.def.name)))
                .await;
            assert_eq!(got as usize, w, "rows of {}", l.def.name);
        }
    }
}

trait TakeN<T> {
    async fn take_n(self, n: usize) -> Vec<T>;
}

impl<T> TakeN<T> for atlassian::client::Paged<T> {
    async fn take_n(mut self, n: usize) -> Vec<T> {
        let mut out = Vec::new();
        while out.len() < n {
            match self.try_next().await.unwrap() {
                Some(x) => out.push(x),
                None => break,
            }
        }
        out
    }
}

async fn export_and_check(dialect: Dialect) {
    let site = demo_site().await;
    let (plan, _) = full_plan(&site.meta);
    let scratch = Scratch::new(dialect).await;

    let mut sink = DbSink::connect(&scratch.target).await.unwrap();
    let first = run(&site.assets, &plan, &mut sink, &RunOptions::default())
        .await
        .unwrap();
    assert_eq!(first.tables, plan.table_count());
    assert!(first.requests > plan.types.len() as u64);

    let mut db = scratch.connect().await;
    let total = check_counts(&site, &plan, &mut db).await;
    assert_eq!(first.objects, total);
    assert!(check_foreign_keys(&plan, &mut db).await >= 5);
    assert!(check_round_trip(&site, &plan, &mut db).await > 1000);
    check_link_totals(&site, &plan, &mut db).await;

    // Re-running gives the same result; the catalog gives the names back.
    let mut sink = DbSink::connect(&scratch.target).await.unwrap();
    let previous = sink.previous().await.unwrap();
    let mut names = previous.names.clone();
    let again = assets_sql::model::plan(&site.meta, &Default::default(), &mut names, true);
    assert_eq!(again, plan, "names from the catalog give the same plan");
    let second = run(&site.assets, &again, &mut sink, &RunOptions::default())
        .await
        .unwrap();
    assert_eq!(second.objects, first.objects);
    assert_eq!(check_counts(&site, &plan, &mut db).await, total);

    // Incremental since the last success: nothing changed, nothing lost.
    let mut sink = DbSink::connect(&scratch.target).await.unwrap();
    let since = sink.previous().await.unwrap().last_success;
    assert!(since.is_some());
    let opts = RunOptions {
        since,
        ..RunOptions::default()
    };
    let inc = run(&site.assets, &plan, &mut sink, &opts).await.unwrap();
    assert!(
        inc.objects < first.objects,
        "incremental fetched {} of {}",
        inc.objects,
        first.objects
    );
    assert_eq!(check_counts(&site, &plan, &mut db).await, total);
    check_link_totals(&site, &plan, &mut db).await;
    let runs = db
        .count("SELECT run_id FROM assets_sql_runs WHERE status = 'succeeded'")
        .await;
    assert_eq!(runs, 3);
    let catalog = db.count("SELECT table_name FROM assets_sql_catalog").await;
    assert!(catalog as usize > plan.table_count());
    drop(db);
    scratch.drop().await;
    site.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_site_into_postgres() {
    export_and_check(Dialect::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_site_into_mariadb() {
    export_and_check(Dialect::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_site_into_sqlite() {
    export_and_check(Dialect::Sqlite).await;
}
