//! `platform::permissions` against the Atlassian simulator's seeded site: who is site admin,
//! project admin per project, group-based allow-lists, Jira-mapped roles, fail-closed on
//! Jira errors, and writes on behalf checked with `/permissions/check`.
//!
//! Seeded facts (crates/atlassian-sim/src/seed): the admin is in `jira-admins` (global
//! ADMINISTER) and in every project's Administrators role; dispatchers are in the
//! `dispatchers` group (roles Dispatchers + Service Desk Team); technicians in `technicians`.
//! `ADMINISTER_PROJECTS` goes to Administrators, `ASSIGN_ISSUES` to Administrators +
//! Dispatchers, `EDIT_ISSUES` to Administrators + Dispatchers + Technicians; the viewer
//! (group `jsmkit-viewers`) may only browse.

use std::time::Duration;

use atlassian::client::{AtlassianClient, RetryPolicy, Timeouts};
use atlassian_sim::model::Actor as SimActor;
use atlassian_sim::{FaultConfig, SimConfig, SimHandle, UserSummary};
use platform::permissions::{
    Authorizer, DenyReason, JiraPermissions, Principal, ProjectKey, ProjectRole, Requirement,
    RoleSource, Via, check_write_on_behalf,
};
use platform::store::{AppNs, SiteId};
use secrecy::SecretString;
use tokio::net::TcpListener;

use crate::harness::{Ctx, Kind};

struct World {
    sim: SimHandle,
    users: Vec<UserSummary>,
    auth: Authorizer,
    site: SiteId,
    _ctx: Ctx,
}

async fn world() -> World {
    atlassian::client::install_crypto_provider();
    let sim = atlassian_sim::start(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        SimConfig::default(),
    )
    .await
    .unwrap();
    let ctx = Ctx::new(Kind::Sqlite).await;
    let auth = Authorizer::new(ctx.store.clone()).with_jira_timeout(Duration::from_secs(5));
    World {
        users: sim.users_summary(),
        site: SiteId::new(sim.cloud_id.clone()).unwrap(),
        sim,
        auth,
        _ctx: ctx,
    }
}

impl World {
    fn first(&self, role: &str) -> &UserSummary {
        self.users.iter().find(|u| u.role == role).unwrap()
    }

    fn client(&self, u: &UserSummary) -> AtlassianClient {
        let base = url::Url::parse(&self.sim.base_url).unwrap();
        AtlassianClient::basic(
            base,
            u.email.clone(),
            SecretString::from(u.api_token.clone()),
        )
        .unwrap()
        .retry(RetryPolicy::none())
        .timeouts(Timeouts {
            connect: Duration::from_secs(2),
            total: Duration::from_secs(5),
        })
        .build()
        .unwrap()
    }

    fn principal(&self, u: &UserSummary) -> Principal {
        Principal::User {
            site: self.site.clone(),
            account_id: u.account_id.clone(),
            display_name: u.display_name.clone(),
        }
    }

    async fn check(&self, u: &UserSummary, r: Requirement) -> Result<Via, DenyReason> {
        let jira = self.client(u);
        self.auth
            .require(&self.site, &self.principal(u), &jira, &r)
            .await
            .map(|g| g.via)
            .map_err(|d| d.reason)
    }
}

fn pk(s: &str) -> ProjectKey {
    ProjectKey::new(s).unwrap()
}

#[tokio::test]
async fn admin_is_site_admin_and_dispatchers_technicians_are_not() {
    let w = world().await;
    assert_eq!(
        w.check(w.first("admin"), Requirement::SiteAdmin).await,
        Ok(Via::SiteAdmin)
    );
    for role in ["dispatcher", "technician", "viewer"] {
        assert_eq!(
            w.check(w.first(role), Requirement::SiteAdmin).await,
            Err(DenyReason::NotSiteAdmin),
            "{role}"
        );
    }
}

