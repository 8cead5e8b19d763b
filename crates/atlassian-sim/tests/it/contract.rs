//! Contract validator tests against Atlassian's published OpenAPI documents (`shared/specs/`).

use std::path::PathBuf;
use std::sync::OnceLock;

use atlassian_sim::contract::{Location, Quirks, Spec, Strictness, ViolationKind, Violations};
use serde_json::{Value, json};

mod synthetic;

const JIRA_SUBSET: &str = "jira-platform-v3.subset.openapi.json";
const JIRA_FULL: &str = "jira-platform-v3.openapi.json";
const JSM: &str = "jsm-servicedesk.openapi.json";
const ASSETS: &str = "jsm-assets.openapi.json";
const JSON: Option<&str> = Some("application/json");
const WS: &str = "/jsm/assets/workspace/ws-1/v1";

fn spec_path(name: &str) -> PathBuf {
    let dir = atlassian_sim::testkit::shared_dir().join("specs");
    assert!(
        dir.is_dir(),
        "the OpenAPI documents are missing: expected folder {} (shared/specs next to the \
         workspace); contract tests cannot run without them",
        dir.display()
    );
    dir.join(name)
}

fn load(name: &str) -> Spec {
    Spec::load(spec_path(name)).unwrap_or_else(|e| panic!("{e}"))
}

fn jira() -> &'static Spec {
    static S: OnceLock<Spec> = OnceLock::new();
    S.get_or_init(|| load(JIRA_SUBSET))
}

fn jsm() -> &'static Spec {
    static S: OnceLock<Spec> = OnceLock::new();
    S.get_or_init(|| load(JSM))
}

fn assets() -> &'static Spec {
    static S: OnceLock<Spec> = OnceLock::new();
    S.get_or_init(|| load(ASSETS))
}

fn ok(r: Result<(), Violations>) {
    if let Err(v) = r {
        panic!("expected no violations, got {v}");
    }
}

/// Asserts the result failed with a violation of `kind` at `location` + `pointer`.
fn fails(
    r: Result<(), Violations>,
    location: Location,
    pointer: &str,
    kind: ViolationKind,
) -> Violations {
    let v = r.expect_err("expected violations, got none");
    assert!(
        v.iter()
            .any(|x| x.location == location && x.pointer == pointer && x.kind == kind),
        "expected {kind:?} at {location} {pointer}, got {v}"
    );
    v
}

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn every_document_loads_and_every_operation_ref_resolves() {
    for (name, min_ops) in [(JIRA_SUBSET, 30), (JSM, 44), (ASSETS, 22), (JIRA_FULL, 417)] {
        let spec = load(name);
        assert!(
            spec.operations().len() >= min_ops,
            "{name}: too few operations"
        );
        spec.check_refs().unwrap_or_else(|v| panic!("{name}: {v}"));
        assert!(spec.reachable_ref_count() > 5, "{name}: refs not walked");
    }
}

#[test]
fn operations_are_found_by_most_specific_template_and_base_path() {
    let j = jira();
    let op = j
        .find_operation("POST", "/rest/api/3/issue/bulkfetch")
        .expect("bulkfetch");
    assert_eq!(op.template(), "/rest/api/3/issue/bulkfetch");
    let op = j
        .find_operation("get", "/rest/api/3/issue/HD-7/transitions?expand=x")
        .expect("transitions");
    assert_eq!(
        op.template(),
        "/rest/api/3/issue/{issueIdOrKey}/transitions"
    );
    assert_eq!(
        op.path_params(),
        &[("issueIdOrKey".to_string(), "HD-7".to_string())]
    );
    assert!(
        j.find_operation("GET", "/rest/api/3/issue/bulkfetch")
            .is_none(),
        "no GET on the literal path"
    );
    assert!(j.find_operation("GET", "/rest/api/3/nope").is_none());
    assert!(
        j.find_operation("GET", "/ex/jira/cloud-1/rest/api/3/myself")
            .is_none()
    );
    let gw = load(JIRA_SUBSET).with_strip_prefix("/ex/jira/{cloudId}");
    assert_eq!(
        gw.find_operation("GET", "/ex/jira/cloud-1/rest/api/3/myself")
            .expect("gateway")
            .template(),
        "/rest/api/3/myself"
    );
    let a = assets();
    assert_eq!(
        a.find_operation("POST", &format!("{WS}/object/aql"))
            .expect("aql")
            .template(),
        "/object/aql"
    );
    let op = a
        .find_operation("POST", &format!("/ex/jira/c1{WS}/object/aql/totalcount"))
        .expect("3LO server");
    assert_eq!(op.template(), "/object/aql/totalcount");
    assert!(
        a.find_operation("POST", "/object/aql").is_none(),
        "base path is required"
    );
    assert!(
        jsm()
            .find_operation("GET", "/rest/servicedeskapi/servicedesk")
            .is_some()
    );
}

