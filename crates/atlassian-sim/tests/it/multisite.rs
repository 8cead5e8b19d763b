//! Several sites in one simulator: one account system and API gateway in front of two
//! independently seeded sites. Tokens reach exactly the sites of their account, the data of
//! the sites differ, accessible-resources lists the right sites, basic auth works at each
//! site's own URL, and every REST exchange validates against `shared/specs`.

use std::collections::BTreeSet;

use atlassian_sim::contract::{ContractRecorder, Spec, Strictness};
use atlassian_sim::{ExtraSite, SimConfig, SimHandle, UserSummary};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::contract_client::specs_dir;
use crate::core::{AuthAs, client, now};

/// A name that needs escaping wherever it is shown.
const EXTRA_NAME: &str = "Mersey <Facilities> & \"Co\"";
const EXTRA_SLUG: &str = "mersey-facilities-co";
const REDIRECT: &str = "http://127.0.0.1:9/callback";
const SCOPES: &str = "read:jira-work write:jira-work read:jira-user read:servicedesk-request \
                      read:cmdb-schema:jira read:cmdb-object:jira";

/// The four documents, accepting the gateway prefix and the extra site's own URL prefix.
fn recorder() -> ContractRecorder {
    let dir = specs_dir();
    let load = |name: &str| {
        Spec::load(dir.join(name))
            .unwrap_or_else(|e| panic!("loading {name}: {e}"))
            .with_strip_prefix("/ex/jira/{cloudId}")
            .with_strip_prefix("/site/{siteSlug}")
            .with_path_alias("/rest/api/latest", "/rest/api/3")
            .with_strictness(Strictness::NoUnknownProperties)
    };
    ContractRecorder::new(vec![
        load("jira-platform-v3.subset.openapi.json"),
        load("jira-platform-v3.openapi.json"),
        load("jsm-servicedesk.openapi.json"),
        load("jsm-assets.openapi.json"),
    ])
}

/// Every exchange validated, except responses with one of the `(path suffix, status)` pairs
/// (checked by hand in the test, and undocumented in Atlassian's documents). Fails if
/// nothing was recorded at all.
fn assert_valid_except(rec: &ContractRecorder, undocumented: &[(&str, u16)]) {
    assert!(rec.exchanges().len() >= 5, "the recorder saw the exchanges");
    let left: Vec<_> = rec
        .violations()
        .into_iter()
        .filter(|v| {
            !undocumented
                .iter()
                .any(|(suffix, status)| v.status == *status && v.path.ends_with(suffix))
        })
        .collect();
    assert!(left.is_empty(), "{left:#?}");
}

/// Seed 7 (as the other tests) plus one extra site, seeded with the same number on purpose
/// (its data must still differ).
async fn two_sites(recorder: &ContractRecorder) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let cfg = SimConfig {
        seed: 7,
        now: Some(now()),
        contract: Some(recorder.clone()),
        extra_sites: vec![ExtraSite::new(EXTRA_NAME, 7)],
        ..SimConfig::default()
    };
    atlassian_sim::start(listener, cfg).await.expect("start")
}

fn by_role(users: &[UserSummary], role: &str) -> UserSummary {
    users
        .iter()
        .find(|u| u.role == role)
        .cloned()
        .unwrap_or_else(|| panic!("no {role}"))
}

