//! Simulator coverage: every route the simulator serves gets a valid request (raw HTTP, no
//! client) and the representative error cases, and every response is validated against
//! `shared/specs` by a [`ContractRecorder`](atlassian_sim::contract::ContractRecorder).

use std::collections::BTreeSet;

use atlassian_sim::{SimHandle, UserSummary, served_operations};
use reqwest::Method;
use serde_json::{Value, json};

use crate::contract_client::{assert_no_violations, recorded_sim, recorder};
use crate::core::{AuthAs, client, user};

mod compat;
mod routes;
mod sla_roles;

use routes::{adf, assets_routes, jira_routes, jsm_routes};

/// Routes that are not Atlassian REST operations and therefore have no operation in any
/// OpenAPI document. Each one is covered elsewhere by hand-written assertions.
const NOT_REST: &[(&str, &str)] = &[
    // OAuth 2.0 (3LO) consent page and form: HTML, checked in core::oauth_faults.
    ("GET", "/authorize"),
    ("POST", "/authorize"),
    // OAuth token endpoint, accessible resources and profile: Atlassian documents them in
    // prose only; their fields are asserted in contract_client::oauth_client.
    ("POST", "/oauth/token"),
    ("GET", "/oauth/token/accessible-resources"),
    ("GET", "/me"),
    // Simulator administration (fault injection, demo users, clock): not Atlassian's API.
    ("POST", "/sim/faults"),
    ("GET", "/sim/users"),
    ("GET", "/sim/technicians"),
    ("GET", "/sim/clock"),
];

pub(super) struct Sender<'a> {
    h: &'a SimHandle,
    http: reqwest::Client,
    /// `(METHOD, route)` of every request sent for a served route.
    covered: BTreeSet<(String, String)>,
}

impl Sender<'_> {
    /// Sends one request for `route` (the simulator's template) and returns the status and
    /// JSON body (`null` when empty).
    pub(super) async fn send(
        &mut self,
        method: &str,
        route: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
        who: Option<&UserSummary>,
    ) -> (u16, Value) {
        self.covered.insert((method.to_string(), route.to_string()));
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        let mut rb = self
            .http
            .request(m, format!("{}{path}", self.h.base_url))
            .query(query);
        if let Some(u) = who {
            rb = rb.auth(u);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("send");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, v)
    }

    /// Like [`Sender::send`] but the call must succeed.
    pub(super) async fn ok(
        &mut self,
        method: &str,
        route: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
        who: &UserSummary,
    ) -> Value {
        let (status, v) = self.send(method, route, path, query, body, Some(who)).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: expected success, got {status}: {v}"
        );
        v
    }
}

/// Method, route, concrete path, body, caller (none: anonymous) and expected status.
type ErrorCase<'a> = (
    &'a str,
    &'a str,
    String,
    Option<Value>,
    Option<&'a UserSummary>,
    u16,
);