#[test]
fn jira_search_jql_request_and_response() {
    let path = "/rest/api/3/search/jql";
    let page = json!({"issues": [{"id": "10001", "key": "HD-1", "self": "https://x.atlassian.net/rest/api/3/issue/10001",
        "fields": {"summary": "Printer on fire"}}], "isLast": false, "nextPageToken": "tok"});
    ok(jira().validate_response("GET", path, 200, JSON, &page));
    let bad = json!({"issues": [{"id": 10001}], "isLast": "false", "total": 1});
    let v = fails(
        jira().validate_response("GET", path, 200, JSON, &bad),
        Location::Body,
        "/isLast",
        ViolationKind::Type,
    );
    assert!(v.has(Location::Body, "/issues/0/id"), "{v}");
    assert!(
        v.iter()
            .any(|x| x.pointer == "/total" && x.kind == ViolationKind::UnknownProperty),
        "{v}"
    );
    let query = q(&[
        ("jql", "project = HD"),
        ("fields", "summary"),
        ("fields", "status"),
        ("maxResults", "50"),
        ("reconcileIssues", "10001"),
    ]);
    ok(jira().validate_request("GET", path, &query, &[], None));
    let r = jira().validate_request(
        "GET",
        path,
        &q(&[("jql", "x"), ("startAt", "0")]),
        &[],
        None,
    );
    fails(
        r,
        Location::Query,
        "/startAt",
        ViolationKind::UnknownParameter,
    );
    let r = jira().validate_request("GET", path, &q(&[("maxResults", "lots")]), &[], None);
    fails(r, Location::Query, "/maxResults", ViolationKind::Type);
    let r = jira().validate_request(
        "GET",
        path,
        &q(&[("reconcileIssues", "1"), ("reconcileIssues", "x")]),
        &[],
        None,
    );
    fails(
        r,
        Location::Query,
        "/reconcileIssues/1",
        ViolationKind::Type,
    );
    let r = jira().validate_request("GET", path, &q(&[("failFast", "yes")]), &[], None);
    fails(r, Location::Query, "/failFast", ViolationKind::Type);
    let r = jira().validate_request("GET", path, &q(&[("jql", "a"), ("jql", "b")]), &[], None);
    fails(r, Location::Query, "/jql", ViolationKind::RepeatedParameter);
}

#[test]
fn jira_get_issue_and_transitions() {
    let issue = json!({"id": "10001", "key": "HD-1", "self": "https://x.atlassian.net/rest/api/3/issue/10001",
        "expand": "renderedFields", "fields": {"summary": "x", "customfield_10010": null}});
    ok(jira().validate_response("GET", "/rest/api/3/issue/HD-1", 200, JSON, &issue));
    let bad = json!({"id": "10001", "self": "not a uri", "key": ["HD-1"]});
    let v = fails(
        jira().validate_response("GET", "/rest/api/3/issue/HD-1", 200, JSON, &bad),
        Location::Body,
        "/self",
        ViolationKind::Format,
    );
    assert!(v.has(Location::Body, "/key"), "{v}");
    let path = "/rest/api/3/issue/HD-1/transitions";
    let t = json!({"transitions": [{"id": "31", "name": "Done", "hasScreen": false, "isGlobal": true,
        "to": {"id": "3", "name": "Done", "statusCategory": {"id": 3, "key": "done", "colorName": "green"}}}]});
    ok(jira().validate_response("GET", path, 200, JSON, &t));
    let bad = json!({"transitions": [{"id": "31", "hasScreen": "no"}]});
    let v = fails(
        jira().validate_response("GET", path, 200, JSON, &bad),
        Location::Body,
        "/transitions/0/hasScreen",
        ViolationKind::Type,
    );
    assert!(
        v[0].schema_path
            .starts_with("#/components/schemas/IssueTransition/properties/hasScreen"),
        "{v}"
    );
    ok(jira().validate_request(
        "GET",
        path,
        &q(&[("includeUnavailableTransitions", "true")]),
        &[],
        None,
    ));
}