/// An access token for `account_id` through the consent form and the token endpoint.
async fn token(h: &SimHandle, account_id: &str) -> String {
    let c = client();
    let r = c
        .post(format!("{}/authorize", h.base_url))
        .form(&[
            ("client_id", "jsmkit-demo"),
            ("redirect_uri", REDIRECT),
            ("scope", SCOPES),
            ("state", "s"),
            ("response_type", "code"),
            ("account_id", account_id),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "consent for {account_id}"
    );
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let code = url::Url::parse(&location)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("code")
        .1
        .into_owned();
    let tok: Value = c
        .post(format!("{}/oauth/token", h.base_url))
        .json(&json!({"grant_type": "authorization_code", "client_id": "jsmkit-demo",
                      "client_secret": "jsmkit-demo-secret", "code": code, "redirect_uri": REDIRECT}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    tok["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

async fn get(h: &SimHandle, path: &str, bearer: &str) -> (StatusCode, Value) {
    let r = client()
        .get(format!("{}{path}", h.base_url))
        .bearer_auth(bearer)
        .send()
        .await
        .expect("send");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn sites_of(h: &SimHandle, bearer: &str) -> Vec<(String, String, String)> {
    let (status, body) = get(h, "/oauth/token/accessible-resources", bearer).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .expect("array")
        .iter()
        .map(|s| {
            (
                s["id"].as_str().expect("id").to_owned(),
                s["name"].as_str().expect("name").to_owned(),
                s["url"].as_str().expect("url").to_owned(),
            )
        })
        .collect()
}

/// `(key, summary)` of the first FS issues, as `bearer` sees them on `cloud_id`.
async fn fs_issues(h: &SimHandle, cloud_id: &str, bearer: &str) -> Vec<(String, String)> {
    let r = client()
        .post(format!(
            "{}/ex/jira/{cloud_id}/rest/api/3/search/jql",
            h.base_url
        ))
        .bearer_auth(bearer)
        .json(&json!({"jql": "project = FS ORDER BY key ASC", "fields": ["summary"], "maxResults": 20}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("json");
    let issues: Vec<(String, String)> = body["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| {
            (
                i["key"].as_str().expect("key").to_owned(),
                i["fields"]["summary"].as_str().expect("summary").to_owned(),
            )
        })
        .collect();
    assert!(issues.len() >= 5, "{body}");
    issues
}

#[tokio::test]
async fn a_two_site_account_reaches_both_sites_and_their_data_differ() {
    let rec = recorder();
    let h = two_sites(&rec).await;
    assert_eq!(h.extra_sites.len(), 1);
    let b = &h.extra_sites[0];
    assert_ne!(b.cloud_id, h.cloud_id);
    assert_eq!(b.name, EXTRA_NAME);
    assert_eq!(b.base_url, format!("{}/site/{EXTRA_SLUG}", h.base_url));
    let admin = by_role(&h.users_summary(), "admin");
    let admin_b = by_role(&b.users_summary(), "admin");
    assert_eq!(
        admin, admin_b,
        "the same account (id, email, API token) on both"
    );
    let t = token(&h, &admin.account_id).await;

    let sites = sites_of(&h, &t).await;
    assert_eq!(
        sites,
        vec![
            (
                h.cloud_id.clone(),
                "irwell-field".to_owned(),
                h.base_url.clone()
            ),
            (
                b.cloud_id.clone(),
                EXTRA_NAME.to_owned(),
                b.base_url.clone()
            ),
        ]
    );
    for cid in [&h.cloud_id, &b.cloud_id] {
        let (status, me) = get(&h, &format!("/ex/jira/{cid}/rest/api/3/myself"), &t).await;
        assert_eq!(status, StatusCode::OK, "{cid}: {me}");
        assert_eq!(me["accountId"], admin.account_id.as_str());
    }

    // Independent data: other issues, other staff, another Assets workspace.
    let issues_a = fs_issues(&h, &h.cloud_id, &t).await;
    let issues_b = fs_issues(&h, &b.cloud_id, &t).await;
    assert_ne!(issues_a, issues_b);
    let emails = |users: Vec<UserSummary>| -> BTreeSet<String> {
        users.into_iter().map(|u| u.email).collect()
    };
    let shared: Vec<String> = emails(h.users_summary())
        .intersection(&emails(b.users_summary()))
        .cloned()
        .collect();
    assert_eq!(
        shared,
        vec![admin.email.clone()],
        "only the admin is in both"
    );
    let mut workspaces = Vec::new();
    for cid in [&h.cloud_id, &b.cloud_id] {
        let (status, ws) = get(
            &h,
            &format!("/ex/jira/{cid}/rest/servicedeskapi/assets/workspace"),
            &t,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{ws}");
        let id = ws["values"][0]["workspaceId"]
            .as_str()
            .expect("workspaceId")
            .to_owned();
        let (status, schemas) = get(
            &h,
            &format!("/ex/jira/{cid}/jsm/assets/workspace/{id}/v1/objectschema/list"),
            &t,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{schemas}");
        // The workspace path alone (basic auth, the same API token on both sites) also
        // finds its site.
        let r = client()
            .get(format!(
                "{}/jsm/assets/workspace/{id}/v1/objectschema/list",
                h.base_url
            ))
            .auth(&admin)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.expect("json"), schemas);
        workspaces.push(id);
    }
    assert_ne!(workspaces[0], workspaces[1]);
    assert_eq!(workspaces[1], b.workspace_id);
    // A site's cloudId with the other site's workspace: no such workspace there.
    let (status, _) = get(
        &h,
        &format!(
            "/ex/jira/{}/jsm/assets/workspace/{}/v1/objectschema/list",
            h.cloud_id, workspaces[1]
        ),
        &t,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A write on B stays on B.
    let comments = |cid: String| {
        let h = &h;
        let t = t.clone();
        async move {
            let (status, body) = get(
                h,
                &format!("/ex/jira/{cid}/rest/api/3/issue/FS-1/comment"),
                &t,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["total"].as_u64().expect("total")
        }
    };
    let (a_before, b_before) = (
        comments(h.cloud_id.clone()).await,
        comments(b.cloud_id.clone()).await,
    );
    let r = client()
        .post(format!(
            "{}/ex/jira/{}/rest/api/3/issue/FS-1/comment",
            h.base_url, b.cloud_id
        ))
        .bearer_auth(&t)
        .json(&json!({"body": {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "only on B"}]}]}}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(comments(h.cloud_id.clone()).await, a_before);
    assert_eq!(comments(b.cloud_id.clone()).await, b_before + 1);
    // The Assets document lists no 404 for the schema list (the wrong-workspace check).
    assert_valid_except(&rec, &[("/objectschema/list", 404)]);
}

#[tokio::test]
async fn a_one_site_account_is_refused_on_the_other_site() {
    let rec = recorder();
    let h = two_sites(&rec).await;
    let b = &h.extra_sites[0];
    let tech_a = by_role(&h.users_summary(), "technician");
    let tech_b = by_role(&b.users_summary(), "technician");
    assert!(tech_b.email.ends_with(&format!("@{EXTRA_SLUG}.example")));
    assert!(b.state.read().user(&tech_a.account_id).is_none());
    assert!(h.state.read().user(&tech_b.account_id).is_none());

    let ws_a = h.state.read().site.assets_workspace_id.clone();
    let ws_b = b.workspace_id.clone();
    for (me, mine, other, mine_ws, other_ws) in [
        (&tech_a, &h.cloud_id, &b.cloud_id, &ws_a, &ws_b),
        (&tech_b, &b.cloud_id, &h.cloud_id, &ws_b, &ws_a),
    ] {
        let t = token(&h, &me.account_id).await;
        let sites = sites_of(&h, &t).await;
        assert_eq!(sites.len(), 1, "{sites:?}");
        assert_eq!(&sites[0].0, mine);
        let (status, body) = get(&h, &format!("/ex/jira/{mine}/rest/api/3/myself"), &t).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["accountId"], me.account_id.as_str());
        for path in [
            format!("/ex/jira/{other}/rest/api/3/myself"),
            format!("/ex/jira/{other}/rest/api/3/issue/FS-1"),
            format!("/ex/jira/{other}/rest/servicedeskapi/servicedesk"),
            format!("/ex/jira/{other}/jsm/assets/workspace/{other_ws}/v1/objectschema/list"),
        ] {
            let r = client()
                .get(format!("{}{path}", h.base_url))
                .bearer_auth(&t)
                .send()
                .await
                .expect("send");
            assert_eq!(
                r.status(),
                StatusCode::UNAUTHORIZED,
                "{path} as {}",
                me.email
            );
            assert!(
                r.headers()
                    .get("www-authenticate")
                    .is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("Bearer"))),
                "{path}"
            );
        }
        // Basic auth at the other site's Assets workspace: not an account of that site.
        for (ws, expected) in [
            (mine_ws.as_str(), StatusCode::OK),
            (other_ws.as_str(), StatusCode::UNAUTHORIZED),
        ] {
            let r = client()
                .get(format!(
                    "{}/jsm/assets/workspace/{ws}/v1/objectschema/list",
                    h.base_url
                ))
                .auth(me)
                .send()
                .await
                .expect("send");
            assert_eq!(r.status(), expected, "{ws} as {}", me.email);
        }
        // Writes are refused the same way.
        let r = client()
            .post(format!(
                "{}/ex/jira/{other}/rest/api/3/issue/FS-1/comment",
                h.base_url
            ))
            .bearer_auth(&t)
            .json(&json!({"body": {"type": "doc", "version": 1, "content": []}}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        // The profile works for either account.
        let (status, profile) = get(&h, "/me", &t).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(profile["email"], me.email.as_str());
    }
    // An unknown cloudId is no site at all.
    let admin = by_role(&h.users_summary(), "admin");
    let t = token(&h, &admin.account_id).await;
    let (status, _) = get(
        &h,
        "/ex/jira/00000000-0000-4000-8000-000000000000/rest/api/3/myself",
        &t,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // JSM's 401 and the unknown-cloudId 404 are the simulator's existing answers, whose
    // bodies the documents do not describe; they are not what this test is about.
    assert_valid_except(
        &rec,
        &[("/rest/servicedeskapi/servicedesk", 401), ("/myself", 404)],
    );
}

#[tokio::test]
async fn basic_auth_works_at_each_sites_own_url() {
    let rec = recorder();
    let h = two_sites(&rec).await;
    let b = &h.extra_sites[0];
    let admin = by_role(&h.users_summary(), "admin");
    let tech_a = by_role(&h.users_summary(), "technician");
    let tech_b = by_role(&b.users_summary(), "technician");
    let myself = |site_url: String, who: UserSummary| async move {
        let r = client()
            .get(format!("{site_url}/rest/api/3/myself"))
            .auth(&who)
            .send()
            .await
            .expect("send");
        let status = r.status();
        (status, r.json::<Value>().await.unwrap_or(Value::Null))
    };
    for (site_url, who, expected) in [
        (h.base_url.clone(), &admin, StatusCode::OK),
        (b.base_url.clone(), &admin, StatusCode::OK),
        (h.base_url.clone(), &tech_a, StatusCode::OK),
        (b.base_url.clone(), &tech_b, StatusCode::OK),
        (h.base_url.clone(), &tech_b, StatusCode::UNAUTHORIZED),
        (b.base_url.clone(), &tech_a, StatusCode::UNAUTHORIZED),
    ] {
        let (status, body) = myself(site_url.clone(), who.clone()).await;
        assert_eq!(status, expected, "{} at {site_url}: {body}", who.email);
        if status == StatusCode::OK {
            assert_eq!(body["accountId"], who.account_id.as_str());
            assert_eq!(body["emailAddress"], who.email.as_str());
        }
    }
    // Issue links point at the site's own URL.
    let r = client()
        .get(format!("{}/rest/api/3/issue/FS-1", b.base_url))
        .auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let issue: Value = r.json().await.expect("json");
    assert!(
        issue["self"]
            .as_str()
            .is_some_and(|s| s.starts_with(&b.base_url)),
        "{}",
        issue["self"]
    );
    // The gateway shape is not served at a site's own URL, and unknown site paths are 404.
    let r = client()
        .get(format!(
            "{}/ex/jira/{}/rest/api/3/myself",
            b.base_url, b.cloud_id
        ))
        .auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = client()
        .get(format!("{}/site/nowhere/rest/api/3/myself", h.base_url))
        .auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let exchanges = rec.exchanges().len();
    assert!(exchanges >= 8, "{exchanges} exchanges recorded");
    // The two 404s above are for paths no document has.
    assert_valid_except(&rec, &[("/myself", 404)]);
}

#[tokio::test]
async fn the_consent_page_offers_every_account_once_and_sites_are_off_by_default() {
    let rec = recorder();
    let h = two_sites(&rec).await;
    let b = &h.extra_sites[0];
    let page = client()
        .get(format!("{}/authorize", h.base_url))
        .query(&[
            ("client_id", "jsmkit-demo"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", SCOPES),
        ])
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    let admin = by_role(&h.users_summary(), "admin");
    assert_eq!(
        page.matches(&format!("data-email=\"{}\"", admin.email))
            .count(),
        1
    );
    for u in [
        by_role(&h.users_summary(), "technician"),
        by_role(&b.users_summary(), "technician"),
        by_role(&b.users_summary(), "viewer"),
    ] {
        assert!(
            page.contains(&format!("data-email=\"{}\"", u.email)),
            "{}",
            u.email
        );
    }

    // Without extra sites: one site, as before.
    let plain = crate::core::sim().await;
    assert!(plain.extra_sites.is_empty());
    let t = token(&plain, &by_role(&plain.users_summary(), "admin").account_id).await;
    assert_eq!(sites_of(&plain, &t).await.len(), 1);
    let r = client()
        .get(format!(
            "{}/site/{EXTRA_SLUG}/rest/api/3/serverInfo",
            plain.base_url
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Bad extra-site names stop the start with a message naming them.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let cfg = SimConfig {
        extra_sites: vec![ExtraSite::new("dee", 2), ExtraSite::new("DEE", 3)],
        ..SimConfig::default()
    };
    let err = atlassian_sim::start(listener, cfg)
        .await
        .err()
        .expect("duplicate names refused");
    assert!(err.to_string().contains("DEE"), "{err}");
}
