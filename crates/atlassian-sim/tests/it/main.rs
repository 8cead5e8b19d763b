//! Integration tests for the Atlassian simulator (one test binary).

mod assets;
mod contract;
mod core;
