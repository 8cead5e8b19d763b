//! Every paging style streams all items across pages, stops, and detects loops.

#![allow(clippy::unwrap_used)] // test helpers: a failed setup should panic

use atlassian::aql::Attribute;
use atlassian::client::{Error, SearchRequest};
use atlassian::jql::Field;
use futures_util::{StreamExt, TryStreamExt};
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

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

/// Project search pages of two items (`P0`, `P1`, …) up to `total` (`None`: never ends),
/// reporting each `startAt` it is asked for. With `report_total` the pages carry the total
/// (so the client can predict the next pages); at `short_at` a page holds one item (the data
/// changed size under the stream); the page at `slow_at` is answered late (the one after
/// it arrives first).
struct ProjectPages {
    total: Option<u64>,
    report_total: bool,
    short_at: Option<u64>,
    slow_at: Option<u64>,
    asked: tokio::sync::mpsc::UnboundedSender<u64>,
}

impl ProjectPages {
    /// Pages without a total.
    fn plain(total: Option<u64>, asked: tokio::sync::mpsc::UnboundedSender<u64>) -> Self {
        ProjectPages {
            total,
            report_total: false,
            short_at: None,
            slow_at: None,
            asked,
        }
    }
}

impl Respond for ProjectPages {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let start: u64 = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "startAt")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let _ = self.asked.send(start);
        let size = if self.short_at == Some(start) { 1 } else { 2 };
        let end = self.total.map_or(start + size, |t| (start + size).min(t));
        let values: Vec<_> = (start..end)
            .map(|i| json!({"id": i.to_string(), "key": format!("P{i}")}))
            .collect();
        let last = self.total.is_some_and(|t| end >= t);
        let mut body = json!({"startAt": start, "maxResults": 2, "isLast": last, "values": values});
        if let (true, Some(t)) = (self.report_total, self.total) {
            body["total"] = json!(t);
        }
        let page = ok(body);
        if self.slow_at == Some(start) {
            page.set_delay(std::time::Duration::from_millis(300))
        } else {
            page
        }
    }
}

const PROJECTS: &str = "/rest/api/3/project/search";

/// Waits (bounded, as a guard against a hang) until the server was asked for `start`.
async fn asked_for(rx: &mut tokio::sync::mpsc::UnboundedReceiver<u64>, start: u64) {
    let wait = async {
        while let Some(s) = rx.recv().await {
            if s == start {
                return;
            }
        }
        panic!("the server stopped before startAt={start}");
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), wait)
        .await
        .unwrap_or_else(|_| panic!("startAt={start} was never requested"));
}

#[tokio::test]
async fn offset_streams_fetch_the_next_page_while_the_consumer_holds_one() {
    let server = MockServer::start().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    Mock::given(method("GET"))
        .and(path(PROJECTS))
        .respond_with(ProjectPages::plain(Some(7), tx))
        .mount(&server)
        .await;
    let client = basic_client(&server);
    let mut stream = client.projects(None);
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.key, "P0");
    // The consumer has not asked for more, yet the second page is on its way.
    asked_for(&mut rx, 2).await;
    let rest: Vec<String> = stream.map_ok(|p| p.key).try_collect().await.unwrap();
    assert_eq!(rest, ["P1", "P2", "P3", "P4", "P5", "P6"]);
}

#[tokio::test]
async fn dropping_an_offset_stream_stops_fetching() {
    let server = MockServer::start().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    Mock::given(method("GET"))
        .and(path(PROJECTS))
        .respond_with(ProjectPages::plain(None, tx))
        .mount(&server)
        .await;
    let client = basic_client(&server);
    let mut stream = client.projects(None);
    assert_eq!(stream.next().await.unwrap().unwrap().key, "P0");
    asked_for(&mut rx, 2).await;
    drop(stream);
    // The server never says "last": only the task's end can stop the requests. Whatever
    // was under way when the stream went is at most the page ahead and the one in flight.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut asked = vec![0, 2];
    while let Ok(s) = rx.try_recv() {
        asked.push(s);
    }
    assert!(asked.len() <= 2 + 1, "requests after the drop: {asked:?}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(rx.try_recv().is_err(), "still fetching after the drop");
    // The client is still usable.
    drop(client);
}

#[tokio::test]
async fn an_error_fetched_ahead_comes_after_the_items_before_it() {
    let server = MockServer::start().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    Mock::given(method("GET"))
        .and(path(PROJECTS))
        .and(query_param("startAt", "2"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"errorMessages": ["no"]})))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PROJECTS))
        .respond_with(ProjectPages::plain(None, tx))
        .mount(&server)
        .await;
    let client = basic_client(&server);
    let mut stream = client.projects(None);
    assert_eq!(stream.next().await.unwrap().unwrap().key, "P0");
    let got: Vec<_> = stream.collect().await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(matches!(&got[0], Ok(p) if p.key == "P1"), "{got:?}");
    assert!(got[1].is_err(), "{got:?}");
    // Nothing is fetched after the failed page.
    assert_eq!(rx.try_recv().ok(), Some(0));
    assert!(rx.try_recv().is_err());
}

