//! The server-side check of every [`Requirement`], in three tiers:
//!
//! 1. **Signed in**: the principal is a user of the site the request is for.
//! 2. **Jira-derived**: site admin (global `ADMINISTER`) or project admin
//!    (`ADMINISTER_PROJECTS` asked *for that project*), through [`JiraPermissions`].
//! 3. **App allow-list / role assignments**: read from the store on every check.
//!
//! Jira answers are cached per (site, account, question) for at most 60 s; errors and
//! time-outs are never cached and always deny. Allow-lists and role assignments are not
//! cached, so removing someone takes effect on their next request.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::jira::JiraPermissions;
use super::roles::{AccessData, RoleSource};
use super::types::{
    Denied, DenyReason, Grant, JiraCheckError, Principal, ProjectKey, ProjectRole, Requirement, Via,
};
use crate::store::{AppNs, Clock, SiteId, Store, SystemClock};

/// Longest time a Jira answer is reused.
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(60);
/// Default time limit of one Jira permission call.
pub const DEFAULT_JIRA_TIMEOUT: Duration = Duration::from_secs(10);
/// Cached answers kept before expired ones are swept (and, if still full, all dropped).
const MAX_CACHE_ENTRIES: usize = 20_000;

const ADMINISTER: &str = "ADMINISTER";
const ADMINISTER_PROJECTS: &str = "ADMINISTER_PROJECTS";

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Question {
    Global(String),
    Project(ProjectKey, String),
    Group(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CacheKey {
    site: SiteId,
    account_id: String,
    question: Question,
}

/// Checks requirements; one per process, shared by every request (cheap to clone).
#[derive(Clone, Debug)]
pub struct Authorizer {
    store: Store,
    clock: Arc<dyn Clock>,
    cache_ttl_ms: i64,
    jira_timeout: Duration,
    cache: Arc<Mutex<HashMap<CacheKey, (i64, bool)>>>,
}

impl Authorizer {
    /// An authorizer reading access data from `store`, with the system clock, a 60 s cache
    /// and a 10 s Jira time limit.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            cache_ttl_ms: 60_000,
            jira_timeout: DEFAULT_JIRA_TIMEOUT,
            cache: Arc::default(),
        }
    }

    /// Uses `clock` for cache expiry (tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Reuses Jira answers for `ttl`, capped at [`MAX_CACHE_TTL`]; zero disables the cache.
    #[must_use]
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        let ttl = ttl.min(MAX_CACHE_TTL);
        self.cache_ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(60_000);
        self
    }

    /// Time limit of each Jira call; past it the check denies with `jira_timeout`.
    #[must_use]
    pub fn with_jira_timeout(mut self, timeout: Duration) -> Self {
        self.jira_timeout = timeout;
        self
    }

    /// The access data (allow-lists, role assignments) of `site`.
    pub fn access_data(&self, site: &SiteId) -> AccessData {
        AccessData::new(&self.store, site)
    }

    /// Drops every cached answer about `account_id` on `site` (e.g. at sign-out).
    pub fn forget(&self, site: &SiteId, account_id: &str) {
        self.lock()
            .retain(|k, _| !(k.site == *site && k.account_id == account_id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, (i64, bool)>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `principal` passes `requirement`, for deciding what to show (not logged as a
    /// denial; use [`Self::require`] to refuse a request).
    pub async fn allows(
        &self,
        site: &SiteId,
        principal: &Principal,
        jira: &dyn JiraPermissions,
        requirement: &Requirement,
    ) -> bool {
        self.check(site, principal, jira, requirement).await.is_ok()
    }

    /// Checks `requirement` for `principal` on the request's `site`. `jira` asks Jira as
    /// that user (unused for API keys). Every denial is logged with its reason.
    pub async fn require(
        &self,
        site: &SiteId,
        principal: &Principal,
        jira: &dyn JiraPermissions,
        requirement: &Requirement,
    ) -> Result<Grant, Denied> {
        let result = self.check(site, principal, jira, requirement).await;
        match &result {
            Ok(grant) => tracing::debug!(
                site = %site, principal = principal.id(), requirement = %requirement,
                via = ?grant.via, "access granted"
            ),
            Err(denied) => tracing::info!(
                site = %site, principal = principal.id(), requirement = %requirement,
                reason = denied.reason.code(), "access denied"
            ),
        }
        result
    }

    async fn check(
        &self,
        site: &SiteId,
        principal: &Principal,
        jira: &dyn JiraPermissions,
        requirement: &Requirement,
    ) -> Result<Grant, Denied> {
        let deny = |reason| Err(Denied::new(requirement.clone(), reason));
        let grant = |via| {
            Ok(Grant {
                requirement: requirement.clone(),
                via,
            })
        };
        if principal.site() != site {
            return deny(DenyReason::OtherSite);
        }
        let account_id = match principal {
            Principal::ApiKey { scopes, .. } => {
                return match requirement {
                    Requirement::ApiScope(s) if scopes.contains(s) => grant(Via::ApiScope),
                    Requirement::ApiScope(s) => deny(DenyReason::MissingScope(s.clone())),
                    _ => deny(DenyReason::MachinePrincipal),
                };
            }
            Principal::User { account_id, .. } if account_id.is_empty() => {
                return deny(DenyReason::NotSignedIn);
            }
            Principal::User { account_id, .. } => account_id.as_str(),
        };
        let user = UserCheck {
            auth: self,
            site,
            account_id,
            jira,
        };
        let outcome = match requirement {
            Requirement::SignedIn => Ok(Some(Via::SignedIn)),
            Requirement::SiteAdmin => user
                .site_admin()
                .await
                .map(|ok| ok.then_some(Via::SiteAdmin)),
            Requirement::ProjectAdmin(project) => user.project_admin(project).await,
            Requirement::AppAdmin(app) => user.app_admin(app).await,
            Requirement::Dispatcher(p) => user.project_role(p, ProjectRole::Dispatcher).await,
            Requirement::Technician(p) => user.project_role(p, ProjectRole::Technician).await,
            Requirement::AdminOf(app, project) => user.admin_of(app, project).await,
            // Users never hold API scopes; issue permissions go through
            // `check_write_on_behalf`.
            Requirement::ApiScope(s) => return deny(DenyReason::MissingScope(s.clone())),
            Requirement::IssuePermission {
                issue_id,
                permission,
            } => {
                return deny(DenyReason::NoIssuePermission {
                    issue_id: *issue_id,
                    permission: permission.clone(),
                });
            }
        };
        match outcome {
            Ok(Some(via)) => grant(via),
            Ok(None) => deny(not_met(requirement)),
            Err(reason) => deny(reason),
        }
    }

    /// Asks Jira (through the cache) with the time limit; errors are logged and not cached.
    async fn ask<F>(&self, key: CacheKey, call: F) -> Result<bool, DenyReason>
    where
        F: Future<Output = Result<bool, JiraCheckError>>,
    {
        let now = self.clock.now_ms();
        if let Some((expires, answer)) = self.lock().get(&key).copied()
            && now < expires
        {
            return Ok(answer);
        }
        let answer = match tokio::time::timeout(self.jira_timeout, call).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(err)) => {
                tracing::warn!(site = %key.site, account_id = %key.account_id, question = ?key.question, error = %err, "Jira permission check failed; denying");
                return Err(DenyReason::JiraUnavailable(err));
            }
            Err(_) => {
                tracing::warn!(site = %key.site, account_id = %key.account_id, question = ?key.question, "Jira permission check timed out; denying");
                return Err(DenyReason::JiraUnavailable(JiraCheckError::Timeout));
            }
        };
        if self.cache_ttl_ms > 0 {
            let mut cache = self.lock();
            if cache.len() >= MAX_CACHE_ENTRIES {
                let now = self.clock.now_ms();
                cache.retain(|_, (expires, _)| now < *expires);
                if cache.len() >= MAX_CACHE_ENTRIES {
                    cache.clear();
                }
            }
            cache.insert(key, (now.saturating_add(self.cache_ttl_ms), answer));
        }
        Ok(answer)
    }
}

fn not_met(requirement: &Requirement) -> DenyReason {
    match requirement {
        Requirement::SignedIn | Requirement::ApiScope(_) | Requirement::IssuePermission { .. } => {
            DenyReason::NotSignedIn
        }
        Requirement::SiteAdmin => DenyReason::NotSiteAdmin,
        Requirement::ProjectAdmin(p) => DenyReason::NotProjectAdmin(p.clone()),
        Requirement::AppAdmin(a) => DenyReason::NotAppAdmin(a.clone()),
        Requirement::AdminOf(a, _) => DenyReason::NotAppAdmin(a.clone()),
        Requirement::Dispatcher(p) => DenyReason::NoProjectRole(ProjectRole::Dispatcher, p.clone()),
        Requirement::Technician(p) => DenyReason::NoProjectRole(ProjectRole::Technician, p.clone()),
    }
}

/// One user's checks: `Ok(Some(via))` met, `Ok(None)` not met, `Err` deny for a reason.
struct UserCheck<'a> {
    auth: &'a Authorizer,
    site: &'a SiteId,
    account_id: &'a str,
    jira: &'a dyn JiraPermissions,
}

