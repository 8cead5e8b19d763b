//! The audit pages through `Router::oneshot`: admins only, validated filters, paging links,
//! CSV download, and attack payloads rendered escaped.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use platform::audit::{self, Action, Actor, ActorKind, AuditLog, AuditState, NewEntry, Outcome};
use platform::permissions::{
    AccessContext, Authorizer, JiraCheckError, JiraPermissions, Principal, ProjectKey,
};
use platform::store::SiteId;
use serde_json::json;
use tower::ServiceExt;

use crate::harness::{Ctx, Kind, site};

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
    ctx: Ctx,
    log: AuditLog,
    auth: Authorizer,
}

async fn pages() -> Pages {
    let ctx = Ctx::new(Kind::Sqlite).await;
    Pages {
        log: AuditLog::new(ctx.store.clone()),
        auth: Authorizer::new(ctx.store.clone()),
        ctx,
    }
}

impl Pages {
    fn router(&self, who: Option<(&SiteId, &str, bool)>) -> Router {
        let r = audit::router(AuditState {
            log: self.log.clone(),
            authorizer: self.auth.clone(),
        });
        match who {
            None => r,
            Some((s, account, admin)) => r.layer(axum::Extension(AccessContext {
                site: s.clone(),
                principal: Principal::User {
                    site: s.clone(),
                    account_id: account.into(),
                    display_name: account.into(),
                },
                jira: Arc::new(Jira { admin }),
            })),
        }
    }

    async fn get(
        &self,
        who: Option<(&SiteId, &str, bool)>,
        uri: &str,
    ) -> (StatusCode, String, String) {
        let resp = self
            .router(who)
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let ctype = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, ctype, String::from_utf8(body.to_vec()).unwrap())
    }
}

fn note(actor: &str, target: &str, detail: serde_json::Value, outcome: Outcome) -> NewEntry {
    NewEntry {
        actor: Actor {
            kind: ActorKind::User,
            id: "acc-1".into(),
            display: actor.into(),
        },
        action: Action::SETTINGS_CHANGE,
        target: target.into(),
        detail,
        outcome,
        request_id: None,
    }
}

#[tokio::test]
async fn only_admins_see_the_log() {
    let p = pages().await;
    let s = site("pages-1");
    let (status, _, _) = p.get(None, "/settings/audit").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, body) = p.get(Some((&s, "u1", false)), "/settings/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("only administrators of platform"), "{body}");
    let (status, _, _) = p.get(Some((&s, "u1", false)), "/settings/audit.csv").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Allow-listed for the platform app: allowed without being a Jira admin.
    p.auth
        .access_data(&s)
        .allow_user(&platform::permissions::platform_ns(), "u1")
        .await
        .unwrap();
    let (status, _, _) = p.get(Some((&s, "u1", false)), "/settings/audit").await;
    assert_eq!(status, StatusCode::OK);
    let (status, ctype, body) = p.get(Some((&s, "root", true)), "/settings/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/html"));
    assert!(body.contains("No entries match"));
}

#[tokio::test]
async fn filters_are_validated_per_field_and_pages_link_onwards() {
    let p = pages().await;
    let s = site("pages-2");
    for i in 0..12 {
        p.log
            .record(
                &s,
                note("Ann", &format!("target-{i}"), json!({}), Outcome::Ok),
            )
            .await
            .unwrap();
        p.ctx.clock.advance(std::time::Duration::from_millis(5));
    }
    let admin = Some((&s, "root", true));
    let (status, _, body) = p
        .get(
            admin,
            "/settings/audit?from=nope&outcome=maybe&limit=0&action=Bad%20Action",
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for id in ["from-error", "outcome-error", "limit-error", "action-error"] {
        assert!(body.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(
        body.contains("value=\"nope\""),
        "the form keeps what was typed"
    );
    let (status, _, body) = p.get(admin, "/settings/audit?limit=5").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("target-11") && body.contains("target-7"));
    assert!(!body.contains("target-6"));
    let next = body
        .split("rel=\"next\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let (status, _, body) = p.get(admin, &next).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("target-6") && !body.contains("target-7"),
        "{next}: {body}"
    );
    let (status, _, body) = p.get(admin, "/settings/audit?cursor=v1.0.garbage").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"cursor-error\""));
}

#[tokio::test]
async fn csv_download_is_safe_and_recorded() {
    let p = pages().await;
    let s = site("pages-3");
    p.log
        .record(
            &s,
            note(
                "=HYPERLINK(\"http://evil\")",
                "-1+1",
                json!({"password": "hunter2"}),
                Outcome::Denied,
            ),
        )
        .await
        .unwrap();
    let admin = Some((&s, "root", true));
    let (status, ctype, body) = p.get(admin, "/settings/audit.csv?outcome=denied").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, "text/csv; charset=utf-8");
    assert!(body.starts_with("id,at,site,"));
    assert!(
        body.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
        "{body}"
    );
    assert!(body.contains(",'-1+1,"));
    assert!(!body.contains("hunter2"));
    let (status, _, _) = p.get(admin, "/settings/audit.csv?limit=x").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The export itself is in the log.
    let (_, _, html) = p.get(admin, "/settings/audit?action=audit_export").await;
    assert!(html.contains("audit_export"));
}

#[tokio::test]
async fn attack_payloads_render_escaped() {
    let text = std::fs::read_to_string(payloads_file()).unwrap_or_else(|e| {
        panic!(
            "the attack corpus {} is required (JSMKIT shared folder): {e}",
            payloads_file().display()
        )
    });
    let payloads: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(payloads.len() > 50, "corpus looks truncated");
    let p = pages().await;
    for (n, chunk) in payloads.chunks(40).enumerate() {
        let s = site(&format!("xss-{n}"));
        for payload in chunk {
            p.log
                .record(
                    &s,
                    note(payload, payload, json!({"note": payload}), Outcome::Ok),
                )
                .await
                .unwrap();
        }
        let (status, _, body) = p
            .get(Some((&s, "root", true)), "/settings/audit?limit=100")
            .await;
        assert_eq!(status, StatusCode::OK);
        for payload in chunk {
            let risky = payload.contains(['<', '>'])
                || (payload.len() >= 4 && payload.contains(['"', '\'', '&']));
            if risky {
                assert!(!body.contains(payload), "unescaped payload {payload:?}");
            }
        }
        assert_eq!(
            body.matches("<script").count(),
            2,
            "only the layout's two module scripts"
        );
        assert!(
            !body.to_lowercase().contains("<img"),
            "no injected elements"
        );
        assert!(!body.to_lowercase().contains("<iframe"));
    }
}