#[tokio::test]
async fn project_admin_is_answered_per_project() {
    let w = world().await;
    // The seeded admin holds ADMINISTER_PROJECTS in FS and IT when asked per project.
    let admin_jira = w.client(w.first("admin"));
    for p in ["FS", "IT"] {
        let held = admin_jira
            .project_permissions(&pk(p), &["ADMINISTER_PROJECTS"])
            .await
            .unwrap();
        assert!(held.contains("ADMINISTER_PROJECTS"), "{p}");
    }
    // Make one dispatcher an administrator of FS only.
    let dispatcher = w.first("dispatcher").clone();
    {
        let mut m = w.sim.state.write();
        let fs = m.projects.iter_mut().find(|p| p.key == "FS").unwrap();
        fs.roles
            .entry("Administrators".into())
            .or_default()
            .push(SimActor::User(dispatcher.account_id.clone()));
    }
    assert_eq!(
        w.check(&dispatcher, Requirement::ProjectAdmin(pk("FS")))
            .await,
        Ok(Via::ProjectAdmin)
    );
    assert_eq!(
        w.check(&dispatcher, Requirement::ProjectAdmin(pk("IT")))
            .await,
        Err(DenyReason::NotProjectAdmin(pk("IT"))),
        "admin of FS is not admin of IT"
    );
    let tech = w.first("technician");
    assert_eq!(
        w.check(tech, Requirement::ProjectAdmin(pk("FS"))).await,
        Err(DenyReason::NotProjectAdmin(pk("FS")))
    );
    // An unknown project is an error from Jira: denied, not granted.
    let reason = w
        .check(&dispatcher, Requirement::ProjectAdmin(pk("NOPE")))
        .await
        .unwrap_err();
    assert!(
        matches!(
            reason,
            DenyReason::JiraUnavailable(_) | DenyReason::NotProjectAdmin(_)
        ),
        "{reason:?}"
    );
}

#[tokio::test]
async fn allow_list_groups_and_mapped_roles_use_the_sites_groups_and_scheme() {
    let w = world().await;
    let data = w.auth.access_data(&w.site);
    let dispatch = AppNs::new("dispatch").unwrap();
    data.allow_group(&dispatch, "dispatchers").await.unwrap();
    let dispatcher = w.first("dispatcher");
    let tech = w.first("technician");
    assert_eq!(
        w.check(dispatcher, Requirement::AppAdmin(dispatch.clone()))
            .await,
        Ok(Via::AllowListGroup("dispatchers".into()))
    );
    assert!(
        w.check(tech, Requirement::AppAdmin(dispatch.clone()))
            .await
            .is_err()
    );
    // Roles mapped from Jira: dispatchers = ASSIGN_ISSUES holders, technicians = group.
    let fs = pk("FS");
    data.assign(
        &fs,
        ProjectRole::Dispatcher,
        RoleSource::JiraPermission {
            key: "ASSIGN_ISSUES".into(),
        },
    )
    .await
    .unwrap();
    data.assign(
        &fs,
        ProjectRole::Technician,
        RoleSource::Group {
            name: "technicians".into(),
        },
    )
    .await
    .unwrap();
    assert!(
        w.check(dispatcher, Requirement::Dispatcher(fs.clone()))
            .await
            .is_ok()
    );
    assert_eq!(
        w.check(tech, Requirement::Dispatcher(fs.clone())).await,
        Err(DenyReason::NoProjectRole(
            ProjectRole::Dispatcher,
            fs.clone()
        ))
    );
    assert!(
        w.check(tech, Requirement::Technician(fs.clone()))
            .await
            .is_ok()
    );
    assert!(
        w.check(w.first("viewer"), Requirement::Technician(fs.clone()))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn jira_errors_deny() {
    let w = world().await;
    w.sim.faults().set(FaultConfig {
        error_every_n: Some(1),
        ..FaultConfig::default()
    });
    let reason = w
        .check(w.first("admin"), Requirement::SiteAdmin)
        .await
        .unwrap_err();
    assert_eq!(reason.code(), "jira_error");
    w.sim.faults().set(FaultConfig::default());
    assert!(
        w.check(w.first("admin"), Requirement::SiteAdmin)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn writes_on_behalf_ask_jira_about_that_user_and_issue() {
    let w = world().await;
    let issue_id: i64 = {
        let m = w.sim.state.read();
        let fs = m
            .projects
            .iter()
            .find(|p| p.key == "FS")
            .unwrap()
            .id
            .clone();
        m.issues
            .iter()
            .find(|i| i.project_id == fs)
            .unwrap()
            .id
            .parse()
            .unwrap()
    };
    // App credentials: the admin's client.
    let app_client = w.client(w.first("admin"));
    let t = Duration::from_secs(5);
    let tech = &w.first("technician").account_id;
    let viewer = &w.first("viewer").account_id;
    assert!(
        check_write_on_behalf(&app_client, tech, issue_id, "EDIT_ISSUES", t)
            .await
            .is_ok()
    );
    let denied = check_write_on_behalf(&app_client, viewer, issue_id, "EDIT_ISSUES", t)
        .await
        .unwrap_err();
    assert_eq!(denied.reason.code(), "no_issue_permission");
    let denied = check_write_on_behalf(&app_client, tech, issue_id, "ASSIGN_ISSUES", t)
        .await
        .unwrap_err();
    assert_eq!(denied.reason.code(), "no_issue_permission");
}
