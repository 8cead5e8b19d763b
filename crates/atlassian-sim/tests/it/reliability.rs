//! Reliability of the real client against the simulator.
//!
//! With 429 bursts, 5xx, truncated bodies or held responses injected (seeded, so every
//! run sees the same pattern), each paging style the simulator serves must yield exactly
//! the fault-free sequence of ids: nothing lost, nothing duplicated, same order. Calls
//! that change something are never retried, and exhausted retries end in typed errors.

use std::collections::HashSet;
use std::time::Duration;

use atlassian::adf::{Doc, Node};
use atlassian::aql::{Aql, Attribute, Query as AqlQuery};
use atlassian::client::{AtlassianClient, Error, RetryPolicy, SearchRequest, Timeouts};
use atlassian::jql::{Direction, Field};
use atlassian_sim::{FaultConfig, SimConfig, SimHandle, UserSummary};
use futures_util::TryStreamExt;
use secrecy::SecretString;

/// Every paging style, with the endpoint used for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// `nextPageToken` (`POST /search/jql`).
    Jql,
    /// Offset + `isLast` (`/project/search`).
    Projects,
    /// Offset + `isLast` (`/issue/{key}/changelog`).
    Changelog,
    /// Legacy offset, bare arrays (`/user/search`).
    Users,
    /// JSM `start/limit/isLastPage` (service desks).
    ServiceDesks,
    /// JSM `start/limit/isLastPage` (request types).
    RequestTypes,
    /// JSM `start/limit/isLastPage` (request comments).
    RequestComments,
    /// Assets `startAt/maxResults/isLast` (`POST /object/aql`).
    Assets,
}

const ALL: [Style; 8] = [
    Style::Jql,
    Style::Projects,
    Style::Changelog,
    Style::Users,
    Style::ServiceDesks,
    Style::RequestTypes,
    Style::RequestComments,
    Style::Assets,
];

impl Style {
    /// Small pages, so that every style needs several of them.
    fn page_size(self) -> u32 {
        match self {
            Style::Jql => 20,
            Style::Assets => 100,
            Style::Users => 5,
            Style::ServiceDesks => 1,
            _ => 2,
        }
    }
}

/// A small site and what the streams are expected to return.
struct Site {
    sim: SimHandle,
    admin: UserSummary,
    project_keys: Vec<String>,
    tickets: usize,
    desks: usize,
    objects: usize,
    /// The issue with the longest change history.
    history_key: String,
    /// The service-desk request with the most comments.
    request_key: String,
    /// The first service desk.
    desk_id: String,
    /// Every Assets object.
    aql: Aql,
}

async fn site() -> Site {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let sim = atlassian_sim::start(
        listener,
        SimConfig {
            seed: 7,
            now: Some("2026-03-10T11:30:00Z".parse().expect("timestamp")),
            ..SimConfig::default()
        },
    )
    .await
    .expect("start");
    let admin = sim
        .users_summary()
        .into_iter()
        .find(|u| u.role == "admin")
        .expect("admin");
    let (project_keys, tickets, desks, history_key, request_key, desk_id) = {
        let m = sim.state.read();
        let desk_projects: HashSet<&str> = m
            .service_desks
            .iter()
            .map(|d| d.project_id.as_str())
            .collect();
        let history = m
            .issues
            .iter()
            .max_by_key(|i| i.changelog.len())
            .expect("issues");
        let request = m
            .issues
            .iter()
            .filter(|i| desk_projects.contains(i.project_id.as_str()))
            .max_by_key(|i| i.comments.len())
            .expect("requests");
        (
            m.projects.iter().map(|p| p.key.clone()).collect::<Vec<_>>(),
            m.issues.len(),
            m.service_desks.len(),
            history.key.clone(),
            request.key.clone(),
            m.service_desks.first().expect("desk").id.clone(),
        )
    };
    let ws = sim.state.assets.as_ref().expect("assets").workspace();
    let aql = AqlQuery::filter(
        Attribute::ObjectSchemaId
            .is_in(ws.schemas.iter().map(|s| s.id))
            .expect("schemas"),
    )
    .to_aql();
    let objects = ws.objects.len();
    let site = Site {
        sim,
        admin,
        project_keys,
        tickets,
        desks,
        objects,
        history_key,
        request_key,
        desk_id,
        aql,
    };
    // Enough request comments for several pages.
    let c = client(&site, 50, NORMAL, retry(1));
    for i in 0..4 {
        c.add_request_comment(&site.request_key, &format!("setup {i}"), i % 2 == 0)
            .await
            .expect("setup comment");
    }
    site
}

