//! Request and response validation for one operation.

use serde_json::Value;

use super::schema::{Direction, Ptr, Validator, deref, resolve_ref};
use super::spec::escape_pointer;
use super::{Location, OperationRef, Spec, Violation, ViolationKind, Violations};

fn violation(
    location: Location,
    pointer: String,
    kind: ViolationKind,
    message: String,
) -> Violation {
    Violation {
        location,
        pointer,
        schema_path: String::new(),
        kind,
        message,
    }
}

/// Lower-cased media type without parameters (`application/json; charset=UTF-8` → `application/json`).
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Picks the entry of a `content` map for a media type: exact, then `type/*`, then `*/*`.
fn pick_media<'d>(
    content: &'d serde_json::Map<String, Value>,
    media: &str,
) -> Option<(&'d str, &'d Value)> {
    let wildcard = media.split('/').next().map(|t| format!("{t}/*"));
    let find = |want: &str| {
        content
            .iter()
            .find(|(k, _)| essence(k) == want)
            .map(|(k, v)| (k.as_str(), v))
    };
    find(media)
        .or_else(|| wildcard.as_deref().and_then(find))
        .or_else(|| find("*/*"))
}

/// Turns a raw parameter string into the JSON value its schema type calls for; values that do
/// not parse stay strings, so the schema's `type` check reports them.
fn coerce(schema: &Value, raw: &str) -> Value {
    let ty = schema.get("type").and_then(Value::as_str);
    let parsed = match ty {
        Some("integer") => raw
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| raw.parse::<u64>().map(Value::from))
            .ok(),
        Some("number") => raw
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        Some("boolean") => match raw {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::String(raw.to_owned()))
}

/// A parameter declaration with the schema location it came from.
struct Param<'d> {
    name: &'d str,
    location: &'d str,
    decl: &'d Value,
    pointer: String,
}

