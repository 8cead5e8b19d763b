use serde_json::{Value, json};

use super::{AuthAs, client, now, sim, sim_with, user};
use atlassian_sim::{FaultConfig, SimConfig};

fn url(h: &atlassian_sim::SimHandle, path: &str) -> String {
    format!("http://{}{path}", h.addr)
}

fn query_param(location: &str, name: &str) -> Option<String> {
    location
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(String::from))
}

#[tokio::test]
async fn oauth_code_token_refresh_rotation() {
    let h = sim().await;
    let c = client();
    let tech = user(&h, "technician");
    let redirect = "http://127.0.0.1:9/callback";
    let page = c
        .get(url(&h, "/authorize"))
        .query(&[
            ("audience", "api.atlassian.com"),
            ("client_id", "jsmkit-demo"),
            (
                "scope",
                "read:jira-work write:jira-work read:jira-user offline_access",
            ),
            ("redirect_uri", redirect),
            ("state", "xyz"),
            ("response_type", "code"),
            ("prompt", "consent"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("text");
    assert!(html.contains(&tech.email));
    let bad = c
        .get(url(&h, "/authorize"))
        .query(&[
            ("client_id", "jsmkit-demo"),
            ("redirect_uri", "https://evil.example/cb"),
            ("response_type", "code"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), 400);
    let r = c
        .post(url(&h, "/authorize"))
        .form(&[
            ("client_id", "jsmkit-demo"),
            ("redirect_uri", redirect),
            (
                "scope",
                "read:jira-work write:jira-work read:jira-user offline_access",
            ),
            ("state", "xyz"),
            ("response_type", "code"),
            ("account_id", tech.account_id.as_str()),
        ])
        .send()
        .await
        .expect("send");
    assert!(r.status().is_redirection());
    let loc = r.headers()["location"].to_str().expect("loc").to_owned();
    assert!(loc.starts_with(redirect));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("xyz"));
    let code = query_param(&loc, "code").expect("code");
    let tok: Value = c.post(url(&h, "/oauth/token")).json(&json!({"grant_type": "authorization_code", "client_id": "jsmkit-demo", "client_secret": "jsmkit-demo-secret", "code": code, "redirect_uri": redirect}))
        .send().await.expect("send").json().await.expect("json");
    assert_eq!(tok["expires_in"], 3600);
    let access = tok["access_token"].as_str().expect("access").to_owned();
    let refresh1 = tok["refresh_token"].as_str().expect("refresh").to_owned();
    let again = c.post(url(&h, "/oauth/token")).json(&json!({"grant_type": "authorization_code", "client_id": "jsmkit-demo", "client_secret": "jsmkit-demo-secret", "code": code, "redirect_uri": redirect})).send().await.expect("send");
    assert_eq!(again.status(), 403, "codes are single-use");
    let res: Value = c
        .get(url(&h, "/oauth/token/accessible-resources"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(res[0]["id"], json!(h.cloud_id));
    let me: Value = c
        .get(url(&h, "/me"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(me["account_id"], json!(tech.account_id));
    let myself = c
        .get(url(
            &h,
            &format!("/ex/jira/{}/rest/api/3/myself", h.cloud_id),
        ))
        .bearer_auth(&access)
        .send()
        .await
        .expect("send");
    assert_eq!(myself.status(), 200);
    let site_bearer = c
        .get(url(&h, "/rest/api/3/myself"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("send");
    assert_eq!(
        site_bearer.status(),
        401,
        "3LO tokens only work through api.atlassian.com"
    );
    let other_cloud = c
        .get(url(
            &h,
            "/ex/jira/00000000-0000-0000-0000-000000000000/rest/api/3/myself",
        ))
        .bearer_auth(&access)
        .send()
        .await
        .expect("send");
    assert_eq!(other_cloud.status(), 404);
    let refresh = |rt: String| {
        c.post(url(&h, "/oauth/token")).json(&json!({"grant_type": "refresh_token", "client_id": "jsmkit-demo", "client_secret": "jsmkit-demo-secret", "refresh_token": rt})).send()
    };
    let r2: Value = refresh(refresh1.clone())
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let refresh2 = r2["refresh_token"].as_str().expect("rotated").to_owned();
    assert_ne!(refresh1, refresh2);
    let reuse = refresh(refresh1).await.expect("send");
    assert_eq!(reuse.status(), 403);
    let e: Value = reuse.json().await.expect("json");
    assert_eq!(e["error"], "invalid_grant");
    let new_access = r2["access_token"].as_str().expect("access").to_owned();
    h.clock().advance(jiff::SignedDuration::from_secs(3601));
    let expired = c
        .get(url(
            &h,
            &format!("/ex/jira/{}/rest/api/3/myself", h.cloud_id),
        ))
        .bearer_auth(&new_access)
        .send()
        .await
        .expect("send");
    assert_eq!(expired.status(), 401);
    assert!(refresh(refresh2).await.expect("send").status().is_success());
}

#[tokio::test]
async fn faults_are_injected_as_configured() {
    let cfg = FaultConfig {
        seed: 3,
        rate_limit_every_n: Some(3),
        rate_limit_burst: 2,
        retry_after_secs: 7,
        ..FaultConfig::default()
    };
    let h = sim_with(SimConfig {
        seed: 7,
        now: Some(now()),
        faults: cfg,
        ..SimConfig::default()
    })
    .await;
    let c = client();
    let admin = user(&h, "admin");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = c
            .get(url(&h, "/rest/api/3/myself"))
            .auth(&admin)
            .send()
            .await
            .expect("send");
        if r.status() == 429 {
            assert_eq!(r.headers()["retry-after"], "7");
            assert!(r.headers().contains_key("x-ratelimit-reset"));
        }
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 429, 429, 200, 429]);
    // Reconfigure through the admin endpoint: every 2nd request is a 5xx.
    let body = json!({"errorEveryN": 2, "errorStatuses": [503]});
    assert_eq!(
        c.post(url(&h, "/sim/faults"))
            .json(&body)
            .send()
            .await
            .expect("send")
            .status(),
        401
    );
    let r = c
        .post(url(&h, "/sim/faults"))
        .bearer_auth(&h.admin_token)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let mut s2 = Vec::new();
    for _ in 0..4 {
        s2.push(
            c.get(url(&h, "/rest/api/3/myself"))
                .auth(&admin)
                .send()
                .await
                .expect("send")
                .status()
                .as_u16(),
        );
    }
    assert_eq!(s2, vec![200, 503, 200, 503]);
    // Truncated bodies fail to decode; held responses trip client timeouts.
    h.faults().set(FaultConfig {
        truncate_every_n: Some(1),
        ..FaultConfig::default()
    });
    let r = c
        .get(url(&h, "/rest/api/3/field"))
        .auth(&admin)
        .send()
        .await;
    let failed = match r {
        Err(_) => true,
        Ok(resp) => resp.json::<Value>().await.is_err(),
    };
    assert!(failed);
    h.faults().set(FaultConfig {
        hold_every_n: Some(1),
        hold_ms: 2000,
        ..FaultConfig::default()
    });
    let r = c
        .get(url(&h, "/rest/api/3/myself"))
        .auth(&admin)
        .timeout(std::time::Duration::from_millis(300))
        .send()
        .await;
    assert!(r.is_err_and(|e| e.is_timeout()));
    assert!(h.faults().injected() >= 1);
}
