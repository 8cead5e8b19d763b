//! Export definitions as admins create them, validated field by field, and where they live in
//! the store (namespace `assets-sql`, per site).

use std::collections::BTreeSet;

use platform::scheduler::CronSchedule;
use platform::store::{AppNs, Condition, Kv, SiteId, Store, StoreError};
use platform::web::FieldErrors;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;
use crate::export::ExportState;
use crate::model::Selection;

/// The app's namespace.
pub const NAMESPACE: &str = "assets-sql";
/// Most exports per site.
pub const MAX_EXPORTS: usize = 200;
/// Most filter lines.
pub const MAX_FILTERS: usize = 20;

/// The namespace as a value.
pub fn ns() -> AppNs {
    #[allow(clippy::expect_used)]
    AppNs::new(NAMESPACE).expect("\"assets-sql\" is a valid namespace (a constant)")
}

/// A cron schedule as the admin typed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleDef {
    /// Cron expression, e.g. `0 6 * * *`.
    pub cron: String,
    /// IANA time zone.
    pub zone: String,
}

/// A webhook target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDef {
    /// Where batches are POSTed.
    pub url: String,
    /// Rotation counter of the signing secret (the secrets themselves are store secrets).
    pub secret_version: u32,
}

/// One export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportDef {
    /// Id, e.g. `exp-1a2b3c4d`.
    pub id: String,
    /// Name shown.
    pub name: String,
    /// Schemas / types / attributes (default: everything).
    pub selection: Selection,
    /// `ATTRIBUTE=VALUE` filters, ANDed (built by the AQL builder).
    pub filters: Vec<String>,
    /// Dialects the pull endpoint offers.
    pub dialects: BTreeSet<Dialect>,
    /// Fetch only what changed since the last successful run (deletions detected).
    pub incremental: bool,
    /// Pull endpoint enabled.
    pub pull: bool,
    /// Webhook push, if any.
    pub webhook: Option<WebhookDef>,
    /// Direct load into a database (the URL is a store secret); its redacted form.
    pub target: Option<String>,
    /// Schedule, if any.
    pub schedule: Option<ScheduleDef>,
    /// Who created it.
    pub created_by: String,
    /// When (ms).
    pub created_at_ms: i64,
}

impl ExportDef {
    /// Dialects as their ids, for pages.
    pub fn dialect_names(&self) -> Vec<&'static str> {
        self.dialects.iter().map(|d| d.name()).collect()
    }
}

/// The export form as submitted (every field text).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportForm {
    /// Name.
    pub name: String,
    /// Schema ids, comma-separated (empty: all).
    pub schemas: String,
    /// Object type ids, comma-separated (empty: all).
    pub types: String,
    /// Attribute ids, comma-separated (empty: all).
    pub attributes: String,
    /// One `ATTRIBUTE=VALUE` per line.
    pub filters: String,
    /// `postgres,mysql,sqlite,mssql` (checkboxes arrive as repeated fields; joined).
    pub dialects: String,
    /// `on` for incremental runs.
    pub incremental: String,
    /// `on` for the pull endpoint.
    pub pull: String,
    /// Webhook URL (empty: none).
    pub webhook_url: String,
    /// Target database URL (empty: keep the stored one; `-` removes it).
    pub target: String,
    /// Cron expression (empty: no schedule).
    pub cron: String,
    /// Time zone of the schedule.
    pub zone: String,
}

