//! Automatic dispatch and routes over HTTP: a preview that changes nothing, an apply that
//! assigns and schedules in Jira (the simulator) as the dispatcher, stale plans refused, and
//! only dispatchers allowed.

use jiff::civil::{Date, Weekday};

use crate::env::{Env, start, text};
use crate::flow::{ASSIGNED, set_up};

/// The next weekday after tomorrow: the whole working day is ahead whatever the time now.
fn planning_day() -> String {
    let mut d: Date = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .tomorrow()
        .unwrap();
    d = d.tomorrow().unwrap();
    while matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
        d = d.tomorrow().unwrap();
    }
    d.strftime("%Y-%m-%d").to_string()
}

fn hidden(page: &str, name: &str) -> String {
    page.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_string()
}

/// Keys linked in the section of `page` between `from` and `to`.
fn keys_between(page: &str, from: &str, to: &str) -> Vec<String> {
    let Some(start) = page.find(from) else {
        return Vec::new();
    };
    let rest = &page[start..];
    let rest = &rest[..rest.find(to).unwrap_or(rest.len())];
    rest.split("href=\"/dispatch/assign/")
        .skip(1)
        .filter_map(|s| s.split(['?', '"']).next())
        .map(str::to_string)
        .collect()
}

fn assignees(env: &Env, keys: &[String]) -> Vec<Option<String>> {
    keys.iter().map(|k| env.issue(k).1).collect()
}