/// Fast retries (the simulator's `Retry-After` is 0 unless a test says otherwise).
fn retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_total_delay: Duration::from_secs(5),
    }
}

fn client(site: &Site, page_size: u32, total: Duration, retry: RetryPolicy) -> AtlassianClient {
    let base = &site.sim.base_url;
    AtlassianClient::basic(
        base.parse().expect("url"),
        site.admin.email.clone(),
        SecretString::from(site.admin.api_token.clone()),
    )
    .expect("client")
    .assets_root(format!("{base}/jsm/assets").parse().expect("url"))
    .page_size(page_size)
    .timeouts(Timeouts {
        connect: Duration::from_secs(5),
        total,
    })
    .retry(retry)
    .build()
    .expect("build")
}

/// Ids streamed in one style, with a fresh client (Assets discovery included).
async fn stream_ids(site: &Site, style: Style, c: &AtlassianClient) -> Result<Vec<String>, Error> {
    match style {
        Style::Jql => {
            let jql = Field::Project
                .is_in(&site.project_keys)
                .expect("projects")
                .order_by(Field::Key, Direction::Asc)
                .to_jql();
            let mut req = SearchRequest::new(jql);
            req.page_size = style.page_size();
            c.search(req).map_ok(|i| i.key).try_collect().await
        }
        Style::Projects => c.projects(None).map_ok(|p| p.key).try_collect().await,
        Style::Changelog => {
            let s = c.changelog(&site.history_key);
            s.map_ok(|g| g.id).try_collect().await
        }
        Style::Users => {
            c.user_search("")
                .map_ok(|u| u.account_id)
                .try_collect()
                .await
        }
        Style::ServiceDesks => c.service_desks().map_ok(|d| d.id).try_collect().await,
        Style::RequestTypes => {
            let s = c.request_types(&site.desk_id);
            s.map_ok(|t| t.id).try_collect().await
        }
        Style::RequestComments => {
            let s = c.request_comments(&site.request_key, false);
            s.map_ok(|x| x.id).try_collect().await
        }
        Style::Assets => {
            let assets = c.assets().await?;
            let s = assets.aql(&site.aql, false);
            s.map_ok(|o| o.id).try_collect().await
        }
    }
}

/// One pass over `styles`: their ids and the requests the simulator received.
struct Pass {
    ids: Vec<(Style, Vec<String>)>,
    requests: u64,
}

async fn pass(site: &Site, styles: &[Style], total: Duration, max_attempts: u32) -> Pass {
    let before = site.sim.request_count();
    let mut ids = Vec::new();
    for &style in styles {
        let c = client(site, style.page_size(), total, retry(max_attempts));
        match stream_ids(site, style, &c).await {
            Ok(v) => ids.push((style, v)),
            Err(e) => panic!("{style:?}: {e}"),
        }
    }
    Pass {
        ids,
        requests: site.sim.request_count() - before,
    }
}

/// The fault-free pass covers everything, once, over several pages per style.
fn check_clean(site: &Site, clean: &Pass) {
    for (style, ids) in &clean.ids {
        let distinct: HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "{style:?} repeats ids");
        assert!(
            ids.len() > style.page_size() as usize,
            "{style:?} fits one page ({} ids)",
            ids.len()
        );
        let expected = match style {
            Style::Jql => Some(site.tickets),
            Style::Projects => Some(site.project_keys.len()),
            Style::ServiceDesks => Some(site.desks),
            Style::Assets => Some(site.objects),
            _ => None,
        };
        if let Some(n) = expected {
            assert_eq!(ids.len(), n, "{style:?} misses items");
        }
    }
}

