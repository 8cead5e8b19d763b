//! Atlassian building blocks shared by the jsmkit apps.
//!
//! - [`jql`]: Jira Query Language built only through typed builders.
//! - [`aql`]: Jira Assets Query Language built only through typed builders.
//! - [`adf`]: Atlassian Document Format types, plain-text conversion and safe HTML.

pub mod adf;
pub mod aql;
pub mod client;
pub mod jql;
