//! The store benchmark runs on both backends and renders them side by side. The budget per
//! operation is short here; set `JSMKIT_BENCH_MS=2000` to get real figures.

use std::time::Duration;

use platform::store::bench::{self, BenchOptions, OPS};

use crate::harness::{Ctx, Kind};

#[tokio::test]
async fn bench_runs_on_both_backends() {
    let ms = std::env::var("JSMKIT_BENCH_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let opts = BenchOptions {
        budget: Duration::from_millis(ms),
        ..BenchOptions::default()
    };
    let mut reports = Vec::new();
    for (name, kind) in [("sqlite", Kind::Sqlite), ("postgres", Kind::Postgres)] {
        let ctx = Ctx::new(kind).await;
        let report = bench::run(&ctx.store, &opts).await.unwrap();
        assert_eq!(report.backend, name);
        let ops: Vec<&str> = report.results.iter().map(|r| r.op).collect();
        assert_eq!(ops, OPS.to_vec());
        for r in &report.results {
            assert!(r.ops > 0 && r.ops_per_sec() > 0.0, "{name} {}: {r:?}", r.op);
        }
        assert!(
            ctx.store.list_sites().await.unwrap().is_empty(),
            "the benchmark cleans up after itself"
        );
        reports.push((name, report));
    }
    let table = bench::render_side_by_side(&reports);
    println!("{table}");
    assert!(table.contains("sqlite ops/s") && table.contains("postgres ops/s"));
    assert_eq!(table.lines().count(), 2 + OPS.len());
    // a fixed op count works too
    let ctx = Ctx::new(Kind::Sqlite).await;
    let fixed = BenchOptions {
        budget: Duration::from_secs(60),
        max_ops: Some(25),
        keys: 1_000,
    };
    let report = bench::run(&ctx.store, &fixed).await.unwrap();
    assert!(report.results.iter().all(|r| r.ops == 25));
    assert!(report.to_string().contains("sqlite ops/s"));
}
