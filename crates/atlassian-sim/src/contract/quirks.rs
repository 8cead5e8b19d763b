//! Known mistakes in Atlassian's published documents and how the validator tolerates them.
//!
//! Every relaxation of the contract lives here with its reason (see `shared/specs/README.md`
//! for provenance). A [`Spec`](super::Spec) uses [`Quirks::atlassian`] unless told otherwise;
//! tests can switch to [`Quirks::none`] to see the raw document's verdict.

/// What a quirk changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuirkEffect {
    /// Do not require `property` in the schema at location `schema`
    /// (e.g. `#/components/schemas/ObjectAQLTotalCountResult`).
    IgnoreRequired {
        /// Schema location as reported in violations.
        schema: &'static str,
        /// The listed-but-not-returned property.
        property: &'static str,
    },
    /// Treat the `oneOf` at schema location `schema` as `anyOf` (branches overlap, so
    /// "exactly one" can never hold for some valid values).
    OneOfAsAnyOf {
        /// Location of the schema holding the `oneOf`.
        schema: &'static str,
    },
    /// Accept any string for one parameter whose declared type is wrong.
    ParamAnyString {
        /// Lower-case method.
        method: &'static str,
        /// Path template as written under `paths`.
        template: &'static str,
        /// Parameter name.
        name: &'static str,
    },
    /// Accept `null` in request bodies for the schema at location `schema`, where the
    /// operation's prose documents `null` as meaningful but the schema is not `nullable`.
    NullInRequest {
        /// Schema location as reported in violations.
        schema: &'static str,
    },
    /// Accept `date-time` values whose UTC offset has no colon (`+0000`).
    DateTimeOffsetWithoutColon,
    /// Concerns the document itself, not instances; recorded so the tolerance is visible.
    DocumentOnly,
}

/// One tolerated upstream quirk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quirk {
    /// Short stable identifier.
    pub id: &'static str,
    /// Why the relaxation is justified.
    pub reason: &'static str,
    /// What it relaxes.
    pub effect: QuirkEffect,
}

/// The list of quirks a [`Spec`](super::Spec) tolerates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quirks(Vec<Quirk>);

impl Quirks {
    /// No relaxation at all: the documents are taken literally.
    pub fn none() -> Quirks {
        Quirks(Vec::new())
    }

    /// The known quirks of the Jira platform, JSM and Assets documents in `shared/specs/`.
    pub fn atlassian() -> Quirks {
        Quirks(vec![
            Quirk {
                id: "assets-totalcount-required-self",
                reason: "ObjectAQLTotalCountResult.required lists `self`, but the only declared \
                         property is `totalCount` and the service returns just `{\"totalCount\": n}`",
                effect: QuirkEffect::IgnoreRequired {
                    schema: "#/components/schemas/ObjectAQLTotalCountResult",
                    property: "self",
                },
            },
            Quirk {
                id: "assets-attribute-value-oneof-overlap",
                reason: "ObjectAttributeValue.value is oneOf [string, string+date-time]; every \
                         date-time string matches both branches, so `exactly one` is unsatisfiable",
                effect: QuirkEffect::OneOfAsAnyOf {
                    schema: "#/components/schemas/ObjectAttributeValue/properties/value",
                },
            },
            Quirk {
                id: "assets-flat-query-typed-boolean",
                reason: "the `query` parameter of /objectschema/{id}/objecttypes/flat is typed \
                         boolean but documented as object type names to search for",
                effect: QuirkEffect::ParamAnyString {
                    method: "get",
                    template: "/objectschema/{id}/objecttypes/flat",
                    name: "query",
                },
            },
            Quirk {
                id: "jira-datetime-offset-without-colon",
                reason: "Jira Cloud serialises date-time values as `2024-01-31T09:15:00.000+0000` \
                         (ISO 8601 basic offset), which RFC 3339 `date-time` does not allow",
                effect: QuirkEffect::DateTimeOffsetWithoutColon,
            },
            Quirk {
                id: "jira-assign-null-account-id",
                reason: "PUT /rest/api/3/issue/{issueIdOrKey}/assignee takes a `User` body whose \
                         `accountId` is not nullable, yet the operation documents \
                         `\"accountId\": null` as the way to unassign the issue (and `-1` for \
                         the default assignee); Jira Cloud accepts it",
                effect: QuirkEffect::NullInRequest {
                    schema: "#/components/schemas/User/properties/accountId",
                },
            },
            Quirk {
                id: "default-not-in-enum",
                reason: "some array parameter item schemas carry `\"default\": \"\"` outside their \
                         enum (e.g. GET /rest/api/3/field/search `type`); defaults are never \
                         validated, only supplied values are",
                effect: QuirkEffect::DocumentOnly,
            },
            Quirk {
                id: "jsm-duplicate-operation-ids",
                reason: "the JSM document repeats operationIds (e.g. `getArticles`); operations \
                         are indexed by method and path, never by operationId",
                effect: QuirkEffect::DocumentOnly,
            },
            Quirk {
                id: "examples-not-validated",
                reason: "examples contradict schemas (the Assets /object/aql example has \
                         `\"isLast\": \"false\"`); `example`/`examples` are documentation only",
                effect: QuirkEffect::DocumentOnly,
            },
        ])
    }

    /// Adds a quirk (for documents other than the shipped ones).
    pub fn push(&mut self, quirk: Quirk) {
        self.0.push(quirk);
    }

    /// Iterates over the quirks.
    pub fn iter(&self) -> std::slice::Iter<'_, Quirk> {
        self.0.iter()
    }

    pub(crate) fn ignores_required(&self, schema_location: &str, property: &str) -> bool {
        self.0.iter().any(|q| {
            matches!(q.effect, QuirkEffect::IgnoreRequired { schema, property: p }
                if schema == schema_location && p == property)
        })
    }

    pub(crate) fn one_of_as_any_of(&self, schema_location: &str) -> bool {
        self.0.iter().any(
            |q| matches!(q.effect, QuirkEffect::OneOfAsAnyOf { schema } if schema == schema_location),
        )
    }

    pub(crate) fn param_any_string(&self, method: &str, template: &str, name: &str) -> bool {
        self.0.iter().any(|q| {
            matches!(q.effect, QuirkEffect::ParamAnyString { method: m, template: t, name: n }
                if m == method && t == template && n == name)
        })
    }

    pub(crate) fn null_in_request(&self, schema_location: &str) -> bool {
        self.0.iter().any(
            |q| matches!(q.effect, QuirkEffect::NullInRequest { schema } if schema == schema_location),
        )
    }

    pub(crate) fn date_time_offset_without_colon(&self) -> bool {
        self.0
            .iter()
            .any(|q| q.effect == QuirkEffect::DateTimeOffsetWithoutColon)
    }
}

impl<'a> IntoIterator for &'a Quirks {
    type Item = &'a Quirk;
    type IntoIter = std::slice::Iter<'a, Quirk>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
