//! HTTP routes driven with `oneshot` (no sockets).

use std::collections::BTreeSet;

use atlassian_sim::assets::{AssetsState, AssetsWorkspace, Scale, router, seed};
use atlassian_sim::principal::{AuthMethod, AuthedUser};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::{Extension, Router};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

pub const CLOUD: &str = "cloud-1";
pub const ME: &str = "557058:me";

pub fn user(account: &str, via: AuthMethod) -> AuthedUser {
    AuthedUser {
        cloud_id: CLOUD.into(),
        account_id: account.into(),
        via,
    }
}

/// The Assets router mounted as the core mounts it, optionally with an authenticated user.
pub fn app(ws: AssetsWorkspace, who: Option<AuthedUser>) -> Router {
    let state = AssetsState::new(ws, CLOUD, "https://acme.atlassian.net/");
    let r = Router::new().nest("/jsm/assets/workspace/{workspaceId}/v1", router(state));
    match who {
        Some(u) => r.layer(Extension(u)),
        None => r,
    }
}

pub async fn call(
    app: &Router,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn small() -> (Router, String) {
    let ws = seed(11, Scale::Small, &[]);
    let id = ws.workspace_id.clone();
    (app(ws, Some(user(ME, AuthMethod::Basic))), id)
}

#[tokio::test]
async fn schema_list_and_lookups() {
    let (app, w) = small();
    let base = format!("/jsm/assets/workspace/{w}/v1");
    let (s, v) = call(
        &app,
        "GET",
        &format!("{base}/objectschema/list?maxResults=2"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 3);
    assert_eq!(v["values"].as_array().unwrap().len(), 2);
    assert_eq!(v["isLast"], false);
    assert_eq!(v["values"][0]["objectSchemaKey"], "ITA");
    assert_eq!(v["values"][0]["workspaceId"], w.as_str());
    let (_, v) = call(
        &app,
        "GET",
        &format!("{base}/objectschema/list?startAt=2"),
        None,
    )
    .await;
    assert_eq!(v["isLast"], true);

    let (s, v) = call(
        &app,
        "GET",
        &format!("{base}/objectschema/1/objecttypes/flat"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let types = v.as_array().unwrap();
    let laptop = types.iter().find(|t| t["name"] == "Laptop").unwrap();
    let hardware = types.iter().find(|t| t["name"] == "Hardware").unwrap();
    assert_eq!(laptop["parentObjectTypeInherited"], true);
    assert_eq!(
        laptop["parentObjectTypeId"].as_i64().unwrap().to_string(),
        hardware["id"].as_str().unwrap()
    );
    assert!(
        laptop["icon"]["url48"]
            .as_str()
            .unwrap()
            .starts_with("https://acme.atlassian.net/")
    );

    let lid = laptop["id"].as_str().unwrap();
    let (_, all) = call(
        &app,
        "GET",
        &format!("{base}/objecttype/{lid}/attributes"),
        None,
    )
    .await;
    let (_, own) = call(
        &app,
        "GET",
        &format!("{base}/objecttype/{lid}/attributes?excludeParentAttributes=true"),
        None,
    )
    .await;
    let names = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert!(names(&all).contains(&"Serial Number".to_owned()));
    assert!(!names(&own).contains(&"Serial Number".to_owned()));
    assert!(all.as_array().unwrap().iter().any(|a| a["label"] == true));

    let (s, attrs) = call(
        &app,
        "GET",
        &format!("{base}/objectschema/3/attributes"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let sla = attrs
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "SLA tier")
        .unwrap();
    assert_eq!(sla["defaultType"], json!({"id": 10, "name": "Select"}));
    assert!(sla["options"].as_str().unwrap().contains("Gold"));
    let site_ref = attrs
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Site")
        .unwrap();
    assert_eq!(site_ref["type"], 1);
    assert!(site_ref["referenceType"]["name"].is_string());

    let (s, st) = call(&app, "GET", &format!("{base}/config/statustype"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        st.as_array()
            .unwrap()
            .iter()
            .all(|x| x["category"].is_i64() && x["id"].is_string())
    );
}

#[tokio::test]
async fn object_carries_inherited_attributes_and_resolved_references() {
    let (app, w) = small();
    let base = format!("/jsm/assets/workspace/{w}/v1");
    let (_, v) = call(
        &app,
        "POST",
        &format!("{base}/object/aql?maxResults=1"),
        Some(json!({"qlQuery": "objectType = Laptop"})),
    )
    .await;
    let id = v["values"][0]["id"].as_str().unwrap().to_owned();
    let (s, o) = call(&app, "GET", &format!("{base}/object/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(o["objectKey"].as_str().unwrap().starts_with("ITA-"));
    assert!(o["_links"]["self"].is_string() && o["avatar"]["url288"].is_string());
    let serial_id = v["objectTypeAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Serial Number")
        .unwrap()["id"]
        .clone();
    assert!(
        o["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["objectTypeAttributeId"] == serial_id)
    );

    let (_, v) = call(
        &app,
        "POST",
        &format!("{base}/object/aql?maxResults=5"),
        Some(json!({"qlQuery": "objectType = Contract AND Site IS NOT EMPTY"})),
    )
    .await;
    let (_, attrs) = call(
        &app,
        "GET",
        &format!(
            "{base}/object/{}/attributes",
            v["values"][0]["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    let reference = attrs
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["objectAttributeValues"].as_array().unwrap())
        .find(|x| x.get("referencedObject").is_some())
        .unwrap();
    assert!(reference["referencedObject"]["objectType"]["name"] == "Site");
    assert_eq!(
        reference["displayValue"],
        reference["referencedObject"]["label"]
    );
}

async fn page_all(app: &Router, base: &str, q: &str, page: usize) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut start = 0;
    loop {
        let (s, v) = call(
            app,
            "POST",
            &format!("{base}/object/aql?startAt={start}&maxResults={page}&includeAttributes=false"),
            Some(json!({"qlQuery": q})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let values = v["values"].as_array().unwrap();
        assert!(values.len() <= page);
        assert!(values.iter().all(|o| o.get("attributes").is_none()));
        ids.extend(values.iter().map(|o| o["id"].as_str().unwrap().to_owned()));
        start += values.len();
        if v["isLast"] == true {
            return (ids, v["total"].as_u64().unwrap() as usize);
        }
        assert!(!values.is_empty());
    }
}

#[tokio::test]
async fn paging_returns_every_match_exactly_once_and_totalcount_agrees() {
    let ws = seed(11, Scale::Small, &[]);
    let n = ws.objects.len();
    let w = ws.workspace_id.clone();
    let app = app(ws, Some(user(ME, AuthMethod::Basic)));
    let base = format!("/jsm/assets/workspace/{w}/v1");

    let (ids, total) = page_all(&app, &base, "objectSchemaId IN (1, 2, 3)", 1000).await;
    assert_eq!(total, n);
    let expected: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    assert_eq!(ids, expected);

    for q in [
        "objectType = Room order by Label desc",
        "\"SLA tier\" = Gold order by \"Start date\"",
    ] {
        let (ids, total) = page_all(&app, &base, q, 7).await;
        assert_eq!(ids.len(), total);
        assert_eq!(
            ids.iter().collect::<BTreeSet<_>>().len(),
            total,
            "duplicates for {q}"
        );
        let (s, c) = call(
            &app,
            "POST",
            &format!("{base}/object/aql/totalcount"),
            Some(json!({"qlQuery": q})),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(c["totalCount"].as_u64().unwrap() as usize, total);
        assert!(total > 0);
    }
    // Page size is capped and echoed.
    let (_, v) = call(
        &app,
        "POST",
        &format!("{base}/object/aql?maxResults=5000"),
        Some(json!({"qlQuery": ""})),
    )
    .await;
    assert_eq!(v["maxResults"], 1000);
    assert_eq!(v["values"].as_array().unwrap().len(), 1000);
}

#[tokio::test]
async fn errors_use_the_assets_shape() {
    let ws = seed(11, Scale::Small, &[]);
    let w = ws.workspace_id.clone();
    let base = format!("/jsm/assets/workspace/{w}/v1");
    let authed = app(ws.clone(), Some(user(ME, AuthMethod::Basic)));

    for path in [
        "/object/999999",
        "/objecttype/999",
        "/objectschema/99",
        "/object/abc",
        "/objectschema/99/attributes",
    ] {
        let (s, v) = call(&authed, "GET", &format!("{base}{path}"), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert!(v["errorMessages"].is_array() && v["errors"].is_object());
    }
    let (s, _) = call(
        &authed,
        "GET",
        "/jsm/assets/workspace/not-this-one/v1/objectschema/list",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, v) = call(
        &authed,
        "POST",
        &format!("{base}/object/aql"),
        Some(json!({"qlQuery": "Name = \"unterminated"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("unterminated")
    );
    let (s, v) = call(
        &authed,
        "POST",
        &format!("{base}/object/aql"),
        Some(json!({"qlQuery": "\"No such attr\" = 1"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("No such attr")
    );
    let (s, v) = call(
        &authed,
        "POST",
        &format!("{base}/object/aql/totalcount"),
        Some(json!({"nope": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["errors"].is_object());

    let anon = app(ws.clone(), None);
    let (s, v) = call(&anon, "GET", &format!("{base}/objectschema/list"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(v["errorMessages"].is_array());

    let other_site = app(
        ws.clone(),
        Some(AuthedUser {
            cloud_id: "elsewhere".into(),
            ..user(ME, AuthMethod::Basic)
        }),
    );
    let (s, _) = call(
        &other_site,
        "GET",
        &format!("{base}/objectschema/list"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let scoped = |scopes: &[&str]| {
        app(
            ws.clone(),
            Some(user(
                ME,
                AuthMethod::OAuth {
                    scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                },
            )),
        )
    };
    let (s, _) = call(
        &scoped(&["read:cmdb-schema:jira"]),
        "POST",
        &format!("{base}/object/aql"),
        Some(json!({"qlQuery": ""})),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(
        &scoped(&["read:cmdb-object:jira"]),
        "POST",
        &format!("{base}/object/aql"),
        Some(json!({"qlQuery": ""})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn schema_viewers_restrict_reads() {
    let mut ws = seed(11, Scale::Small, &[]);
    ws.set_schema_viewers(3, Some(vec!["557058:boss".into()]));
    let w = ws.workspace_id.clone();
    let base = format!("/jsm/assets/workspace/{w}/v1");
    let me = app(ws.clone(), Some(user(ME, AuthMethod::Basic)));
    let boss = app(ws.clone(), Some(user("557058:boss", AuthMethod::Basic)));
    let (_, v) = call(&me, "GET", &format!("{base}/objectschema/list"), None).await;
    assert_eq!(v["total"], 2);
    let (s, _) = call(&me, "GET", &format!("{base}/objectschema/3"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let q = Some(json!({"qlQuery": "objectSchemaId = 3"}));
    let (_, v) = call(
        &me,
        "POST",
        &format!("{base}/object/aql/totalcount"),
        q.clone(),
    )
    .await;
    assert_eq!(v["totalCount"], 0);
    let (_, v) = call(&boss, "POST", &format!("{base}/object/aql/totalcount"), q).await;
    assert!(v["totalCount"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn connected_tickets_stub() {
    let (app, w) = small();
    let (s, v) = call(
        &app,
        "GET",
        &format!("/jsm/assets/workspace/{w}/v1/objectconnectedtickets/1/tickets"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["tickets"], json!([]));
    assert!(v["allTicketsQuery"].is_string());
}