impl ExportForm {
    /// The form showing `def` (the target URL is never shown).
    pub fn of(def: &ExportDef) -> Self {
        let ids = |s: &Option<BTreeSet<String>>| {
            s.as_ref()
                .map(|v| v.iter().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_default()
        };
        Self {
            name: def.name.clone(),
            schemas: ids(&def.selection.schemas),
            types: ids(&def.selection.types),
            attributes: ids(&def.selection.attributes),
            filters: def.filters.join("\n"),
            dialects: def.dialect_names().join(","),
            incremental: if def.incremental {
                "on".into()
            } else {
                String::new()
            },
            pull: if def.pull { "on".into() } else { String::new() },
            webhook_url: def
                .webhook
                .as_ref()
                .map(|w| w.url.clone())
                .unwrap_or_default(),
            target: String::new(),
            cron: def
                .schedule
                .as_ref()
                .map(|s| s.cron.clone())
                .unwrap_or_default(),
            zone: def
                .schedule
                .as_ref()
                .map(|s| s.zone.clone())
                .unwrap_or_else(|| "UTC".into()),
        }
    }

    /// Whether `d` is ticked.
    pub fn has_dialect(&self, d: &str) -> bool {
        self.dialects.split(',').any(|x| x.trim() == d)
    }
}

fn ids(field: &str, raw: &str, errors: &mut FieldErrors) -> Option<BTreeSet<String>> {
    let set: BTreeSet<String> = raw
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if set
        .iter()
        .any(|s| s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()))
    {
        errors.add(
            field,
            "use numeric Assets ids separated by commas, or leave empty for all",
        );
    }
    (!set.is_empty()).then_some(set)
}

/// What the form asks for, validated: the definition (without id and audit fields) and the
/// target URL when a new one was given.
pub struct Valid {
    /// The definition's fields.
    pub def: ExportDef,
    /// A new target URL (store it as a secret), `Some(None)` to remove it.
    pub new_target: Option<Option<SecretString>>,
}

/// Validates the form; every problem is reported by field.
pub fn validate(form: &ExportForm, previous: Option<&ExportDef>) -> Result<Valid, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.add("name", "give the export a name of 1 to 100 characters");
    }
    let selection = Selection {
        schemas: ids("schemas", &form.schemas, &mut errors),
        types: ids("types", &form.types, &mut errors),
        attributes: ids("attributes", &form.attributes, &mut errors),
    };
    let filters: Vec<String> = form
        .filters
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if filters.len() > MAX_FILTERS {
        errors.add("filters", format!("at most {MAX_FILTERS} filters"));
    }
    if let Err(e) = crate::export::equality_filter(&filters) {
        errors.add("filters", e.to_string());
    }
    let mut dialects = BTreeSet::new();
    for d in form
        .dialects
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match d.parse::<Dialect>() {
            Ok(d) => {
                dialects.insert(d);
            }
            Err(e) => {
                errors.add("dialects", e.to_string());
            }
        }
    }
    let pull = form.pull == "on";
    if pull && dialects.is_empty() {
        errors.add(
            "dialects",
            "choose at least one dialect for the pull endpoint",
        );
    }
    let webhook = match form.webhook_url.trim() {
        "" => None,
        url => match platform::egress::validate_url(
            url,
            &platform::egress::EgressPolicy::public_only(),
        ) {
            Ok(_) => Some(WebhookDef {
                url: url.to_string(),
                secret_version: previous
                    .and_then(|p| p.webhook.as_ref())
                    .map_or(1, |w| w.secret_version),
            }),
            // Private hosts may be allow-listed per site; the push re-checks with the policy.
            Err(platform::egress::EgressError::Blocked { .. }) => Some(WebhookDef {
                url: url.to_string(),
                secret_version: previous
                    .and_then(|p| p.webhook.as_ref())
                    .map_or(1, |w| w.secret_version),
            }),
            Err(e) => {
                errors.add("webhook_url", e.to_string());
                None
            }
        },
    };
    let (target, new_target) = match form.target.trim() {
        "" => (previous.and_then(|p| p.target.clone()), None),
        "-" => (None, Some(None)),
        url => match crate::load::Target::parse(url) {
            Ok(crate::load::Target::Sqlite(_)) => {
                errors.add("target", "SQLite files are loaded with the CLI (jsmkit assets-sql export --target sqlite://…); the server loads into PostgreSQL or MySQL/MariaDB");
                (None, None)
            }
            Ok(t) => (
                Some(t.redacted()),
                Some(Some(SecretString::from(url.to_string()))),
            ),
            Err(e) => {
                errors.add("target", e.to_string());
                (None, None)
            }
        },
    };
    let schedule = match form.cron.trim() {
        "" => None,
        cron => {
            let zone = if form.zone.trim().is_empty() {
                "UTC"
            } else {
                form.zone.trim()
            };
            match CronSchedule::new(cron, zone) {
                Ok(_) => Some(ScheduleDef {
                    cron: cron.to_string(),
                    zone: zone.to_string(),
                }),
                Err(e) => {
                    errors.add("cron", e.to_string());
                    None
                }
            }
        }
    };
    if !pull && webhook.is_none() && target.is_none() && errors.is_empty() {
        errors.add(
            "pull",
            "choose at least one delivery: pull endpoint, webhook or database",
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Valid {
        def: ExportDef {
            id: String::new(),
            name,
            selection,
            filters,
            dialects,
            incremental: form.incremental == "on",
            pull,
            webhook,
            target,
            schedule,
            created_by: String::new(),
            created_at_ms: 0,
        },
        new_target,
    })
}

