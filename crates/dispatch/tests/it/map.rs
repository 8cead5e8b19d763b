//! The map of the day: its JSON against the board, the ETag, who may see it, markup in
//! Jira data, and the admin's tile server setting with the CSP it brings.

use std::collections::{BTreeMap, BTreeSet};

use atlassian_sim::testkit::{Browser, location};
use serde_json::Value;

use crate::env::{start, text};
use crate::flow::{TO_DISPATCH, assign, set_up};

/// The statuses of the field phases (Travelling, On Site, Awaiting Parts) in the set-up.
const FIELD_STATUSES: [&str; 3] = ["10003", "10004", "10005"];

/// GET with the browser's cookies and extra headers.
async fn get_with(b: &Browser, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let cookies = b
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut req = b.http.get(b.url(path)).header("cookie", cookies);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

async fn map_data(b: &mut Browser, query: &str) -> (String, Value) {
    let r = b.get(&format!("/dispatch/map/data{query}")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let body = text(r).await;
    (etag, serde_json::from_str(&body).unwrap())
}

/// Card keys per lane of the board's lanes fragment (`""`: the queue, `"-"`: others).
fn board_lanes(html: &str) -> BTreeMap<String, Vec<String>> {
    let mut lanes = BTreeMap::new();
    for part in html.split("<ul class=\"cards\" data-lane=\"").skip(1) {
        let (lane, rest) = part.split_once('"').unwrap();
        let rest = rest.split("</ul>").next().unwrap();
        let keys = rest
            .split("data-key=\"")
            .skip(1)
            .map(|k| k.split('"').next().unwrap().to_string())
            .collect();
        lanes.insert(lane.to_string(), keys);
    }
    lanes
}

fn version_of(page: &str) -> String {
    page.split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_data_holds_every_located_ticket_of_the_board_and_each_route() {
    let env = start().await;
    let _admin = set_up(&env).await;
    let (mut d, _) = env.browser_as("dispatcher", 0).await;
    let lanes = text(d.get("/dispatch/board/lanes").await.unwrap()).await;
    let lanes = board_lanes(&lanes);
    let (_, data) = map_data(&mut d, "").await;

    let on_board: BTreeSet<&str> = lanes.values().flatten().map(String::as_str).collect();
    assert!(on_board.len() > 10, "the seeded board has work: {lanes:?}");
    let tickets = data["tickets"].as_array().unwrap();
    let drawn: BTreeSet<&str> = tickets.iter().map(|t| t["key"].as_str().unwrap()).collect();
    let unlocated: BTreeSet<&str> = data["unlocated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(drawn.len(), tickets.len(), "one marker per ticket");
    assert!(unlocated.is_empty(), "every seeded ticket has a location");
    assert_eq!(drawn, on_board, "exactly the board's cards");
    for t in tickets {
        let key = t["key"].as_str().unwrap();
        let (status, _) = env.issue(key);
        assert!(t["lat"].as_f64().unwrap().abs() <= 90.0, "{t}");
        assert!(t["lon"].as_f64().is_some(), "{t}");
        let phase = t["phase"].as_str().unwrap();
        let expected = match status.as_str() {
            "10001" => "planned",
            "10002" => "assigned",
            "10003" => "travelling",
            "10004" => "on_site",
            "10005" => "paused",
            _ => "done",
        };
        assert_eq!(phase, expected, "{key} in {status}");
        assert!(t["colour"].is_string() && t["label"].is_string());
    }

    // One entry per lane, its jobs being the lane's cards, its route running from its
    // position through the located jobs in that order.
    let by_key: BTreeMap<&str, &Value> = tickets
        .iter()
        .map(|t| (t["key"].as_str().unwrap(), t))
        .collect();
    let techs = data["technicians"].as_array().unwrap();
    let lane_ids: BTreeSet<&str> = lanes
        .keys()
        .map(String::as_str)
        .filter(|l| !l.is_empty() && *l != "-")
        .collect();
    assert_eq!(
        techs
            .iter()
            .map(|t| t["account_id"].as_str().unwrap())
            .collect::<BTreeSet<_>>(),
        lane_ids
    );
    let mut routes = 0;
    let mut in_field = 0;
    for t in techs {
        let id = t["account_id"].as_str().unwrap();
        let jobs: Vec<&str> = t["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j.as_str().unwrap())
            .collect();
        let mut sorted_jobs = jobs.clone();
        sorted_jobs.sort_unstable();
        let mut lane = lanes[id].iter().map(String::as_str).collect::<Vec<_>>();
        lane.sort_unstable();
        assert_eq!(sorted_jobs, lane, "{id}'s jobs are their lane's cards");
        let mut expected: Vec<Value> = Vec::new();
        if !t["position"].is_null() {
            expected.push(t["position"].clone());
        }
        for k in &jobs {
            let job = by_key[k];
            expected.push(serde_json::json!([job["lat"], job["lon"]]));
        }
        assert_eq!(t["route"], Value::Array(expected), "{id}");
        match t["source"].as_str().unwrap() {
            "ticket" => {
                in_field += 1;
                let at = t["at_ticket"].as_str().unwrap();
                let (status, assignee) = env.issue(at);
                assert!(FIELD_STATUSES.contains(&status.as_str()), "{at}: {status}");
                assert_eq!(assignee.as_deref(), Some(id));
                assert!(t["source_text"].as_str().unwrap().starts_with("At "));
            }
            "home" => assert_eq!(t["source_text"], "Home base"),
            other => assert_eq!(other, "unknown"),
        }
        if t["route"].as_array().unwrap().len() > 1 {
            routes += 1;
        }
        assert!(!t["initials"].as_str().unwrap().is_empty());
    }
    assert!(routes > 0, "some technician has a route today");
    assert!(in_field > 0, "someone is out in the field today");

    // The filters narrow the map as they narrow the board.
    let (_, fac) = map_data(&mut d, "?project=FAC").await;
    assert!(
        fac["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["key"].as_str().unwrap().starts_with("FAC-"))
    );
    let r = d.get("/dispatch/map/data?day=tomorrow").await.unwrap();
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn the_data_is_304_while_nothing_changed() {
    let env = start().await;
    let _admin = set_up(&env).await;
    let (mut d, _) = env.browser_as("dispatcher", 0).await;
    let (etag, _) = map_data(&mut d, "").await;
    let r = get_with(&d, "/dispatch/map/data", &[("if-none-match", &etag)]).await;
    assert_eq!(r.status(), 304);
    assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    assert!(text(r).await.is_empty());
    let r = get_with(
        &d,
        "/dispatch/map/data",
        &[("if-none-match", "\"map-stale\"")],
    )
    .await;
    assert_eq!(r.status(), 200, "another tag is not current");
    // Another day is other data.
    let r = get_with(
        &d,
        "/dispatch/map/data?day=2020-01-01",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(r.status(), 200);

    // A change on the board is news for the map.
    let (planned, _) = env
        .issues_in("FS", TO_DISPATCH)
        .into_iter()
        .find(|(_, a)| a.is_none())
        .unwrap();
    let tech = env.user("technician", 0);
    let csrf = d.csrf_token("/dispatch").await.unwrap();
    let (status, body) = assign(&mut d, &csrf, &planned, &tech.account_id, "").await;
    assert_eq!(status, 200, "{body}");
    let r = get_with(&d, "/dispatch/map/data", &[("if-none-match", &etag)]).await;
    assert_eq!(r.status(), 200);
    let fresh = r.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(fresh, etag);
    let data: Value = serde_json::from_str(&text(r).await).unwrap();
    let t = data["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == planned.as_str())
        .unwrap();
    assert_eq!(t["phase"], "assigned");
    assert_eq!(t["assignee"], tech.display_name.as_str());
}

#[tokio::test]
async fn technicians_and_viewers_get_no_map() {
    let env = start().await;
    let _admin = set_up(&env).await;
    let (mut t, _) = env.browser_as("technician", 0).await;
    let r = t.get("/dispatch/map").await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r).unwrap(), "/dispatch/me");
    assert_eq!(t.get("/dispatch/map/data").await.unwrap().status(), 403);
    let (mut v, _) = env.browser_as("viewer", 0).await;
    let r = v.get("/dispatch/map").await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        text(r)
            .await
            .contains("You are not a dispatcher of any dispatched project"),
        "the board's wording"
    );
    let r = v.get("/dispatch/map/data").await.unwrap();
    assert_eq!(r.status(), 403);
    let anonymous = Browser::new(&env.base).unwrap();
    let r = get_with(&anonymous, "/dispatch/map/data", &[]).await;
    assert!(r.status().is_redirection(), "sign in first");
    assert!(location(&r).unwrap().starts_with("/login"));
}

#[tokio::test]
async fn markup_from_jira_stays_text_and_unlocated_tickets_are_listed() {
    let env = start().await;
    let _admin = set_up(&env).await;
    let (queued, _) = env
        .issues_in("FS", TO_DISPATCH)
        .into_iter()
        .find(|(_, a)| a.is_none())
        .unwrap();
    let (nowhere, _) = env
        .issues_in("FS", TO_DISPATCH)
        .into_iter()
        .filter(|(_, a)| a.is_none())
        .nth(1)
        .unwrap();
    let evil = "<script>alert(\"map\")</script><img src=x onerror=alert(1)>";
    {
        let mut m = env.sim.state.write();
        let i = m.issue_index(&queued).unwrap();
        m.issues[i].summary = evil.to_string();
        let j = m.issue_index(&nowhere).unwrap();
        m.issues[j].custom.remove("customfield_10050");
    }
    let (mut d, _) = env.browser_as("dispatcher", 0).await;
    let r = d.get("/dispatch/map/data").await.unwrap();
    assert_eq!(r.status(), 200);
    let raw = text(r).await;
    assert!(!raw.contains('<') && !raw.contains('>'), "{raw}");
    assert!(raw.contains("\\u003cscript\\u003e"));
    let data: Value = serde_json::from_str(&raw).unwrap();
    let t = data["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == queued.as_str())
        .unwrap();
    assert_eq!(t["summary"], evil, "the same text once parsed");
    assert_eq!(data["unlocated"], serde_json::json!([nowhere]));
    assert!(
        data["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["key"] != nowhere.as_str())
    );

    let page = d.get("/dispatch/map").await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        csp,
        platform::web::CONTENT_SECURITY_POLICY,
        "no tiles, no change"
    );
    let html = text(page).await;
    assert!(!html.contains("<script>alert"), "inert");
    assert!(!html.contains("<img src=x"), "inert");
    assert!(html.contains("&#60;script&#62;alert("), "shown as text");
    assert!(
        !html.contains("<script>") && html.matches("<script").count() == 3,
        "only the three module scripts of the page, no inline script"
    );
    let row = html
        .split(&format!("<tr data-key=\"{nowhere}\">"))
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(row.contains("No usable location"), "{row}");
    assert!(html.contains("1 ticket has no usable location"));
    assert!(html.contains("No map tiles are configured"));
    assert!(html.contains("data-source=\"/dispatch/map/data?day="));
    // The board links to the map with its day and filters.
    let board = text(d.get("/dispatch?project=FS").await.unwrap()).await;
    assert!(board.contains("href=\"/dispatch/map?day="), "{board}");
    assert!(board.contains("&#38;project=FS\" id=\"map-link\""));
}

#[tokio::test]
async fn the_tile_server_is_checked_admin_only_and_opens_the_csp() {
    let env = start().await;
    let mut admin = set_up(&env).await;
    let csrf = admin.csrf_token("/settings/dispatch").await.unwrap();
    let version = version_of(&text(admin.get("/settings/dispatch").await.unwrap()).await);
    for (url, attribution, field, reason) in [
        (
            "http://tile.example.org/{z}/{x}/{y}.png",
            "OSM",
            "tile_url",
            "must start with https://",
        ),
        (
            "javascript:alert(1)//{z}/{x}/{y}",
            "",
            "tile_url",
            "must start with https://",
        ),
        (
            "https://tile.example.org/{z}/{y}.png",
            "",
            "tile_url",
            "missing {x}",
        ),
        (
            "https://me:pw@tile.example.org/{z}/{x}/{y}.png",
            "",
            "tile_url",
            "user name or password",
        ),
        (
            "https://tile.example.org/{z}/{x}/{y}.png",
            &"a".repeat(201),
            "tile_attribution",
            "at most 200 characters",
        ),
    ] {
        let r = admin
            .post_form(
                "/settings/dispatch/map",
                &[
                    ("csrf_token", &csrf),
                    ("version", &version),
                    ("tile_url", url),
                    ("tile_attribution", attribution),
                ],
                &[],
            )
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{url}");
        let body = text(r).await;
        let error = body
            .split(&format!("id=\"{field}-error\""))
            .nth(1)
            .unwrap_or_else(|| panic!("no {field} error for {url}: {body}"))
            .split("</div>")
            .next()
            .unwrap();
        assert!(error.contains(&html_escape(reason)), "{url}: {error}");
    }
    let over_long = format!(
        "https://tile.example.org/{}/{{z}}/{{x}}/{{y}}",
        "a".repeat(290)
    );
    let r = admin
        .post_form(
            "/settings/dispatch/map",
            &[
                ("csrf_token", &csrf),
                ("version", &version),
                ("tile_url", &over_long),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(text(r).await.contains("at most 300 characters"));

    // Dispatchers cannot change it; their map has the platform's CSP and says why no tiles.
    let (mut d, _) = env.browser_as("dispatcher", 0).await;
    let d_csrf = d.csrf_token("/dispatch").await.unwrap();
    let good = "https://{s}.tile.example.org/{z}/{x}/{y}.png";
    let r = d
        .post_form(
            "/settings/dispatch/map",
            &[
                ("csrf_token", &d_csrf),
                ("version", &version),
                ("tile_url", good),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let page = d.get("/dispatch/map").await.unwrap();
    assert_eq!(
        page.headers()["content-security-policy"].to_str().unwrap(),
        platform::web::CONTENT_SECURITY_POLICY
    );
    assert!(text(page).await.contains("No map tiles are configured"));

    // The admin sets it: the map page lets the tiles in, and nothing else changes.
    let r = admin
        .post_form(
            "/settings/dispatch/map",
            &[
                ("csrf_token", &csrf),
                ("version", &version),
                ("tile_url", good),
                ("tile_attribution", "<b>Example</b> maps"),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", text(r).await);
    let settings = text(admin.get("/settings/dispatch").await.unwrap()).await;
    assert!(settings.contains("value=\"https://{s}.tile.example.org/{z}/{x}/{y}.png\""));
    assert!(settings.contains("&#60;b&#62;Example&#60;/b&#62; maps"));
    let page = d.get("/dispatch/map").await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("img-src 'self' data: https://*.tile.example.org;"),
        "{csp}"
    );
    assert_eq!(
        csp.replace(" https://*.tile.example.org", ""),
        platform::web::CONTENT_SECURITY_POLICY
    );
    assert!(!text(page).await.contains("No map tiles are configured"));
    let (_, data) = map_data(&mut d, "").await;
    assert_eq!(data["tiles"]["url"], good);
    assert_eq!(data["tiles"]["attribution"], "<b>Example</b> maps");
    // Other pages keep the platform's policy.
    let board = d.get("/dispatch").await.unwrap();
    assert_eq!(
        board.headers()["content-security-policy"].to_str().unwrap(),
        platform::web::CONTENT_SECURITY_POLICY
    );
    // Audited like the other settings.
    let audit = text(admin.get("/settings/audit").await.unwrap()).await;
    assert!(audit.contains("dispatch:map"), "{audit}");

    // Emptied: no tiles, no extra source.
    let version = version_of(&text(admin.get("/settings/dispatch").await.unwrap()).await);
    let r = admin
        .post_form(
            "/settings/dispatch/map",
            &[
                ("csrf_token", &csrf),
                ("version", &version),
                ("tile_url", ""),
                ("tile_attribution", ""),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = d.get("/dispatch/map").await.unwrap();
    assert_eq!(
        page.headers()["content-security-policy"].to_str().unwrap(),
        platform::web::CONTENT_SECURITY_POLICY
    );
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}
