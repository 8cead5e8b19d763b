//! Shared mechanisms of jsmkit: configuration, the app store (key-value + secrets),
//! telemetry and the web shell. Apps depend on this crate; it depends on no app.

pub mod apikeys;
pub mod audit;
pub mod config;
pub mod egress;
pub mod identity;
pub mod permissions;
pub mod scheduler;
pub mod settings;
pub mod store;
pub mod telemetry;
pub mod web;
