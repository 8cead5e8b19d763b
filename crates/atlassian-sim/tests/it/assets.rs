//! Assets (CMDB) side of the simulator: seed, AQL, HTTP routes.

// Test helpers and proptest bodies unwrap freely; a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod aql;
mod handmade;
mod http;
mod seed;
