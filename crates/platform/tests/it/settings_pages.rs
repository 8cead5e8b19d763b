//! The settings pages through `Router::oneshot` with a fake caller: admins only, forms
//! validated per field (422, input kept), changes persisted and audited, the service token
//! never shown, and attack payloads rendered escaped.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use platform::audit::{Action, AuditFilter};
use platform::permissions::{
    AccessContext, JiraCheckError, JiraPermissions, Principal, ProjectKey, ProjectRole, RoleSource,
    platform_ns,
};
use platform::settings::{self, CREDENTIAL_SECRET_KEY, SettingsState};
use platform::store::SiteId;
use secrecy::ExposeSecret;
use tower::ServiceExt;

use crate::harness::{Ctx, Kind, app, site};

/// The XSS corpus in the shared folder.
fn payloads_file() -> std::path::PathBuf {
    atlassian_sim::testkit::shared_dir().join("data/payloads/fuzzdb-xss-other.txt")
}

/// Jira that answers "site admin" or nothing.
struct Jira {
    admin: bool,
}

#[async_trait]
impl JiraPermissions for Jira {
    async fn global_permissions(&self, keys: &[&str]) -> Result<BTreeSet<String>, JiraCheckError> {
        Ok(if self.admin {
            keys.iter().map(|k| (*k).to_owned()).collect()
        } else {
            BTreeSet::new()
        })
    }
    async fn project_permissions(
        &self,
        _: &ProjectKey,
        _: &[&str],
    ) -> Result<BTreeSet<String>, JiraCheckError> {
        Ok(BTreeSet::new())
    }
    async fn is_group_member(&self, _: &str, _: &str) -> Result<bool, JiraCheckError> {
        Ok(false)
    }
}

struct Pages {
    _ctx: Ctx,
    state: SettingsState,
}

async fn pages() -> Pages {
    let ctx = Ctx::new(Kind::Sqlite).await;
    Pages {
        state: SettingsState::new(ctx.store.clone()),
        _ctx: ctx,
    }
}

type Who<'a> = Option<(&'a SiteId, bool)>;

impl Pages {
    fn router(&self, who: Who<'_>) -> Router {
        let r = settings::router(self.state.clone());
        match who {
            None => r,
            Some((s, admin)) => r.layer(axum::Extension(AccessContext {
                site: s.clone(),
                principal: Principal::User {
                    site: s.clone(),
                    account_id: if admin { "root" } else { "u1" }.into(),
                    display_name: if admin { "Ann Admin" } else { "Uma User" }.into(),
                },
                jira: Arc::new(Jira { admin }),
            })),
        }
    }

    async fn send(&self, who: Who<'_>, req: Request<Body>) -> (StatusCode, String, String) {
        let resp = self.router(who).oneshot(req).await.unwrap();
        let status = resp.status();
        let location = resp
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, location, String::from_utf8(body.to_vec()).unwrap())
    }

    async fn get(&self, who: Who<'_>, uri: &str) -> (StatusCode, String) {
        let (s, _, b) = self
            .send(who, Request::get(uri).body(Body::empty()).unwrap())
            .await;
        (s, b)
    }

    async fn post(
        &self,
        who: Who<'_>,
        uri: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String, String) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(who, req).await
    }

    async fn changes(&self, s: &SiteId) -> Vec<platform::audit::AuditEntry> {
        let filter = AuditFilter {
            action: Some(Action::SETTINGS_CHANGE),
            ..AuditFilter::default()
        };
        self.state
            .log
            .query(s, &filter, None, 100)
            .await
            .unwrap()
            .entries
    }
}

fn corpus() -> Vec<String> {
    let text = std::fs::read_to_string(payloads_file()).unwrap_or_else(|e| {
        panic!(
            "the attack corpus {} is required (JSMKIT shared folder): {e}",
            payloads_file().display()
        )
    });
    let payloads: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    assert!(payloads.len() > 50, "corpus looks truncated");
    payloads
}

