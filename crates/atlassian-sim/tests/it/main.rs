//! Integration tests for the Atlassian simulator (one test binary).

mod assets;
mod bench;
mod contract;
mod contract_client;
mod contract_sim;
mod core;
mod multisite;
mod reliability;
