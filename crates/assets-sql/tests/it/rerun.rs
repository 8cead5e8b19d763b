//! Re-runs on a loaded database converge: after a full run that changes values, reorders
//! and drops multi-valued entries, deletes objects and receives one object twice (in two
//! batches, the later copy winning), every table holds exactly what a first load of the
//! same objects into an empty database holds.

use assets_sql::dialect::Dialect;
use assets_sql::load::DbSink;
use assets_sql::model::Plan;
use assets_sql::run::run_objects;
use assets_sql::sink::{Counts, Mode, RunInfo, Sink};
use assets_sql::value::{RawObject, object_row};

use crate::adversarial::build;
use crate::harness::{Db, Scratch};

/// Every row of every table of the plan, as text, in key order.
async fn contents(db: &mut Db, plan: &Plan) -> Vec<(String, Vec<Vec<Option<String>>>)> {
    let mut out = Vec::new();
    for t in plan.all_tables() {
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| db.as_text(&db.q(&c.name)))
            .collect();
        let order: Vec<String> = t.primary_key.iter().map(|c| db.q(c)).collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            cols.join(", "),
            db.q(&t.name),
            order.join(", ")
        );
        out.push((t.name.clone(), db.texts(&sql).await));
    }
    out
}

/// The objects after a round of changes in Assets.
fn changed(raws: &[RawObject]) -> Vec<RawObject> {
    // The first object of each type is a reference target: keep those.
    let mut firsts = std::collections::HashSet::new();
    raws.iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let first = firsts.insert(r.type_id.clone());
            if !first && i % 7 == 3 {
                return None; // deleted in Assets
            }
            let mut r = r.clone();
            if i % 3 == 0 {
                r.label = Some(format!("{} v2", r.label.unwrap_or_default()));
                for (_, values) in &mut r.attributes {
                    values.reverse();
                    if values.len() > 2 {
                        values.truncate(2);
                    }
                }
            }
            if i % 5 == 1 {
                r.attributes.clear();
            }
            Some(r)
        })
        .collect()
}

async fn reruns_converge(dialect: Dialect) {
    let (_, plan, raws, _) = build();
    let live = Scratch::new(dialect).await;
    let mut sink = DbSink::connect(&live.target).await.unwrap();
    run_objects(&plan, &mut sink, raws.clone()).await.unwrap();

    let next = changed(&raws);
    assert!(next.len() < raws.len(), "some objects are deleted");
    // A full run by hand: each type in two batches; the first object of the second half
    // also comes, in its old form, in the first batch.
    let run = RunInfo {
        run_id: "rerun".into(),
        mode: Mode::Full,
        started: jiff::Timestamp::now(),
    };
    sink.begin(&plan, &run).await.unwrap();
    let mut counts = Counts::default();
    for table in &plan.types {
        let of_type: Vec<&RawObject> = next
            .iter()
            .filter(|o| o.type_id.as_deref() == Some(table.type_id.as_str()))
            .collect();
        let half = of_type.len() / 2;
        let mut first: Vec<RawObject> = of_type[..half].iter().map(|o| (*o).clone()).collect();
        if let Some(later) = of_type.get(half)
            && let Some(old) = raws.iter().find(|o| o.id == later.id)
        {
            let mut old = old.clone();
            old.label = Some("stale copy".into());
            first.push(old);
        }
        let second: Vec<RawObject> = of_type[half..].iter().map(|o| (*o).clone()).collect();
        for batch in [first, second] {
            let rows: Vec<_> = batch
                .iter()
                .map(|o| object_row(table, &plan.workspace_id, o))
                .collect();
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            sink.seen(table, &ids).await.unwrap();
            sink.rows(table, &rows).await.unwrap();
        }
        counts.objects += of_type.len() as u64;
    }
    sink.finish(&plan, &run, counts).await.unwrap();

    let fresh = Scratch::new(dialect).await;
    let mut sink = DbSink::connect(&fresh.target).await.unwrap();
    run_objects(&plan, &mut sink, next.clone()).await.unwrap();

    let got = contents(&mut live.connect().await, &plan).await;
    let want = contents(&mut fresh.connect().await, &plan).await;
    for ((table, g), (_, w)) in got.iter().zip(&want) {
        assert_eq!(
            g, w,
            "table {table} differs from a first load of the same objects"
        );
    }
    let objects: usize = want
        .iter()
        .filter(|(t, _)| plan.types.iter().any(|x| &x.def.name == t))
        .map(|(_, rows)| rows.len())
        .sum();
    assert_eq!(objects, next.len());
    assert!(
        !got.iter()
            .flat_map(|(_, r)| r)
            .flatten()
            .flatten()
            .any(|v| v == "stale copy"),
        "the later copy of a repeated object wins"
    );
    live.drop().await;
    fresh.drop().await;
}

#[tokio::test]
async fn reruns_converge_postgres() {
    reruns_converge(Dialect::Postgres).await;
}

#[tokio::test]
async fn reruns_converge_mariadb() {
    reruns_converge(Dialect::MySql).await;
}

#[tokio::test]
async fn reruns_converge_sqlite() {
    reruns_converge(Dialect::Sqlite).await;
}