/// Runs `styles` fault-free, then under `faults`, and compares. Every injected fault must
/// cost exactly one extra request when `exact` (held responses may add client timeouts of
/// slow fault-free requests, so they only bound it from below).
/// Eight attempts: the mixed pattern below has a streak of six failures in a row.
async fn same_under_faults(styles: &[Style], faults: FaultConfig, total: Duration, exact: bool) {
    let site = site().await;
    let clean = pass(&site, styles, total, 8).await;
    check_clean(&site, &clean);
    site.sim.faults().set(faults.clone());
    let faulty = pass(&site, styles, total, 8).await;
    let injected = site.sim.faults().injected();
    site.sim.faults().set(FaultConfig::default());
    assert!(injected > 0, "nothing injected by {faults:?}");
    for ((style, want), (_, got)) in clean.ids.iter().zip(&faulty.ids) {
        assert_eq!(got, want, "{style:?} differs under {faults:?}");
    }
    if exact {
        assert_eq!(faulty.requests, clean.requests + injected, "{faults:?}");
    } else {
        assert!(faulty.requests >= clean.requests + injected, "{faults:?}");
    }
}

const NORMAL: Duration = Duration::from_secs(10);

#[tokio::test]
async fn rate_limit_bursts_lose_and_duplicate_nothing() {
    let faults = FaultConfig {
        seed: 11,
        rate_limit_every_n: Some(4),
        rate_limit_burst: 2,
        retry_after_secs: 0,
        ..FaultConfig::default()
    };
    same_under_faults(&ALL, faults, NORMAL, true).await;
}

#[tokio::test]
async fn a_one_second_retry_after_is_waited_out_without_loss() {
    let faults = FaultConfig {
        seed: 12,
        rate_limit_every_n: Some(7),
        rate_limit_burst: 1,
        retry_after_secs: 1,
        ..FaultConfig::default()
    };
    same_under_faults(&[Style::Jql], faults, NORMAL, true).await;
}

#[tokio::test]
async fn server_errors_every_nth_request_lose_and_duplicate_nothing() {
    let faults = FaultConfig {
        seed: 13,
        error_every_n: Some(3),
        error_statuses: vec![502, 503, 504],
        ..FaultConfig::default()
    };
    same_under_faults(&ALL, faults, NORMAL, true).await;
}

#[tokio::test]
async fn truncated_bodies_lose_and_duplicate_nothing() {
    let faults = FaultConfig {
        seed: 14,
        truncate_every_n: Some(3),
        ..FaultConfig::default()
    };
    same_under_faults(&ALL, faults, NORMAL, true).await;
}

#[tokio::test]
async fn responses_held_beyond_the_timeout_are_retried_without_loss() {
    let faults = FaultConfig {
        seed: 15,
        hold_every_n: Some(12),
        hold_ms: 1500,
        ..FaultConfig::default()
    };
    same_under_faults(&ALL, faults, Duration::from_millis(400), false).await;
}

#[tokio::test]
async fn mixed_seeded_faults_lose_and_duplicate_nothing() {
    let faults = FaultConfig {
        seed: 16,
        rate_limit_every_n: Some(9),
        rate_limit_burst: 2,
        error_rate: 0.1,
        error_statuses: vec![502, 503],
        truncate_every_n: Some(7),
        ..FaultConfig::default()
    };
    same_under_faults(&ALL, faults, NORMAL, true).await;
}

fn only_once(prefix: &str, faults: FaultConfig) -> FaultConfig {
    FaultConfig {
        path_prefix: Some(prefix.to_owned()),
        ..faults
    }
}

async fn jira_comments_with(site: &Site, c: &AtlassianClient, marker: &str) -> usize {
    let all: Vec<_> = c
        .comments(&site.history_key)
        .try_collect()
        .await
        .expect("comments");
    all.iter()
        .filter(|x| {
            x.body
                .as_ref()
                .is_some_and(|b| b.to_string().contains(marker))
        })
        .count()
}

async fn request_comments_with(site: &Site, c: &AtlassianClient, marker: &str) -> usize {
    let all: Vec<_> = c
        .request_comments(&site.request_key, false)
        .try_collect()
        .await
        .expect("request comments");
    all.iter()
        .filter(|x| x.body.as_deref().is_some_and(|b| b.contains(marker)))
        .count()
}

fn doc(text: &str) -> Doc {
    Doc::new(vec![Node::paragraph(vec![Node::text(text)])])
}

