//! Settings (admins only, audited) and feedback (any page; admins list and export it).

use crate::harness::start;

#[tokio::test]
async fn only_admins_change_settings_and_the_rules_apply() {
    let env = start().await;
    let mut tech = env.signed_in("technician").await;
    assert_eq!(tech.get("/settings/techdesk").await.status(), 403);
    let resp = tech
        .post(
            "/settings/techdesk",
            &[
                ("projects", "FS"),
                ("rounding", "up"),
                ("step_minutes", "15"),
                ("max_minutes", "60"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 403);

    let mut admin = env.signed_in("admin").await;
    let page = admin.text("/settings/techdesk").await;
    assert!(page.contains("id=\"techdesk-settings\""));
    let resp = admin
        .post(
            "/settings/techdesk",
            &[
                ("projects", "fs; it"),
                ("rounding", "sideways"),
                ("step_minutes", "15"),
                ("max_minutes", "60"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let body = resp.text().await.unwrap();
    assert!(body.contains("id=\"projects-error\"") && body.contains("id=\"rounding-error\""));
    let resp = admin
        .post(
            "/settings/techdesk",
            &[
                ("projects", "FS, IT"),
                ("default_visibility", "public"),
                ("rounding", "up"),
                ("step_minutes", "15"),
                ("max_minutes", "60"),
                ("require_comment", "on"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);

    // The technician's forms follow the rules now.
    let key = env.open_issues_of(&env.user("technician").account_id)[0].clone();
    let page = tech.text(&format!("/techdesk/tickets/{key}")).await;
    assert!(
        page.contains("value=\"public\" checked"),
        "public by default"
    );
    assert!(page.contains("rounded up to 15 minutes"));
    let resp = tech
        .post(
            &format!("/techdesk/tickets/{key}/worklog"),
            &[("duration", "2h")],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let body = resp.text().await.unwrap();
    assert!(body.contains("id=\"duration-error\"") && body.contains("id=\"comment-error\""));
    let before = env.sim.state.read().issue(&key).unwrap().worklogs.len();
    let resp = tech
        .post(
            &format!("/techdesk/tickets/{key}/worklog"),
            &[("duration", "10m"), ("worklog_comment", "checked")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let m = env.sim.state.read();
    assert_eq!(
        m.issue(&key).unwrap().worklogs[before].time_spent_seconds,
        900
    );
}

#[tokio::test]
async fn feedback_is_stored_and_exported_for_admins() {
    let env = start().await;
    let mut tech = env.signed_in("technician").await;
    let resp = tech
        .post(
            "/techdesk/feedback",
            &[
                ("rating", "2"),
                ("text", "=HYPERLINK(\"http://x\") slow queue"),
                ("page", "/techdesk"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let resp = tech
        .post(
            "/techdesk/feedback",
            &[("rating", "9"), ("text", ""), ("page", "/techdesk")],
        )
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(tech.get("/settings/techdesk/feedback").await.status(), 403);
    let mut admin = env.signed_in("admin").await;
    let resp = admin
        .post(
            "/techdesk/feedback",
            &[
                ("rating", "5"),
                ("text", "great"),
                ("page", "//evil.example"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(crate::harness::location(&resp), "/techdesk?done=feedback");
    let page = admin.text("/settings/techdesk/feedback").await;
    assert!(page.contains("slow queue") && page.contains("great"));
    let page = admin.text("/settings/techdesk/feedback?rating=2").await;
    assert!(page.contains("slow queue") && !page.contains(">great<"));
    let resp = admin.get("/settings/techdesk/feedback.csv").await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = resp.text().await.unwrap();
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://x\"\") slow queue\""),
        "{csv}"
    );
}

#[tokio::test]
async fn project_admins_set_their_project_only() {
    let env = start().await;
    let mut tech = env.signed_in("technician").await;
    assert_eq!(
        tech.get("/settings/techdesk/projects/FS").await.status(),
        403
    );
    let resp = tech
        .post(
            "/settings/techdesk/projects/FS",
            &[("default_visibility", "public")],
        )
        .await;
    assert_eq!(resp.status(), 403);
    let tech_id = env.user("technician").account_id;
    let fs = env
        .open_issues_of(&tech_id)
        .into_iter()
        .find(|k| k.starts_with("FS-"))
        .unwrap();
    let before = tech.text(&format!("/techdesk/tickets/{fs}")).await;
    assert!(before.contains("<dt>Street address</dt>"));
    assert!(before.contains("value=\"internal\" checked"));
    let mut admin = env.signed_in("admin").await;
    assert_eq!(
        admin
            .get("/settings/techdesk/projects/fs%3B")
            .await
            .status(),
        404
    );
    let resp = admin
        .post(
            "/settings/techdesk/projects/FS",
            &[("default_visibility", "everyone")],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let resp = admin
        .post(
            "/settings/techdesk/projects/FS",
            &[
                ("default_visibility", "public"),
                ("hidden_fields", "customfield_10053"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let page = admin.text("/settings/techdesk/projects/FS").await;
    assert!(page.contains("value=\"public\" selected"));
    // FS tickets now default to public comments and hide the street address.
    let page = tech.text(&format!("/techdesk/tickets/{fs}")).await;
    assert!(page.contains("value=\"public\" checked"));
    assert!(!page.contains("<dt>Street address</dt>"));
    let form = tech.text("/techdesk/requests/new?desk=1&type=1").await;
    assert!(
        form.contains("name=\"f_customfield_10053\""),
        "required fields are never hidden"
    );
}
