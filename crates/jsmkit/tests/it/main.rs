//! The real `jsmkit` binary, run as an operator would run it.

#![allow(clippy::unwrap_used)]

mod cli;
mod helpers;
mod matrix;
mod server;