#[tokio::test]
async fn automatic_dispatch_previews_then_assigns_and_schedules_as_the_dispatcher() {
    let env = start().await;
    let _admin = set_up(&env).await;
    let (mut d, _) = env.browser_as("dispatcher", 0).await;
    let day = planning_day();
    let page = text(d.get(&format!("/dispatch/auto?day={day}")).await.unwrap()).await;
    let proposed = keys_between(&page, "id=\"plan-heading\"", "</table>");
    assert!(!proposed.is_empty(), "the seeded queue gets a plan: {page}");
    let left = keys_between(&page, "id=\"left-heading\"", "</ul>");
    let before = assignees(&env, &proposed);
    assert!(
        before.iter().all(Option::is_none),
        "preview changes nothing"
    );
    let csrf = hidden(&page, "csrf_token");
    let fp = hidden(&page, "fp");

    // A stale plan is refused and nothing is assigned.
    let r = d
        .post_form(
            "/dispatch/auto",
            &[
                ("csrf_token", &csrf),
                ("day", &day),
                ("fp", "0000000000000000"),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let again = text(r).await;
    assert!(again.contains("Nothing was assigned"), "{again}");
    assert_eq!(assignees(&env, &proposed), before);

    // A technician may not run it.
    let (mut t, _) = env.browser_as("technician", 0).await;
    let t_csrf = t.csrf_token("/dispatch/me").await.unwrap();
    let r = t
        .post_form(
            "/dispatch/auto",
            &[("csrf_token", &t_csrf), ("day", &day), ("fp", &fp)],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(assignees(&env, &proposed), before);

    // The plan the dispatcher saw is applied.
    let r = d
        .post_form(
            "/dispatch/auto",
            &[("csrf_token", &csrf), ("day", &day), ("fp", &fp)],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let done = text(r).await;
    assert!(
        done.contains(&format!(
            "{n} of {n} jobs assigned and scheduled",
            n = proposed.len()
        )),
        "{done}"
    );
    let techs: Vec<String> = env
        .sim
        .state
        .read()
        .users
        .iter()
        .map(|u| u.account_id.clone())
        .collect();
    for key in &proposed {
        let (status, assignee) = env.issue(key);
        let assignee = assignee.unwrap_or_else(|| panic!("{key} assigned"));
        assert!(techs.contains(&assignee));
        assert_eq!(status, ASSIGNED, "{key} moved to the Assigned status");
        let m = env.sim.state.read();
        let start = m
            .issue(key)
            .unwrap()
            .custom
            .get("customfield_10080")
            .cloned();
        let start = start
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        assert!(start.starts_with(&day), "{key} scheduled on {day}: {start}");
    }
    // Jobs left in the queue stay unassigned.
    for key in &left {
        assert!(!proposed.contains(key));
    }
    // Planning again proposes nothing already assigned.
    let page = text(d.get(&format!("/dispatch/auto?day={day}")).await.unwrap()).await;
    let second = keys_between(&page, "id=\"plan-heading\"", "</table>");
    assert!(second.iter().all(|k| !proposed.contains(k)), "{second:?}");
}

#[tokio::test]
async fn a_route_is_shown_then_scheduled_and_a_stale_one_is_refused() {
    let env = start().await;
    let _admin = set_up(&env).await;
    let (mut d, _) = env.browser_as("dispatcher", 0).await;
    let day = planning_day();
    // The first technician whose day can be scheduled shorter (the seeded days are in the
    // order their times were booked, not the shortest).
    let mut found = None;
    for n in 0..25 {
        let tech = env.user("technician", n).account_id;
        let route = text(
            d.get(&format!("/dispatch/route?tech={tech}&day={day}"))
                .await
                .unwrap(),
        )
        .await;
        if route.contains("Schedule this order in Jira") {
            found = Some((tech, route));
            break;
        }
    }
    let (tech, route) = found.expect("a seeded day that can be shortened");
    let csrf = hidden(&route, "csrf_token");
    assert!(route.contains("As scheduled"), "{route}");
    assert!(route.contains("Shortest order from now"), "{route}");
    let fp = hidden(&route, "fp");
    assert!(!fp.is_empty(), "{route}");
    let tech_id = hidden(&route, "tech");
    let r = d
        .post_form(
            "/dispatch/route",
            &[
                ("csrf_token", &csrf),
                ("tech", &tech_id),
                ("day", &day),
                ("fp", "stale"),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(text(r).await.contains("Nothing was written"));
    let r = d
        .post_form(
            "/dispatch/route",
            &[
                ("csrf_token", &csrf),
                ("tech", &tech_id),
                ("day", &day),
                ("fp", &fp),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = atlassian_sim::testkit::location(&r).unwrap();
    assert!(to.contains("refused=0"), "{to}");
    let shown = text(d.get(&to).await.unwrap()).await;
    assert!(shown.contains("jobs rescheduled in Jira"), "{shown}");
    // Scheduled as planned: the shortest order is now the schedule.
    let again = text(
        d.get(&format!("/dispatch/route?tech={tech}&day={day}"))
            .await
            .unwrap(),
    )
    .await;
    let section = |p: &str, h: &str| {
        p.split(h)
            .nth(1)
            .and_then(|s| s.split("</table>").next())
            .unwrap_or_default()
            .to_string()
    };
    let keys = |s: String| keys_between(&s, "<table", "</table>");
    assert_eq!(
        keys(section(&again, "id=\"current-heading\"")),
        keys(section(&again, "id=\"best-heading\"")),
        "{again}"
    );
}

#[tokio::test]
async fn only_dispatchers_plan_and_technicians_see_their_own_route() {
    let env = start().await;
    let _admin = set_up(&env).await;
    let (mut v, _) = env.browser_as("viewer", 0).await;
    for path in ["/dispatch/auto", "/dispatch/route"] {
        assert_eq!(v.get(path).await.unwrap().status(), 403, "viewer {path}");
    }
    let (mut t, me) = env.browser_as("technician", 0).await;
    assert_eq!(t.get("/dispatch/auto").await.unwrap().status(), 403);
    let r = t.get("/dispatch/route").await.unwrap();
    assert_eq!(r.status(), 200);
    let own = text(r).await;
    assert!(
        own.contains(&format!("value=\"{}\" selected", me.account_id)),
        "{own}"
    );
    assert!(
        !own.contains("Schedule this order in Jira"),
        "read-only for a technician"
    );
    let other = env.user("technician", 1);
    let r = t
        .get(&format!("/dispatch/route?tech={}", other.account_id))
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "another technician's route");
    let csrf = t.csrf_token("/dispatch/me").await.unwrap();
    let r = t
        .post_form(
            "/dispatch/route",
            &[
                ("csrf_token", &csrf),
                ("tech", &me.account_id),
                ("day", ""),
                ("fp", "x"),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "technicians do not reschedule");
}

#[tokio::test]
async fn planning_settings_are_checked_admin_only_and_used_by_routes() {
    let env = start().await;
    let mut admin = set_up(&env).await;
    let csrf = admin.csrf_token("/settings/dispatch").await.unwrap();
    let page = text(admin.get("/settings/dispatch").await.unwrap()).await;
    let version = hidden(&page, "version");
    assert_eq!(
        hidden(&page, "km_per_hour"),
        "",
        "inputs carry id, not hidden"
    );
    let bad = [
        ("version", version.clone()),
        ("km_per_hour", "0".to_string()),
        ("detour", "x".to_string()),
        ("max_km", "5000".to_string()),
        ("spread_minutes", "10".to_string()),
    ];
    let r = post_planning(&mut admin, csrf.clone(), bad).await;
    assert_eq!(r.status(), 422);
    let body = text(r).await;
    for (field, reason) in [
        ("km_per_hour", "must be between 5 and 130 km/h"),
        ("detour", "must be a number between 1 and 3"),
        ("max_km", "must be between 1 and 1000 km"),
    ] {
        let error = body
            .split(&format!("id=\"{field}-error\""))
            .nth(1)
            .unwrap_or_else(|| panic!("no {field} error: {body}"))
            .split("</div>")
            .next()
            .unwrap();
        assert!(error.contains(reason), "{field}: {error}");
    }
    assert!(body.contains("value=\"5000\""), "the input is kept");
    // A dispatcher may not change them.
    let (mut d, _) = env.browser_as("dispatcher", 0).await;
    let d_csrf = d.csrf_token("/dispatch").await.unwrap();
    let good = || {
        [
            ("version", version.clone()),
            ("km_per_hour", "30".to_string()),
            ("detour", "1.5".to_string()),
            ("max_km", "50".to_string()),
            ("spread_minutes", "0".to_string()),
        ]
    };
    let r = post_planning(&mut d, d_csrf, good()).await;
    assert_eq!(r.status(), 403);
    // The admin sets them; routes and automatic dispatch use them.
    let r = post_planning(&mut admin, csrf, good()).await;
    assert_eq!(r.status(), 303);
    let tech = env.user("technician", 0);
    let route = text(
        d.get(&format!("/dispatch/route?tech={}", tech.account_id))
            .await
            .unwrap(),
    )
    .await;
    assert!(
        route.contains("× 1.5 for roads, 30 km/h on average"),
        "{route}"
    );
    let auto = text(d.get("/dispatch/auto").await.unwrap()).await;
    assert!(auto.contains("is within 50 km"), "{auto}");
}

async fn post_planning(
    b: &mut atlassian_sim::testkit::Browser,
    csrf: String,
    fields: [(&'static str, String); 5],
) -> reqwest::Response {
    let mut form: Vec<(&str, String)> = vec![("csrf_token", csrf)];
    form.extend(fields);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_form("/settings/dispatch/planning", &pairs, &[])
        .await
        .unwrap()
}

#[tokio::test]
async fn automatic_dispatch_runs_by_itself_with_the_service_credential() {
    let env = start().await;
    let mut admin = set_up(&env).await;
    let site = platform::store::SiteId::new(&env.sim.cloud_id).unwrap();
    let key = dispatch::autorun::job_key(&site).unwrap();
    let csrf = admin.csrf_token("/settings/dispatch").await.unwrap();
    let version = hidden(
        &text(admin.get("/settings/dispatch").await.unwrap()).await,
        "version",
    );
    let planning = |every: &str| {
        [
            ("version", version.clone()),
            ("km_per_hour", "40".to_string()),
            ("detour", "1.3".to_string()),
            ("max_km", "80".to_string()),
            ("spread_minutes", "20".to_string()),
            ("auto_every", every.to_string()),
        ]
    };
    // A bad interval is refused with the field and the reason; nothing is scheduled.
    let r = post_settings(&mut admin, csrf.clone(), &planning("5")).await;
    assert_eq!(r.status(), 422);
    assert!(
        text(r)
            .await
            .contains("a whole number of minutes from 15 to 240")
    );
    assert!(!env.scheduler.jobs().contains(&key));
    let r = post_settings(&mut admin, csrf.clone(), &planning("15")).await;
    assert_eq!(r.status(), 303);
    assert!(env.scheduler.jobs().contains(&key), "scheduled when set");

    // The scheduled run uses the service credential, which is not set yet: it fails, and
    // says why.
    env.scheduler.run_now(&key).await.unwrap();
    let reports = env.scheduler.tick().await.wait().await;
    assert_eq!(reports.len(), 1);
    assert!(
        format!("{reports:?}").contains("service credential"),
        "{reports:?}"
    );
    let admin_user = env.user("admin", 0);
    let csrf_c = admin.csrf_token("/settings/credentials").await.unwrap();
    let r = admin
        .post_form(
            "/settings/credentials",
            &[
                ("csrf_token", csrf_c.as_str()),
                ("kind", "api_token"),
                ("email", admin_user.email.as_str()),
                ("token", admin_user.api_token.as_str()),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", text(r).await);
    env.scheduler.run_now(&key).await.unwrap();
    let reports = env.scheduler.tick().await.wait().await;
    assert_eq!(reports.len(), 1);
    assert_eq!(
        reports[0].outcome,
        platform::scheduler::RunOutcome::Ok,
        "{reports:?}"
    );
    let last = dispatch::store::DispatchStore::new(&env.store, &site)
        .auto_run()
        .await
        .unwrap()
        .unwrap();
    assert!(last.error.is_none(), "{last:?}");

    // A run on a working morning assigns and schedules the plan in Jira, as jsmkit.
    let day: jiff::civil::Date = planning_day().parse().unwrap();
    let morning = day
        .at(7, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp();
    let client = atlassian::client::AtlassianClient::basic(
        url::Url::parse(&env.sim.base_url).unwrap(),
        admin_user.email.clone(),
        secrecy::SecretString::from(admin_user.api_token.clone()),
    )
    .unwrap()
    .build()
    .unwrap();
    let run = dispatch::autorun::run_once(&env.store, &site, &client, morning).await;
    assert!(run.error.is_none(), "{run:?}");
    assert!(run.assigned > 0, "{run:?}");
    assert!(run.refused.is_empty(), "{run:?}");
    // The dispatcher's page says it runs by itself and what the last run did.
    let (mut d, _) = env.browser_as("dispatcher", 0).await;
    let page = text(d.get("/dispatch/auto").await.unwrap()).await;
    assert!(page.contains("runs by itself every 15 minutes"), "{page}");
    assert!(
        page.contains(&format!("assigned {}", run.assigned)),
        "{page}"
    );
    // Turning it off unschedules it.
    let version = hidden(
        &text(admin.get("/settings/dispatch").await.unwrap()).await,
        "version",
    );
    let mut off = planning("");
    off[0].1 = version;
    let r = post_settings(&mut admin, csrf, &off).await;
    assert_eq!(r.status(), 303);
    assert!(!env.scheduler.jobs().contains(&key));
}

async fn post_settings(
    b: &mut atlassian_sim::testkit::Browser,
    csrf: String,
    fields: &[(&'static str, String)],
) -> reqwest::Response {
    let mut form: Vec<(&str, String)> = vec![("csrf_token", csrf)];
    form.extend(fields.iter().cloned());
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_form("/settings/dispatch/planning", &pairs, &[])
        .await
        .unwrap()
}

#[tokio::test]
async fn attack_payloads_stay_inert_and_bad_input_is_refused_cleanly() {
    let path = atlassian_sim::testkit::shared_dir().join("data/payloads/fuzzdb-xss-other.txt");
    let corpus = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the attack corpus {} is required: {e}", path.display()));
    let payloads: Vec<&str> = corpus
        .lines()
        .filter(|l| l.contains('<') && l.len() < 200 && !l.chars().any(char::is_control))
        .take(40)
        .collect();
    assert!(payloads.len() >= 20, "corpus looks truncated");
    let env = start().await;
    let _admin = set_up(&env).await;
    // Payloads as the summaries of every unassigned queue ticket.
    let queued: Vec<String> = env
        .issues_in("FS", crate::flow::TO_DISPATCH)
        .into_iter()
        .chain(env.issues_in("FAC", crate::flow::TO_DISPATCH))
        .filter(|(_, a)| a.is_none())
        .map(|(k, _)| k)
        .collect();
    {
        let mut m = env.sim.state.write();
        for (n, key) in queued.iter().enumerate() {
            let i = m.issue_index(key).unwrap();
            m.issues[i].summary = payloads[n % payloads.len()].to_string();
        }
    }
    let (mut d, _) = env.browser_as("dispatcher", 0).await;
    let day = planning_day();
    let inert = |body: &str| {
        for p in &payloads {
            assert!(!body.contains(p), "unescaped payload {p:?}");
        }
        let lower = body.to_lowercase();
        assert!(!lower.contains("<img") && !lower.contains("<iframe") && !lower.contains("<svg"));
    };
    let page = text(d.get(&format!("/dispatch/auto?day={day}")).await.unwrap()).await;
    assert!(page.contains("Proposed ("), "{page}");
    inert(&page);
    let tech = env.user("technician", 0).account_id;
    inert(
        &text(
            d.get(&format!("/dispatch/route?tech={tech}&day={day}"))
                .await
                .unwrap(),
        )
        .await,
    );
    // Payloads and junk in parameters and forms: refused with a 4xx, never a 5xx, never echoed raw.
    let csrf = d.csrf_token("/dispatch").await.unwrap();
    for p in payloads
        .iter()
        .take(10)
        .chain(["2026-02-30", "9999-99-99", "", "\u{0}"].iter())
    {
        let q = urlencode(p);
        for path in [
            format!("/dispatch/auto?day={q}"),
            format!("/dispatch/route?tech={q}&day={day}"),
            format!("/dispatch/route?tech={tech}&day={q}"),
        ] {
            let r = d.get(&path).await.unwrap();
            assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
            inert(&text(r).await);
        }
        for (route, form) in [
            ("/dispatch/auto", vec![("day", *p), ("fp", *p)]),
            (
                "/dispatch/route",
                vec![("tech", *p), ("day", *p), ("fp", *p)],
            ),
        ] {
            let mut fields = vec![("csrf_token", csrf.as_str())];
            fields.extend(form);
            let r = d.post_form(route, &fields, &[]).await.unwrap();
            let status = r.status().as_u16();
            assert!((400..500).contains(&status), "{route} {p:?}: {status}");
            inert(&text(r).await);
        }
    }
    // Nothing was assigned by any of it.
    for key in &queued {
        assert_eq!(env.issue(key).1, None, "{key}");
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn every_route_of_a_day_is_scheduled_in_one_go() {
    let env = start().await;
    let _admin = set_up(&env).await;
    let (mut d, _) = env.browser_as("dispatcher", 0).await;
    let day = planning_day();
    let page = text(d.get(&format!("/dispatch/routes?day={day}")).await.unwrap()).await;
    assert!(page.contains("km saved"), "{page}");
    let rows = page.matches("/dispatch/route?tech=").count();
    assert!(rows > 1, "{page}");
    assert!(
        page.contains("Schedule every shortest order in Jira"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf_token");
    let fp = hidden(&page, "fp");
    let before: Vec<_> = {
        let m = env.sim.state.read();
        m.issues
            .iter()
            .map(|i| (i.key.clone(), i.custom.get("customfield_10080").cloned()))
            .collect()
    };
    let r = d
        .post_form(
            "/dispatch/routes",
            &[("csrf_token", &csrf), ("day", &day), ("fp", "stale")],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(text(r).await.contains("Nothing was written"));
    let unchanged: Vec<_> = {
        let m = env.sim.state.read();
        m.issues
            .iter()
            .map(|i| (i.key.clone(), i.custom.get("customfield_10080").cloned()))
            .collect()
    };
    assert_eq!(unchanged, before, "a stale plan writes nothing");
    let r = d
        .post_form(
            "/dispatch/routes",
            &[("csrf_token", &csrf), ("day", &day), ("fp", &fp)],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = atlassian_sim::testkit::location(&r).unwrap();
    assert!(to.contains("refused=0") && !to.contains("done=0"), "{to}");
    let after = text(d.get(&to).await.unwrap()).await;
    assert!(after.contains("jobs rescheduled in Jira"), "{after}");
    assert!(
        after.contains("Every day is already scheduled in its shortest order"),
        "{after}"
    );
    // Technicians do not plan the team's routes.
    let (mut t, _) = env.browser_as("technician", 0).await;
    assert_eq!(t.get("/dispatch/routes").await.unwrap().status(), 403);
}
