//! Contract validator tests on small hand-written documents: keywords and edge cases the
//! Atlassian documents use rarely (discriminator, explode: false, headers, ranges, cycles).

use atlassian_sim::contract::{Location, Quirks, Spec, ViolationKind};
use serde_json::json;

use super::{JSON, fails, ok, q};

#[test]
fn broken_and_cyclic_refs_are_reported_without_panicking() {
    let doc = json!({"openapi": "3.0.1", "paths": {"/x": {"get": {"responses": {"200": {
        "description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Loop"}}}}},
        "parameters": [{"name": "p", "in": "query", "schema": {"$ref": "#/components/schemas/Missing"}}]}}},
        "components": {"schemas": {"Loop": {"$ref": "#/components/schemas/Loop"}}}});
    let spec = Spec::from_json(doc).expect("valid document");
    let v = spec.check_refs().expect_err("broken ref");
    assert!(
        v.iter()
            .any(|x| x.kind == ViolationKind::BrokenRef && x.message.contains("Missing")),
        "{v}"
    );
    let r = spec.validate_response("GET", "/x", 200, JSON, &json!({}));
    fails(r, Location::Body, "", ViolationKind::BrokenRef);
    let r = spec.validate_request("GET", "/x", &q(&[("p", "1")]), &[], None);
    fails(r, Location::Query, "/p", ViolationKind::BrokenRef);
    assert!(Spec::from_json(json!({"swagger": "2.0"})).is_err());
}

