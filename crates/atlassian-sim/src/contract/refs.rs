//! Walking every `$ref` reachable from the operations of a document.

use std::collections::HashSet;

use serde_json::Value;

use super::schema::resolve_ref;
use super::spec::escape_pointer;
use super::{Location, Spec, Violation, ViolationKind, Violations};

impl Spec {
    /// Resolves every `$ref` reachable from any operation (parameters, request bodies,
    /// responses, schemas, transitively; each target visited once, so recursive schemas are
    /// fine). A reference that does not resolve, or is not local (`#/...`), is reported with
    /// the location where it was written as `schema_path`.
    pub fn check_refs(&self) -> Result<(), Violations> {
        let mut walker = Walker {
            spec: self,
            seen: HashSet::new(),
            out: Vec::new(),
        };
        if let Some(paths) = self.doc.get("paths").and_then(Value::as_object) {
            for (template, item) in paths {
                walker.walk(item, format!("#/paths/{}", escape_pointer(template)));
            }
        }
        Violations::into_result(walker.out)
    }

    /// Number of distinct `$ref` targets reachable from the operations (for tests and stats).
    pub fn reachable_ref_count(&self) -> usize {
        let mut walker = Walker {
            spec: self,
            seen: HashSet::new(),
            out: Vec::new(),
        };
        if let Some(paths) = self.doc.get("paths") {
            walker.walk(paths, "#/paths".to_owned());
        }
        walker.seen.len()
    }
}

struct Walker<'s> {
    spec: &'s Spec,
    seen: HashSet<&'s str>,
    out: Vec<Violation>,
}

impl<'s> Walker<'s> {
    /// Iterative walk (an explicit stack), so deep documents cannot overflow the call stack.
    fn walk(&mut self, start: &'s Value, start_ptr: String) {
        let mut stack: Vec<(&'s Value, String)> = vec![(start, start_ptr)];
        while let Some((value, ptr)) = stack.pop() {
            match value {
                Value::Object(map) => {
                    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                        if !self.seen.insert(reference) {
                            continue;
                        }
                        match resolve_ref(&self.spec.doc, reference) {
                            Some(target) => stack.push((target, reference.to_owned())),
                            None => self.out.push(Violation {
                                location: Location::Operation,
                                pointer: String::new(),
                                schema_path: ptr,
                                kind: ViolationKind::BrokenRef,
                                message: format!("$ref {reference:?} does not resolve"),
                            }),
                        }
                        continue;
                    }
                    for (key, child) in map {
                        // Literal example values are data, not schema.
                        if key == "example" && !ptr.ends_with("/properties") {
                            continue;
                        }
                        stack.push((child, format!("{ptr}/{}", escape_pointer(key))));
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        stack.push((child, format!("{ptr}/{i}")));
                    }
                }
                _ => {}
            }
        }
    }
}
