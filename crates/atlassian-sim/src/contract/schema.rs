//! The OpenAPI 3.0 schema validator.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::spec::escape_pointer;
use super::{Location, Quirks, Strictness, Violation, ViolationKind, format};

/// Most `$ref` hops allowed without descending into the instance (a cycle otherwise).
const MAX_REF_HOPS: usize = 32;
/// Most nested validation frames (protects the stack on pathological input).
const MAX_DEPTH: usize = 400;

/// Whether a value travels to the service or comes back from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Request,
    Response,
}

/// A JSON pointer built lazily as a chain on the stack; rendered only for violations.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ptr<'a> {
    Root(&'a str),
    Key(&'a Ptr<'a>, &'a str),
    Index(&'a Ptr<'a>, usize),
}

impl Ptr<'_> {
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Ptr::Root(base) => out.push_str(base),
            Ptr::Key(parent, key) => {
                parent.render_into(out);
                out.push('/');
                out.push_str(&escape_pointer(key));
            }
            Ptr::Index(parent, i) => {
                parent.render_into(out);
                let _ = write!(out, "/{i}");
            }
        }
    }

    fn is_root(&self) -> bool {
        matches!(self, Ptr::Root(_))
    }
}

/// Resolves a local `$ref` (`#/components/...`) by JSON pointer lookup in the parsed document.
pub(crate) fn resolve_ref<'d>(doc: &'d Value, reference: &str) -> Option<&'d Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// Follows `$ref` chains (siblings of `$ref` are ignored, as OpenAPI 3.0 says).
pub(crate) fn deref<'d>(doc: &'d Value, mut schema: &'d Value) -> Option<&'d Value> {
    for _ in 0..MAX_REF_HOPS {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => schema = resolve_ref(doc, r)?,
            None => return Some(schema),
        }
    }
    None
}

/// Short rendering of a value for messages.
fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        let cut = (0..=57).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
        format!("{}...", &s[..cut])
    } else {
        s
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(ty: &str, v: &Value) -> bool {
    match ty {
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        // Not an OpenAPI 3.0 type: nothing to check against.
        _ => true,
    }
}

fn flag(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// Validates instances against schemas of one document.
pub(crate) struct Validator<'s> {
    pub(crate) doc: &'s Value,
    pub(crate) quirks: &'s Quirks,
    pub(crate) strictness: Strictness,
    pub(crate) direction: Direction,
    pub(crate) location: Location,
    pub(crate) out: Vec<Violation>,
}

/// Where validation currently stands.
#[derive(Clone, Copy)]
struct At<'p> {
    ip: &'p Ptr<'p>,
    sp: &'p Ptr<'p>,
    depth: usize,
    hops: usize,
    /// Set for `allOf`/`oneOf`/`anyOf` branches: the parent does the unknown-property check.
    in_branch: bool,
}

impl<'s> Validator<'s> {
    pub(crate) fn new(
        doc: &'s Value,
        quirks: &'s Quirks,
        strictness: Strictness,
        direction: Direction,
        location: Location,
    ) -> Self {
        Validator {
            doc,
            quirks,
            strictness,
            direction,
            location,
            out: Vec::new(),
        }
    }

