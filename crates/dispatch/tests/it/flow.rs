//! Set-up by an admin, dispatching by a dispatcher, and what a technician may do.

use atlassian_sim::testkit::Browser;

use crate::env::{Env, start, text};

pub const TO_DISPATCH: &str = "10001";
pub const ASSIGNED: &str = "10002";
const ON_SITE: &str = "10004";

/// The admin sets DispatchDesk up through its settings pages, as a person would.
pub async fn set_up(env: &Env) -> Browser {
    let (mut admin, _) = env.browser_as("admin", 0).await;
    let csrf = admin.csrf_token("/settings/dispatch").await.unwrap();
    let r = admin
        .post_form(
            "/settings/dispatch/projects",
            &[
                ("csrf_token", &csrf),
                ("projects", "FS, FAC"),
                ("board_zone", "Europe/London"),
                ("version", "0"),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", text(r).await);
    let page = text(admin.get("/settings/dispatch").await.unwrap()).await;
    let version = page
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = admin
        .post_form(
            "/settings/dispatch/detect",
            &[("csrf_token", &csrf), ("version", &version)],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", text(r).await);
    let page = text(admin.get("/settings/dispatch").await.unwrap()).await;
    assert!(page.contains("Awaiting Parts"), "statuses detected");
    assert!(
        page.contains("customfield_10050"),
        "location field detected"
    );
    let version = page
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = admin
        .post_form(
            "/settings/dispatch/mapping",
            &[
                ("csrf_token", &csrf),
                ("version", &version),
                ("phase.10001", "planned"),
                ("phase.10002", "assigned"),
                ("phase.10003", "travelling"),
                ("phase.10004", "on_site"),
                ("phase.10005", "paused"),
                ("phase.10006", "done"),
                ("phase.10007", "done"),
                ("lock.travelling", "on"),
                ("lock.on_site", "on"),
                ("lock.paused", "on"),
                ("assign_status", ASSIGNED),
                ("field.location", "customfield_10050"),
                (
                    "field.address",
                    "customfield_10053, customfield_10054, customfield_10055",
                ),
                ("field.skills", "customfield_10070"),
                ("field.scheduled_start", "customfield_10080"),
                ("field.scheduled_end", "customfield_10081"),
                ("field.request_type", "customfield_10010"),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", text(r).await);
    let csrf_t = admin
        .csrf_token("/settings/dispatch/technicians")
        .await
        .unwrap();
    let r = admin
        .post_form(
            "/settings/dispatch/technicians",
            &[
                ("csrf_token", &csrf_t),
                ("kind", "group"),
                ("value", "technicians"),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", text(r).await);
    assert!(
        atlassian_sim::testkit::location(&r)
            .unwrap()
            .contains("n=25")
    );
    for project in ["FS", "FAC"] {
        let csrf_r = admin.csrf_token("/settings/roles").await.unwrap();
        let r = admin
            .post_form(
                "/settings/roles/add",
                &[
                    ("csrf_token", &csrf_r),
                    ("project", project),
                    ("role", "dispatcher"),
                    ("kind", "group"),
                    ("value", "dispatchers"),
                ],
                &[],
            )
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{}", text(r).await);
    }
    admin
}

pub async fn assign(
    b: &mut Browser,
    csrf: &str,
    key: &str,
    to: &str,
    expected: &str,
) -> (u16, String) {
    let r = b
        .post_form(
            "/dispatch/assign",
            &[
                ("csrf_token", csrf),
                ("key", key),
                ("account_id", to),
                ("expected", expected),
            ],
            &[("accept", "application/json")],
        )
        .await
        .unwrap();
    (r.status().as_u16(), text(r).await)
}

#[tokio::test]
async fn dispatcher_assigns_is_refused_on_locks_and_stale_boards() {
    let env = start().await;
    let _admin = set_up(&env).await;
    let (mut d, _) = env.browser_as("dispatcher", 0).await;
    let board = text(d.get("/dispatch").await.unwrap()).await;
    assert!(board.contains("Queue"), "{board}");
    let tech = env.user("technician", 0);
    assert!(
        board.contains(&tech.display_name),
        "one lane per technician"
    );
    let csrf = d.csrf_token("/dispatch").await.unwrap();

    // A Planned ticket goes to a technician and moves to Assigned, in Jira.
    let (planned, _) = env
        .issues_in("FS", TO_DISPATCH)
        .into_iter()
        .find(|(_, a)| a.is_none())
        .expect("an unassigned ticket to dispatch");
    assert!(board.contains(&planned), "the queue shows {planned}");
    let (status, body) = assign(&mut d, &csrf, &planned, &tech.account_id, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        env.issue(&planned),
        (ASSIGNED.to_string(), Some(tech.account_id.clone()))
    );

    // The same assignment again from a stale board (expected: unassigned) is refused.
    let other = env.user("technician", 1);
    let (status, body) = assign(&mut d, &csrf, &planned, &other.account_id, "").await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("someone else"), "{body}");
    assert_eq!(
        env.issue(&planned).1,
        Some(tech.account_id.clone()),
        "unchanged"
    );

    // On Site locks the assignee.
    let (locked, holder) = env
        .issues_in("FS", ON_SITE)
        .into_iter()
        .find(|(_, a)| a.is_some())
        .expect("a ticket on site");
    let holder = holder.unwrap_or_default();
    let to = if holder == other.account_id {
        tech.account_id.clone()
    } else {
        other.account_id.clone()
    };
    let (status, body) = assign(&mut d, &csrf, &locked, &to, &holder).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("On Site"), "{body}");
    assert_eq!(env.issue(&locked).1, Some(holder), "unchanged");

    // Bad input: a clear error naming the field, nothing changed.
    let (status, body) = assign(&mut d, &csrf, "FS-1' OR 1=1", &tech.account_id, "").await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("\"key\""), "{body}");
}

#[tokio::test]
async fn another_dispatchers_change_appears_on_the_live_board() {
    let env = start().await;
    let _admin = set_up(&env).await;
    let (mut a, _) = env.browser_as("dispatcher", 0).await;
    let (mut b, _) = env.browser_as("dispatcher", 1).await;
    let lanes = a.get("/dispatch/board/lanes").await.unwrap();
    assert_eq!(lanes.status(), 200);
    let html = text(lanes).await;
    let version = html
        .split("data-version=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let unchanged = a
        .get(&format!("/dispatch/board/lanes?v={version}"))
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 204, "nothing changed yet");
    let (planned, _) = env
        .issues_in("FAC", TO_DISPATCH)
        .into_iter()
        .find(|(_, x)| x.is_none())
        .unwrap();
    let tech = env.user("technician", 2);
    let csrf = b.csrf_token("/dispatch").await.unwrap();
    let (status, body) = assign(&mut b, &csrf, &planned, &tech.account_id, "").await;
    assert_eq!(status, 200, "{body}");
    let changed = a
        .get(&format!("/dispatch/board/lanes?v={version}"))
        .await
        .unwrap();
    assert_eq!(
        changed.status(),
        200,
        "the other dispatcher's change is news"
    );
    let html = text(changed).await;
    let card = html
        .split(&format!("id=\"card-{planned}\""))
        .nth(1)
        .unwrap_or_default();
    assert!(card.contains("Assigned"), "shown in the Assigned phase");
}

#[tokio::test]
async fn technicians_see_and_change_only_their_own() {
    let env = start().await;
    let _admin = set_up(&env).await;
    let (mut t, me) = env.browser_as("technician", 0).await;
    let other = env.user("technician", 1);
    let r = t.get("/dispatch").await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        atlassian_sim::testkit::location(&r).unwrap(),
        "/dispatch/me"
    );
    let mine = t.get("/dispatch/me").await.unwrap();
    assert_eq!(mine.status(), 200);
    assert!(text(mine).await.contains(&me.display_name));
    assert_eq!(
        t.get(&format!("/dispatch/technicians/{}", other.account_id))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(t.get("/settings/dispatch").await.unwrap().status(), 403);
    let csrf = t.csrf_token("/dispatch/me").await.unwrap();
    let (planned, _) = env
        .issues_in("FS", TO_DISPATCH)
        .into_iter()
        .find(|(_, a)| a.is_none())
        .unwrap();
    let (status, _) = assign(&mut t, &csrf, &planned, &me.account_id, "").await;
    assert_eq!(status, 403, "technicians do not dispatch");
    assert_eq!(env.issue(&planned).1, None, "unchanged");
    let r = t
        .post_form(
            &format!("/dispatch/technicians/{}/availability", other.account_id),
            &[("csrf_token", &csrf), ("status", "absent")],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "not someone else's availability");
    let r = t
        .post_form(
            &format!("/dispatch/technicians/{}/availability", me.account_id),
            &[
                ("csrf_token", &csrf),
                ("status", "on_break"),
                ("note", "<b>lunch</b>"),
                ("back", "me"),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = text(t.get("/dispatch/me").await.unwrap()).await;
    assert!(page.contains("On break"));
    assert!(
        page.contains("lunch") && !page.contains("<b>lunch"),
        "escaped"
    );
    // Their own profile: a bad zone and bad hours come back per field, nothing saved.
    let page = text(
        t.get(&format!("/dispatch/technicians/{}", me.account_id))
            .await
            .unwrap(),
    )
    .await;
    let version = page
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = t
        .post_form(
            &format!("/dispatch/technicians/{}", me.account_id),
            &[
                ("csrf_token", &csrf),
                ("version", &version),
                ("zone", "Mars/Olympus"),
                ("hours.mon.start", "9am"),
                ("hours.mon.end", "17:00"),
                ("skills", "gas"),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body = text(r).await;
    assert!(body.contains("id=\"zone-error\""), "{body}");
    assert!(body.contains("id=\"hours.mon.start-error\""), "{body}");
    assert!(body.contains("Mars/Olympus"), "input kept");
}

#[tokio::test]
async fn diagnostics_and_schedule_render_for_the_admin() {
    let env = start().await;
    let mut admin = set_up(&env).await;
    let diag = admin.get("/settings/dispatch/diagnostics").await.unwrap();
    assert_eq!(diag.status(), 200);
    let diag = text(diag).await;
    assert!(
        !diag.contains("is not mapped"),
        "every status of FS and FAC is mapped"
    );
    assert!(diag.contains("Checked:"), "{diag}");
    assert!(
        diag.contains("Background work cannot reach Jira"),
        "no service credential in this set-up: {diag}"
    );
    let sched = admin.get("/dispatch/schedule").await.unwrap();
    assert_eq!(sched.status(), 200);
    let sched = text(sched).await;
    assert!(
        sched.contains("class=\"bar visit\"") || sched.contains("class=\"bar travel\""),
        "today's field time from the changelog"
    );
    let bad = admin.get("/dispatch/schedule?day=yesterday").await.unwrap();
    assert_eq!(bad.status(), 422);
    let insights = admin.get("/dispatch/insights?days=7").await.unwrap();
    assert_eq!(insights.status(), 200);
    assert!(text(insights).await.contains("Jobs completed"));
}

#[tokio::test]
async fn technicians_come_from_a_project_role() {
    let env = start().await;
    let (mut admin, _) = env.browser_as("admin", 0).await;
    let csrf = admin
        .csrf_token("/settings/dispatch/technicians")
        .await
        .unwrap();
    let bad = admin
        .post_form(
            "/settings/dispatch/technicians",
            &[
                ("csrf_token", &csrf),
                ("kind", "role"),
                ("value", "FS:No Such Role"),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    assert!(text(bad).await.contains("has no role by that name"));
    let r = admin
        .post_form(
            "/settings/dispatch/technicians",
            &[
                ("csrf_token", &csrf),
                ("kind", "role"),
                ("value", "FS:Technicians"),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", text(r).await);
    let added: u32 = atlassian_sim::testkit::location(&r)
        .unwrap()
        .rsplit("n=")
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(added > 0, "the role's members became technicians");
    let page = text(admin.get("/settings/dispatch/technicians").await.unwrap()).await;
    let tech = env.user("technician", 0);
    assert!(page.contains(&tech.display_name), "{page}");
}
