use serde_json::{Value, json};

use super::{AuthAs, client, now, sim, sim_with, user};
use atlassian_sim::SimConfig;

fn url(h: &atlassian_sim::SimHandle, path: &str) -> String {
    format!("http://{}{path}", h.addr)
}

#[tokio::test]
async fn seeding_is_deterministic() {
    let cfg = || SimConfig {
        seed: 42,
        now: Some(now()),
        base_url: Some("http://sim.test".into()),
        ..SimConfig::default()
    };
    let (a, b) = (sim_with(cfg()).await, sim_with(cfg()).await);
    assert_eq!(
        serde_json::to_string(&a.users_summary()).ok(),
        serde_json::to_string(&b.users_summary()).ok()
    );
    let admin = user(&a, "admin");
    let c = client();
    let q = json!({"jql": "project = FS ORDER BY key", "fields": ["*all"], "maxResults": 20, "expand": "changelog"});
    let pa: Value = c
        .post(url(&a, "/rest/api/3/search/jql"))
        .auth(&admin)
        .json(&q)
        .send()
        .await
        .expect("a")
        .json()
        .await
        .expect("json");
    let pb: Value = c
        .post(url(&b, "/rest/api/3/search/jql"))
        .auth(&admin)
        .json(&q)
        .send()
        .await
        .expect("b")
        .json()
        .await
        .expect("json");
    assert_eq!(pa, pb);
    assert_eq!(pa["issues"].as_array().map(Vec::len), Some(20));
    let other = sim_with(SimConfig {
        seed: 43,
        now: Some(now()),
        ..SimConfig::default()
    })
    .await;
    assert_ne!(a.users_summary()[1].email, other.users_summary()[1].email);
    let roles: Vec<String> = a.users_summary().iter().map(|u| u.role.clone()).collect();
    assert_eq!(roles.iter().filter(|r| *r == "technician").count(), 25);
    assert_eq!(roles.iter().filter(|r| *r == "dispatcher").count(), 3);
}