/// 404 unknown issue, 400 bad JQL, 401 without credentials, 403 forbidden write.
async fn error_cases(s: &mut Sender<'_>, admin: &UserSummary, viewer: &UserSummary, ws: &str) {
    let i = "/rest/api/3/issue/{key}";
    let cases: Vec<ErrorCase<'_>> = vec![
        (
            "GET",
            i,
            "/rest/api/3/issue/FS-999999".into(),
            None,
            Some(admin),
            404,
        ),
        (
            "GET",
            "/rest/servicedeskapi/request/{key}",
            "/rest/servicedeskapi/request/FS-999999".into(),
            None,
            Some(admin),
            404,
        ),
        (
            "GET",
            "/jsm/assets/workspace/{workspaceId}/v1/object/{id}",
            format!("/jsm/assets/workspace/{ws}/v1/object/999999"),
            None,
            Some(admin),
            404,
        ),
        (
            "POST",
            "/rest/api/3/search/jql",
            "/rest/api/3/search/jql".into(),
            Some(json!({"jql": "project = = FS"})),
            Some(admin),
            400,
        ),
        (
            "POST",
            "/rest/api/3/search/approximate-count",
            "/rest/api/3/search/approximate-count".into(),
            Some(json!({"jql": "status WAS"})),
            Some(admin),
            400,
        ),
        (
            "GET",
            "/rest/api/3/myself",
            "/rest/api/3/myself".into(),
            None,
            None,
            401,
        ),
        ("GET", i, "/rest/api/3/issue/FS-1".into(), None, None, 401),
        (
            "PUT",
            i,
            "/rest/api/3/issue/FS-1".into(),
            Some(json!({"fields": {"summary": "x"}})),
            Some(viewer),
            403,
        ),
        (
            "POST",
            "/rest/api/3/issue/{key}/comment",
            "/rest/api/3/issue/FS-1/comment".into(),
            Some(json!({"body": adf("x")})),
            Some(viewer),
            400,
        ),
    ];
    let more: Vec<ErrorCase<'_>> = vec![
        (
            "POST",
            "/rest/api/3/issue/{key}/worklog",
            "/rest/api/3/issue/FS-1/worklog".into(),
            Some(json!({"timeSpentSeconds": 60, "started": "2026-03-10T09:00:00.000+0000"})),
            Some(viewer),
            400,
        ),
        (
            "POST",
            "/rest/api/3/issue/{key}/transitions",
            "/rest/api/3/issue/FS-1/transitions".into(),
            Some(json!({"transition": {"id": "1"}})),
            Some(viewer),
            400,
        ),
        (
            "PUT",
            "/rest/api/3/issue/{key}/assignee",
            "/rest/api/3/issue/FS-1/assignee".into(),
            Some(json!({"accountId": null})),
            Some(viewer),
            403,
        ),
    ];
    for (method, route, path, body, who, want) in cases.into_iter().chain(more) {
        let (got, v) = s.send(method, route, &path, &[], body, who).await;
        assert_eq!(got, want, "{method} {path}: {v}");
    }
}