/// The body holds none of `payloads` unescaped, and no element they could inject.
fn assert_escaped(body: &str, payloads: &[&str]) {
    for payload in payloads {
        let risky = payload.contains(['<', '>'])
            || (payload.len() >= 4 && payload.contains(['"', '\'', '&']));
        if risky {
            assert!(!body.contains(payload), "unescaped payload {payload:?}");
        }
    }
    assert_eq!(
        body.matches("<script").count(),
        2,
        "only the layout's module scripts"
    );
    let lower = body.to_lowercase();
    for tag in [
        "<img",
        "<iframe",
        "<svg",
        "<body onload",
        "<a href=\"javascript",
    ] {
        assert!(!lower.contains(tag), "injected {tag}");
    }
}

const GETS: [&str; 5] = [
    "/settings",
    "/settings/admins",
    "/settings/roles",
    "/settings/credentials",
    "/settings/audit",
];

#[tokio::test]
async fn only_admins_see_and_change_settings() {
    let p = pages().await;
    let s = site("settings-1");
    for uri in GETS {
        assert_eq!(p.get(None, uri).await.0, StatusCode::UNAUTHORIZED, "{uri}");
        let (status, body) = p.get(Some((&s, false)), uri).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
        assert!(body.contains("only administrators of platform"), "{body}");
        assert_eq!(
            p.get(Some((&s, true)), uri).await.0,
            StatusCode::OK,
            "{uri}"
        );
    }
    for uri in [
        "/settings/admins/add",
        "/settings/roles/add",
        "/settings/credentials",
        "/settings/credentials/remove",
    ] {
        let form = [("app", "platform"), ("kind", "group"), ("value", "x")];
        let (status, _, _) = p.post(Some((&s, false)), uri, &form).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
    }
    let list = p
        .state
        .authorizer
        .access_data(&s)
        .allow_list(&platform_ns())
        .await
        .unwrap();
    assert!(list.groups.is_empty(), "a refused POST changes nothing");
    let (_, index) = p.get(Some((&s, true)), "/settings").await;
    for link in GETS.iter().skip(1) {
        assert!(index.contains(&format!("href=\"{link}\"")), "{link}");
    }
}

#[tokio::test]
async fn admins_are_validated_added_removed_and_audited() {
    let p = pages().await;
    let s = site("settings-2");
    let admin = Some((&s, true));
    let (status, _, body) = p
        .post(
            admin,
            "/settings/admins/add",
            &[
                ("app", "dispatch"),
                ("kind", "user"),
                ("value", "not an id!"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"value-error\""));
    assert!(body.contains("value=\"not an id!\""), "input kept");
    assert!(body.contains("<option value=\"dispatch\" selected>"));
    let (status, _, body) = p
        .post(
            admin,
            "/settings/admins/add",
            &[("app", "nope"), ("kind", "robot"), ("value", "")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"app-error\"") && body.contains("id=\"kind-error\""));
    let add = [
        ("app", "dispatch"),
        ("kind", "group"),
        ("value", "field leads"),
    ];
    let (status, location, _) = p.post(admin, "/settings/admins/add", &add).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/settings/admins?done=added");
    let data = p.state.authorizer.access_data(&s);
    let list = data.allow_list(&app("dispatch")).await.unwrap();
    assert_eq!(list.groups, vec!["field leads".to_owned()]);
    let (_, page) = p.get(admin, &location).await;
    assert!(page.contains("Added.") && page.contains("field leads"));
    // Removal asks first.
    let (status, _, page) = p.post(admin, "/settings/admins/remove", &add).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Remove this admin?"));
    assert_eq!(
        data.allow_list(&app("dispatch"))
            .await
            .unwrap()
            .groups
            .len(),
        1
    );
    let mut confirmed = add.to_vec();
    confirmed.push(("confirm", "yes"));
    let (status, _, _) = p.post(admin, "/settings/admins/remove", &confirmed).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        data.allow_list(&app("dispatch"))
            .await
            .unwrap()
            .groups
            .is_empty()
    );
    let changes = p.changes(&s).await;
    assert_eq!(changes.len(), 2, "one entry per change");
    assert!(changes.iter().all(|e| e.actor.id == "root"));
    assert!(changes[0].detail.to_string().contains("disallow"));
    assert!(changes[1].detail.to_string().contains("field leads"));
}