/// A small document exercising keywords the Atlassian documents use rarely.
fn synthetic() -> Spec {
    let doc = json!({"openapi": "3.0.3", "servers": [{"url": "https://h/api"}], "paths": {"/items/{id}": {
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int32", "minimum": 1}}],
        "post": {"parameters": [
            {"name": "tags", "in": "query", "explode": false, "schema": {"type": "array", "maxItems": 2, "items": {"type": "string", "enum": ["a", "b", "c"]}}},
            {"name": "X-Api", "in": "header", "required": true, "schema": {"type": "string"}}],
          "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}},
          "responses": {"2XX": {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Shape"}}}},
            "default": {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Num"}}}}}}}},
      "components": {"schemas": {
        "Num": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
        "Node": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1},
            "secret": {"type": "string", "writeOnly": true}, "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}},
        "Shape": {"oneOf": [{"$ref": "#/components/schemas/Circle"}, {"$ref": "#/components/schemas/Square"}],
            "discriminator": {"propertyName": "kind", "mapping": {"round": "#/components/schemas/Circle"}}},
        "Circle": {"type": "object", "required": ["kind", "r"], "properties": {"kind": {"type": "string"}, "r": {"type": "number", "exclusiveMinimum": true, "minimum": 0}}},
        "Square": {"type": "object", "required": ["kind", "side"], "properties": {"kind": {"type": "string"}, "side": {"type": "integer"}}}}}});
    Spec::from_json(doc).expect("valid document")
}

#[test]
fn synthetic_parameters_bodies_and_composition() {
    let s = synthetic();
    let hdr = vec![("x-api".to_string(), "1".to_string())];
    let deep = (0..60).fold(
        json!({"name": "leaf"}),
        |acc, i| json!({"name": format!("n{i}"), "children": [acc]}),
    );
    ok(s.validate_request(
        "POST",
        "/api/items/5",
        &q(&[("tags", "a,b")]),
        &hdr,
        Some(&deep),
    ));
    fails(
        s.validate_request("POST", "/api/items/0", &[], &hdr, None),
        Location::Path,
        "/id",
        ViolationKind::Bounds,
    );
    fails(
        s.validate_request("POST", "/api/items/x", &[], &hdr, None),
        Location::Path,
        "/id",
        ViolationKind::Type,
    );
    fails(
        s.validate_request("POST", "/api/items/1", &[], &[], None),
        Location::Header,
        "/X-Api",
        ViolationKind::MissingParameter,
    );
    fails(
        s.validate_request("POST", "/api/items/1", &q(&[("tags", "a,d")]), &hdr, None),
        Location::Query,
        "/tags/1",
        ViolationKind::Enum,
    );
    fails(
        s.validate_request("POST", "/api/items/1", &q(&[("tags", "a,b,c")]), &hdr, None),
        Location::Query,
        "/tags",
        ViolationKind::Bounds,
    );
    fails(
        s.validate_request(
            "POST",
            "/api/items/1",
            &q(&[("tags", "a"), ("tags", "b")]),
            &hdr,
            None,
        ),
        Location::Query,
        "/tags",
        ViolationKind::RepeatedParameter,
    );
    let bad = json!({"name": "x", "children": [{"name": ""}, {}]});
    let v = fails(
        s.validate_request("POST", "/api/items/1", &[], &hdr, Some(&bad)),
        Location::Body,
        "/children/0/name",
        ViolationKind::Bounds,
    );
    assert!(v.has(Location::Body, "/children/1"), "{v}");
    assert_eq!(
        v.iter()
            .find(|x| x.pointer == "/children/1")
            .map(|x| x.schema_path.as_str()),
        Some("#/components/schemas/Node")
    );
    ok(s.validate_response(
        "POST",
        "/api/items/1",
        201,
        JSON,
        &json!({"kind": "round", "r": 1.5}),
    ));
    ok(s.validate_response(
        "POST",
        "/api/items/1",
        200,
        JSON,
        &json!({"kind": "Square", "side": 2}),
    ));
    fails(
        s.validate_response(
            "POST",
            "/api/items/1",
            200,
            JSON,
            &json!({"kind": "round", "r": 0}),
        ),
        Location::Body,
        "/r",
        ViolationKind::Bounds,
    );
    fails(
        s.validate_response("POST", "/api/items/1", 200, JSON, &json!({"kind": "hex"})),
        Location::Body,
        "",
        ViolationKind::Discriminator,
    );
    fails(
        s.validate_response("POST", "/api/items/1", 200, JSON, &json!({"side": 2})),
        Location::Body,
        "",
        ViolationKind::Discriminator,
    );
    // `default` response: oneOf [integer, number] is ambiguous for 1 and fine for 1.5.
    ok(s.validate_response("POST", "/api/items/1", 500, JSON, &json!(1.5)));
    fails(
        s.validate_response("POST", "/api/items/1", 500, JSON, &json!(1)),
        Location::Body,
        "",
        ViolationKind::Composition,
    );
    fails(
        s.validate_response("POST", "/api/items/1", 500, JSON, &json!("1")),
        Location::Body,
        "",
        ViolationKind::Composition,
    );
    fails(
        s.validate_response("GET", "/api/items/1", 200, JSON, &json!({})),
        Location::Operation,
        "",
        ViolationKind::NoOperation,
    );
    fails(
        s.validate_response("POST", "/api/items/1", 200, Some("text/html"), &json!({})),
        Location::Operation,
        "",
        ViolationKind::MediaType,
    );
}

#[test]
fn write_only_in_responses_and_readable_display() {
    let doc = json!({"openapi": "3.0.1", "paths": {"/n": {"get": {"responses": {"200": {"description": "",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/N"}}}}}}}},
        "components": {"schemas": {"N": {"type": "object", "required": ["secret"], "properties": {"secret": {"type": "string", "writeOnly": true}}}}}});
    let s = Spec::from_json(doc).expect("valid document");
    ok(s.validate_response("GET", "/n", 200, JSON, &json!({})));
    let v = fails(
        s.validate_response("GET", "/n", 200, JSON, &json!({"secret": "x"})),
        Location::Body,
        "/secret",
        ViolationKind::WriteOnly,
    );
    let text = v.to_string();
    assert!(
        text.contains("body /secret") && text.contains("#/components/schemas/N/properties/secret"),
        "{text}"
    );
    assert!(Quirks::atlassian().iter().all(|q| !q.reason.is_empty()));
}
