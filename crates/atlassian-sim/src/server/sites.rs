//! Several Atlassian sites behind one simulator, as behind one Atlassian account system.
//!
//! Real Atlassian has one OAuth authorization server: an access token is good for every
//! site the user granted, `GET /oauth/token/accessible-resources` lists them, and the API
//! gateway `api.atlassian.com/ex/jira/{cloudId}/…` routes each call to the site of that
//! cloudId. The simulator models that with optional extra sites next to the primary one:
//!
//! - each extra site has its own cloudId, name, Assets workspace and independently seeded
//!   data (its own [`Model`]), and is served at `{base}/site/{slug}` for basic auth;
//! - `/ex/jira/{cloudId}/…` (Jira, JSM and Assets paths) and
//!   `/jsm/assets/workspace/{workspaceId}/v1/…` reach the site that owns the id;
//! - the primary site's admin account is also an admin of every extra site (one account,
//!   same accountId, email and API token); everyone else belongs to one site only;
//! - a token reaches only the sites its account belongs to (anything else is 401, as the
//!   gateway answers a token that was not granted for the cloudId).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use super::{AppState, SimConfig, oauth, sim};
use crate::clock::Clock;
use crate::model::{Actor, DemoRole, Model, Site, User};
use crate::rng::Rng;
use crate::seed::{self, STAFF_DOMAIN, Scale};

/// The primary (seeded) site's name; no extra site may take it as its path.
const PRIMARY_SITE_NAME: &str = "irwell-field";

/// One more site served by the same simulator, off unless listed in
/// [`SimConfig::extra_sites`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraSite {
    /// The site's name as `accessible-resources` reports it (1–100 characters, no control
    /// characters). Its URL path segment is [`ExtraSite::slug`].
    pub name: String,
    /// Seed of the site's data (mixed with the name, so even the primary's seed gives
    /// different data).
    pub seed: u64,
}

impl ExtraSite {
    /// An extra site called `name`, seeded with `seed`.
    pub fn new(name: impl Into<String>, seed: u64) -> Self {
        ExtraSite {
            name: name.into(),
            seed,
        }
    }

    /// The URL path segment: the name lower-cased, every run of other characters than
    /// `a-z0-9` turned into one `-`, trimmed of `-` (`"Mersey Facilities"` →
    /// `mersey-facilities`). Empty when the name has no letter or digit.
    pub fn slug(&self) -> String {
        let mut out = String::new();
        for c in self.name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        while out.ends_with('-') {
            out.pop();
        }
        out.truncate(60);
        out.trim_end_matches('-').to_owned()
    }

    /// The seed the site's data is generated from.
    fn effective_seed(&self) -> u64 {
        Rng::derive(self.seed, &format!("extra-site:{}", self.name)).next_u64()
    }
}

/// Checks the extra sites of a configuration: names valid, slugs non-empty and unique (and
/// none equal to the primary site's name). Returns a message naming the first problem.
pub fn validate(extra: &[ExtraSite]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    seen.insert(PRIMARY_SITE_NAME.to_owned());
    for site in extra {
        let n = site.name.chars().count();
        if n == 0 || n > 100 || site.name.chars().any(char::is_control) {
            return Err(format!(
                "extra site {:?}: a name is 1-100 characters without control characters",
                site.name
            ));
        }
        let slug = site.slug();
        if slug.is_empty() {
            return Err(format!(
                "extra site {:?}: the name needs at least one letter or digit",
                site.name
            ));
        }
        if !seen.insert(slug.clone()) {
            return Err(format!(
                "extra site {:?}: another site already uses the path /site/{slug}",
                site.name
            ));
        }
    }
    Ok(())
}

/// The valid extra sites of `extra` (invalid or duplicate ones are left out; [`validate`]
/// names them).
pub(super) fn usable(extra: &[ExtraSite]) -> Vec<ExtraSite> {
    let mut out: Vec<ExtraSite> = Vec::new();
    for site in extra {
        let mut candidate = out.clone();
        candidate.push(site.clone());
        if validate(&candidate).is_ok() {
            out = candidate;
        }
    }
    out
}

/// What extra sites share with the primary one: one account system, one clock, one fault
/// injector and request counter, one admin token.
pub(super) struct Shared<'a> {
    pub cfg: &'a SimConfig,
    pub base_url: &'a str,
    pub primary_admin: Option<User>,
    pub oauth: Arc<std::sync::Mutex<oauth::OAuthState>>,
    pub faults: crate::faults::Faults,
    pub requests: Arc<std::sync::atomic::AtomicU64>,
    pub admin_token: Arc<str>,
    pub clock: Clock,
}

