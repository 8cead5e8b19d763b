//! Loading an OpenAPI document and finding the operation for a concrete request.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Quirks, Strictness};

/// HTTP methods an OpenAPI path item can hold, in lower case as the document spells them.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Why a document could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read OpenAPI document {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("OpenAPI document {path} is not valid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The JSON is not an OpenAPI 3.0 document this validator understands.
    #[error("not a usable OpenAPI 3.0 document: {0}")]
    Invalid(String),
}

/// One segment of a path template.
#[derive(Clone, Debug)]
enum Seg {
    Literal(String),
    Param(String),
}

impl Seg {
    fn parse_template(template: &str) -> Vec<Seg> {
        split_path(template)
            .map(
                |s| match s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                    Some(name) => Seg::Param(name.to_owned()),
                    None => Seg::Literal(s.to_owned()),
                },
            )
            .collect()
    }
}

/// Splits `/a/b/c` into `a`, `b`, `c` (the leading slash is dropped; empty segments kept).
fn split_path(path: &str) -> impl Iterator<Item = &str> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let path = path.strip_prefix('/').unwrap_or(path);
    path.split('/').filter({
        let empty = path.is_empty();
        move |_| !empty
    })
}

/// One indexed path item under one server base path.
#[derive(Debug)]
struct Route {
    /// The key under `paths` in the document.
    template: String,
    /// Number of segments that belong to the server base path.
    base_len: usize,
    segments: Vec<Seg>,
}

/// A loaded OpenAPI 3.0 document with its operations indexed by method and path.
///
/// Cheap to share by reference; validation never mutates it.
#[derive(Debug)]
pub struct Spec {
    pub(crate) doc: Value,
    /// Routes bucketed by segment count.
    routes: HashMap<usize, Vec<Route>>,
    strip_prefixes: Vec<Vec<Seg>>,
    /// `(alias, documented)` path prefixes, e.g. `/rest/api/latest` for `/rest/api/3`.
    path_aliases: Vec<(Vec<Seg>, Vec<String>)>,
    pub(crate) quirks: Quirks,
    pub(crate) strictness: Strictness,
}

/// One operation of a [`Spec`], as matched for a concrete path.
#[derive(Clone, Debug)]
pub struct OperationRef<'a> {
    pub(crate) spec: &'a Spec,
    method: String,
    template: &'a str,
    path_params: Vec<(String, String)>,
}

impl<'a> OperationRef<'a> {
    /// The method in lower case, as the document spells it (`get`, `post`, ...).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path template as written under `paths` (without the server base path),
    /// e.g. `/rest/api/3/issue/{issueIdOrKey}/transitions` or `/object/aql`.
    pub fn template(&self) -> &'a str {
        self.template
    }

    /// The `operationId`, if the document gives one (not unique in the JSM document).
    pub fn operation_id(&self) -> Option<&'a str> {
        self.operation()?.get("operationId")?.as_str()
    }

    /// Whether the operation is marked `deprecated`.
    pub fn deprecated(&self) -> bool {
        self.operation()
            .and_then(|o| o.get("deprecated"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Path parameters taken from the concrete path (percent-decoded), in template order.
    pub fn path_params(&self) -> &[(String, String)] {
        &self.path_params
    }

    /// The operation object in the document.
    pub(crate) fn operation(&self) -> Option<&'a Value> {
        self.path_item()?.get(self.method.as_str())
    }

    /// The path item object holding the operation.
    pub(crate) fn path_item(&self) -> Option<&'a Value> {
        self.spec.doc.get("paths")?.get(self.template)
    }

    /// JSON pointer (with `#`) of the operation object, for schema locations.
    pub(crate) fn pointer(&self) -> String {
        format!("#/paths/{}/{}", escape_pointer(self.template), self.method)
    }
}

/// Escapes one JSON pointer token (RFC 6901).
pub(crate) fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