impl Spec {
    fn validator(&self, direction: Direction, location: Location) -> Validator<'_> {
        Validator::new(
            &self.doc,
            &self.quirks,
            self.strictness,
            direction,
            location,
        )
    }

    fn lookup(&self, method: &str, path: &str) -> Result<OperationRef<'_>, Violations> {
        self.find_operation(method, path).ok_or_else(|| {
            let title = self
                .doc
                .pointer("/info/title")
                .and_then(Value::as_str)
                .unwrap_or("the document");
            let msg = format!(
                "no operation for {} {path} in {title:?}",
                method.to_ascii_uppercase()
            );
            Violations(vec![violation(
                Location::Operation,
                String::new(),
                ViolationKind::NoOperation,
                msg,
            )])
        })
    }

    /// Validates a response: the status must be documented (exact code, then `2XX`-style
    /// range, then `default`) and, when the response declares content, the body must match
    /// the schema of the media type given by `content_type` (`None` means `application/json`).
    /// Responses without declared content (e.g. 204, or Atlassian's `trait_*` error
    /// responses) do not constrain the body.
    pub fn validate_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &Value,
    ) -> Result<(), Violations> {
        let op = self.lookup(method, path)?;
        let op_ptr = op.pointer();
        let responses = op
            .operation()
            .and_then(|o| o.get("responses"))
            .and_then(Value::as_object);
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let chosen = responses.and_then(|r| {
            r.iter()
                .find(|(k, _)| **k == code)
                .or_else(|| r.iter().find(|(k, _)| k.eq_ignore_ascii_case(&range)))
                .or_else(|| r.iter().find(|(k, _)| *k == "default"))
        });
        let Some((key, response)) = chosen else {
            let documented: Vec<&str> = responses
                .into_iter()
                .flat_map(|r| r.keys())
                .map(String::as_str)
                .collect();
            let msg = format!(
                "status {status} is not documented for {} {} (documented: {})",
                op.method().to_ascii_uppercase(),
                op.template(),
                documented.join(", ")
            );
            let v = violation(
                Location::Operation,
                String::new(),
                ViolationKind::UndocumentedStatus,
                msg,
            );
            return Err(Violations(vec![v]));
        };
        let (base, response) = match response.get("$ref").and_then(Value::as_str) {
            Some(r) => (r.to_owned(), resolve_ref(&self.doc, r)),
            None => (
                format!("{op_ptr}/responses/{}", escape_pointer(key)),
                Some(response),
            ),
        };
        let Some(response) = response else {
            let msg = format!("response $ref {base:?} does not resolve");
            let v = violation(
                Location::Operation,
                String::new(),
                ViolationKind::BrokenRef,
                msg,
            );
            return Err(Violations(vec![v]));
        };
        let Some(content) = response
            .get("content")
            .and_then(Value::as_object)
            .filter(|c| !c.is_empty())
        else {
            return Ok(());
        };
        let media = essence(content_type.unwrap_or("application/json"));
        let Some((media_key, media_obj)) = pick_media(content, &media) else {
            let declared: Vec<&str> = content.keys().map(String::as_str).collect();
            let msg = format!(
                "media type {media:?} is not declared for status {key} (declared: {})",
                declared.join(", ")
            );
            let v = violation(
                Location::Operation,
                String::new(),
                ViolationKind::MediaType,
                msg,
            );
            return Err(Violations(vec![v]));
        };
        let Some(schema) = media_obj.get("schema") else {
            return Ok(());
        };
        let base = format!("{base}/content/{}/schema", escape_pointer(media_key));
        let mut v = self.validator(Direction::Response, Location::Body);
        v.validate(schema, body, &Ptr::Root(""), &Ptr::Root(&base));
        Violations::into_result(v.out)
    }

    /// Validates a request: path parameters (type), query parameters (required, unknown,
    /// repeated, type/enum, arrays exploded as repeated keys or comma-separated per
    /// `explode`), header parameters (required, type; undeclared headers are fine),
    /// and the body (required/absent, schema of the media type in the `content-type` header,
    /// default `application/json`). `query` holds decoded pairs in order.
    pub fn validate_request(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        headers: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<(), Violations> {
        let op = self.lookup(method, path)?;
        let mut out = Vec::new();
        let params = self.parameters(&op, &mut out);
        for p in &params {
            match p.location {
                "path" => {
                    let value = op
                        .path_params()
                        .iter()
                        .find(|(n, _)| n == p.name)
                        .map(|(_, v)| v.as_str());
                    self.check_param(
                        &op,
                        p,
                        Location::Path,
                        value.into_iter().collect(),
                        &mut out,
                    );
                }
                "query" => {
                    let values = query
                        .iter()
                        .filter(|(n, _)| n == p.name)
                        .map(|(_, v)| v.as_str())
                        .collect();
                    self.check_param(&op, p, Location::Query, values, &mut out);
                }
                "header" => {
                    let values = headers
                        .iter()
                        .filter(|(n, _)| n.eq_ignore_ascii_case(p.name))
                        .map(|(_, v)| v.as_str())
                        .collect();
                    self.check_param(&op, p, Location::Header, values, &mut out);
                }
                _ => {}
            }
        }
        let mut reported = Vec::new();
        for (name, _) in query {
            let known = params
                .iter()
                .any(|p| p.location == "query" && p.name == name);
            if !known && !reported.contains(&name) {
                reported.push(name);
                let msg = format!(
                    "query parameter {name:?} is not declared by {} {}",
                    op.method().to_ascii_uppercase(),
                    op.template()
                );
                out.push(violation(
                    Location::Query,
                    format!("/{}", escape_pointer(name)),
                    ViolationKind::UnknownParameter,
                    msg,
                ));
            }
        }
        self.check_body(&op, headers, body, &mut out);
        Violations::into_result(out)
    }

    /// Path-item parameters overridden by operation parameters with the same name and `in`.
    fn parameters<'d>(&'d self, op: &OperationRef<'d>, out: &mut Vec<Violation>) -> Vec<Param<'d>> {
        let mut params: Vec<Param<'d>> = Vec::new();
        let op_ptr = op.pointer();
        let sources = [
            (
                op.path_item(),
                op_ptr
                    .rsplit_once('/')
                    .map_or(String::new(), |(p, _)| p.to_owned()),
            ),
            (op.operation(), op_ptr.clone()),
        ];
        for (holder, holder_ptr) in sources {
            let list = holder
                .and_then(|h| h.get("parameters"))
                .and_then(Value::as_array);
            for (i, raw) in list.into_iter().flatten().enumerate() {
                let (pointer, decl) = match raw.get("$ref").and_then(Value::as_str) {
                    Some(r) => (r.to_owned(), resolve_ref(&self.doc, r)),
                    None => (format!("{holder_ptr}/parameters/{i}"), Some(raw)),
                };
                let Some(decl) = decl else {
                    let msg = format!("parameter $ref {pointer:?} does not resolve");
                    out.push(violation(
                        Location::Operation,
                        String::new(),
                        ViolationKind::BrokenRef,
                        msg,
                    ));
                    continue;
                };
                let name = decl.get("name").and_then(Value::as_str).unwrap_or_default();
                let location = decl.get("in").and_then(Value::as_str).unwrap_or_default();
                params.retain(|p| !(p.name == name && p.location == location));
                params.push(Param {
                    name,
                    location,
                    decl,
                    pointer,
                });
            }
        }
        params
    }

    fn check_param(
        &self,
        op: &OperationRef<'_>,
        p: &Param<'_>,
        location: Location,
        values: Vec<&str>,
        out: &mut Vec<Violation>,
    ) {
        let ip_name = format!("/{}", escape_pointer(p.name));
        let required =
            p.location == "path" || p.decl.get("required").and_then(Value::as_bool) == Some(true);
        if values.is_empty() {
            if required {
                let msg = format!("required {} parameter {:?} is missing", p.location, p.name);
                out.push(violation(
                    location,
                    ip_name,
                    ViolationKind::MissingParameter,
                    msg,
                ));
            }
            return;
        }
        if self
            .quirks
            .param_any_string(op.method(), op.template(), p.name)
        {
            return;
        }
        let Some(schema) = p.decl.get("schema") else {
            return;
        };
        let Some(resolved) = deref(&self.doc, schema) else {
            let msg = format!("schema of parameter {:?} does not resolve", p.name);
            out.push(violation(location, ip_name, ViolationKind::BrokenRef, msg));
            return;
        };
        let is_array = resolved.get("type").and_then(Value::as_str) == Some("array");
        if !is_array && values.len() > 1 {
            let msg = format!(
                "parameter {:?} is not an array but was given {} times",
                p.name,
                values.len()
            );
            out.push(violation(
                location,
                ip_name,
                ViolationKind::RepeatedParameter,
                msg,
            ));
            return;
        }
        let instance = if is_array {
            let item_schema = resolved
                .get("items")
                .and_then(|i| deref(&self.doc, i))
                .unwrap_or(&Value::Null);
            let style = p
                .decl
                .get("style")
                .and_then(Value::as_str)
                .unwrap_or("form");
            let explode = p
                .decl
                .get("explode")
                .and_then(Value::as_bool)
                .unwrap_or(style == "form");
            let items: Vec<&str> = if explode {
                values
            } else if values.len() > 1 {
                let msg = format!(
                    "parameter {:?} has explode: false; send one comma-separated value",
                    p.name
                );
                out.push(violation(
                    location,
                    ip_name,
                    ViolationKind::RepeatedParameter,
                    msg,
                ));
                return;
            } else {
                values.iter().flat_map(|v| v.split(',')).collect()
            };
            Value::Array(
                items
                    .into_iter()
                    .map(|raw| coerce(item_schema, raw))
                    .collect(),
            )
        } else {
            values
                .first()
                .map_or(Value::Null, |raw| coerce(resolved, raw))
        };
        let base = format!("{}/schema", p.pointer);
        let mut v = self.validator(Direction::Request, location);
        let root = Ptr::Root("");
        v.validate(
            schema,
            &instance,
            &Ptr::Key(&root, p.name),
            &Ptr::Root(&base),
        );
        out.extend(v.out);
    }

    fn check_body(
        &self,
        op: &OperationRef<'_>,
        headers: &[(String, String)],
        body: Option<&Value>,
        out: &mut Vec<Violation>,
    ) {
        let raw = op.operation().and_then(|o| o.get("requestBody"));
        let (base, request_body) = match raw.and_then(|r| r.get("$ref")).and_then(Value::as_str) {
            Some(r) => (r.to_owned(), resolve_ref(&self.doc, r)),
            None => (format!("{}/requestBody", op.pointer()), raw),
        };
        let Some(request_body) = request_body else {
            if body.is_some() {
                let msg = format!(
                    "{} {} declares no request body",
                    op.method().to_ascii_uppercase(),
                    op.template()
                );
                out.push(violation(
                    Location::Body,
                    String::new(),
                    ViolationKind::RequestBody,
                    msg,
                ));
            }
            return;
        };
        let Some(body) = body else {
            if request_body.get("required").and_then(Value::as_bool) == Some(true) {
                let msg = "request body is required".to_owned();
                out.push(violation(
                    Location::Body,
                    String::new(),
                    ViolationKind::RequestBody,
                    msg,
                ));
            }
            return;
        };
        let content_type = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .map_or("application/json", |(_, v)| v.as_str());
        let media = essence(content_type);
        let Some(content) = request_body.get("content").and_then(Value::as_object) else {
            return;
        };
        let Some((media_key, media_obj)) = pick_media(content, &media) else {
            let declared: Vec<&str> = content.keys().map(String::as_str).collect();
            let msg = format!(
                "request media type {media:?} is not declared (declared: {})",
                declared.join(", ")
            );
            out.push(violation(
                Location::Operation,
                String::new(),
                ViolationKind::MediaType,
                msg,
            ));
            return;
        };
        let Some(schema) = media_obj.get("schema") else {
            return;
        };
        let base = format!("{base}/content/{}/schema", escape_pointer(media_key));
        let mut v = self.validator(Direction::Request, Location::Body);
        v.validate(schema, body, &Ptr::Root(""), &Ptr::Root(&base));
        out.extend(v.out);
    }
}