/// Builds the state of one extra site.
pub(super) fn build(shared: &Shared<'_>, extra: &ExtraSite) -> AppState {
    let seed = extra.effective_seed();
    let slug = extra.slug();
    let url = format!("{}/site/{slug}", shared.base_url.trim_end_matches('/'));
    let raw = seed::seed_site(seed, Scale::Small, shared.clock.clone(), &url);
    let mut rng = Rng::derive(seed, "extra-site-identity");
    let site = Site {
        cloud_id: uuid_like(&mut rng),
        url,
        name: extra.name.clone(),
        assets_workspace_id: String::new(),
        time_zone: raw.site.time_zone.clone(),
    };
    let mut model = rehome(raw, site, &slug, shared.primary_admin.as_ref());
    let site_cfg = SimConfig {
        seed,
        scale: Scale::Small,
        ..shared.cfg.clone()
    };
    let (links, assets) = sim::assets_integration(&mut model, &site_cfg);
    seed::seed_tickets(&mut model, seed, Scale::Small, &links);
    let mut secret = [0u8; 32];
    for chunk in secret.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    let model = Arc::new(RwLock::new(model));
    if let Some(a) = &assets {
        a.connect_tickets(Arc::new(sim::JiraConnectedTickets(Arc::clone(&model))));
    }
    AppState {
        model,
        oauth: Arc::clone(&shared.oauth),
        faults: shared.faults.clone(),
        requests: Arc::clone(&shared.requests),
        secret: Arc::new(secret),
        admin_token: Arc::clone(&shared.admin_token),
        clock: shared.clock.clone(),
        assets,
        extra_sites: Arc::new(Vec::new()),
    }
}

fn uuid_like(rng: &mut Rng) -> String {
    let h = rng.hex(16);
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// A freshly seeded site (no tickets yet) moved to its own identity: `site`, staff emails on
/// `{slug}.example` instead of the primary company's domain, and its admin replaced by the
/// primary site's admin account (so that one person belongs to both sites).
fn rehome(raw: Model, site: Site, slug: &str, primary_admin: Option<&User>) -> Model {
    let Model {
        clock,
        users,
        mut groups,
        statuses,
        workflows,
        issue_types,
        priorities,
        resolutions,
        mut projects,
        fields,
        service_desks,
        request_types,
        mut organizations,
        permission_scheme,
        admin_group,
        ..
    } = raw;
    let staff_domain = format!("@{STAFF_DOMAIN}");
    let own_domain = format!("@{slug}.example");
    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    let mut model = Model::new(site, clock);
    for mut user in users {
        match primary_admin {
            Some(admin) if user.role == DemoRole::Admin => {
                renamed.insert(user.account_id.clone(), admin.account_id.clone());
                user = admin.clone();
            }
            _ => {
                if let Some(local) = user.email.strip_suffix(&staff_domain) {
                    user.email = format!("{local}{own_domain}");
                }
            }
        }
        model.add_user(user);
    }
    let rename = |id: &mut String| {
        if let Some(new) = renamed.get(id.as_str()) {
            id.clone_from(new);
        }
    };
    for group in groups.values_mut() {
        group.members = std::mem::take(&mut group.members)
            .into_iter()
            .map(|mut id| {
                rename(&mut id);
                id
            })
            .collect();
    }
    for project in &mut projects {
        rename(&mut project.lead);
        for actors in project.roles.values_mut() {
            for actor in actors {
                if let Actor::User(id) = actor {
                    rename(id);
                }
            }
        }
    }
    for org in &mut organizations {
        for id in &mut org.members {
            rename(id);
        }
    }
    model.groups = groups;
    model.statuses = statuses;
    model.workflows = workflows;
    model.issue_types = issue_types;
    model.priorities = priorities;
    model.resolutions = resolutions;
    model.projects = projects;
    model.fields = fields;
    model.service_desks = service_desks;
    model.request_types = request_types;
    model.organizations = organizations;
    model.permission_scheme = permission_scheme;
    model.admin_group = admin_group;
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe() {
        let slug = |n: &str| ExtraSite::new(n, 1).slug();
        assert_eq!(slug("Mersey Facilities"), "mersey-facilities");
        assert_eq!(slug("  <b>Mersey</b> & \"Co\" "), "b-mersey-b-co");
        assert_eq!(slug("---"), "");
        assert_eq!(slug("Ärger"), "rger");
        assert_eq!(slug(&"a".repeat(80)).len(), 60);
    }

    #[test]
    fn invalid_and_duplicate_sites_are_named() {
        assert!(validate(&[ExtraSite::new("mersey", 2)]).is_ok());
        for bad in [
            vec![ExtraSite::new("", 2)],
            vec![ExtraSite::new("***", 2)],
            vec![ExtraSite::new("a\nb", 2)],
            vec![ExtraSite::new("x".repeat(101), 2)],
            vec![ExtraSite::new("Irwell Field", 2)],
            vec![ExtraSite::new("mersey", 2), ExtraSite::new("Mersey", 3)],
        ] {
            assert!(validate(&bad).is_err(), "{bad:?}");
        }
        let kept = usable(&[
            ExtraSite::new("mersey", 2),
            ExtraSite::new("", 3),
            ExtraSite::new("MERSEY", 4),
            ExtraSite::new("dee", 5),
        ]);
        let names: Vec<&str> = kept.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["mersey", "dee"]);
    }

    #[test]
    fn the_same_seed_gives_different_data_per_name() {
        assert_ne!(
            ExtraSite::new("a", 1).effective_seed(),
            ExtraSite::new("b", 1).effective_seed()
        );
        assert_eq!(
            ExtraSite::new("a", 1).effective_seed(),
            ExtraSite::new("a", 1).effective_seed()
        );
    }
}
