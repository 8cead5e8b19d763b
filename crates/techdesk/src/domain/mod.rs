//! TechDesk's domain: plain functions over plain types, no HTTP.

pub mod assets;
pub mod duration;
pub mod feedback;
pub mod form;
pub mod participants;
pub mod queue;
pub mod settings;
pub mod sla;
pub mod ticket;
pub mod timer;
