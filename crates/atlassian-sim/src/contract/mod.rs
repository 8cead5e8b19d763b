//! OpenAPI contract validation of simulator responses.