    fn fork(&self) -> Validator<'s> {
        Validator::new(
            self.doc,
            self.quirks,
            self.strictness,
            self.direction,
            self.location,
        )
    }

    fn push(&mut self, at: At<'_>, kind: ViolationKind, message: String) {
        self.out.push(Violation {
            location: self.location,
            pointer: at.ip.render(),
            schema_path: at.sp.render(),
            kind,
            message,
        });
    }

    /// Validates `inst` against `schema`; `ip` is the instance pointer, `sp` the schema location.
    pub(crate) fn validate(&mut self, schema: &'s Value, inst: &Value, ip: &Ptr<'_>, sp: &Ptr<'_>) {
        let at = At {
            ip,
            sp,
            depth: 0,
            hops: 0,
            in_branch: false,
        };
        self.node(schema, inst, at);
    }

    fn node(&mut self, schema: &'s Value, inst: &Value, at: At<'_>) {
        if at.depth > MAX_DEPTH || at.hops > MAX_REF_HOPS {
            let msg = "schema recursion does not terminate (reference cycle?)".to_owned();
            return self.push(at, ViolationKind::BrokenRef, msg);
        }
        let Some(obj) = schema.as_object() else {
            return; // `true`/non-object schemas constrain nothing in 3.0 documents
        };
        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            let Some(target) = resolve_ref(self.doc, reference) else {
                let msg = format!("$ref {reference:?} does not resolve");
                return self.push(at, ViolationKind::BrokenRef, msg);
            };
            let sp = Ptr::Root(reference);
            let next = At {
                sp: &sp,
                depth: at.depth + 1,
                hops: at.hops + 1,
                ..at
            };
            return self.node(target, inst, next);
        }
        if inst.is_null()
            && (flag(schema, "nullable")
                || (self.direction == Direction::Request
                    && self.quirks.null_in_request(&at.sp.render())))
        {
            return;
        }
        if !at.ip.is_root() {
            if self.direction == Direction::Request && flag(schema, "readOnly") {
                let msg = "readOnly property must not be sent in a request".to_owned();
                return self.push(at, ViolationKind::ReadOnly, msg);
            }
            if self.direction == Direction::Response && flag(schema, "writeOnly") {
                let msg = "writeOnly property must not appear in a response".to_owned();
                return self.push(at, ViolationKind::WriteOnly, msg);
            }
        }
        if let Some(ty) = obj.get("type").and_then(Value::as_str)
            && !type_matches(ty, inst)
        {
            let msg = if inst.is_null() {
                format!("null is not allowed (expected {ty}; schema is not nullable)")
            } else {
                format!("expected {ty}, got {} {}", type_name(inst), show(inst))
            };
            return self.push(at, ViolationKind::Type, msg);
        }
        if let Some(choices) = obj.get("enum").and_then(Value::as_array)
            && !choices.contains(inst)
        {
            let msg = format!(
                "{} is not one of {}",
                show(inst),
                show(&Value::Array(choices.clone()))
            );
            self.push(at, ViolationKind::Enum, msg);
        }
        if let Some(fmt) = obj.get("format").and_then(Value::as_str)
            && let Some(msg) =
                format::check(fmt, inst, self.quirks.date_time_offset_without_colon())
        {
            self.push(at, ViolationKind::Format, msg);
        }
        match inst {
            Value::Number(_) => self.number(obj, inst, at),
            Value::String(s) => self.string(obj, s, at),
            Value::Array(items) => self.array(obj, items, at),
            Value::Object(map) => self.object(schema, obj, map, at),
            Value::Null | Value::Bool(_) => {}
        }
        self.composition(obj, inst, at);
    }

    fn number(&mut self, obj: &Map<String, Value>, inst: &Value, at: At<'_>) {
        let Some(x) = inst.as_f64() else { return };
        let num = |k: &str| obj.get(k).and_then(Value::as_f64);
        if let Some(min) = num("minimum") {
            let exclusive = obj.get("exclusiveMinimum").and_then(Value::as_bool) == Some(true);
            if x < min || (exclusive && x <= min) {
                let op = if exclusive { ">" } else { ">=" };
                self.push(
                    at,
                    ViolationKind::Bounds,
                    format!("{inst} must be {op} {min}"),
                );
            }
        }
        if let Some(max) = num("maximum") {
            let exclusive = obj.get("exclusiveMaximum").and_then(Value::as_bool) == Some(true);
            if x > max || (exclusive && x >= max) {
                let op = if exclusive { "<" } else { "<=" };
                self.push(
                    at,
                    ViolationKind::Bounds,
                    format!("{inst} must be {op} {max}"),
                );
            }
        }
        if let Some(m) = num("multipleOf").filter(|m| *m > 0.0) {
            let q = x / m;
            if (q - q.round()).abs() > 1e-9 {
                self.push(
                    at,
                    ViolationKind::Bounds,
                    format!("{inst} is not a multiple of {m}"),
                );
            }
        }
    }

    fn string(&mut self, obj: &Map<String, Value>, s: &str, at: At<'_>) {
        let len = s.chars().count() as u64;
        if let Some(min) = obj.get("minLength").and_then(Value::as_u64)
            && len < min
        {
            let msg = format!("string of length {len} is shorter than minLength {min}");
            self.push(at, ViolationKind::Bounds, msg);
        }
        if let Some(max) = obj.get("maxLength").and_then(Value::as_u64)
            && len > max
        {
            let msg = format!("string of length {len} is longer than maxLength {max}");
            self.push(at, ViolationKind::Bounds, msg);
        }
    }

    fn array(&mut self, obj: &'s Map<String, Value>, items: &[Value], at: At<'_>) {
        let n = items.len() as u64;
        if let Some(min) = obj.get("minItems").and_then(Value::as_u64)
            && n < min
        {
            self.push(
                at,
                ViolationKind::Bounds,
                format!("{n} items, minItems is {min}"),
            );
        }
        if let Some(max) = obj.get("maxItems").and_then(Value::as_u64)
            && n > max
        {
            self.push(
                at,
                ViolationKind::Bounds,
                format!("{n} items, maxItems is {max}"),
            );
        }
        if flag_map(obj, "uniqueItems") {
            let mut seen = HashSet::new();
            if let Some(dup) = items.iter().find(|v| !seen.insert(v.to_string())) {
                let msg = format!("items are not unique ({} repeats)", show(dup));
                self.push(at, ViolationKind::Unique, msg);
            }
        }
        if let Some(item_schema) = obj.get("items") {
            let sp = Ptr::Key(at.sp, "items");
            for (i, item) in items.iter().enumerate() {
                let ip = Ptr::Index(at.ip, i);
                self.node(item_schema, item, descend(at, &ip, &sp));
            }
        }
    }

    fn object(
        &mut self,
        schema: &'s Value,
        obj: &'s Map<String, Value>,
        map: &Map<String, Value>,
        at: At<'_>,
    ) {
        let props = obj.get("properties").and_then(Value::as_object);
        if let Some(required) = obj.get("required").and_then(Value::as_array) {
            let mut location = None;
            for name in required.iter().filter_map(Value::as_str) {
                if map.contains_key(name) || self.exempt_from_required(props, name) {
                    continue;
                }
                let loc = location.get_or_insert_with(|| at.sp.render());
                if self.quirks.ignores_required(loc, name) {
                    continue;
                }
                let msg = format!("required property {name:?} is missing");
                self.push(at, ViolationKind::Required, msg);
            }
        }
        let n = map.len() as u64;
        if let Some(min) = obj.get("minProperties").and_then(Value::as_u64)
            && n < min
        {
            self.push(
                at,
                ViolationKind::Bounds,
                format!("{n} properties, minProperties is {min}"),
            );
        }
        if let Some(max) = obj.get("maxProperties").and_then(Value::as_u64)
            && n > max
        {
            self.push(
                at,
                ViolationKind::Bounds,
                format!("{n} properties, maxProperties is {max}"),
            );
        }
        let additional = obj.get("additionalProperties");
        let strict_names = match (self.strictness, additional, at.in_branch) {
            (Strictness::NoUnknownProperties, None, false) => self.declared_names(schema),
            _ => None,
        };
        let sp_props = Ptr::Key(at.sp, "properties");
        let sp_additional = Ptr::Key(at.sp, "additionalProperties");
        for (key, value) in map {
            let ip = Ptr::Key(at.ip, key);
            if let Some(prop_schema) = props.and_then(|p| p.get(key)) {
                let sp = Ptr::Key(&sp_props, key);
                self.node(prop_schema, value, descend(at, &ip, &sp));
                continue;
            }
            match additional {
                Some(Value::Bool(false)) => {
                    let here = At { ip: &ip, ..at };
                    let msg =
                        format!("property {key:?} is not allowed (additionalProperties: false)");
                    self.push(here, ViolationKind::UnknownProperty, msg);
                }
                Some(ap @ Value::Object(_)) => {
                    self.node(ap, value, descend(at, &ip, &sp_additional));
                }
                _ => {
                    if let Some(names) = &strict_names
                        && !names.contains(key.as_str())
                    {
                        let here = At { ip: &ip, ..at };
                        let msg =
                            format!("property {key:?} is not declared by the schema (strict mode)");
                        self.push(here, ViolationKind::UnknownProperty, msg);
                    }
                }
            }
        }
    }

    /// A required property that is `readOnly` need not be sent; a `writeOnly` one is not returned.
    fn exempt_from_required(&self, props: Option<&'s Map<String, Value>>, name: &str) -> bool {
        let Some(prop) = props.and_then(|p| p.get(name)) else {
            return false;
        };
        let Some(prop) = deref(self.doc, prop) else {
            return false;
        };
        match self.direction {
            Direction::Request => flag(prop, "readOnly"),
            Direction::Response => flag(prop, "writeOnly"),
        }
    }

    /// Property names declared by `schema` and its composition branches, or `None` when the
    /// schema declares none or some part of it is open (`additionalProperties` given).
    fn declared_names(&self, schema: &'s Value) -> Option<HashSet<&'s str>> {
        let mut names = HashSet::new();
        let closed = self.collect_names(schema, &mut names, 0);
        (closed && !names.is_empty()).then_some(names)
    }

    fn collect_names(&self, schema: &'s Value, names: &mut HashSet<&'s str>, depth: usize) -> bool {
        let Some(schema) = deref(self.doc, schema) else {
            return false;
        };
        if depth > MAX_REF_HOPS {
            return false;
        }
        if schema.get("additionalProperties").is_some() && depth > 0 {
            return false;
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            names.extend(props.keys().map(String::as_str));
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for branch in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if !self.collect_names(branch, names, depth + 1) {
                    return false;
                }
            }
        }
        true
    }

    fn composition(&mut self, obj: &'s Map<String, Value>, inst: &Value, at: At<'_>) {
        if let Some(branches) = obj.get("allOf").and_then(Value::as_array) {
            let sp_all = Ptr::Key(at.sp, "allOf");
            for (i, branch) in branches.iter().enumerate() {
                let sp = Ptr::Index(&sp_all, i);
                self.node(branch, inst, branch_at(at, &sp));
            }
        }
        if let Some(disc) = obj.get("discriminator")
            && (obj.contains_key("oneOf") || obj.contains_key("anyOf"))
        {
            return self.discriminated(disc, inst, at);
        }
        for key in ["oneOf", "anyOf"] {
            let Some(branches) = obj.get(key).and_then(Value::as_array) else {
                continue;
            };
            let sp_key = Ptr::Key(at.sp, key);
            let mut results = Vec::with_capacity(branches.len());
            for (i, branch) in branches.iter().enumerate() {
                let sp = Ptr::Index(&sp_key, i);
                let mut sub = self.fork();
                sub.node(branch, inst, branch_at(at, &sp));
                results.push(sub.out);
            }
            let matched = results.iter().filter(|r| r.is_empty()).count();
            let exactly_one = key == "oneOf" && !self.quirks.one_of_as_any_of(&at.sp.render());
            if matched == 0 {
                let best = results.into_iter().min_by_key(Vec::len).unwrap_or_default();
                let msg = format!(
                    "matches none of the {} {key} branches; closest branch says: {}",
                    branches.len(),
                    best.first().map_or_else(String::new, ToString::to_string)
                );
                self.push(at, ViolationKind::Composition, msg);
            } else if exactly_one && matched > 1 {
                let msg = format!("matches {matched} oneOf branches, exactly one is allowed");
                self.push(at, ViolationKind::Composition, msg);
            }
        }
        if let Some(not) = obj.get("not") {
            let sp = Ptr::Key(at.sp, "not");
            let mut sub = self.fork();
            sub.node(not, inst, branch_at(at, &sp));
            if sub.out.is_empty() {
                self.push(
                    at,
                    ViolationKind::Composition,
                    "matches the `not` schema".to_owned(),
                );
            }
        }
    }

    fn discriminated(&mut self, disc: &'s Value, inst: &Value, at: At<'_>) {
        let Some(map) = inst.as_object() else { return };
        let Some(prop) = disc.get("propertyName").and_then(Value::as_str) else {
            return;
        };
        let Some(tag) = map.get(prop).and_then(Value::as_str) else {
            let msg = format!("discriminator property {prop:?} is missing or not a string");
            return self.push(at, ViolationKind::Discriminator, msg);
        };
        let mapped = disc
            .get("mapping")
            .and_then(|m| m.get(tag))
            .and_then(Value::as_str);
        let reference = match mapped {
            Some(r) if r.starts_with('#') => r.to_owned(),
            Some(name) => format!("#/components/schemas/{name}"),
            None => format!("#/components/schemas/{tag}"),
        };
        let Some(target) = resolve_ref(self.doc, &reference) else {
            let msg = format!("discriminator value {tag:?} names no schema ({reference})");
            return self.push(at, ViolationKind::Discriminator, msg);
        };
        let sp = Ptr::Root(&reference);
        self.node(target, inst, branch_at(at, &sp));
    }
}

fn flag_map(obj: &Map<String, Value>, key: &str) -> bool {
    obj.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// Moves to a child instance node.
fn descend<'p>(at: At<'p>, ip: &'p Ptr<'p>, sp: &'p Ptr<'p>) -> At<'p> {
    At {
        ip,
        sp,
        depth: at.depth + 1,
        hops: 0,
        in_branch: false,
    }
}

/// Stays on the same instance node in a composition branch.
fn branch_at<'p>(at: At<'p>, sp: &'p Ptr<'p>) -> At<'p> {
    At {
        sp,
        depth: at.depth + 1,
        hops: at.hops + 1,
        in_branch: true,
        ..at
    }
}
