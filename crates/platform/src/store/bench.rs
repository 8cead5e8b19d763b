//! A small throughput benchmark of a store: get, set, a query page and a conditional
//! transaction, each for a time budget (or an op count). It writes only under a fresh
//! throwaway site and purges that site at the end. `jsmkit bench store` prints
//! [`render_side_by_side`] of one report per backend.

use std::fmt;
use std::time::{Duration, Instant};

use serde_json::json;

use super::error::Result;
use super::types::{AppNs, Condition, SiteId, WriteOutcome};
use super::{Kv, Store};

/// What to measure and for how long.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Time spent on each operation.
    pub budget: Duration,
    /// Stop an operation earlier after this many runs.
    pub max_ops: Option<u64>,
    /// Keys under the queried prefix (at least 1,000).
    pub keys: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            budget: Duration::from_secs(2),
            max_ops: None,
            keys: 1_000,
        }
    }
}

/// One operation's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchResult {
    pub op: &'static str,
    pub ops: u64,
    pub elapsed: Duration,
}

impl BenchResult {
    pub fn ops_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.ops as f64 / secs
        } else {
            0.0
        }
    }

    /// Mean time per operation, in microseconds.
    pub fn mean_us(&self) -> f64 {
        if self.ops == 0 {
            0.0
        } else {
            self.elapsed.as_secs_f64() * 1e6 / self.ops as f64
        }
    }
}

/// The figures of one backend.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    pub backend: String,
    pub results: Vec<BenchResult>,
}

impl BenchReport {
    pub fn result(&self, op: &str) -> Option<&BenchResult> {
        self.results.iter().find(|r| r.op == op)
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render_side_by_side(&[(
            self.backend.as_str(),
            self.clone(),
        )]))
    }
}

/// The operations measured, in report order.
pub const OPS: [&str; 4] = [
    "get",
    "set",
    "query page (20)",
    "transaction (2 ops + version check)",
];

/// A table with one column pair (ops/s, mean µs) per named report.
pub fn render_side_by_side(reports: &[(&str, BenchReport)]) -> String {
    let op_width = OPS.iter().map(|o| o.len()).max().unwrap_or(10);
    let mut out = format!("{:<op_width$}", "operation");
    for (name, _) in reports {
        out.push_str(&format!(
            "  {:>14}  {:>10}",
            format!("{name} ops/s"),
            "mean µs"
        ));
    }
    out.push('\n');
    out.push_str(&"-".repeat(op_width + reports.len() * 28));
    out.push('\n');
    for op in OPS {
        out.push_str(&format!("{op:<op_width$}"));
        for (_, report) in reports {
            match report.result(op) {
                Some(r) => out.push_str(&format!(
                    "  {:>14.1}  {:>10.1}",
                    r.ops_per_sec(),
                    r.mean_us()
                )),
                None => out.push_str(&format!("  {:>14}  {:>10}", "-", "-")),
            }
        }
        out.push('\n');
    }
    out
}

/// xorshift64*: enough to spread reads over the keys without another dependency.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        Rng(getrandom::u64().unwrap_or(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        usize::try_from(r % (n.max(1) as u64)).unwrap_or(0)
    }
}

fn item_key(i: usize) -> String {
    format!("bench:item:{i:06}")
}

async fn measure<F, Fut>(op: &'static str, opts: &BenchOptions, mut f: F) -> Result<BenchResult>
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < opts.budget && opts.max_ops.is_none_or(|m| ops < m) {
        f(ops).await?;
        ops += 1;
    }
    Ok(BenchResult {
        op,
        ops,
        elapsed: start.elapsed(),
    })
}

/// Runs the benchmark against `store` and removes everything it wrote.
#[tracing::instrument(skip_all, fields(backend = store.backend_name()))]
pub async fn run(store: &Store, opts: &BenchOptions) -> Result<BenchReport> {
    let site = SiteId::new(format!("bench-{:016x}", getrandom::u64().unwrap_or(0)))?;
    let kv = store.kv(&site, &AppNs::new("platform")?);
    let result = run_on(&kv, opts).await;
    let purged = store.purge_site(&site).await;
    let report = result?;
    purged?;
    Ok(BenchReport {
        backend: store.backend_name().to_string(),
        results: report,
    })
}

async fn run_on(kv: &Kv, opts: &BenchOptions) -> Result<Vec<BenchResult>> {
    let n = opts.keys.max(1_000);
    let pad = "x".repeat(100);
    for chunk in (0..n).collect::<Vec<_>>().chunks(super::MAX_BATCH) {
        let items: Vec<(String, serde_json::Value)> = chunk
            .iter()
            .map(|&i| (item_key(i), json!({ "n": i, "pad": pad })))
            .collect();
        kv.set_many(&items).await?;
    }
    let mut results = Vec::new();

    let mut rng = Rng::new();
    results.push(
        measure("get", opts, |_| {
            let key = item_key(rng.below(n));
            async move { kv.get_json(&key).await.map(drop) }
        })
        .await?,
    );

    let mut rng = Rng::new();
    results.push(
        measure("set", opts, |i| {
            let key = item_key(rng.below(n));
            let value = json!({ "n": i, "pad": pad });
            async move { kv.set(&key, &value).await.map(drop) }
        })
        .await?,
    );

    let mut cursor: Option<String> = None;
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < opts.budget && opts.max_ops.is_none_or(|m| ops < m) {
        let mut q = kv.query().begins_with("bench:item:").limit(20);
        if let Some(c) = cursor.take() {
            q = q.cursor(c);
        }
        cursor = q.fetch().await?.cursor;
        ops += 1;
    }
    results.push(BenchResult {
        op: OPS[2],
        ops,
        elapsed: start.elapsed(),
    });

    let mut versions = vec![0i64; 50];
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < opts.budget && opts.max_ops.is_none_or(|m| ops < m) {
        let slot = (ops % 50) as usize;
        let key = format!("bench:tx:{slot:02}");
        let condition = match versions[slot] {
            0 => Condition::Absent,
            v => Condition::VersionEquals(v),
        };
        let out = kv
            .transaction()
            .check(&key, condition)
            .set(&key, &json!({ "n": ops }))
            .set("bench:tx:log", &json!({ "last": slot }))
            .commit()
            .await?;
        if let Some(WriteOutcome::Set { version }) = out.first() {
            versions[slot] = *version;
        }
        ops += 1;
    }
    results.push(BenchResult {
        op: OPS[3],
        ops,
        elapsed: start.elapsed(),
    });
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_by_side_table() {
        let r = |ops| BenchReport {
            backend: "x".into(),
            results: vec![BenchResult {
                op: "get",
                ops,
                elapsed: Duration::from_secs(2),
            }],
        };
        let t = render_side_by_side(&[("sqlite", r(4000)), ("postgres", r(1000))]);
        assert!(t.contains("sqlite ops/s"), "{t}");
        assert!(t.contains("postgres ops/s"), "{t}");
        let get = t.lines().find(|l| l.starts_with("get")).unwrap();
        assert!(get.contains("2000.0") && get.contains("500.0"), "{t}");
        assert!(t.lines().any(|l| l.starts_with("set") && l.contains('-')));
    }
}
