//! All-or-nothing: a run that fails midway leaves the database exactly as the last
//! successful run left it, and a reader in the middle of a run sees the old state.

use assets_sql::dialect::Dialect;
use assets_sql::load::{DbSink, Target};
use assets_sql::model::{Plan, TypeTable};
use assets_sql::run::run_objects;
use assets_sql::sink::{Counts, RunInfo, Sink};
use assets_sql::value::{ObjectRow, RawObject};
use assets_sql::{Error, Result};

use crate::adversarial::{build, check};
use crate::harness::Scratch;

/// Delegates to a database sink; at the third batch it checks what another connection
/// sees, then fails.
struct FailMidway<'a> {
    inner: DbSink,
    scratch: &'a Scratch,
    plan: &'a Plan,
    expected: &'a crate::adversarial::Listing,
    batches: usize,
    reader_checked: bool,
}

impl Sink for FailMidway<'_> {
    async fn begin(&mut self, plan: &Plan, run: &RunInfo) -> Result<()> {
        self.inner.begin(plan, run).await
    }
    async fn seen(&mut self, table: &TypeTable, ids: &[String]) -> Result<()> {
        self.inner.seen(table, ids).await
    }
    async fn rows(&mut self, table: &TypeTable, rows: &[ObjectRow]) -> Result<()> {
        self.inner.rows(table, rows).await?;
        self.batches += 1;
        if self.batches == 3 {
            if !matches!(self.scratch.target, Target::Sqlite(_)) {
                // SQLite's writer holds the lock a reader would wait for; the others
                // serve the committed state while the run is open.
                let mut reader = self.scratch.connect().await;
                check(&mut reader, self.plan, self.expected).await;
                self.reader_checked = true;
            }
            return Err(Error::Invalid("injected failure".into()));
        }
        Ok(())
    }
    async fn finish(&mut self, plan: &Plan, run: &RunInfo, counts: Counts) -> Result<()> {
        self.inner.finish(plan, run, counts).await
    }
    async fn abort(&mut self) -> Result<()> {
        self.inner.abort().await
    }
}

async fn failed_run_changes_nothing(dialect: Dialect) {
    let (_, plan, raws, list) = build();
    let scratch = Scratch::new(dialect).await;
    let mut sink = DbSink::connect(&scratch.target).await.unwrap();
    run_objects(&plan, &mut sink, raws.clone()).await.unwrap();

    // Every value changed, some objects gone: none of it may become visible.
    let changed: Vec<RawObject> = raws
        .iter()
        .skip(3)
        .map(|r| RawObject {
            label: Some("changed".into()),
            attributes: vec![],
            ..r.clone()
        })
        .collect();
    let mut failing = FailMidway {
        inner: DbSink::connect(&scratch.target).await.unwrap(),
        scratch: &scratch,
        plan: &plan,
        expected: &list,
        batches: 0,
        reader_checked: false,
    };
    let err = run_objects(&plan, &mut failing, changed).await.unwrap_err();
    assert!(err.to_string().contains("injected"), "{err}");
    assert_eq!(failing.reader_checked, dialect != Dialect::Sqlite);
    drop(failing);

    let mut db = scratch.connect().await;
    check(&mut db, &plan, &list).await;
    assert_eq!(
        db.count("SELECT run_id FROM assets_sql_runs WHERE status = 'succeeded'")
            .await,
        1
    );
    if dialect == Dialect::MySql {
        let leftovers = db
            .count("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE '%\\_\\_stg'")
            .await;
        assert_eq!(leftovers, 0, "staging tables left behind");
        let failed = db
            .count("SELECT run_id FROM assets_sql_runs WHERE status = 'failed'")
            .await;
        assert_eq!(failed, 1, "the failed run is recorded");
    }
    drop(db);
    scratch.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_run_changes_nothing_postgres() {
    failed_run_changes_nothing(Dialect::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_run_changes_nothing_mariadb() {
    failed_run_changes_nothing(Dialect::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_run_changes_nothing_sqlite() {
    failed_run_changes_nothing(Dialect::Sqlite).await;
}
