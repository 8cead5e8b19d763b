//! The Assets streaming benchmark, run on the small site.

use atlassian_sim::bench::{ASSETS_MAX_PAGE_SIZE, min_requests};
use atlassian_sim::{BenchAssetsOptions, Scale, bench_assets_stream};

#[tokio::test]
async fn assets_stream_bench_uses_the_minimum_requests_without_faults() {
    let report = bench_assets_stream(BenchAssetsOptions {
        scale: Scale::Small,
        seed: 3,
        page_size: None,
    })
    .await
    .expect("bench");
    println!("{report}");
    assert!(report.total_objects > u64::from(ASSETS_MAX_PAGE_SIZE));
    for run in [&report.tuned, &report.baseline] {
        assert_eq!(run.objects, report.total_objects, "{}", run.label);
        assert_eq!(run.distinct, report.total_objects, "{}", run.label);
        assert_eq!(
            run.requests,
            min_requests(report.total_objects, run.page_size),
            "{}",
            run.label
        );
    }
    assert_eq!(report.tuned.page_size, ASSETS_MAX_PAGE_SIZE);
    assert_eq!(report.tuned.requests, report.min_requests);
    assert!(report.baseline.requests > report.min_requests);
    let table = report.to_string();
    assert!(table.contains("max page") && table.contains("client default"));
}
