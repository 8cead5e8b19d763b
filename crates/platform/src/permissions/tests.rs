#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::store::{AppNs, Keyring, ManualClock, SiteId, Store, StoreUrl};
use crate::web::ApiError;

/// A scripted Jira: permissions per project, group members, failure switches, call log.
#[derive(Default)]
struct FakeJira {
    global: Mutex<BTreeSet<String>>,
    project: Mutex<HashMap<String, BTreeSet<String>>>,
    groups: Mutex<HashMap<String, BTreeSet<String>>>,
    asked: Mutex<Vec<String>>,
    calls: AtomicUsize,
    fail: AtomicBool,
    hang: AtomicBool,
}

impl FakeJira {
    fn site_admin() -> Self {
        let f = Self::default();
        f.global.lock().unwrap().insert("ADMINISTER".into());
        f
    }
    fn grant(&self, project: &str, perm: &str) {
        let mut p = self.project.lock().unwrap();
        p.entry(project.into()).or_default().insert(perm.into());
    }
    fn revoke(&self, project: &str, perm: &str) {
        let mut p = self.project.lock().unwrap();
        p.entry(project.into()).or_default().remove(perm);
    }
    fn add_member(&self, group: &str, account: &str) {
        let mut g = self.groups.lock().unwrap();
        g.entry(group.into()).or_default().insert(account.into());
    }
    async fn enter(&self, what: String) -> Result<(), JiraCheckError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.asked.lock().unwrap().push(what);
        if self.hang.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        if self.fail.load(Ordering::SeqCst) {
            return Err(JiraCheckError::Failed(
                "jira.my_permissions: HTTP 500".into(),
            ));
        }
        Ok(())
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl JiraPermissions for FakeJira {
    async fn global_permissions(&self, keys: &[&str]) -> Result<BTreeSet<String>, JiraCheckError> {
        self.enter(format!("global:{}", keys.join(","))).await?;
        let g = self.global.lock().unwrap();
        Ok(keys
            .iter()
            .filter(|k| g.contains(**k))
            .map(|k| (*k).to_owned())
            .collect())
    }
    async fn project_permissions(
        &self,
        project: &ProjectKey,
        keys: &[&str],
    ) -> Result<BTreeSet<String>, JiraCheckError> {
        self.enter(format!("project:{project}:{}", keys.join(",")))
            .await?;
        let p = self.project.lock().unwrap();
        let held = p.get(project.as_str()).cloned().unwrap_or_default();
        Ok(keys
            .iter()
            .filter(|k| held.contains(**k))
            .map(|k| (*k).to_owned())
            .collect())
    }
    async fn is_group_member(&self, group: &str, account_id: &str) -> Result<bool, JiraCheckError> {
        self.enter(format!("group:{group}")).await?;
        let g = self.groups.lock().unwrap();
        Ok(g.get(group).is_some_and(|m| m.contains(account_id)))
    }
}

struct Env {
    auth: Authorizer,
    clock: ManualClock,
    site: SiteId,
    _dir: tempfile::TempDir,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let url = StoreUrl::Sqlite {
        path: dir.path().join("store.db"),
    };
    let clock = ManualClock::starting_now();
    let store = Store::open_and_migrate(&url, Keyring::ephemeral().unwrap())
        .await
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    let auth = Authorizer::new(store).with_clock(Arc::new(clock.clone()));
    Env {
        auth,
        clock,
        site: SiteId::new("site-1").unwrap(),
        _dir: dir,
    }
}

fn user(site: &SiteId, id: &str) -> Principal {
    Principal::User {
        site: site.clone(),
        account_id: id.into(),
        display_name: format!("User {id}"),
    }
}

fn pk(s: &str) -> ProjectKey {
    ProjectKey::new(s).unwrap()
}

fn app(s: &str) -> AppNs {
    AppNs::new(s).unwrap()
}

impl Env {
    async fn req(&self, who: &Principal, jira: &FakeJira, r: Requirement) -> Result<Grant, Denied> {
        self.auth.require(&self.site, who, jira, &r).await
    }
    async fn reason(&self, who: &Principal, jira: &FakeJira, r: Requirement) -> DenyReason {
        self.req(who, jira, r).await.unwrap_err().reason
    }
}

#[tokio::test]
async fn signed_in_needs_a_user_of_this_site() {
    let e = env().await;
    let jira = FakeJira::default();
    let u = user(&e.site, "u1");
    assert_eq!(
        e.req(&u, &jira, Requirement::SignedIn).await.unwrap().via,
        Via::SignedIn
    );
    let other = user(&SiteId::new("site-2").unwrap(), "u1");
    assert_eq!(
        e.reason(&other, &jira, Requirement::SignedIn).await,
        DenyReason::OtherSite
    );
    let empty = user(&e.site, "");
    assert_eq!(
        e.reason(&empty, &jira, Requirement::SignedIn).await,
        DenyReason::NotSignedIn
    );
    assert_eq!(jira.calls(), 0, "signing in needs no Jira call");
}

#[tokio::test]
async fn api_keys_hold_scopes_and_no_user_roles() {
    let e = env().await;
    let jira = FakeJira::site_admin();
    let key = Principal::ApiKey {
        site: e.site.clone(),
        id: "k1".into(),
        scopes: ["assets-sql:export".to_owned()].into(),
    };
    let scope = |s: &str| Requirement::ApiScope(s.into());
    assert_eq!(
        e.req(&key, &jira, scope("assets-sql:export"))
            .await
            .unwrap()
            .via,
        Via::ApiScope
    );
    assert_eq!(
        e.reason(&key, &jira, scope("techdesk:write")).await,
        DenyReason::MissingScope("techdesk:write".into())
    );
    for r in [
        Requirement::SignedIn,
        Requirement::SiteAdmin,
        Requirement::AppAdmin(app("platform")),
    ] {
        assert_eq!(e.reason(&key, &jira, r).await, DenyReason::MachinePrincipal);
    }
    let u = user(&e.site, "u1");
    assert!(e.req(&u, &jira, scope("assets-sql:export")).await.is_err());
    assert_eq!(jira.calls(), 0, "API keys and scopes need no Jira call");
}

#[tokio::test]
async fn site_admin_comes_from_global_administer() {
    let e = env().await;
    let u = user(&e.site, "u1");
    assert_eq!(
        e.req(&u, &FakeJira::site_admin(), Requirement::SiteAdmin)
            .await
            .unwrap()
            .via,
        Via::SiteAdmin
    );
    assert_eq!(
        e.reason(
            &user(&e.site, "u2"),
            &FakeJira::default(),
            Requirement::SiteAdmin
        )
        .await,
        DenyReason::NotSiteAdmin
    );
}

#[tokio::test]
async fn project_admin_is_asked_for_that_project() {
    let e = env().await;
    let jira = FakeJira::default();
    jira.grant("FS", "ADMINISTER_PROJECTS");
    let u = user(&e.site, "u1");
    let g = e
        .req(&u, &jira, Requirement::ProjectAdmin(pk("FS")))
        .await
        .unwrap();
    assert_eq!(g.via, Via::ProjectAdmin);
    assert_eq!(
        e.reason(&u, &jira, Requirement::ProjectAdmin(pk("IT")))
            .await,
        DenyReason::NotProjectAdmin(pk("IT"))
    );
    let asked = jira.asked.lock().unwrap().clone();
    assert!(
        asked.contains(&"project:FS:ADMINISTER_PROJECTS".to_owned()),
        "{asked:?}"
    );
    assert!(
        asked.contains(&"project:IT:ADMINISTER_PROJECTS".to_owned()),
        "{asked:?}"
    );
    assert!(
        !asked.iter().any(|a| a == "global:ADMINISTER_PROJECTS"),
        "never the global context: {asked:?}"
    );
    // A site admin administers every project.
    let admin = FakeJira::site_admin();
    assert_eq!(
        e.req(
            &user(&e.site, "a"),
            &admin,
            Requirement::ProjectAdmin(pk("IT"))
        )
        .await
        .unwrap()
        .via,
        Via::SiteAdmin
    );
}

#[tokio::test]
async fn jira_errors_deny_and_are_not_cached() {
    let e = env().await;
    let jira = FakeJira::site_admin();
    jira.fail.store(true, Ordering::SeqCst);
    let u = user(&e.site, "u1");
    let reason = e.reason(&u, &jira, Requirement::SiteAdmin).await;
    assert!(matches!(
        reason,
        DenyReason::JiraUnavailable(JiraCheckError::Failed(_))
    ));
    assert_eq!(reason.code(), "jira_error");
    assert!(
        !reason.public_message().contains("500"),
        "no internals for the user"
    );
    jira.fail.store(false, Ordering::SeqCst);
    assert!(
        e.req(&u, &jira, Requirement::SiteAdmin).await.is_ok(),
        "the error was not cached"
    );
}

#[tokio::test]
async fn jira_timeouts_deny() {
    let e = env().await;
    let auth = e.auth.clone().with_jira_timeout(Duration::from_millis(50));
    let jira = FakeJira::site_admin();
    jira.hang.store(true, Ordering::SeqCst);
    let u = user(&e.site, "u1");
    let denied = auth
        .require(&e.site, &u, &jira, &Requirement::SiteAdmin)
        .await
        .unwrap_err();
    assert_eq!(
        denied.reason,
        DenyReason::JiraUnavailable(JiraCheckError::Timeout)
    );
    assert_eq!(denied.reason.code(), "jira_timeout");
}

#[tokio::test]
async fn answers_are_cached_at_most_sixty_seconds() {
    let e = env().await;
    // Asking for a longer TTL is capped at 60 s.
    let auth = e.auth.clone().with_cache_ttl(Duration::from_secs(600));
    let jira = FakeJira::default();
    jira.grant("FS", "ADMINISTER_PROJECTS");
    let u = user(&e.site, "u1");
    let r = Requirement::ProjectAdmin(pk("FS"));
    assert!(auth.require(&e.site, &u, &jira, &r).await.is_ok());
    let calls = jira.calls();
    jira.revoke("FS", "ADMINISTER_PROJECTS");
    e.clock.advance(Duration::from_secs(59));
    assert!(auth.require(&e.site, &u, &jira, &r).await.is_ok(), "cached");
    assert_eq!(jira.calls(), calls, "no new Jira call within the TTL");
    e.clock.advance(Duration::from_secs(2));
    assert!(
        auth.require(&e.site, &u, &jira, &r).await.is_err(),
        "re-checked after 60 s"
    );
    assert!(jira.calls() > calls);
    // The cache is per user and per project.
    jira.grant("FS", "ADMINISTER_PROJECTS");
    let other = user(&e.site, "u2");
    assert!(auth.require(&e.site, &other, &jira, &r).await.is_ok());
    // forget() drops one user's answers.
    auth.forget(&e.site, "u1");
    assert!(auth.require(&e.site, &u, &jira, &r).await.is_ok());
}

#[tokio::test]
async fn allow_list_removal_takes_effect_on_the_next_request() {
    let e = env().await;
    let jira = FakeJira::default();
    let u = user(&e.site, "u1");
    let r = Requirement::AppAdmin(app("dispatch"));
    assert_eq!(
        e.reason(&u, &jira, r.clone()).await,
        DenyReason::NotAppAdmin(app("dispatch"))
    );
    let data = e.auth.access_data(&e.site);
    data.allow_user(&app("dispatch"), "u1").await.unwrap();
    assert_eq!(
        e.req(&u, &jira, r.clone()).await.unwrap().via,
        Via::AllowListUser
    );
    // Listed for one app only.
    assert!(
        e.req(&u, &jira, Requirement::AppAdmin(app("techdesk")))
            .await
            .is_err()
    );
    data.disallow_user(&app("dispatch"), "u1").await.unwrap();
    assert!(
        e.req(&u, &jira, r).await.is_err(),
        "removed: denied at once, no cache"
    );
}

#[tokio::test]
async fn allow_list_groups_use_jira_membership() {
    let e = env().await;
    let jira = FakeJira::default();
    jira.add_member("dispatch-admins", "u1");
    let data = e.auth.access_data(&e.site);
    data.allow_group(&app("dispatch"), "nobody-here")
        .await
        .unwrap();
    data.allow_group(&app("dispatch"), "dispatch-admins")
        .await
        .unwrap();
    let r = Requirement::AppAdmin(app("dispatch"));
    assert_eq!(
        e.req(&user(&e.site, "u1"), &jira, r.clone())
            .await
            .unwrap()
            .via,
        Via::AllowListGroup("dispatch-admins".into())
    );
    assert!(e.req(&user(&e.site, "u2"), &jira, r.clone()).await.is_err());
    // A failing group lookup denies with the Jira reason, never grants.
    jira.fail.store(true, Ordering::SeqCst);
    let reason = e.reason(&user(&e.site, "u3"), &jira, r.clone()).await;
    assert!(
        matches!(reason, DenyReason::JiraUnavailable(_)),
        "{reason:?}"
    );
    // Removing the group is effective at once even though membership is cached.
    jira.fail.store(false, Ordering::SeqCst);
    data.disallow_group(&app("dispatch"), "dispatch-admins")
        .await
        .unwrap();
    assert!(e.req(&user(&e.site, "u1"), &jira, r).await.is_err());
}

#[tokio::test]
async fn admin_of_needs_project_admin_and_allow_list() {
    let e = env().await;
    let jira = FakeJira::default();
    jira.grant("FS", "ADMINISTER_PROJECTS");
    let u = user(&e.site, "u1");
    let fs = Requirement::AdminOf(app("dispatch"), pk("FS"));
    let it = Requirement::AdminOf(app("dispatch"), pk("IT"));
    assert_eq!(
        e.reason(&u, &jira, fs.clone()).await,
        DenyReason::NotAppAdmin(app("dispatch"))
    );
    e.auth
        .access_data(&e.site)
        .allow_user(&app("dispatch"), "u1")
        .await
        .unwrap();
    assert_eq!(e.req(&u, &jira, fs).await.unwrap().via, Via::AllowListUser);
    assert_eq!(
        e.reason(&u, &jira, it.clone()).await,
        DenyReason::NotProjectAdmin(pk("IT"))
    );
    assert_eq!(
        e.req(&user(&e.site, "admin"), &FakeJira::site_admin(), it)
            .await
            .unwrap()
            .via,
        Via::SiteAdmin
    );
}

#[tokio::test]
async fn dispatcher_and_technician_come_from_assignments() {
    let e = env().await;
    let jira = FakeJira::default();
    let data = e.auth.access_data(&e.site);
    let fs = pk("FS");
    let user_src = RoleSource::User {
        account_id: "d1".into(),
    };
    data.assign(&fs, ProjectRole::Dispatcher, user_src.clone())
        .await
        .unwrap();
    data.assign(
        &fs,
        ProjectRole::Dispatcher,
        RoleSource::Group {
            name: "dispatchers".into(),
        },
    )
    .await
    .unwrap();
    data.assign(
        &fs,
        ProjectRole::Technician,
        RoleSource::JiraPermission {
            key: "WORK_ON_ISSUES".into(),
        },
    )
    .await
    .unwrap();
    jira.add_member("dispatchers", "d2");
    jira.grant("FS", "WORK_ON_ISSUES");
    let disp = Requirement::Dispatcher(fs.clone());
    let tech = Requirement::Technician(fs.clone());
    assert_eq!(
        e.req(&user(&e.site, "d1"), &jira, disp.clone())
            .await
            .unwrap()
            .via,
        Via::Assignment(user_src.clone())
    );
    assert!(
        e.req(&user(&e.site, "d2"), &jira, disp.clone())
            .await
            .is_ok()
    );
    assert_eq!(
        e.reason(&user(&e.site, "t1"), &jira, disp.clone()).await,
        DenyReason::NoProjectRole(ProjectRole::Dispatcher, fs.clone())
    );
    assert!(
        e.req(&user(&e.site, "t1"), &jira, tech.clone())
            .await
            .is_ok()
    );
    // Per project: nothing assigned in IT.
    assert!(
        e.req(
            &user(&e.site, "d1"),
            &jira,
            Requirement::Dispatcher(pk("IT"))
        )
        .await
        .is_err()
    );
    // Unassigning is effective at once.
    data.unassign(&fs, ProjectRole::Dispatcher, &user_src)
        .await
        .unwrap();
    assert!(e.req(&user(&e.site, "d1"), &jira, disp).await.is_err());
    // Bad sources are refused.
    assert!(
        data.assign(
            &fs,
            ProjectRole::Technician,
            RoleSource::JiraPermission {
                key: "bad key".into()
            }
        )
        .await
        .is_err()
    );
    assert!(
        data.assign(
            &fs,
            ProjectRole::Technician,
            RoleSource::Group { name: " ".into() }
        )
        .await
        .is_err()
    );
}

#[derive(Default)]
struct FakeCheck {
    held: Mutex<HashMap<(String, i64), BTreeSet<String>>>,
    fail: AtomicBool,
    hang: AtomicBool,
}

#[async_trait]
impl UserPermissionCheck for FakeCheck {
    async fn issue_permissions(
        &self,
        account_id: &str,
        issue_id: i64,
        keys: &[&str],
    ) -> Result<BTreeSet<String>, JiraCheckError> {
        if self.hang.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        if self.fail.load(Ordering::SeqCst) {
            return Err(JiraCheckError::Failed("HTTP 503".into()));
        }
        let h = self.held.lock().unwrap();
        let held = h
            .get(&(account_id.to_owned(), issue_id))
            .cloned()
            .unwrap_or_default();
        Ok(keys
            .iter()
            .filter(|k| held.contains(**k))
            .map(|k| (*k).to_owned())
            .collect())
    }
}

#[tokio::test]
async fn writes_on_behalf_need_the_users_issue_permission() {
    let check = FakeCheck::default();
    check
        .held
        .lock()
        .unwrap()
        .insert(("u1".into(), 10001), ["EDIT_ISSUES".to_owned()].into());
    let t = Duration::from_secs(5);
    let ok = check_write_on_behalf(&check, "u1", 10001, "EDIT_ISSUES", t)
        .await
        .unwrap();
    assert_eq!(ok.via, Via::JiraIssuePermission);
    let no = check_write_on_behalf(&check, "u1", 10001, "ASSIGN_ISSUES", t)
        .await
        .unwrap_err();
    assert_eq!(no.reason.code(), "no_issue_permission");
    assert!(
        check_write_on_behalf(&check, "u2", 10001, "EDIT_ISSUES", t)
            .await
            .is_err()
    );
    assert!(
        check_write_on_behalf(&check, "", 10001, "EDIT_ISSUES", t)
            .await
            .is_err()
    );
    assert!(
        check_write_on_behalf(&check, "u1", -1, "EDIT_ISSUES", t)
            .await
            .is_err()
    );
    assert!(
        check_write_on_behalf(&check, "u1", 10001, "edit", t)
            .await
            .is_err()
    );
    check.fail.store(true, Ordering::SeqCst);
    let err = check_write_on_behalf(&check, "u1", 10001, "EDIT_ISSUES", t)
        .await
        .unwrap_err();
    assert_eq!(err.reason.code(), "jira_error");
    check.fail.store(false, Ordering::SeqCst);
    check.hang.store(true, Ordering::SeqCst);
    let short = Duration::from_millis(50);
    let err = check_write_on_behalf(&check, "u1", 10001, "EDIT_ISSUES", short)
        .await
        .unwrap_err();
    assert_eq!(err.reason.code(), "jira_timeout");
}

#[test]
fn denials_map_to_401_and_403_with_the_reason() {
    let unauth: ApiError = Denied::new(Requirement::SignedIn, DenyReason::NotSignedIn).into();
    assert_eq!(unauth.status().as_u16(), 401);
    let forbidden: ApiError = Denied::new(
        Requirement::ProjectAdmin(pk("IT")),
        DenyReason::NotProjectAdmin(pk("IT")),
    )
    .into();
    assert_eq!(forbidden.status().as_u16(), 403);
    assert!(forbidden.public_message().contains("project IT"));
}

#[test]
fn project_keys_are_validated() {
    assert!(ProjectKey::new("FS").is_ok());
    assert!(ProjectKey::new("A_1").is_ok());
    for bad in ["", "fs", "1A", "F-S", "FS IT", &"A".repeat(65)] {
        assert!(ProjectKey::new(bad).is_err(), "{bad:?}");
    }
    assert!(validate_permission_key("ADMINISTER_PROJECTS").is_ok());
    assert!(validate_permission_key("x").is_err());
}
