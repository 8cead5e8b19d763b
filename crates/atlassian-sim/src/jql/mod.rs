//! The JQL subset the simulator understands: a real tokenizer, a recursive-descent
//! parser ([`parse::parse`]) and an evaluator ([`eval::compile`]). Anything malformed or
//! unsupported is an error (HTTP 400 with Jira's `errorMessages`), never an empty result.

pub mod eval;
pub mod parse;
mod text;

use jiff::Timestamp;

use crate::model::Model;

pub use eval::Compiled;

/// Parses and compiles `jql` for `user`. Errors are the messages Jira would return.
pub fn prepare(m: &Model, jql: &str, user: &str, now: Timestamp) -> Result<Compiled, String> {
    let q = parse::parse(jql).map_err(|e| format!("Error in the JQL Query: {}", e.0))?;
    eval::compile(m, &q, user, now)
}
