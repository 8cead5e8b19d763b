//! Integration tests of `platform` (one test binary, see the style guide).
//!
//! The store's conformance suite is written once as `async fn(&Ctx)` and run against both
//! backends: SQLite in a temp folder and PostgreSQL at `JSMKIT_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), a fresh database per test.

// Test helpers outside `#[test]` functions unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

/// Generates one `#[tokio::test]` per backend for each listed `async fn(&Ctx)` of the
/// calling module: `<module>::sqlite::<name>` and `<module>::postgres::<name>`.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let ctx = crate::harness::Ctx::new(crate::harness::Kind::Sqlite).await;
                    super::$name(&ctx).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let ctx = crate::harness::Ctx::new(crate::harness::Kind::Postgres).await;
                    super::$name(&ctx).await;
                }
            )*
        }
    };
}

mod harness;

mod apikeys;

mod audit_log;
mod audit_pages;
mod audit_retention;
mod egress;
mod permissions_sim;
mod scheduler;
mod settings_pages;

mod identity;
mod identity_sessions;
mod multisite;
mod service_client;

mod store_admin;
mod store_bench;
mod store_crash;
mod store_isolation;
mod store_kv;
mod store_limits;
mod store_query;
mod store_rotation;
mod store_secrets;
mod store_tx;
mod web;
