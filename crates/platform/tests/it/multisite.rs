//! Several Atlassian sites in one deployment, end to end: the simulator with an extra site
//! (one account system, two independently seeded sites), jsmkit with sign-in, the settings
//! pages and a small JSON API on a real listener, and cookie-keeping "browsers".
//!
//! (a) the account of both sites chooses a site (names escaped) and lands in it; (b) an
//! account of one site is never offered the other, and a forged choice is refused; (c) what
//! is written in one site is invisible in the other, and a session of one site cannot read
//! or change the other however it names it (cookie, form fields, query parameters) — the
//! other site's stored rows are compared before and after; (d) sessions are per site.

mod env;

use platform::identity;
use platform::permissions::AccessData;
use platform::store::AppNs;
use serde_json::Value;

use self::env::{EXTRA_NAME, audit_of, field, rows_of, sign_in, signed_in_site, start, unescape};
use crate::harness::Kind;
use crate::identity::{location, sign_in_from};

// ------------------------------------------------------------------------------ (a), (b)

#[tokio::test]
async fn the_account_of_both_sites_chooses_one_and_lands_in_it() {
    let env = start(Kind::Sqlite).await;
    let admin = env.user_a("admin");
    assert_eq!(admin, env.user_b("admin"), "one account on both sites");
    let mut b = env.browser();
    let resp = sign_in_from(&mut b, "/login/start?next=%2Fsettings", &admin.email).await;
    assert_eq!(resp.status(), 200, "the choice page, not a session");
    assert!(!b.cookies.contains_key(identity::SESSION_COOKIE));
    let page = resp.text().await.unwrap();
    assert_eq!(page.matches("action=\"/login/site\"").count(), 2, "{page}");
    for site in [&env.a, &env.b] {
        assert!(
            page.contains(&format!("name=\"site\" value=\"{site}\"")),
            "{page}"
        );
    }
    assert!(!page.contains(EXTRA_NAME), "the name is escaped: {page}");
    assert!(!page.contains("<Facilities>"), "{page}");
    let names: Vec<String> = page
        .split("<h2>")
        .skip(1)
        .map(|rest| rest.split("</h2>").next().unwrap().to_owned())
        .collect();
    for raw in &names {
        assert!(!raw.contains(['<', '>', '"']), "escaped: {raw}");
    }
    let names: Vec<String> = names.iter().map(|n| unescape(n)).collect();
    assert_eq!(names, ["irwell-field", EXTRA_NAME]);
    assert!(page.contains(&env.sim.extra_sites[0].base_url), "{page}");

    let csrf = field(&page, "csrf_token");
    let resp = b
        .post_form(
            "/login/site",
            &[("site", env.b.as_str()), ("csrf_token", &csrf)],
            &[],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/settings");
    assert!(
        b.cookies[identity::SESSION_COOKIE].starts_with(&format!("{}.", env.b)),
        "the session is bound to B"
    );
    assert_eq!(signed_in_site(&env, &mut b).await.as_ref(), Some(&env.b));
    // Site admin of B (through B's Jira, with the user's own token): the settings open.
    let settings = b.get("/settings").await;
    assert_eq!(settings.status(), 200);
    // The sign-in is in B's audit log only.
    let in_b = audit_of(&env, &env.b).await;
    assert_eq!(in_b.len(), 1, "{in_b:?}");
    assert_eq!(in_b[0].actor.id, admin.account_id);
    assert!(audit_of(&env, &env.a).await.is_empty());
    // The pending choice is used up: choosing again is refused.
    let again = b
        .post_form(
            "/login/site",
            &[("site", env.a.as_str()), ("csrf_token", &csrf)],
            &[],
        )
        .await;
    assert_eq!(again.status(), 400);
    assert_eq!(signed_in_site(&env, &mut b).await.as_ref(), Some(&env.b));
}

#[tokio::test]
async fn an_account_of_one_site_is_never_offered_the_other() {
    let env = start(Kind::Sqlite).await;
    // A technician of A and one of B: each lands in their own site, no choice page.
    for (user, site) in [
        (env.user_a("technician"), &env.a),
        (env.user_b("technician"), &env.b),
    ] {
        let mut b = env.browser();
        let resp = sign_in_from(&mut b, "/login/start", &user.email).await;
        assert_eq!(resp.status(), 303, "{}", user.email);
        assert_eq!(signed_in_site(&env, &mut b).await.as_ref(), Some(site));
        let other = if site == &env.a { &env.b } else { &env.a };
        // A forged choice of the other site: no pending sign-in to complete.
        for csrf in ["", "forged"] {
            let resp = b
                .post_form(
                    "/login/site",
                    &[("site", other.as_str()), ("csrf_token", csrf)],
                    &[],
                )
                .await;
            assert_eq!(resp.status(), 400, "{}", user.email);
        }
        assert_eq!(signed_in_site(&env, &mut b).await.as_ref(), Some(site));
    }

    // A pending choice of the two-site account, replayed by a one-site user's browser
    // naming a site that is not in the list, or with the wrong token, is refused too.
    let admin = env.user_a("admin");
    let mut two = env.browser();
    let page = sign_in_from(&mut two, "/login/start", &admin.email)
        .await
        .text()
        .await
        .unwrap();
    let csrf = field(&page, "csrf_token");
    let stranger_site = "0f0f0f0f-0000-4000-8000-000000000000";
    let resp = two
        .post_form(
            "/login/site",
            &[("site", stranger_site), ("csrf_token", &csrf)],
            &[],
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("not one your Atlassian account")
    );
    let resp = two
        .post_form(
            "/login/site",
            &[("site", env.b.as_str()), ("csrf_token", "wrong")],
            &[],
        )
        .await;
    assert_eq!(resp.status(), 403);
    // Without a same-origin Origin header the choice is refused as well.
    let cookie = two
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let resp = two
        .http
        .post(format!("{}/login/site", env.base))
        .header("cookie", cookie)
        .header("origin", "http://evil.example")
        .form(&[("site", env.b.as_str()), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(!two.cookies.contains_key(identity::SESSION_COOKIE));
    assert!(
        audit_of(&env, &env.b)
            .await
            .iter()
            .all(|e| e.actor.id != admin.account_id),
        "the two-site account never signed in to B"
    );
}

// ------------------------------------------------------------------------------ (c)

async fn a_session_of_one_site_never_reaches_the_other(kind: Kind) {
    let env = start(kind).await;
    let admin = env.user_a("admin");
    let marker = env.user_a("technician").account_id;
    let marker2 = env.user_a("dispatcher").account_id;
    let mut in_a = env.browser();
    let mut in_b = env.browser();
    sign_in(&env, &mut in_a, &admin.email, &env.a).await;
    sign_in(&env, &mut in_b, &admin.email, &env.b).await;

    // B as its admin sees it before anything happens in A.
    let page_b = in_b.get("/settings/admins").await.text().await.unwrap();
    let csrf_b = field(&page_b, "csrf_token");
    assert!(!page_b.contains(&marker));
    let before = rows_of(&env.ctx, &env.b).await;
    assert!(!before.is_empty(), "B holds its session and audit log");

    // A writes to its allow-list through the form.
    let page_a = in_a.get("/settings/admins").await.text().await.unwrap();
    let csrf_a = field(&page_a, "csrf_token");
    assert_ne!(csrf_a, csrf_b, "CSRF tokens are per session");
    let resp = in_a
        .post_form(
            "/settings/admins/add",
            &[
                ("app", "techdesk"),
                ("kind", "user"),
                ("value", &marker),
                ("csrf_token", &csrf_a),
            ],
            &[],
        )
        .await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    let page_a = in_a.get("/settings/admins").await.text().await.unwrap();
    assert!(page_a.contains(&marker));

    // A's session naming B in form fields, query parameters and headers: still A.
    let b_id = env.b.as_str();
    let resp = in_a
        .post_form(
            &format!("/settings/admins/add?site={b_id}&cloudId={b_id}&cloud_id={b_id}"),
            &[
                ("app", "techdesk"),
                ("kind", "user"),
                ("value", &marker2),
                ("csrf_token", &csrf_a),
                ("site", b_id),
                ("cloudId", b_id),
                ("cloud_id", b_id),
            ],
            &[("x-atlassian-cloud-id", b_id), ("x-jsmkit-site", b_id)],
        )
        .await;
    assert_eq!(resp.status(), 303);
    for path in [
        format!("/settings/admins?site={b_id}&cloudId={b_id}"),
        format!("/settings/audit?site={b_id}&cloudId={b_id}"),
    ] {
        let page = in_a.get(&path).await.text().await.unwrap();
        assert!(page.contains(&marker2), "{path}: A's own data");
    }
    let probe: Value = in_a
        .get(&format!(
            "/api/platform/v1/probe?site={b_id}&cloudId={b_id}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(probe["site"], env.a.as_str());
    assert!(probe.to_string().contains(&marker2));

    // A's session token presented as a session of B: not signed in at all.
    let token_a = in_a.cookies[identity::SESSION_COOKIE]
        .split_once('.')
        .unwrap()
        .1
        .to_owned();
    let mut forged = in_a.clone();
    forged
        .cookies
        .insert(identity::SESSION_COOKIE.into(), format!("{b_id}.{token_a}"));
    assert_eq!(forged.get("/settings/admins").await.status(), 302);
    assert_eq!(forged.get("/whoami").await.status(), 302);
    let api = forged.get("/api/platform/v1/probe").await;
    assert_eq!(api.status(), 401);
    for csrf in [csrf_a.as_str(), csrf_b.as_str()] {
        let resp = forged
            .post_form(
                "/settings/admins/add",
                &[
                    ("app", "techdesk"),
                    ("kind", "user"),
                    ("value", &marker),
                    ("csrf_token", csrf),
                ],
                &[],
            )
            .await;
        assert!(
            matches!(resp.status().as_u16(), 302 | 401 | 403),
            "{}",
            resp.status()
        );
        let resp = forged
            .post_form("/logout/everywhere", &[("csrf_token", csrf)], &[])
            .await;
        assert_ne!(resp.status(), 500);
    }
    // A's own cookie with B's CSRF token: refused, nothing written anywhere.
    let resp = in_a
        .post_form(
            "/settings/admins/add",
            &[
                ("app", "platform"),
                ("kind", "group"),
                ("value", "never-written"),
                ("csrf_token", &csrf_b),
            ],
            &[],
        )
        .await;
    assert_eq!(resp.status(), 403);

    // B's stored rows are exactly what they were.
    assert_eq!(rows_of(&env.ctx, &env.b).await, before);
    let rows_a = rows_of(&env.ctx, &env.a).await.join("\n");
    assert!(rows_a.contains(&marker) && rows_a.contains(&marker2));
    assert!(!rows_a.contains("never-written"));

    // B's pages and API show nothing of A's.
    for path in [
        "/settings/admins",
        "/settings/audit",
        "/api/platform/v1/probe",
    ] {
        let resp = in_b.get(path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let text = resp.text().await.unwrap();
        assert!(
            !text.contains(&marker) && !text.contains(&marker2),
            "{path}"
        );
    }
    let probe: Value = in_b
        .get("/api/platform/v1/probe")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(probe["site"], b_id);
    assert!(
        probe["audit"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["site"] == b_id)
    );
    // B's session survived every attempt of A's.
    assert_eq!(signed_in_site(&env, &mut in_b).await.as_ref(), Some(&env.b));
    // Each site's audit log holds only its own entries.
    for site in [&env.a, &env.b] {
        let entries = audit_of(&env, site).await;
        assert!(!entries.is_empty());
        assert!(entries.iter().all(|e| e.site == site.as_str()));
    }
    let settings_changes_b = audit_of(&env, &env.b)
        .await
        .into_iter()
        .filter(|e| e.action == platform::audit::Action::SETTINGS_CHANGE)
        .count();
    assert_eq!(settings_changes_b, 0);
    // The allow-lists, read through the platform's own API: A has both, B none.
    let techdesk = AppNs::new("techdesk").unwrap();
    let list_a = AccessData::new(&env.ctx.store, &env.a)
        .allow_list(&techdesk)
        .await
        .unwrap();
    assert_eq!(list_a.users, vec![marker.clone(), marker2.clone()]);
    let list_b = AccessData::new(&env.ctx.store, &env.b)
        .allow_list(&techdesk)
        .await
        .unwrap();
    assert!(list_b.users.is_empty() && list_b.groups.is_empty());
}

#[tokio::test]
async fn a_session_of_one_site_never_reaches_the_other_sqlite() {
    a_session_of_one_site_never_reaches_the_other(Kind::Sqlite).await;
}

#[tokio::test]
async fn a_session_of_one_site_never_reaches_the_other_postgres() {
    a_session_of_one_site_never_reaches_the_other(Kind::Postgres).await;
}

// ------------------------------------------------------------------------------ (d)

#[tokio::test]
async fn signing_out_of_one_site_leaves_the_other_signed_in() {
    let env = start(Kind::Sqlite).await;
    let admin = env.user_a("admin");
    let mut in_a = env.browser();
    let mut in_b = env.browser();
    sign_in(&env, &mut in_a, &admin.email, &env.a).await;
    sign_in(&env, &mut in_b, &admin.email, &env.b).await;

    let csrf = field(
        &in_a.get("/login").await.text().await.unwrap(),
        "csrf_token",
    );
    let resp = in_a
        .post_form("/logout", &[("csrf_token", &csrf)], &[])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(signed_in_site(&env, &mut in_a).await, None);
    assert_eq!(signed_in_site(&env, &mut in_b).await.as_ref(), Some(&env.b));

    // Everywhere means every session of this site: B's own, not A's.
    sign_in(&env, &mut in_a, &admin.email, &env.a).await;
    let mut in_b2 = env.browser();
    sign_in(&env, &mut in_b2, &admin.email, &env.b).await;
    let csrf = field(
        &in_b.get("/login").await.text().await.unwrap(),
        "csrf_token",
    );
    let resp = in_b
        .post_form("/logout/everywhere", &[("csrf_token", &csrf)], &[])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(signed_in_site(&env, &mut in_b).await, None);
    assert_eq!(signed_in_site(&env, &mut in_b2).await, None);
    assert_eq!(signed_in_site(&env, &mut in_a).await.as_ref(), Some(&env.a));

    // Signing in to B in the browser of A ends the A session there (one session per
    // browser), and A's other browsers keep theirs.
    let mut in_a2 = env.browser();
    sign_in(&env, &mut in_a2, &admin.email, &env.a).await;
    sign_in(&env, &mut in_a, &admin.email, &env.b).await;
    assert_eq!(signed_in_site(&env, &mut in_a).await.as_ref(), Some(&env.b));
    assert_eq!(
        signed_in_site(&env, &mut in_a2).await.as_ref(),
        Some(&env.a)
    );
}
