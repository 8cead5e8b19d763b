//! Every paging style streams all items across pages, stops, and detects loops.

#![allow(clippy::unwrap_used)] // test helpers: a failed setup should panic

use atlassian::aql::Attribute;
use atlassian::client::{Error, SearchRequest};
use atlassian::jql::Field;
use futures_util::TryStreamExt;
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::client_common::basic_client;

fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn offset_style_streams_all_pages_and_stops_on_is_last() {
    let server = MockServer::start().await;
    let p = "/rest/api/3/project/search";
    Mock::given(method("GET"))
        .and(path(p))
        .and(query_param("startAt", "0"))
        .respond_with(ok(
            json!({"startAt":0,"maxResults":2,"total":3,"isLast":false,
            "values":[{"id":"1","key":"A"},{"id":"2","key":"B"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(p))
        .and(query_param("startAt", "2"))
        .respond_with(ok(
            json!({"startAt":2,"maxResults":2,"total":3,"isLast":true,
            "values":[{"id":"3","key":"C"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = basic_client(&server);
    let keys: Vec<String> = client
        .projects(None)
        .map_ok(|p| p.key)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(keys, ["A", "B", "C"]);
}

#[tokio::test]
async fn offset_style_uses_total_for_comments() {
    let server = MockServer::start().await;
    let p = "/rest/api/3/issue/SD-1/comment";
    Mock::given(method("GET"))
        .and(path(p))
        .and(query_param("startAt", "0"))
        .respond_with(ok(
            json!({"startAt":0,"maxResults":1,"total":2,"comments":[{"id":"10"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(p))
        .and(query_param("startAt", "1"))
        .respond_with(ok(
            json!({"startAt":1,"maxResults":1,"total":2,"comments":[{"id":"11"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let ids: Vec<String> = basic_client(&server)
        .comments("SD-1")
        .map_ok(|c| c.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["10", "11"]);
}

#[tokio::test]
async fn legacy_bare_array_stops_on_short_page() {
    let server = MockServer::start().await;
    let users = |from: usize, n: usize| -> serde_json::Value {
        (from..from + n)
            .map(|i| json!({"accountId": format!("u{i}")}))
            .collect()
    };
    let p = "/rest/api/3/user/search";
    Mock::given(method("GET"))
        .and(path(p))
        .and(query_param("startAt", "0"))
        .and(query_param("query", "ann"))
        .respond_with(ok(users(0, 50)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(p))
        .and(query_param("startAt", "50"))
        .respond_with(ok(users(50, 7)))
        .expect(1)
        .mount(&server)
        .await;
    let all: Vec<_> = basic_client(&server)
        .user_search("ann")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 57);
    assert_eq!(all[56].account_id, "u56");
}

#[tokio::test]
async fn next_page_token_style_streams_search_results() {
    let server = MockServer::start().await;
    let p = "/rest/api/3/search/jql";
    let jql = Field::named("project").eq("SD").to_jql();
    Mock::given(method("POST"))
        .and(path(p))
        .and(body_partial_json(json!({"nextPageToken":"t1"})))
        .respond_with(ok(
            json!({"issues":[{"id":"3","key":"SD-3"}],"isLast":true}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).and(path(p)).and(body_partial_json(json!({"jql": jql.as_str(), "fields":["summary"]})))
        .respond_with(ok(json!({"issues":[{"id":"1","key":"SD-1","fields":{"summary":"x"}},{"id":"2","key":"SD-2"}],"nextPageToken":"t1"})))
        .expect(1).mount(&server).await;
    let req = SearchRequest::new(jql).fields(["summary"]);
    let issues: Vec<_> = basic_client(&server)
        .search(req)
        .try_collect()
        .await
        .unwrap();
    let keys: Vec<_> = issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["SD-1", "SD-2", "SD-3"]);
    assert_eq!(issues[0].fields["summary"], "x");
}

#[tokio::test]
async fn repeated_token_is_a_paging_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/rest/api/3/changelog/bulkfetch"))
        .respond_with(ok(json!({"issueChangeLogs":[{"issueId":"1","changeHistories":[]}],"nextPageToken":"same"})))
        .expect(2).mount(&server).await;
    let res: Result<Vec<_>, _> = basic_client(&server)
        .changelog_bulk(vec!["SD-1".into()], vec![])
        .try_collect()
        .await;
    assert!(matches!(res, Err(Error::Paging { .. })), "{res:?}");
}

#[tokio::test]
async fn jsm_style_streams_and_detects_no_progress() {
    let server = MockServer::start().await;
    let p = "/rest/servicedeskapi/servicedesk";
    Mock::given(method("GET")).and(path(p)).and(query_param("start", "0"))
        .respond_with(ok(json!({"start":0,"limit":2,"size":2,"isLastPage":false,"values":[{"id":"1"},{"id":"2"}]})))
        .mount(&server).await;
    Mock::given(method("GET"))
        .and(path(p))
        .and(query_param("start", "2"))
        .respond_with(ok(
            json!({"start":2,"limit":2,"size":1,"isLastPage":true,"values":[{"id":"3"}]}),
        ))
        .mount(&server)
        .await;
    let ids: Vec<String> = basic_client(&server)
        .service_desks()
        .map_ok(|d| d.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["1", "2", "3"]);

    // An empty page that claims more would loop forever.
    let stuck = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/servicedeskapi/servicedesk/5/requesttype"))
        .respond_with(ok(
            json!({"start":0,"limit":50,"size":0,"isLastPage":false,"values":[]}),
        ))
        .expect(1)
        .mount(&stuck)
        .await;
    let res: Result<Vec<_>, _> = basic_client(&stuck).request_types("5").try_collect().await;
    assert!(matches!(res, Err(Error::Paging { .. })), "{res:?}");
}

#[tokio::test]
async fn server_ignoring_offsets_hits_the_page_cap() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/issue/SD-1/changelog"))
        .respond_with(ok(json!({"isLast":false,"values":[{"id":"1"}]})))
        .expect(4)
        .mount(&server)
        .await;
    let client = crate::client_common::basic(&server)
        .max_pages(4)
        .build()
        .unwrap();
    let res: Result<Vec<_>, _> = client.changelog("SD-1").try_collect().await;
    assert!(matches!(res, Err(Error::Paging { .. })), "{res:?}");
}

#[tokio::test]
async fn assets_aql_discovers_workspace_and_pages_with_string_is_last() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).and(path("/rest/servicedeskapi/assets/workspace"))
        .respond_with(ok(json!({"size":1,"start":0,"limit":50,"isLastPage":true,"values":[{"workspaceId":"ws-1"}]})))
        .expect(1).mount(&server).await;
    let p = "/jsm/assets/workspace/ws-1/v1/object/aql";
    let aql = Attribute::ObjectTypeId.eq(7).to_aql();
    Mock::given(method("POST")).and(path(p)).and(query_param("startAt", "0"))
        .and(query_param("includeAttributes", "true"))
        .and(body_partial_json(json!({"qlQuery": aql.as_str()})))
        .respond_with(ok(json!({"startAt":0,"maxResults":1,"total":2,"isLast":"false","values":[{"id":"1","label":"a"}]})))
        .expect(1).mount(&server).await;
    Mock::given(method("POST")).and(path(p)).and(query_param("startAt", "1"))
        .respond_with(ok(json!({"startAt":1,"maxResults":1,"total":2,"isLast":true,"values":[{"id":"2","label":"b"}]})))
        .expect(1).mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/jsm/assets/workspace/ws-1/v1/object/aql/totalcount"))
        .respond_with(ok(json!({"totalCount": 2})))
        .expect(1)
        .mount(&server)
        .await;
    let client = basic_client(&server);
    let assets = client.assets().await.unwrap();
    let ids: Vec<String> = assets
        .aql(&aql, true)
        .map_ok(|o| o.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["1", "2"]);
    // The workspace id is cached: a second `assets()` does not discover again.
    assert_eq!(
        client
            .assets()
            .await
            .unwrap()
            .aql_count(&aql)
            .await
            .unwrap(),
        2
    );
}

#[test]
fn worklog_start_uses_jiras_format() {
    let ts: jiff::Timestamp = "2024-03-01T10:20:30.5Z".parse().unwrap();
    assert_eq!(
        atlassian::client::jira_datetime(ts),
        "2024-03-01T10:20:30.500+0000"
    );
}