#[tokio::test]
async fn roles_are_validated_assigned_and_audited() {
    let p = pages().await;
    let s = site("settings-3");
    let admin = Some((&s, true));
    let bad = [
        ("project", "fs-1"),
        ("role", "technician"),
        ("kind", "permission"),
        ("value", ""),
    ];
    let (status, _, body) = p.post(admin, "/settings/roles/add", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"project-error\"") && body.contains("id=\"value-error\""));
    assert!(body.contains("value=\"fs-1\""), "input kept");
    let good = [
        ("project", "FS"),
        ("role", "dispatcher"),
        ("kind", "permission"),
        ("value", "ASSIGN_ISSUES"),
    ];
    let (status, _, _) = p.post(admin, "/settings/roles/add", &good).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let key = ProjectKey::new("FS").unwrap();
    let data = p.state.authorizer.access_data(&s);
    let roles = data.role_assignments(&key).await.unwrap();
    assert_eq!(
        roles.of(ProjectRole::Dispatcher),
        &[RoleSource::JiraPermission {
            key: "ASSIGN_ISSUES".into()
        }]
    );
    let (_, page) = p.get(admin, "/settings/roles").await;
    assert!(page.contains("ASSIGN_ISSUES") && page.contains("id=\"project-FS\""));
    let mut confirmed = good.to_vec();
    confirmed.push(("confirm", "yes"));
    let (status, _, _) = p.post(admin, "/settings/roles/remove", &confirmed).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let roles = data.role_assignments(&key).await.unwrap();
    assert!(roles.dispatchers.is_empty());
    let changes = p.changes(&s).await;
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[1].target, "roles of FS");
}

