//! Integration tests of Assets to SQL (one test binary): the demo site exported into real
//! PostgreSQL, MariaDB and SQLite databases (fresh database per test), scripts loaded with
//! the command-line clients, the SQL Server script parsed, adversarial names and values.

// Test helpers unwrap freely; a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod adversarial;
mod app;
mod atomic;
mod demo_site;
mod export_api;
mod harness;
mod rerun;
mod scripts;