#[test]
fn jira_comment_request_and_response() {
    let path = "/rest/api/3/issue/HD-1/comment";
    let adf = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hi"}]}]});
    let req = json!({"body": adf, "visibility": {"type": "role", "value": "Administrators", "identifier": null}});
    ok(jira().validate_request("POST", path, &[], &[], Some(&req)));
    let r = jira().validate_request(
        "POST",
        path,
        &[],
        &[],
        Some(&json!({"body": adf, "id": "1"})),
    );
    fails(r, Location::Body, "/id", ViolationKind::ReadOnly);
    let r = jira().validate_request(
        "POST",
        path,
        &[],
        &[],
        Some(&json!({"body": adf, "visibility": {"type": "team"}})),
    );
    fails(r, Location::Body, "/visibility/type", ViolationKind::Enum);
    let r = jira().validate_request(
        "POST",
        path,
        &[],
        &[],
        Some(&json!({"body": adf, "visibility": {"value": null}})),
    );
    fails(r, Location::Body, "/visibility/value", ViolationKind::Type);
    let r = jira().validate_request(
        "POST",
        path,
        &[],
        &[("Content-Type".into(), "text/plain".into())],
        Some(&req),
    );
    fails(r, Location::Operation, "", ViolationKind::MediaType);
    let created = json!({"id": "100", "self": "https://x.atlassian.net/rest/api/3/issue/10001/comment/100", "body": adf,
        "author": {"accountId": "5b10a", "displayName": "Ann", "active": true},
        "created": "2024-01-31T09:15:00.000+0000", "updated": "2024-01-31T09:15:00.000Z", "jsdPublic": true});
    ok(jira().validate_response("POST", path, 201, JSON, &created));
    let literal = load(JIRA_SUBSET).with_quirks(Quirks::none());
    fails(
        literal.validate_response("POST", path, 201, JSON, &created),
        Location::Body,
        "/created",
        ViolationKind::Format,
    );
    let bad = json!({"id": "100", "created": "yesterday"});
    fails(
        jira().validate_response("POST", path, 201, JSON, &bad),
        Location::Body,
        "/created",
        ViolationKind::Format,
    );
    fails(
        jira().validate_response("POST", path, 200, JSON, &created),
        Location::Operation,
        "",
        ViolationKind::UndocumentedStatus,
    );
}

#[test]
fn jira_myself() {
    let me = json!({"accountId": "5b10a", "accountType": "atlassian", "active": true, "displayName": "Ann",
        "emailAddress": "ann@example.com", "timeZone": "Europe/Berlin", "self": "https://x.atlassian.net/rest/api/3/user?accountId=5b10a",
        "avatarUrls": {"48x48": "https://avatar.example/48.png"}});
    ok(jira().validate_response("GET", "/rest/api/3/myself", 200, JSON, &me));
    ok(jira().validate_response(
        "GET",
        "/rest/api/3/myself",
        200,
        Some("application/json;charset=UTF-8"),
        &me,
    ));
    let bad = json!({"accountId": "5b10a", "accountType": "robot"});
    fails(
        jira().validate_response("GET", "/rest/api/3/myself", 200, JSON, &bad),
        Location::Body,
        "/accountType",
        ViolationKind::Enum,
    );
    // Documented 401 without content: the body is not constrained.
    ok(jira().validate_response(
        "GET",
        "/rest/api/3/myself",
        401,
        JSON,
        &json!({"errorMessages": ["no"]}),
    ));
    let r = jira().validate_response("GET", "/rest/api/3/myself", 418, JSON, &me);
    let v = fails(
        r,
        Location::Operation,
        "",
        ViolationKind::UndocumentedStatus,
    );
    assert!(v.to_string().contains("418"), "{v}");
    let r = jira().validate_request("GET", "/rest/api/3/myself", &[], &[], Some(&json!({})));
    fails(r, Location::Body, "", ViolationKind::RequestBody);
}

