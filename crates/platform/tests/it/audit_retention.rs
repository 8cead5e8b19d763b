//! Audit retention: the settings form on the audit page (admins only, validated, audited)
//! and the daily purge job run through the scheduler on both store backends.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use platform::audit::{
    self, Action, Actor, ActorKind, AuditFilter, AuditLog, AuditState, NewEntry, Outcome,
};
use platform::permissions::{
    AccessContext, Authorizer, JiraCheckError, JiraPermissions, Principal, ProjectKey,
};
use platform::scheduler::{
    AUDIT_PURGE_JOB_ID, JobKey, RunOutcome, Scheduler, SchedulerConfig, audit_purge_job,
};
use platform::store::{Clock, SiteId};
use serde_json::json;
use tower::ServiceExt;

use crate::harness::{Ctx, Kind, app, site};

conformance!(purge_job_deletes_old_entries_on_every_site);

/// Jira answering "site admin" or nothing.
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

fn router(ctx: &Ctx, s: &SiteId, admin: bool) -> Router {
    audit::router(AuditState {
        log: AuditLog::new(ctx.store.clone()),
        authorizer: Authorizer::new(ctx.store.clone()),
    })
    .layer(axum::Extension(AccessContext {
        site: s.clone(),
        principal: Principal::User {
            site: s.clone(),
            account_id: "acc-admin".into(),
            display_name: "Ada Admin".into(),
        },
        jira: Arc::new(Jira { admin }),
    }))
}

async fn send(r: Router, req: Request<Body>) -> (StatusCode, Option<String>, String) {
    let resp = r.oneshot(req).await.unwrap();
    let status = resp.status();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, location, String::from_utf8(body.to_vec()).unwrap())
}

fn post(days: &str) -> Request<Body> {
    Request::post("/settings/audit/retention")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("days={days}")))
        .unwrap()
}

#[tokio::test]
async fn retention_form_validates_saves_and_is_audited() {
    let ctx = Ctx::new(Kind::Sqlite).await;
    let s = site("cloud-ret");
    let log = AuditLog::new(ctx.store.clone());

    let (status, _, body) = send(
        router(&ctx, &s, true),
        Request::get("/settings/audit").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("kept for 365 days"), "{body}");
    assert!(body.contains("action=\"/settings/audit/retention\""));

    // Non-admins may not change it.
    let (status, _, _) = send(router(&ctx, &s, false), post("30")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(log.retention_days(&s).await.unwrap(), 365);

    for (bad, reason) in [
        ("0", "from 1 to 3650"),
        ("3651", "from 1 to 3650"),
        ("-5", "from 1 to 3650"),
        ("12.5", "from 1 to 3650"),
        ("abc%3Cb%3E", "from 1 to 3650"),
        ("", "enter a number of days"),
    ] {
        let (status, _, body) = send(router(&ctx, &s, true), post(bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(body.contains(reason), "{bad}: {body}");
        assert!(body.contains("id=\"days-error\""), "{bad}");
        assert!(body.contains("aria-invalid=\"true\""), "{bad}");
        assert!(!body.contains("<b>"), "input is escaped");
    }
    let (_, _, body) = send(router(&ctx, &s, true), post("abc%3Cb%3E")).await;
    assert!(
        body.contains("value=\"abc&#60;b&#62;\"") || body.contains("value=\"abc&lt;b&gt;\""),
        "input kept, escaped: {body}"
    );
    assert_eq!(log.retention_days(&s).await.unwrap(), 365);

    let (status, location, _) = send(router(&ctx, &s, true), post("30")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/settings/audit?done=retention"));
    assert_eq!(log.retention_days(&s).await.unwrap(), 30);
    let changes = log
        .query(
            &s,
            &AuditFilter {
                action: Some(Action::SETTINGS_CHANGE),
                ..AuditFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(changes.entries.len(), 1);
    let e = &changes.entries[0];
    assert_eq!(e.target, "audit retention");
    assert_eq!(e.detail, json!({"old_days": 365, "new_days": 30}));
    assert_eq!(e.actor.id, "acc-admin");

    let (status, _, body) = send(
        router(&ctx, &s, true),
        Request::get("/settings/audit?done=retention")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Retention saved."));
    assert!(body.contains("kept for 30 days"));
}

fn entry(target: &str) -> NewEntry {
    NewEntry {
        actor: Actor {
            kind: ActorKind::System,
            id: "system".into(),
            display: "system".into(),
        },
        action: Action::SETTINGS_CHANGE,
        target: target.into(),
        detail: json!(null),
        outcome: Outcome::Ok,
        request_id: None,
    }
}

async fn targets(log: &AuditLog, s: &SiteId) -> Vec<String> {
    let page = log
        .query(s, &AuditFilter::default(), None, 100)
        .await
        .unwrap();
    page.entries.into_iter().map(|e| e.target).collect()
}

async fn purge_job_deletes_old_entries_on_every_site(ctx: &Ctx) {
    let log = AuditLog::new(ctx.store.clone());
    let short = site("cloud-short");
    let default = site("cloud-default");
    let now = jiff::Timestamp::from_millisecond(ctx.clock.now_ms()).unwrap();
    let days = |n: i64| now - jiff::SignedDuration::from_hours(24 * n);

    log.set_retention_days(&short, 30).await.unwrap();
    for (s, age, name) in [
        (&short, 400, "short-400"),
        (&short, 31, "short-31"),
        (&short, 29, "short-29"),
        (&default, 400, "default-400"),
        (&default, 31, "default-31"),
    ] {
        ctx.clock.set(days(age));
        log.record(s, entry(name)).await.unwrap();
    }
    ctx.clock.set(now);
    log.record(&short, entry("short-0")).await.unwrap();

    let scheduler = Scheduler::new(ctx.store.clone(), SchedulerConfig::default());
    scheduler.register(audit_purge_job(ctx.store.clone()).unwrap());
    let key = JobKey::global(app("platform"), AUDIT_PURGE_JOB_ID).unwrap();
    // The first tick schedules the next 03:17 UTC.
    assert!(scheduler.tick().await.started.is_empty());
    let state = scheduler.state(&key).await.unwrap().unwrap();
    let next = jiff::Timestamp::from_millisecond(state.next_run_at_ms.unwrap()).unwrap();
    assert_eq!(next.strftime("%H:%M:%S").to_string(), "03:17:00");
    assert!(next > now && next <= now + jiff::SignedDuration::from_hours(24));

    // When it is due, it purges every site by its own retention.
    ctx.clock.set(next);
    ctx.clock.advance(Duration::from_secs(1));
    let reports = scheduler.tick().await.wait().await;
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].outcome, RunOutcome::Ok);
    assert_eq!(targets(&log, &short).await, ["short-0", "short-29"]);
    assert_eq!(targets(&log, &default).await, ["default-31"]);
}