impl Spec {
    /// Reads and indexes the document at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Spec, SpecError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
            path: path.to_owned(),
            source,
        })?;
        let doc = serde_json::from_str(&text).map_err(|source| SpecError::Json {
            path: path.to_owned(),
            source,
        })?;
        Spec::from_json(doc)
    }

    /// Indexes an already parsed document. Quirks default to [`Quirks::atlassian`],
    /// strictness to [`Strictness::Spec`], no prefix is stripped.
    pub fn from_json(doc: Value) -> Result<Spec, SpecError> {
        let version = doc
            .get("openapi")
            .and_then(Value::as_str)
            .ok_or_else(|| SpecError::Invalid("no `openapi` version string".into()))?;
        if !version.starts_with("3.0") {
            return Err(SpecError::Invalid(format!(
                "OpenAPI {version} is not 3.0.x"
            )));
        }
        let paths = doc
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| SpecError::Invalid("no `paths` object".into()))?;
        let bases = server_base_paths(&doc);
        let mut routes: HashMap<usize, Vec<Route>> = HashMap::new();
        for template in paths.keys() {
            for base in &bases {
                let mut segments = Seg::parse_template(base);
                let base_len = segments.len();
                segments.extend(Seg::parse_template(template));
                routes.entry(segments.len()).or_default().push(Route {
                    template: template.clone(),
                    base_len,
                    segments,
                });
            }
        }
        Ok(Spec {
            doc,
            routes,
            strip_prefixes: Vec::new(),
            path_aliases: Vec::new(),
            quirks: Quirks::atlassian(),
            strictness: Strictness::Spec,
        })
    }

    /// Also accepts concrete paths that start with `prefix` (a template such as
    /// `/ex/jira/{cloudId}`, whose `{…}` segments match anything) before a documented path:
    /// the prefix is stripped explicitly, only when the unstripped path matches nothing.
    pub fn with_strip_prefix(mut self, prefix: &str) -> Spec {
        self.strip_prefixes.push(Seg::parse_template(prefix));
        self
    }

    /// Also accepts concrete paths under `alias` (literal segments) as the same path under
    /// `documented`, e.g. Jira's unversioned `/rest/api/latest` for `/rest/api/3`; tried only
    /// when the path as sent matches nothing.
    pub fn with_path_alias(mut self, alias: &str, documented: &str) -> Spec {
        let to = split_path(documented).map(str::to_owned).collect();
        self.path_aliases.push((Seg::parse_template(alias), to));
        self
    }

    /// Sets how strictly object schemas are applied (default [`Strictness::Spec`]).
    pub fn with_strictness(mut self, strictness: Strictness) -> Spec {
        self.strictness = strictness;
        self
    }

    /// Replaces the list of tolerated upstream quirks (default [`Quirks::atlassian`]).
    pub fn with_quirks(mut self, quirks: Quirks) -> Spec {
        self.quirks = quirks;
        self
    }

    /// The quirks in effect.
    pub fn quirks(&self) -> &Quirks {
        &self.quirks
    }

    /// The raw document.
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// Finds the operation for `method` (any case) and a concrete path (query string ignored).
    ///
    /// Server base paths are considered (`/jsm/assets/workspace/{workspaceId}/v1/...`).
    /// Among matching templates the most specific wins: at the first segment where two
    /// templates differ, a literal beats a parameter. If that template has no operation
    /// for `method`, the result is `None` (a less specific template is not tried, so a
    /// request that the real router would reject is not validated against another operation).
    pub fn find_operation(&self, method: &str, concrete_path: &str) -> Option<OperationRef<'_>> {
        let method = method.to_ascii_lowercase();
        let segs: Vec<&str> = split_path(concrete_path).collect();
        let found = self.match_stripped(&segs).or_else(|| {
            self.path_aliases.iter().find_map(|(alias, documented)| {
                let rest = strip_segments(alias, &segs)?;
                let mut aliased: Vec<&str> = documented.iter().map(String::as_str).collect();
                aliased.extend_from_slice(rest);
                self.match_stripped(&aliased)
            })
        })?;
        let (route, values) = found;
        let op = OperationRef {
            spec: self,
            method,
            template: &route.template,
            path_params: values,
        };
        op.operation()?;
        Some(op)
    }

    /// Lists every (method, template) pair in the document, in document order.
    pub fn operations(&self) -> Vec<OperationRef<'_>> {
        let mut out = Vec::new();
        let Some(paths) = self.doc.get("paths").and_then(Value::as_object) else {
            return out;
        };
        for (template, item) in paths {
            for method in METHODS {
                if item.get(method).is_some() {
                    out.push(OperationRef {
                        spec: self,
                        method: method.to_owned(),
                        template,
                        path_params: Vec::new(),
                    });
                }
            }
        }
        out
    }

    /// [`Spec::match_route`] on the path as sent, then with each strip prefix removed.
    fn match_stripped(&self, segs: &[&str]) -> Option<(&Route, Vec<(String, String)>)> {
        self.match_route(segs).or_else(|| {
            self.strip_prefixes.iter().find_map(|prefix| {
                let rest = strip_segments(prefix, segs)?;
                self.match_route(rest)
            })
        })
    }

    fn match_route(&self, segs: &[&str]) -> Option<(&Route, Vec<(String, String)>)> {
        let candidates = self.routes.get(&segs.len())?;
        let mut best: Option<&Route> = None;
        for route in candidates {
            if !segments_match(&route.segments, segs) {
                continue;
            }
            best = match best {
                Some(b) if !more_specific(route, b) => Some(b),
                _ => Some(route),
            };
        }
        let route = best?;
        let values = route
            .segments
            .iter()
            .zip(segs)
            .skip(route.base_len)
            .filter_map(|(seg, value)| match seg {
                Seg::Param(name) => Some((name.clone(), percent_decode(value))),
                Seg::Literal(_) => None,
            })
            .collect();
        Some((route, values))
    }
}