#[test]
fn jsm_servicedesk_page_and_create_request() {
    let path = "/rest/servicedeskapi/servicedesk";
    let page = json!({"start": 0, "limit": 50, "size": 1, "isLastPage": true, "_expands": [],
        "_links": {"base": "https://x.atlassian.net", "context": "", "self": "https://x.atlassian.net/rest/servicedeskapi/servicedesk"},
        "values": [{"id": "1", "projectId": "10000", "projectKey": "HD", "projectName": "Help desk",
            "_links": {"self": "https://x.atlassian.net/rest/servicedeskapi/servicedesk/1"}}]});
    ok(jsm().validate_response("GET", path, 200, JSON, &page));
    let mut bad = page.clone();
    bad["size"] = json!(4_294_967_296_u64);
    bad["values"][0]["projectKey"] = json!(null);
    let v = fails(
        jsm().validate_response("GET", path, 200, JSON, &bad),
        Location::Body,
        "/size",
        ViolationKind::Format,
    );
    assert!(
        v.iter()
            .any(|x| x.pointer == "/values/0/projectKey" && x.message.contains("nullable")),
        "{v}"
    );
    ok(jsm().validate_request(
        "GET",
        path,
        &q(&[("start", "0"), ("limit", "10")]),
        &[],
        None,
    ));
    fails(
        jsm().validate_request("GET", path, &q(&[("start", "x")]), &[], None),
        Location::Query,
        "/start",
        ViolationKind::Type,
    );
    let create = json!({"serviceDeskId": "1", "requestTypeId": "25", "requestFieldValues": {"summary": "Laptop broken",
        "description": "Screen cracked"}, "raiseOnBehalfOf": "5b10a", "requestParticipants": ["5b10b"]});
    ok(jsm().validate_request(
        "POST",
        "/rest/servicedeskapi/request",
        &[],
        &[],
        Some(&create),
    ));
    let bad = json!({"serviceDeskId": 1, "requestTypeId": "25", "requestFieldValues": []});
    let v = fails(
        jsm().validate_request("POST", "/rest/servicedeskapi/request", &[], &[], Some(&bad)),
        Location::Body,
        "/serviceDeskId",
        ViolationKind::Type,
    );
    assert!(v.has(Location::Body, "/requestFieldValues"), "{v}");
}

fn assets_object(i: usize, value: &str) -> Value {
    let icon = json!({"id": "1", "name": "Laptop", "url16": "https://x/16.png", "url48": "https://x/48.png"});
    json!({"workspaceId": "ws-1", "globalId": format!("ws-1:{i}"), "id": i.to_string(), "label": format!("LT-{i}"),
        "objectKey": format!("IT-{i}"), "created": "2024-01-31T09:15:00.000Z", "updated": "2024-02-01T10:00:00.000Z",
        "hasAvatar": false, "timestamp": 1_706_692_500_000_i64, "_links": {"self": format!("https://x/object/{i}")},
        "avatar": {"workspaceId": "ws-1", "globalId": "ws-1:a", "url16": "u", "url48": "u", "url72": "u", "url144": "u", "url288": "u", "objectId": i.to_string()},
        "objectType": {"workspaceId": "ws-1", "globalId": "ws-1:t1", "id": "1", "name": "Laptop", "icon": icon, "position": 0,
            "created": "2024-01-01T00:00:00Z", "updated": "2024-01-01T00:00:00Z", "objectCount": 1000, "objectSchemaId": "1",
            "inherited": false, "abstractObjectType": false, "parentObjectTypeInherited": false},
        "attributes": [{"workspaceId": "ws-1", "globalId": format!("ws-1:at{i}"), "id": format!("{i}0"), "objectTypeAttributeId": "7",
            "objectAttributeValues": [{"value": value, "displayValue": value, "searchValue": value}]}]})
}

#[test]
fn assets_aql_page_of_1000_objects() {
    let path = format!("{WS}/object/aql");
    let values: Vec<Value> = (0..1000)
        .map(|i| assets_object(i, "2024-03-01T12:00:00.000Z"))
        .collect();
    let mut page = json!({"startAt": 0, "maxResults": 1000, "total": 1000, "values": values, "objectTypeAttributes": [],
        "last": true, "isLast": true});
    ok(assets().validate_response("POST", &path, 200, JSON, &page));
    ok(assets().validate_request(
        "POST",
        &path,
        &q(&[
            ("startAt", "0"),
            ("maxResults", "1000"),
            ("includeAttributes", "true"),
        ]),
        &[],
        Some(&json!({"qlQuery": "objectType = Laptop"})),
    ));
    fails(
        assets().validate_request("POST", &path, &[], &[], None),
        Location::Body,
        "",
        ViolationKind::RequestBody,
    );
    // The upstream oneOf [string, string+date-time] is unsatisfiable for dates without the quirk.
    let literal = load(ASSETS).with_quirks(Quirks::none());
    let r = literal.validate_response("POST", &path, 200, JSON, &json!({"startAt": 0, "maxResults": 1, "total": 1,
        "values": [assets_object(0, "2024-03-01T12:00:00.000Z")], "objectTypeAttributes": [], "last": true, "isLast": true}));
    fails(
        r,
        Location::Body,
        "/values/0/attributes/0/objectAttributeValues/0/value",
        ViolationKind::Composition,
    );
    page["values"][3]["attributes"][0]["objectTypeAttributeId"] = json!(7);
    page["isLast"] = json!("false");
    let v = fails(
        assets().validate_response("POST", &path, 200, JSON, &page),
        Location::Body,
        "/values/3/attributes/0/objectTypeAttributeId",
        ViolationKind::Type,
    );
    assert!(
        v.iter().any(|x| x.schema_path
            == "#/components/schemas/ObjectAttribute/properties/objectTypeAttributeId"),
        "{v}"
    );
    assert!(v.has(Location::Body, "/isLast"), "{v}");
    assert_eq!(v.len(), 2, "{v}");
}