#[tokio::test]
async fn posts_answered_503_are_not_retried_and_create_nothing() {
    let site = site().await;
    let c = client(&site, 50, NORMAL, retry(4));
    let e503 = FaultConfig {
        error_every_n: Some(1),
        error_statuses: vec![503],
        ..FaultConfig::default()
    };
    site.sim
        .faults()
        .set(only_once("/rest/api/3/issue/", e503.clone()));
    let err = c
        .add_comment(&site.history_key, &doc("marker-503-jira"))
        .await
        .expect_err("503");
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert_eq!(site.sim.faults().injected(), 1, "the POST was retried");
    site.sim
        .faults()
        .set(only_once("/rest/servicedeskapi/request/", e503));
    let err = c
        .add_request_comment(&site.request_key, "marker-503-jsm", true)
        .await
        .expect_err("503");
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert_eq!(site.sim.faults().injected(), 1, "the POST was retried");
    site.sim.faults().set(FaultConfig::default());
    assert_eq!(jira_comments_with(&site, &c, "marker-503-jira").await, 0);
    assert_eq!(request_comments_with(&site, &c, "marker-503-jsm").await, 0);
}

#[tokio::test]
async fn posts_whose_answer_is_lost_exist_at_most_once() {
    let site = site().await;
    let c = client(&site, 50, Duration::from_millis(300), retry(4));
    // The answer is cut short: the comment was made, the client sees a failure.
    site.sim.faults().set(only_once(
        "/rest/api/3/issue/",
        FaultConfig {
            truncate_every_n: Some(1),
            ..FaultConfig::default()
        },
    ));
    let err = c
        .add_comment(&site.history_key, &doc("marker-cut-jira"))
        .await
        .expect_err("truncated");
    assert!(
        matches!(err, Error::Transport { .. } | Error::Decode { .. }),
        "{err:?}"
    );
    assert_eq!(site.sim.faults().injected(), 1, "the POST was retried");
    // The answer comes after the client's timeout.
    site.sim.faults().set(only_once(
        "/rest/servicedeskapi/request/",
        FaultConfig {
            hold_every_n: Some(1),
            hold_ms: 600,
            ..FaultConfig::default()
        },
    ));
    let err = c
        .add_request_comment(&site.request_key, "marker-held-jsm", true)
        .await
        .expect_err("timeout");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(site.sim.faults().injected(), 1, "the POST was retried");
    site.sim.faults().set(FaultConfig::default());
    // Let the held request finish on the server before counting.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(jira_comments_with(&site, &c, "marker-cut-jira").await, 1);
    assert!(request_comments_with(&site, &c, "marker-held-jsm").await <= 1);
}

#[tokio::test]
async fn exhausted_retries_end_in_typed_errors() {
    let site = site().await;
    let c = client(&site, 50, Duration::from_millis(200), retry(4));
    let set = |f: FaultConfig| site.sim.faults().set(f);

    set(FaultConfig {
        rate_limit_every_n: Some(1),
        rate_limit_burst: 1000,
        ..FaultConfig::default()
    });
    let err = stream_ids(&site, Style::Projects, &c)
        .await
        .expect_err("429s");
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(site.sim.faults().injected(), 4);

    set(FaultConfig {
        error_every_n: Some(1),
        error_statuses: vec![503],
        ..FaultConfig::default()
    });
    let err = stream_ids(&site, Style::Jql, &c).await.expect_err("503s");
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert_eq!(site.sim.faults().injected(), 4);

    // A server wait longer than the policy's total budget is not slept through.
    set(FaultConfig {
        rate_limit_every_n: Some(1),
        retry_after_secs: 30,
        ..FaultConfig::default()
    });
    let err = c.myself().await.expect_err("429");
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(30)),
        "{err:?}"
    );
    assert_eq!(site.sim.faults().injected(), 1);

    set(FaultConfig {
        hold_every_n: Some(1),
        hold_ms: 1000,
        ..FaultConfig::default()
    });
    let err = c.myself().await.expect_err("held");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(site.sim.faults().injected(), 4);

    // 500 is not a transient status for this client: surfaced at once.
    set(FaultConfig {
        error_every_n: Some(1),
        error_statuses: vec![500],
        ..FaultConfig::default()
    });
    let err = c.myself().await.expect_err("500");
    assert!(matches!(err, Error::Http { status: 500, .. }), "{err:?}");
    assert_eq!(site.sim.faults().injected(), 1);
}

#[tokio::test]
async fn page_sizes_above_the_server_caps_lose_nothing() {
    let site = site().await;
    let clean = pass(&site, &ALL, NORMAL, 1).await;
    for (style, want) in &clean.ids {
        let c = client(&site, 5000, NORMAL, retry(1));
        let got = stream_ids(&site, *style, &c).await.expect("stream");
        assert_eq!(&got, want, "{style:?} with 5000 per page");
    }
}
