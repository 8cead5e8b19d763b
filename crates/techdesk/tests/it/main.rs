//! TechDesk's integration tests: the simulator in-process, the real pages over HTTP behind
//! sign-in, writes checked in the simulator afterwards.

// Test helpers outside `#[test]` functions unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod assets;
mod bench;
mod harness;
mod requests;
mod settings;
mod sla;
mod ticket;
mod xss;