#[test]
fn assets_totalcount_and_schema_list() {
    let path = format!("{WS}/object/aql/totalcount");
    ok(assets().validate_response("POST", &path, 200, JSON, &json!({"totalCount": 3})));
    let literal = load(ASSETS).with_quirks(Quirks::none());
    let v = fails(
        literal.validate_response("POST", &path, 200, JSON, &json!({"totalCount": 3})),
        Location::Body,
        "",
        ViolationKind::Required,
    );
    assert!(v[0].message.contains("self"), "{v}");
    fails(
        assets().validate_response("POST", &path, 200, JSON, &json!({"totalCount": 1.5})),
        Location::Body,
        "/totalCount",
        ViolationKind::Type,
    );
    let list = format!("{WS}/objectschema/list");
    let schema = json!({"workspaceId": "ws-1", "globalId": "ws-1:1", "id": "1", "name": "IT", "objectSchemaKey": "IT",
        "created": "2024-01-01T00:00:00Z", "updated": "2024-01-01T00:00:00Z", "objectCount": 10, "objectTypeCount": 2});
    let page =
        json!({"startAt": 0, "maxResults": 25, "total": 1, "values": [schema], "isLast": true});
    ok(assets().validate_response("GET", &list, 200, JSON, &page));
    let bad = json!({"startAt": 0, "maxResults": 25, "values": []});
    fails(
        assets().validate_response("GET", &list, 200, JSON, &bad),
        Location::Body,
        "",
        ViolationKind::Required,
    );
    let mut typo = page.clone();
    typo["values"][0]["objectSchemaKy"] = json!("IT");
    ok(assets().validate_response("GET", &list, 200, JSON, &typo));
    let strict = load(ASSETS).with_strictness(Strictness::NoUnknownProperties);
    fails(
        strict.validate_response("GET", &list, 200, JSON, &typo),
        Location::Body,
        "/values/0/objectSchemaKy",
        ViolationKind::UnknownProperty,
    );
    ok(strict.validate_response("GET", &list, 200, JSON, &page));
    fails(
        assets().validate_request("GET", &list, &q(&[("startAt", "x")]), &[], None),
        Location::Query,
        "/startAt",
        ViolationKind::Type,
    );
    // Quirk: `query` is typed boolean but carries names.
    let flat = format!("{WS}/objectschema/1/objecttypes/flat");
    ok(assets().validate_request(
        "GET",
        &flat,
        &q(&[("query", "Laptop"), ("includeObjectCounts", "true")]),
        &[],
        None,
    ));
}

#[test]
fn odd_inputs_never_panic_on_any_operation() {
    let odd = [
        json!(null),
        json!(-1),
        json!(1e300),
        json!(u64::MAX),
        json!("x"),
        json!([]),
        json!({}),
        json!([{}, null]),
        json!({"values": [null, {"attributes": [7]}], "issues": "x", "_links": []}),
    ];
    let query = q(&[
        ("startAt", "-1"),
        ("maxResults", "9999999999999"),
        ("expand", ""),
        ("x", "%"),
    ]);
    for spec in [jira(), jsm(), assets()] {
        let base = if std::ptr::eq(spec, assets()) { WS } else { "" };
        for op in spec.operations() {
            let path: String = op
                .template()
                .split('/')
                .map(|s| if s.starts_with('{') { "1" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let path = format!("{base}{path}");
            assert!(
                spec.find_operation(op.method(), &path).is_some(),
                "{} {path}",
                op.method()
            );
            for status in [200, 201, 204, 400, 404, 500, 599] {
                for body in &odd {
                    let _ = spec.validate_response(op.method(), &path, status, JSON, body);
                }
            }
            for body in &odd {
                let _ = spec.validate_request(op.method(), &path, &query, &[], Some(body));
            }
        }
    }
    for path in [
        "",
        "/",
        "//",
        "%",
        "/rest/api/3/issue/%E2%82%AC/comment",
        "/rest/api/3/issue/%zz%/comment",
    ] {
        let _ = jira().validate_request("POST", path, &[], &[], None);
    }
    let op = jira()
        .find_operation("GET", "/rest/api/3/issue/%E2%82%AC-1")
        .expect("issue");
    assert_eq!(op.path_params()[0].1, "\u{20ac}-1");
}