#[tokio::test]
async fn routes_answer_authorised_and_refuse_unauthorised() {
    let h = sim().await;
    let admin = user(&h, "admin");
    let c = client();
    let gets = [
        "/rest/api/3/search/jql?jql=project%3DFS&maxResults=2",
        "/rest/api/3/issue/FS-1",
        "/rest/api/3/issue/FS-1/changelog",
        "/rest/api/3/issue/FS-1/transitions",
        "/rest/api/3/issue/FS-1/comment",
        "/rest/api/3/issue/FS-1/worklog",
        "/rest/api/3/myself",
        &format!("/rest/api/3/user?accountId={}", admin.account_id),
        "/rest/api/3/user/search?query=a",
        "/rest/api/3/user/assignable/search?project=FS",
        "/rest/api/3/group/member?groupname=technicians",
        "/rest/api/3/project/search",
        "/rest/api/3/project/FS",
        "/rest/api/3/project/FS/statuses",
        "/rest/api/3/statuses/search",
        "/rest/api/3/field",
        "/rest/api/3/mypermissions?projectKey=FS&permissions=BROWSE_PROJECTS",
        "/rest/servicedeskapi/servicedesk",
        "/rest/servicedeskapi/servicedesk/1/requesttype",
        "/rest/servicedeskapi/servicedesk/1/requesttype/1/field",
        "/rest/servicedeskapi/request/FS-1",
        "/rest/servicedeskapi/request/FS-1/comment",
        "/rest/servicedeskapi/assets/workspace",
    ];
    for p in gets {
        let ok = c.get(url(&h, p)).auth(&admin).send().await.expect("send");
        assert_eq!(ok.status(), 200, "{p}");
        let no = c.get(url(&h, p)).send().await.expect("send");
        assert_eq!(no.status(), 401, "{p}");
        assert!(no.headers().contains_key("www-authenticate"), "{p}");
        let wrong = c
            .get(url(&h, p))
            .basic_auth(&admin.email, Some("nope"))
            .send()
            .await
            .expect("send");
        assert_eq!(wrong.status(), 401, "{p}");
    }
    let posts = [
        (
            "/rest/api/3/search/approximate-count",
            json!({"jql": "project = FS"}),
        ),
        (
            "/rest/api/3/issue/bulkfetch",
            json!({"issueIdsOrKeys": ["FS-1", "FS-2"]}),
        ),
        (
            "/rest/api/3/changelog/bulkfetch",
            json!({"issueIdsOrKeys": ["FS-1"]}),
        ),
        (
            "/rest/api/3/permissions/check",
            json!({"projectPermissions": [{"permissions": ["EDIT_ISSUES"], "projects": [10000]}]}),
        ),
    ];
    for (p, body) in posts {
        assert_eq!(
            c.post(url(&h, p))
                .auth(&admin)
                .json(&body)
                .send()
                .await
                .expect("send")
                .status(),
            200,
            "{p}"
        );
        assert_eq!(
            c.post(url(&h, p))
                .json(&body)
                .send()
                .await
                .expect("send")
                .status(),
            401,
            "{p}"
        );
    }
    let si = c
        .get(url(&h, "/rest/api/3/serverInfo"))
        .send()
        .await
        .expect("send");
    assert_eq!(si.status(), 200);
    // Gateway shape refuses basic auth, unknown cloud ids are 404.
    let gw = c
        .get(url(
            &h,
            &format!("/ex/jira/{}/rest/api/3/myself", h.cloud_id),
        ))
        .auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(gw.status(), 401);
    let customer = user(&h, "customer");
    let hidden = c
        .get(url(&h, "/rest/api/3/issue/FS-1"))
        .auth(&customer)
        .send()
        .await
        .expect("send");
    assert_eq!(hidden.status(), 404);
    let body: Value = hidden.json().await.expect("json");
    assert_eq!(
        body["errorMessages"][0],
        "Issue does not exist or you do not have permission to see it."
    );
    let viewer = user(&h, "viewer");
    let put = c
        .put(url(&h, "/rest/api/3/issue/FS-1"))
        .auth(&viewer)
        .json(&json!({"fields": {"summary": "x"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(put.status(), 403);
}

#[tokio::test]
async fn jql_paging_is_complete_and_tokens_are_tamper_proof() {
    let h = sim().await;
    let admin = user(&h, "admin");
    let c = client();
    let jql = "project in (FS, FAC, IT) ORDER BY key ASC";
    let count: Value = c
        .post(url(&h, "/rest/api/3/search/approximate-count"))
        .auth(&admin)
        .json(&json!({"jql": jql}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let total = count["count"].as_u64().expect("count") as usize;
    assert_eq!(total, 300);
    let mut token: Option<String> = None;
    let mut keys = Vec::new();
    let mut first_token = None;
    loop {
        let mut body = json!({"jql": jql, "maxResults": 37, "fields": ["summary", "status"]});
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let page: Value = c
            .post(url(&h, "/rest/api/3/search/jql"))
            .auth(&admin)
            .json(&body)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        for i in page["issues"].as_array().expect("issues") {
            keys.push(i["key"].as_str().expect("key").to_owned());
            assert!(i["fields"]["summary"].is_string());
        }
        if page["isLast"] == json!(true) {
            assert!(page.get("nextPageToken").is_none());
            break;
        }
        token = page["nextPageToken"].as_str().map(String::from);
        first_token.get_or_insert(token.clone());
    }
    assert_eq!(keys.len(), total);
    let mut dedup = keys.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), total);
    let t = first_token.flatten().expect("token");
    let mut tampered = t.clone();
    tampered.replace_range(0..1, if &t[0..1] == "A" { "B" } else { "A" });
    let r = c
        .post(url(&h, "/rest/api/3/search/jql"))
        .auth(&admin)
        .json(&json!({"jql": jql, "nextPageToken": tampered}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let r = c
        .post(url(&h, "/rest/api/3/search/jql"))
        .auth(&admin)
        .json(&json!({"jql": "project = IT", "nextPageToken": t}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400, "token of another query");
    for bad in [
        "project = ",
        "nosuchfield = 1",
        "project = NOPE",
        "status > Open",
    ] {
        let r = c
            .get(url(&h, "/rest/api/3/search/jql"))
            .query(&[("jql", bad)])
            .auth(&admin)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 400, "{bad}");
        let v: Value = r.json().await.expect("json");
        assert!(v["errorMessages"][0].is_string(), "{bad}");
    }
    // Ids-only pages may be large; field pages are capped at 100.
    let big: Value = c
        .post(url(&h, "/rest/api/3/search/jql"))
        .auth(&admin)
        .json(&json!({"jql": jql, "maxResults": 5000}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(big["issues"].as_array().map(Vec::len), Some(300));
    let capped: Value = c
        .post(url(&h, "/rest/api/3/search/jql"))
        .auth(&admin)
        .json(&json!({"jql": jql, "maxResults": 5000, "fields": ["summary"]}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(capped["issues"].as_array().map(Vec::len), Some(100));
    // Today's dispatch tickets exist with changelogs.
    let today: Value = c.post(url(&h, "/rest/api/3/search/jql")).auth(&admin)
        .json(&json!({"jql": "project = FS AND status = \"On Site\" AND updated >= startOfDay()", "fields": ["status", "assignee"]})).send().await.expect("send").json().await.expect("json");
    assert!(!today["issues"].as_array().expect("issues").is_empty());
}

#[tokio::test]
async fn transitions_changelog_comments_worklogs() {
    let h = sim().await;
    let c = client();
    let disp = user(&h, "dispatcher");
    let tech = user(&h, "technician");
    let page: Value = c.post(url(&h, "/rest/api/3/search/jql")).auth(&disp)
        .json(&json!({"jql": "project = FS AND status = \"To Dispatch\" ORDER BY key", "maxResults": 1, "fields": ["status"]})).send().await.expect("send").json().await.expect("json");
    let key = page["issues"][0]["key"].as_str().expect("key").to_owned();
    let tr: Value = c
        .get(url(&h, &format!("/rest/api/3/issue/{key}/transitions")))
        .auth(&disp)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = tr["transitions"]
        .as_array()
        .expect("t")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Assign to tech"]);
    let bad = c
        .post(url(&h, &format!("/rest/api/3/issue/{key}/transitions")))
        .auth(&disp)
        .json(&json!({"transition": {"id": "31"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), 400);
    let r = c
        .put(url(&h, &format!("/rest/api/3/issue/{key}/assignee")))
        .auth(&disp)
        .json(&json!({"accountId": tech.account_id}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
    let r = c
        .post(url(&h, &format!("/rest/api/3/issue/{key}/transitions")))
        .auth(&disp)
        .json(&json!({"transition": {"id": "11"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
    h.clock().advance(jiff::SignedDuration::from_mins(20));
    for id in ["21", "31"] {
        let r = c
            .post(url(&h, &format!("/rest/api/3/issue/{key}/transitions")))
            .auth(&tech)
            .json(&json!({"transition": {"id": id}}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 204);
    }
    let missing = c
        .post(url(&h, &format!("/rest/api/3/issue/{key}/transitions")))
        .auth(&tech)
        .json(&json!({"transition": {"id": "51"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(missing.status(), 400, "resolution required");
    let r = c
        .post(url(&h, &format!("/rest/api/3/issue/{key}/transitions")))
        .auth(&tech)
        .json(&json!({"transition": {"id": "51"}, "fields": {"resolution": {"name": "Fixed"}}}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
    let log: Value = c
        .get(url(&h, &format!("/rest/api/3/issue/{key}/changelog")))
        .auth(&tech)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let values = log["values"].as_array().expect("values");
    assert_eq!(log["total"], json!(values.len()));
    assert_eq!(log["isLast"], json!(true));
    let first = &values[0];
    assert_eq!(first["author"]["accountId"], json!(disp.account_id));
    assert_eq!(first["items"][0]["field"], "assignee");
    assert_eq!(first["created"], "2026-03-10T11:30:00.000+0000");
    let last = values.last().expect("last");
    assert_eq!(last["author"]["accountId"], json!(tech.account_id));
    assert_eq!(last["created"], "2026-03-10T11:50:00.000+0000");
    assert!(
        last["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["field"] == "status" && i["toString"] == "Work Complete")
    );
    // Edit with a custom field, and a bad field.
    let ok = c.put(url(&h, &format!("/rest/api/3/issue/{key}"))).auth(&tech).json(&json!({"fields": {"customfield_10050": {"lat": 53.48, "lng": -2.24}, "labels": ["repeat-visit"]}})).send().await.expect("send");
    assert_eq!(ok.status(), 204);
    let bad = c
        .put(url(&h, &format!("/rest/api/3/issue/{key}")))
        .auth(&tech)
        .json(&json!({"fields": {"customfield_10050": "here", "nope": 1}}))
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), 400);
    let v: Value = bad.json().await.expect("json");
    assert!(v["errors"]["customfield_10050"].is_string() && v["errors"]["nope"].is_string());
    // Internal comment (sd.public.comment) and a public one; the customer sees only public ones.
    let internal = json!({"body": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "internal note"}]}]},
                          "properties": [{"key": "sd.public.comment", "value": {"internal": true}}]});
    let r = c
        .post(url(&h, &format!("/rest/api/3/issue/{key}/comment")))
        .auth(&tech)
        .json(&internal)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let cj: Value = r.json().await.expect("json");
    assert_eq!(cj["jsdPublic"], json!(false));
    let r = c
        .post(url(
            &h,
            &format!("/rest/servicedeskapi/request/{key}/comment"),
        ))
        .auth(&tech)
        .json(&json!({"body": "On my way", "public": true}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let issue: Value = c
        .get(url(&h, &format!("/rest/api/3/issue/{key}?fields=reporter")))
        .auth(&tech)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let reporter_id = issue["fields"]["reporter"]["accountId"]
        .as_str()
        .expect("reporter")
        .to_owned();
    let reporter = h
        .users_summary()
        .into_iter()
        .find(|u| u.account_id == reporter_id)
        .expect("reporter");
    let seen: Value = c
        .get(url(
            &h,
            &format!("/rest/servicedeskapi/request/{key}/comment"),
        ))
        .auth(&reporter)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let bodies: Vec<&str> = seen["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter_map(|v| v["body"].as_str())
        .collect();
    assert!(bodies.contains(&"On my way") && !bodies.contains(&"internal note"));
    // Worklog.
    let r = c
        .post(url(&h, &format!("/rest/api/3/issue/{key}/worklog")))
        .auth(&tech)
        .json(&json!({"timeSpentSeconds": 5400, "started": "2026-03-10T10:00:00.000+0000"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let wl: Value = c
        .get(url(&h, &format!("/rest/api/3/issue/{key}/worklog")))
        .auth(&tech)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(wl["worklogs"].as_array().map(Vec::len), Some(1));
    assert_eq!(wl["worklogs"][0]["timeSpent"], "1h 30m");
}

#[tokio::test]
async fn create_request_validates_then_succeeds() {
    let h = sim().await;
    let c = client();
    let customer = user(&h, "customer");
    let r = c.post(url(&h, "/rest/servicedeskapi/request")).auth(&customer)
        .json(&json!({"serviceDeskId": "1", "requestTypeId": "1", "requestFieldValues": {"summary": "Boiler broken"}})).send().await.expect("send");
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.expect("json");
    assert!(
        e["errorMessage"]
            .as_str()
            .expect("msg")
            .contains("Street address is required")
    );
    assert!(e["i18nErrorMessage"]["i18nKey"].is_string());
    let r = c.post(url(&h, "/rest/servicedeskapi/request")).auth(&customer)
        .json(&json!({"serviceDeskId": "1", "requestTypeId": "1", "requestFieldValues": {"summary": "Boiler broken", "customfield_10053": "12 Deansgate", "customfield_10055": "M3 4LQ", "customfield_10050": "north"}})).send().await.expect("send");
    assert_eq!(r.status(), 400, "bad location type");
    let r = c.post(url(&h, "/rest/servicedeskapi/request")).auth(&customer)
        .json(&json!({"serviceDeskId": "1", "requestTypeId": "1", "requestFieldValues": {"summary": "Boiler broken", "description": "No hot water", "customfield_10053": "12 Deansgate", "customfield_10055": "M3 4LQ", "customfield_10050": {"lat": 53.4794, "lng": -2.2497}, "priority": "2"}})).send().await.expect("send");
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.expect("json");
    assert!(v["issueKey"].as_str().is_some_and(|k| k.starts_with("FS-")));
    assert_eq!(v["currentStatus"]["status"], "To Dispatch");
    let key = v["issueKey"].as_str().expect("key");
    let got = c
        .get(url(&h, &format!("/rest/servicedeskapi/request/{key}")))
        .auth(&customer)
        .send()
        .await
        .expect("send");
    assert_eq!(got.status(), 200);
    let disp = user(&h, "dispatcher");
    let issue: Value = c
        .get(url(&h, &format!("/rest/api/3/issue/{key}")))
        .auth(&disp)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(issue["fields"]["customfield_10050"]["lat"], json!(53.4794));
    assert_eq!(issue["fields"]["priority"]["name"], "High");
    assert_eq!(
        issue["fields"]["customfield_10010"]["requestType"]["name"],
        "Repair visit"
    );
}

#[test]
fn large_scale_generates_quickly() {
    let cfg = SimConfig {
        seed: 5,
        scale: atlassian_sim::Scale::Large,
        now: Some(now()),
        ..SimConfig::default()
    };
    let started = std::time::Instant::now();
    let state = atlassian_sim::server::build_state(&cfg, "http://sim.test");
    let elapsed = started.elapsed();
    let m = state.read();
    assert_eq!(m.issues.len(), 20_000);
    assert_eq!(
        m.users
            .iter()
            .filter(|u| u.role == atlassian_sim::model::DemoRole::Technician)
            .count(),
        200
    );
    eprintln!("large seed took {elapsed:?}");
}
