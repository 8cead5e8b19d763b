//! What `jsmkit demo` sets up on its simulated site so every app works at first sight, as an
//! admin would through the settings pages: DispatchDesk's projects, phases and technicians,
//! and the dispatcher and technician roles. Runs once per data folder (never overwrites).

use anyhow::Context;
use atlassian::client::AtlassianClient;
use atlassian_sim::SimHandle;
use platform::identity;
use platform::permissions::{AccessData, ProjectKey, ProjectRole, RoleSource, platform_ns};
use platform::settings::{
    CREDENTIAL_META_KEY, CREDENTIAL_SECRET_KEY, CredentialKind, CredentialMeta,
};
use platform::store::{SiteId, Store};
use secrecy::SecretString;

/// The demo site's dispatched projects and groups.
const PROJECTS: [&str; 2] = ["FS", "FAC"];
/// The demo's Assets to SQL export.
const DEMO_EXPORT: &str = "exp-00000001";

pub async fn set_up(store: &Store, sim: &SimHandle) -> anyhow::Result<()> {
    let site = SiteId::new(&sim.cloud_id).context("the simulator's cloudId")?;
    let admin = sim
        .users_summary()
        .into_iter()
        .find(|u| u.role == "admin")
        .context("the demo site has no admin")?;
    let client = AtlassianClient::basic(
        url::Url::parse(&sim.base_url).context("simulator URL")?,
        admin.email.clone(),
        SecretString::from(admin.api_token.clone()),
    )
    .and_then(|b| b.build())
    .context("Atlassian client for the demo set-up")?;
    let projects: Vec<String> = PROJECTS.iter().map(|p| (*p).to_string()).collect();
    match dispatch::setup::quick_setup(
        store,
        &site,
        &client,
        &projects,
        "technicians",
        "Europe/London",
    )
    .await
    {
        Ok(r) => tracing::info!(
            statuses = r.statuses,
            technicians = r.technicians,
            "demo: DispatchDesk set up"
        ),
        Err(dispatch::setup::SetupError::AlreadySetUp) => {}
        Err(e) => return Err(e).context("demo: DispatchDesk set-up"),
    }
    // Background jobs (scheduled exports) run with a service credential: the demo admin's
    // API token, at the simulated site's URL.
    identity::remember_site(
        store,
        &site,
        &identity::SiteInfo {
            name: "Irwell Field Services".into(),
            url: sim.base_url.clone(),
        },
    )
    .await
    .context("demo: remembering the site")?;
    let kv = store.kv(&site, &platform_ns());
    if kv.get_json(CREDENTIAL_META_KEY).await?.is_none() {
        kv.set_secret(
            CREDENTIAL_SECRET_KEY,
            &SecretString::from(admin.api_token.clone()),
        )
        .await
        .context("demo: service credential")?;
        kv.set(
            CREDENTIAL_META_KEY,
            &CredentialMeta {
                kind: CredentialKind::ApiToken,
                email: admin.email.clone(),
                set_at_ms: jiff::Timestamp::now().as_millisecond(),
                set_by: "jsmkit demo".into(),
            },
        )
        .await
        .context("demo: service credential")?;
    }
    // Assets to SQL: one export of the whole CMDB, pulled in any dialect.
    let defs = assets_sql::app::defs::Defs::new(store, &site);
    if defs.get(DEMO_EXPORT).await?.is_none() {
        let def = assets_sql::app::defs::ExportDef {
            id: DEMO_EXPORT.into(),
            name: "Whole CMDB".into(),
            selection: Default::default(),
            filters: Vec::new(),
            dialects: [
                assets_sql::dialect::Dialect::Postgres,
                assets_sql::dialect::Dialect::MySql,
                assets_sql::dialect::Dialect::Sqlite,
                assets_sql::dialect::Dialect::MsSql,
            ]
            .into(),
            incremental: false,
            pull: true,
            webhook: None,
            target: None,
            schedule: None,
            created_by: admin.account_id.clone(),
            created_at_ms: jiff::Timestamp::now().as_millisecond(),
        };
        defs.save(&def, 0)
            .await
            .context("demo: Assets to SQL export")?;
    }
    let access = AccessData::new(store, &site);
    for p in PROJECTS {
        let key = ProjectKey::new(p).context("project key")?;
        for (role, group) in [
            (ProjectRole::Dispatcher, "dispatchers"),
            (ProjectRole::Technician, "technicians"),
        ] {
            access
                .assign(&key, role, RoleSource::Group { name: group.into() })
                .await
                .with_context(|| format!("demo: {group} as {role:?} of {p}"))?;
        }
    }
    Ok(())
}