#[tokio::test]
async fn every_served_operation_is_in_a_spec_and_answers_by_contract() {
    let rec = recorder();
    let h = recorded_sim(&rec).await;
    let admin = user(&h, "admin");
    let tech = user(&h, "technician");
    let viewer = user(&h, "viewer");
    let mut s = Sender {
        h: &h,
        http: client(),
        covered: BTreeSet::new(),
    };
    jira_routes(&mut s, &admin, &tech).await;
    compat::compat_routes(&mut s, &admin, &tech).await;
    let ws = jsm_routes(&mut s, &admin).await;
    assets_routes(&mut s, &admin, &ws).await;
    error_cases(&mut s, &admin, &viewer, &ws).await;
    let customer = user(&h, "customer");
    let who = sla_roles::Who {
        admin: &admin,
        tech: &tech,
        viewer: &viewer,
        customer: &customer,
    };
    sla_roles::sla_routes(&mut s, &who).await;
    sla_roles::role_routes(&mut s, &who).await;
    assert_no_violations(&rec);

    let allowed: BTreeSet<(String, String)> = NOT_REST
        .iter()
        .map(|(m, p)| ((*m).to_string(), (*p).to_string()))
        .collect();
    let served: BTreeSet<(String, String)> = served_operations()
        .into_iter()
        .map(|(m, p)| (m.as_str().to_string(), p))
        .collect();
    let stale: Vec<_> = allowed.difference(&served).collect();
    assert!(
        stale.is_empty(),
        "allow-list names routes not served: {stale:?}"
    );
    let rest: BTreeSet<_> = served.difference(&allowed).cloned().collect();
    let untested: Vec<_> = rest.difference(&s.covered).collect();
    assert!(
        untested.is_empty(),
        "served operations without a test: {untested:?}"
    );
    // Every REST route resolved to an operation of some document.
    let unknown: Vec<_> = rec
        .exchanges()
        .into_iter()
        .filter(|e| e.template.is_none())
        .collect();
    assert!(
        unknown.is_empty(),
        "exchanges outside every spec: {unknown:?}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn served_operations_are_exactly_the_routed_ones() {
    let rec = recorder();
    let h = recorded_sim(&rec).await;
    let admin = user(&h, "admin");
    let http = client();
    let served = served_operations();
    let mut distinct = BTreeSet::new();
    for (method, route) in &served {
        assert!(
            distinct.insert((method.clone(), route.clone())),
            "{method} {route} twice"
        );
        // Fill every `{param}` with a value; a routed path never hits the fallback.
        let path = route
            .split('/')
            .map(|seg| if seg.starts_with('{') { "1" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let r = http
            .request(method.clone(), format!("{}{path}", h.base_url))
            .auth(&admin)
            .send()
            .await
            .expect("send");
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        assert!(
            !(status == 404 && body.contains("No such endpoint")) && status != 405,
            "{method} {route} is listed but not routed ({status})"
        );
    }
    // And a path outside the table is the fallback.
    let r = http
        .get(format!("{}/rest/api/3/not-a-route", h.base_url))
        .auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
    assert!(served.len() > 40, "{}", served.len());
    h.shutdown().await;
}

/// The recorder itself: a wrong response, a wrong request, an unknown operation and an
/// over-long body are all recorded; sim-only paths are not.
#[tokio::test]
async fn the_recorder_reports_every_kind_of_mismatch() {
    use atlassian_sim::contract::{ContractRecorder, Side, Spec, Strictness};
    use axum::body::Body;
    use tower::ServiceExt;

    let specs = crate::contract_client::specs_dir();
    let jira = Spec::load(specs.join("jira-platform-v3.subset.openapi.json"))
        .expect("spec")
        .with_strictness(Strictness::NoUnknownProperties);
    let rec = ContractRecorder::with_max_body_bytes(vec![jira], 4096);
    let app = axum::Router::new()
        .route(
            "/rest/api/3/search/jql",
            axum::routing::post(|| async {
                axum::Json(json!({"issues": [], "isLast": "nope", "total": 3}))
            }),
        )
        .route(
            "/rest/api/3/myself",
            axum::routing::get(|| async { "x".repeat(10_000) }),
        )
        .route("/sim/clock", axum::routing::get(|| async { "now" }))
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .layer(rec.layer());
    let send = |method: &str, uri: &str, body: Option<Value>| {
        let mut b = axum::http::Request::builder().method(method).uri(uri);
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        let body = body.map_or_else(Body::empty, |v| Body::from(v.to_string()));
        app.clone().oneshot(b.body(body).expect("request"))
    };
    let r = send(
        "POST",
        "/rest/api/3/search/jql",
        Some(json!({"jql": "project = FS", "startAt": 5})),
    )
    .await
    .expect("infallible");
    assert_eq!(r.status(), 200, "the exchange is passed through unchanged");
    send("GET", "/rest/api/3/myself", None).await.expect("ok");
    send("GET", "/rest/api/3/bogus", None).await.expect("ok");
    send("GET", "/sim/clock", None).await.expect("ok");
    let v = rec.violations();
    let has = |side: Side, path: &str, pointer: &str| {
        v.iter()
            .any(|x| x.side == side && x.path == path && x.violation.pointer == pointer)
    };
    let report = rec.report();
    assert!(
        has(Side::Request, "/rest/api/3/search/jql", "/startAt"),
        "{report}"
    );
    assert!(
        has(Side::Response, "/rest/api/3/search/jql", "/isLast"),
        "{report}"
    );
    assert!(
        has(Side::Response, "/rest/api/3/search/jql", "/total"),
        "{report}"
    );
    assert!(
        v.iter().any(|x| x.path == "/rest/api/3/myself"),
        "bounded: {report}"
    );
    assert!(
        v.iter().any(|x| x.path == "/rest/api/3/bogus"),
        "unknown: {report}"
    );
    assert!(!v.iter().any(|x| x.path == "/sim/clock"), "{report}");
    let seen = rec.operations_seen();
    assert!(seen.contains(&("POST".to_string(), "/rest/api/3/search/jql".to_string())));
    assert_eq!(seen.len(), 2, "{seen:?}");
}
