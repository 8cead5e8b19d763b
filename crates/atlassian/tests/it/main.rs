//! Integration tests for the `atlassian` crate: exact output of the JQL/AQL
//! builders, structure-preservation properties (proptest + attack corpora)
//! and ADF serde/plain-text/HTML safety.

mod adf;
mod aql;
mod client_auth;
mod client_common;
mod client_paging;
mod client_retry;
mod corpus;
mod jql;
mod support;