#[tokio::test]
async fn a_rate_limited_page_ahead_is_retried() {
    let server = MockServer::start().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    Mock::given(method("GET"))
        .and(path(PROJECTS))
        .and(query_param("startAt", "2"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PROJECTS))
        .respond_with(ProjectPages::plain(Some(5), tx))
        .mount(&server)
        .await;
    let client = basic_client(&server);
    let keys: Vec<String> = client
        .projects(None)
        .map_ok(|p| p.key)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(keys, ["P0", "P1", "P2", "P3", "P4"]);
    let mut asked = Vec::new();
    while let Ok(s) = rx.try_recv() {
        asked.push(s);
    }
    assert_eq!(asked, [0, 2, 4]);
}

/// A server of [`ProjectPages`] that report their total; the receiver reports each `startAt` asked for.
async fn counted_server(
    total: u64,
    short_at: Option<u64>,
    slow_at: Option<u64>,
) -> (MockServer, tokio::sync::mpsc::UnboundedReceiver<u64>) {
    let server = MockServer::start().await;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    Mock::given(method("GET"))
        .and(path(PROJECTS))
        .respond_with(ProjectPages {
            total: Some(total),
            report_total: true,
            short_at,
            slow_at,
            asked: tx,
        })
        .mount(&server)
        .await;
    (server, rx)
}

#[tokio::test]
async fn offset_streams_with_a_total_fetch_several_pages_at_once() {
    let (server, mut rx) = counted_server(20, None, Some(4)).await;
    let client = basic_client(&server);
    let mut stream = client.projects(None);
    for want in ["P0", "P1", "P2"] {
        assert_eq!(stream.next().await.unwrap().unwrap().key, want);
    }
    // The consumer is past two pages and holds the third. One request at a time would stop
    // at startAt=6 (the page read ahead waits in the channel, the next one is fetched):
    // asking for 8 means requests ran side by side. The page at 4 is answered after the
    // one at 6, which then waits to be handed over: the request for 8 must not wait with it.
    asked_for(&mut rx, 8).await;
    let rest: Vec<String> = stream.map_ok(|p| p.key).try_collect().await.unwrap();
    let want: Vec<String> = (3..20).map(|i| format!("P{i}")).collect();
    assert_eq!(rest, want, "every item once, in order");
    let mut asked = vec![0, 2, 4, 6, 8];
    while let Ok(s) = rx.try_recv() {
        asked.push(s);
    }
    asked.sort_unstable();
    asked.dedup();
    assert_eq!(
        asked,
        (0..20).step_by(2).collect::<Vec<u64>>(),
        "each page asked once"
    );
}

#[tokio::test]
async fn a_search_reading_one_page_sends_no_speculative_requests() {
    let (server, mut rx) = counted_server(20, None, None).await;
    let client = basic_client(&server);
    let first: Vec<String> = client
        .projects(None)
        .take(2)
        .map_ok(|p| p.key)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(first, ["P0", "P1"]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut asked = Vec::new();
    while let Ok(s) = rx.try_recv() {
        asked.push(s);
    }
    // The first page, and at most the one read ahead.
    assert!(asked.len() <= 2, "requests: {asked:?}");
}

#[tokio::test]
async fn a_page_shorter_than_predicted_drops_the_guesses_and_loses_nothing() {
    let (server, _rx) = counted_server(11, Some(4), None).await;
    let client = basic_client(&server);
    let keys: Vec<String> = client
        .projects(None)
        .map_ok(|p| p.key)
        .try_collect()
        .await
        .unwrap();
    let want: Vec<String> = (0..11).map(|i| format!("P{i}")).collect();
    assert_eq!(keys, want, "no gap and no repeat after the short page");
}

#[test]
fn worklog_start_uses_jiras_format() {
    let ts: jiff::Timestamp = "2024-03-01T10:20:30.5Z".parse().unwrap();
    assert_eq!(
        atlassian::client::jira_datetime(ts),
        "2024-03-01T10:20:30.500+0000"
    );
}
