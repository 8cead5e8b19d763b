//! The real `jsmkit` binary, run as an operator would run it.

mod cli;
mod helpers;
mod server;