type Step = Result<Option<Via>, DenyReason>;

impl UserCheck<'_> {
    fn key(&self, question: Question) -> CacheKey {
        CacheKey {
            site: self.site.clone(),
            account_id: self.account_id.to_owned(),
            question,
        }
    }

    async fn site_admin(&self) -> Result<bool, DenyReason> {
        let key = self.key(Question::Global(ADMINISTER.into()));
        self.auth
            .ask(key, async {
                Ok(self
                    .jira
                    .global_permissions(&[ADMINISTER])
                    .await?
                    .contains(ADMINISTER))
            })
            .await
    }

    async fn project_permission(
        &self,
        project: &ProjectKey,
        perm: &str,
    ) -> Result<bool, DenyReason> {
        let key = self.key(Question::Project(project.clone(), perm.to_owned()));
        self.auth
            .ask(key, async {
                Ok(self
                    .jira
                    .project_permissions(project, &[perm])
                    .await?
                    .contains(perm))
            })
            .await
    }

    async fn in_group(&self, group: &str) -> Result<bool, DenyReason> {
        let key = self.key(Question::Group(group.to_owned()));
        self.auth
            .ask(key, self.jira.is_group_member(group, self.account_id))
            .await
    }

    async fn project_admin(&self, project: &ProjectKey) -> Step {
        if self.site_admin().await? {
            return Ok(Some(Via::SiteAdmin));
        }
        Ok(self
            .project_permission(project, ADMINISTER_PROJECTS)
            .await?
            .then_some(Via::ProjectAdmin))
    }

    /// Site admins always pass (someone must be able to edit an empty allow-list).
    async fn app_admin(&self, app: &AppNs) -> Step {
        if self.site_admin().await? {
            return Ok(Some(Via::SiteAdmin));
        }
        self.allow_listed(app).await
    }

    async fn allow_listed(&self, app: &AppNs) -> Step {
        let list = self
            .auth
            .access_data(self.site)
            .allow_list(app)
            .await
            .map_err(|e| store_failed(&e))?;
        if list.users.iter().any(|u| u == self.account_id) {
            return Ok(Some(Via::AllowListUser));
        }
        let mut failure = None;
        for group in &list.groups {
            match self.in_group(group).await {
                Ok(true) => return Ok(Some(Via::AllowListGroup(group.clone()))),
                Ok(false) => {}
                Err(reason) => failure = Some(reason),
            }
        }
        // A Jira failure on any group denies with that reason rather than "not listed".
        failure.map_or(Ok(None), Err)
    }

    async fn admin_of(&self, app: &AppNs, project: &ProjectKey) -> Step {
        if self.site_admin().await? {
            return Ok(Some(Via::SiteAdmin));
        }
        if !self
            .project_permission(project, ADMINISTER_PROJECTS)
            .await?
        {
            return Err(DenyReason::NotProjectAdmin(project.clone()));
        }
        self.allow_listed(app).await
    }

    async fn project_role(&self, project: &ProjectKey, role: ProjectRole) -> Step {
        let assignments = self
            .auth
            .access_data(self.site)
            .role_assignments(project)
            .await
            .map_err(|e| store_failed(&e))?;
        let sources = assignments.of(role);
        // Direct assignments first: they need no Jira call.
        if let Some(s) = sources
            .iter()
            .find(|s| matches!(s, RoleSource::User { account_id } if account_id == self.account_id))
        {
            return Ok(Some(Via::Assignment(s.clone())));
        }
        let mut failure = None;
        for source in sources {
            let answer = match source {
                RoleSource::User { .. } => continue,
                RoleSource::Group { name } => self.in_group(name).await,
                RoleSource::JiraPermission { key } => self.project_permission(project, key).await,
            };
            match answer {
                Ok(true) => return Ok(Some(Via::Assignment(source.clone()))),
                Ok(false) => {}
                Err(reason) => failure = Some(reason),
            }
        }
        failure.map_or(Ok(None), Err)
    }
}

fn store_failed(err: &crate::store::StoreError) -> DenyReason {
    tracing::error!(error = %err, "cannot read access data; denying");
    DenyReason::StoreUnavailable
}