/// What a run of an export left behind for the next one (names, last success), per output.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ExportStates {
    /// Of the webhook push (its rows are shaped by the names).
    pub webhook: ExportState,
}

/// The exports of one site.
#[derive(Clone, Debug)]
pub struct Defs {
    kv: Kv,
}

fn def_key(id: &str) -> String {
    format!("export:{id}")
}

/// Whether `id` is an export id (`exp-` and 8 hex digits).
pub fn valid_id(id: &str) -> bool {
    id.strip_prefix("exp-")
        .is_some_and(|h| h.len() == 8 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Defs {
    /// The exports of `site`.
    pub fn new(store: &Store, site: &SiteId) -> Self {
        Self {
            kv: store.kv(site, &ns()),
        }
    }

    /// The store view.
    pub fn kv(&self) -> &Kv {
        &self.kv
    }

    /// Every export, by name.
    pub async fn list(&self) -> Result<Vec<ExportDef>, StoreError> {
        let mut out: Vec<ExportDef> = self
            .kv
            .all_with_prefix::<ExportDef>("export:", MAX_EXPORTS)
            .await?
            .into_iter()
            .map(|e| e.value)
            .collect();
        out.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
        Ok(out)
    }

    /// One export and its version.
    pub async fn get(&self, id: &str) -> Result<Option<(ExportDef, i64)>, StoreError> {
        if !valid_id(id) {
            return Ok(None);
        }
        Ok(self
            .kv
            .get_entry::<ExportDef>(&def_key(id))
            .await?
            .map(|e| (e.value, e.version)))
    }

    /// Saves `def` if its version is still `version` (0: new).
    pub async fn save(&self, def: &ExportDef, version: i64) -> Result<(), StoreError> {
        let key = def_key(&def.id);
        let cond = if version == 0 {
            Condition::Absent
        } else {
            Condition::VersionEquals(version)
        };
        self.kv
            .transaction()
            .check(&key, cond)
            .set(&key, def)
            .commit()
            .await
            .map(|_| ())
    }

    /// Deletes an export with its secrets and state.
    pub async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        if !valid_id(id) {
            return Ok(false);
        }
        let _ = self.kv.delete_secret(&target_key(id)).await?;
        for v in 0..=1000u32 {
            if !self.kv.delete_secret(&webhook_secret_key(id, v)).await? && v > 0 {
                break;
            }
        }
        let _ = self.kv.delete(&format!("state:{id}")).await?;
        self.kv.delete(&def_key(id)).await
    }

    /// The target database URL.
    pub async fn target(&self, id: &str) -> Result<Option<SecretString>, StoreError> {
        self.kv.get_secret(&target_key(id)).await
    }

    /// Stores (or with `None` removes) the target database URL.
    pub async fn set_target(&self, id: &str, url: Option<&SecretString>) -> Result<(), StoreError> {
        match url {
            Some(u) => self.kv.set_secret(&target_key(id), u).await,
            None => self.kv.delete_secret(&target_key(id)).await.map(|_| ()),
        }
    }

    /// The webhook signing secret of `version`.
    pub async fn webhook_secret(
        &self,
        id: &str,
        version: u32,
    ) -> Result<Option<SecretString>, StoreError> {
        self.kv.get_secret(&webhook_secret_key(id, version)).await
    }

    /// Stores the webhook signing secret of `version`.
    pub async fn set_webhook_secret(
        &self,
        id: &str,
        version: u32,
        secret: &SecretString,
    ) -> Result<(), StoreError> {
        self.kv
            .set_secret(&webhook_secret_key(id, version), secret)
            .await
    }

    /// What earlier runs left for the next.
    pub async fn states(&self, id: &str) -> Result<ExportStates, StoreError> {
        Ok(self
            .kv
            .get(&format!("state:{id}"))
            .await?
            .unwrap_or_default())
    }

    /// Saves what this run leaves for the next.
    pub async fn set_states(&self, id: &str, s: &ExportStates) -> Result<(), StoreError> {
        self.kv.set(&format!("state:{id}"), s).await.map(|_| ())
    }
}

fn target_key(id: &str) -> String {
    format!("target:{id}")
}

fn webhook_secret_key(id: &str, version: u32) -> String {
    format!("whsec:{id}:{version}")
}

/// A fresh webhook signing secret in the Standard Webhooks form `whsec_<base64 of 32 bytes>`.
pub fn new_webhook_secret() -> Result<SecretString, String> {
    use base64::Engine as _;
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).map_err(|e| e.to_string())?;
    Ok(SecretString::from(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(buf)
    )))
}

