//! OpenAPI 3.0 contract validation for the simulator and the client.
//!
//! Every response the simulator returns and every request the client sends must validate
//! against Atlassian's published OpenAPI documents (`shared/specs/`). This module loads such
//! a document ([`Spec`]), finds the operation for a concrete request ([`Spec::find_operation`])
//! and checks requests ([`Spec::validate_request`]) and responses
//! ([`Spec::validate_response`]) against it, reporting every mismatch as a [`Violation`].
//!
//! The schema dialect is OpenAPI 3.0's, not a JSON Schema draft: `type` is a single string,
//! `nullable` adds `null`, siblings of `$ref` are ignored, `readOnly` properties must not be
//! sent and `writeOnly` ones must not be returned, `discriminator` selects a `oneOf`/`anyOf`
//! branch. Supported keywords: `$ref` (local, lazy, cycle-safe), `type`, `nullable`, `enum`,
//! `format` (`int32`, `int64`, `date-time`, `date`, `uri`/`url`, `uuid`, `byte`), `required`,
//! `properties`, `additionalProperties`, `minProperties`/`maxProperties`, `items`,
//! `minItems`/`maxItems`, `uniqueItems`, `minimum`/`maximum` (+ `exclusive*`), `multipleOf`,
//! `minLength`/`maxLength`, `allOf`/`oneOf`/`anyOf`/`not`, `readOnly`/`writeOnly`,
//! `discriminator`.
//!
//! Not validated, on purpose: `pattern` (none of the four documents uses it, so no regex engine
//! is pulled in; a schema carrying one is accepted without the check), `default` and
//! `example(s)` (documentation only; Atlassian's documents contain defaults outside their enum
//! and examples that contradict the schema, see [`Quirks`]).
//!
//! Known upstream mistakes are relaxed only through the explicit [`Quirks`] list, each entry
//! with its reason, so nothing is loosened silently.
//!
//! ```no_run
//! use atlassian_sim::contract::{Spec, Strictness};
//! use serde_json::json;
//!
//! let spec = Spec::load("../shared/specs/jsm-assets.openapi.json")
//!     .expect("spec loads")
//!     .with_strictness(Strictness::NoUnknownProperties);
//! let body = json!({"totalCount": 3});
//! let path = "/jsm/assets/workspace/ws-1/v1/object/aql/totalcount";
//! spec.validate_response("POST", path, 200, Some("application/json"), &body)
//!     .unwrap_or_else(|v| panic!("{v}"));
//! ```

mod format;
mod operation;
mod quirks;
pub mod record;
mod refs;
mod schema;
mod spec;

pub use quirks::{Quirk, QuirkEffect, Quirks};
pub use record::{ContractLayer, ContractRecorder, Exchange, RecordedViolation, Side};
pub use spec::{OperationRef, Spec, SpecError};

use std::fmt;

/// How strictly object schemas are applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strictness {
    /// OpenAPI semantics: an absent `additionalProperties` allows any extra property.
    #[default]
    Spec,
    /// Additionally flag properties that an object schema does not declare, when the schema
    /// declares `properties` and says nothing about `additionalProperties` (catches typos
    /// in simulator responses and client requests). Declarations of all `allOf` branches
    /// are merged before the check.
    NoUnknownProperties,
}

/// Which part of the HTTP exchange a [`Violation`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// The operation as a whole: method, path, status code, media type.
    Operation,
    /// A path parameter; the pointer is `/<name>`.
    Path,
    /// A query parameter; the pointer is `/<name>` (or `/<name>/<index>` for array items).
    Query,
    /// A header parameter; the pointer is `/<name>`.
    Header,
    /// The JSON body; the pointer is an RFC 6901 pointer from the body root.
    Body,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Location::Operation => "operation",
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Body => "body",
        })
    }
}

/// The kind of mismatch, for tests that assert on more than the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    /// No operation in the document matches the method and path.
    NoOperation,
    /// The status code is not documented for the operation (no exact, range or default entry).
    UndocumentedStatus,
    /// The media type is not one the operation declares.
    MediaType,
    /// A required parameter is missing.
    MissingParameter,
    /// A query parameter the operation does not declare.
    UnknownParameter,
    /// A non-array parameter given more than once.
    RepeatedParameter,
    /// A request body was required but absent, or sent where none is declared.
    RequestBody,
    /// Wrong JSON type (including `null` where the schema is not `nullable`).
    Type,
    /// Value not in `enum`.
    Enum,
    /// Value does not match its `format`.
    Format,
    /// A `required` property is missing.
    Required,
    /// A property forbidden by `additionalProperties: false` or by
    /// [`Strictness::NoUnknownProperties`].
    UnknownProperty,
    /// `minimum`/`maximum`/`multipleOf`, length, item-count or property-count bound broken.
    Bounds,
    /// Array items not unique although `uniqueItems` is set.
    Unique,
    /// `oneOf` matched no branch or more than one; `anyOf` matched none; `not` matched.
    Composition,
    /// Discriminator property missing or naming an unknown schema.
    Discriminator,
    /// A `readOnly` property in a request.
    ReadOnly,
    /// A `writeOnly` property in a response.
    WriteOnly,
    /// A `$ref` that does not resolve, or a reference cycle that never reaches a schema.
    BrokenRef,
}

/// One mismatch between an HTTP exchange and the contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which part of the exchange is wrong.
    pub location: Location,
    /// RFC 6901 pointer inside that part (for parameters: `/<name>`), e.g.
    /// `/values/3/attributes/0/objectTypeAttributeId`.
    pub pointer: String,
    /// Where in the document the broken rule lives, e.g.
    /// `#/components/schemas/ObjectBean/properties/id`; empty when not schema-related.
    pub schema_path: String,
    /// The kind of mismatch.
    pub kind: ViolationKind,
    /// Human-readable explanation.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{} {pointer}: {}", self.location, self.message)?;
        if !self.schema_path.is_empty() {
            write!(f, " [{}]", self.schema_path)?;
        }
        Ok(())
    }
}

/// A non-empty list of violations; `Display`/`Debug` print one per line for test output.
#[derive(Clone, PartialEq, Eq)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// The violations as a slice.
    pub fn as_slice(&self) -> &[Violation] {
        &self.0
    }

    /// Whether any violation is at `location` with exactly this `pointer`.
    pub fn has(&self, location: Location, pointer: &str) -> bool {
        self.0
            .iter()
            .any(|v| v.location == location && v.pointer == pointer)
    }

    /// Whether any violation has this kind.
    pub fn has_kind(&self, kind: ViolationKind) -> bool {
        self.0.iter().any(|v| v.kind == kind)
    }

    /// Converts a collected list into the validation result.
    pub(crate) fn into_result(list: Vec<Violation>) -> Result<(), Violations> {
        if list.is_empty() {
            Ok(())
        } else {
            Err(Violations(list))
        }
    }
}

impl std::ops::Deref for Violations {
    type Target = [Violation];
    fn deref(&self) -> &[Violation] {
        &self.0
    }
}

impl IntoIterator for Violations {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} contract violation(s):", self.0.len())?;
        for v in &self.0 {
            writeln!(f, "  - {v}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Violations {}
