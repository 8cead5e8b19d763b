//! DispatchDesk end to end: the real pages over HTTP, signed in through the simulator, with
//! every Jira read and write going to the simulator as the signed-in user.
#![allow(clippy::unwrap_used)]

mod env;
mod flow;
mod map;
mod plan;