/// A new export id.
pub fn new_id() -> Result<String, String> {
    let mut buf = [0u8; 4];
    getrandom::fill(&mut buf).map_err(|e| e.to_string())?;
    Ok(format!("exp-{}", hex::encode(buf)))
}

/// The part of a secret shown to admins once (e.g. on creation).
pub fn reveal(s: &SecretString) -> &str {
    s.expose_secret()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn form() -> ExportForm {
        ExportForm {
            name: "CMDB to BI".into(),
            dialects: "postgres,mysql".into(),
            pull: "on".into(),
            zone: "UTC".into(),
            ..ExportForm::default()
        }
    }

    #[test]
    fn a_minimal_pull_export_is_valid() {
        let v = validate(&form(), None).ok().unwrap();
        assert!(v.def.pull);
        assert_eq!(v.def.dialects.len(), 2);
        assert!(v.def.selection.schemas.is_none());
    }

    #[test]
    fn every_bad_field_is_named() {
        let f = ExportForm {
            name: String::new(),
            schemas: "1, x".into(),
            filters: "no equals sign".into(),
            dialects: "oracle".into(),
            webhook_url: "ftp://example.com/x".into(),
            target: "redis://x".into(),
            cron: "61 * * * *".into(),
            pull: "on".into(),
            ..ExportForm::default()
        };
        let errors = validate(&f, None).err().unwrap();
        for field in [
            "name",
            "schemas",
            "filters",
            "dialects",
            "webhook_url",
            "target",
            "cron",
        ] {
            assert!(!errors.get(field).is_empty(), "{field}");
        }
    }

    #[test]
    fn sqlite_targets_and_no_delivery_are_refused() {
        let mut f = form();
        f.target = "sqlite:///etc/passwd".into();
        assert!(!validate(&f, None).err().unwrap().get("target").is_empty());
        let mut f = form();
        f.pull = String::new();
        assert!(!validate(&f, None).err().unwrap().get("pull").is_empty());
    }

    #[test]
    fn ids_and_secrets_have_their_shapes() {
        let id = new_id().unwrap();
        assert!(valid_id(&id), "{id}");
        assert!(!valid_id("exp-../x"));
        let s = new_webhook_secret().unwrap();
        assert!(reveal(&s).starts_with("whsec_"));
    }
}