/// The path part of each server URL (`""` for a bare host); `[""]` when there are no servers.
fn server_base_paths(doc: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let servers = doc.get("servers").and_then(Value::as_array);
    for server in servers.into_iter().flatten() {
        let Some(url) = server.get("url").and_then(Value::as_str) else {
            continue;
        };
        let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        let path = if url.contains("://") {
            after_scheme.find('/').map_or("", |i| &after_scheme[i..])
        } else {
            after_scheme
        };
        let path = path.trim_end_matches('/').to_owned();
        if !out.contains(&path) {
            out.push(path);
        }
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

fn segments_match(template: &[Seg], segs: &[&str]) -> bool {
    template.len() == segs.len()
        && template.iter().zip(segs).all(|(t, s)| match t {
            Seg::Literal(l) => l == s,
            Seg::Param(_) => !s.is_empty(),
        })
}

/// Returns the segments after `prefix` if the path starts with it.
fn strip_segments<'p, 's>(prefix: &[Seg], segs: &'p [&'s str]) -> Option<&'p [&'s str]> {
    if prefix.len() > segs.len() || !segments_match(prefix, &segs[..prefix.len()]) {
        return None;
    }
    Some(&segs[prefix.len()..])
}

/// Whether `a` is more specific than `b` (both match the same concrete path).
fn more_specific(a: &Route, b: &Route) -> bool {
    for (sa, sb) in a.segments.iter().zip(&b.segments) {
        match (sa, sb) {
            (Seg::Literal(_), Seg::Param(_)) => return true,
            (Seg::Param(_), Seg::Literal(_)) => return false,
            _ => {}
        }
    }
    false
}

/// Decodes `%XX` escapes; invalid escapes and non-UTF-8 results are kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        let b = bytes[i];
        if b == b'%' {
            let h = bytes.get(i + 1).copied().and_then(hex);
            let l = bytes.get(i + 2).copied().and_then(hex);
            if let (Some(h), Some(l)) = (h, l) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}