#[tokio::test]
async fn the_service_token_is_stored_encrypted_and_never_shown() {
    let p = pages().await;
    let s = site("settings-4");
    let admin = Some((&s, true));
    let token = "ATATT3xFfGF0-very-secret-token-value";
    let (status, _, body) = p
        .post(
            admin,
            "/settings/credentials",
            &[
                ("kind", "api_token"),
                ("email", "not-an-email"),
                ("token", token),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"email-error\"") && body.contains("value=\"not-an-email\""));
    assert!(
        !body.contains(token),
        "the token is not put back into the form"
    );
    let (status, _, body) = p
        .post(
            admin,
            "/settings/credentials",
            &[
                ("kind", "api_token"),
                ("email", "ops@example.com"),
                ("token", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"token-error\""));
    let (status, _, body) = p
        .post(
            admin,
            "/settings/credentials",
            &[
                ("kind", "api_token"),
                ("email", "ops@example.com"),
                ("token", token),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!body.contains(token));
    let kv = p.state.store.kv(&s, &platform_ns());
    let stored = kv.get_secret(CREDENTIAL_SECRET_KEY).await.unwrap().unwrap();
    assert_eq!(stored.expose_secret(), token);
    let plain = kv.query().limit(100).fetch().await.unwrap();
    for e in &plain.entries {
        assert!(
            !e.value.to_string().contains(token),
            "{} holds the token",
            e.key
        );
    }
    let (_, page) = p.get(admin, "/settings/credentials").await;
    assert!(page.contains("API token for") && page.contains("by Ann Admin"));
    assert!(page.contains("ops@example.com") && !page.contains(token));
    let (_, audit_page) = p.get(admin, "/settings/audit").await;
    assert!(audit_page.contains("service credential") && !audit_page.contains(token));
    for e in p.changes(&s).await {
        assert!(!e.detail.to_string().contains(token));
    }
    // Removal asks first, then deletes the secret.
    let (status, _, page) = p.post(admin, "/settings/credentials/remove", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Remove the credential?"));
    let (status, _, _) = p
        .post(admin, "/settings/credentials/remove", &[("confirm", "yes")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        kv.get_secret(CREDENTIAL_SECRET_KEY)
            .await
            .unwrap()
            .is_none()
    );
    let (_, page) = p.get(admin, "/settings/credentials").await;
    assert!(page.contains("No credential is set"));
    assert_eq!(p.changes(&s).await.len(), 2);
}

#[tokio::test]
async fn attack_payloads_in_every_text_field_come_back_escaped() {
    let payloads = corpus();
    let p = pages().await;
    for (n, chunk) in payloads.chunks(40).enumerate() {
        let s = site(&format!("settings-xss-{n}"));
        let admin = Some((&s, true));
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        for payload in &chunk {
            // Re-rendered after a validation error (422) or accepted and listed (303).
            let forms: [(&str, Vec<(&str, &str)>); 5] = [
                (
                    "/settings/admins/add",
                    vec![("app", "techdesk"), ("kind", "user"), ("value", payload)],
                ),
                (
                    "/settings/admins/add",
                    vec![("app", "techdesk"), ("kind", "group"), ("value", payload)],
                ),
                (
                    "/settings/roles/add",
                    vec![
                        ("project", payload),
                        ("role", "technician"),
                        ("kind", "group"),
                        ("value", "techs"),
                    ],
                ),
                (
                    "/settings/roles/add",
                    vec![
                        ("project", "FS"),
                        ("role", "technician"),
                        ("kind", "group"),
                        ("value", payload),
                    ],
                ),
                (
                    "/settings/credentials",
                    vec![("kind", "api_token"), ("email", payload), ("token", "t0k")],
                ),
            ];
            for (uri, form) in forms {
                let (status, _, body) = p.post(admin, uri, &form).await;
                assert!(
                    status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::SEE_OTHER,
                    "{uri} {payload:?}: {status}"
                );
                if status == StatusCode::UNPROCESSABLE_ENTITY {
                    assert_escaped(&body, &[payload]);
                }
            }
        }
        for uri in GETS {
            let (status, body) = p.get(admin, uri).await;
            assert_eq!(status, StatusCode::OK);
            assert_escaped(&body, &chunk);
        }
        // Confirmation pages repeat the value too.
        let (_, _, body) = p
            .post(
                admin,
                "/settings/admins/remove",
                &[("app", "techdesk"), ("kind", "group"), ("value", chunk[0])],
            )
            .await;
        assert_escaped(&body, &chunk[..1]);
    }
}

#[tokio::test]
async fn egress_allow_list_is_validated_kept_and_audited() {
    let p = pages().await;
    let s = site("settings-egress");
    let admin = Some((&s, true));
    let (status, _, _) = p
        .post(
            Some((&s, false)),
            "/settings/egress/add",
            &[("entry", "intranet.example.com")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins only");
    for bad in ["http://x/", "<script>alert(1)</script>", "", "host:99999"] {
        let (status, _, body) = p
            .post(admin, "/settings/egress/add", &[("entry", bad)])
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(body.contains("id=\"entry-error\""), "{bad}");
        assert!(!body.contains("<script>alert(1)"), "escaped");
    }
    let (status, location, _) = p
        .post(
            admin,
            "/settings/egress/add",
            &[("entry", "Intranet.Example.com:8443")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/settings/egress?done=added");
    let policy = platform::egress::load_policy(&p.state.store, &s)
        .await
        .unwrap();
    assert!(policy.allows("intranet.example.com", 8443));
    assert!(!policy.allows("intranet.example.com", 443));
    let (_, page) = p.get(admin, "/settings/egress").await;
    assert!(page.contains("intranet.example.com:8443"));
    let (status, _, _) = p
        .post(
            admin,
            "/settings/egress/remove",
            &[("entry", "intranet.example.com:8443")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let policy = platform::egress::load_policy(&p.state.store, &s)
        .await
        .unwrap();
    assert!(policy.allowed().is_empty());
    assert_eq!(p.changes(&s).await.len(), 2);
    let other = platform::egress::load_policy(&p.state.store, &site("settings-other"))
        .await
        .unwrap();
    assert!(other.allowed().is_empty(), "per site");
}
