//! `atlassian-sim`: an in-process stand-in for Atlassian Cloud (Jira platform REST v3,
//! Jira Service Management, OAuth 2.0 3LO and — through [`assets`] — JSM Assets), used by
//! every test and by `jsmkit demo`.
//!
//! The site is generated deterministically from a seed ([`seed`]), served over HTTP by
//! [`server::start`], and supports JQL ([`jql`]), basic and OAuth auth, documented paging,
//! permissions and seeded fault injection ([`faults`]). Optional extra sites
//! ([`server::sites`]) put several independently seeded sites behind one account system and
//! API gateway.

pub mod assets;
pub mod bench;
pub mod clock;
pub mod contract;
pub mod faults;
pub mod jql;
pub mod model;
pub mod principal;
pub mod rng;
pub mod seed;
pub mod server;
pub mod testkit;

pub use bench::{AssetsStreamReport, BenchAssetsOptions, bench_assets_stream};
pub use faults::FaultConfig;
pub use seed::{Scale, UserSummary};
pub use server::{ExtraSite, ExtraSiteHandle, SimConfig, SimHandle, served_operations, start};
