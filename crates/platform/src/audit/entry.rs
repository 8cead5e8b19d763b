//! The audit log's value types: entries, actors, actions, outcomes, sortable ids, and the
//! redaction of detail.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::permissions::Principal;

/// Largest inverted-time component: entries up to the year 2286 sort correctly.
const MAX_MS: i64 = 9_999_999_999_999;
/// Longest target kept (characters).
pub const MAX_TARGET_CHARS: usize = 500;
/// Longest actor id or display name kept (characters).
pub const MAX_NAME_CHARS: usize = 200;
/// Largest detail kept, as compact JSON (bytes); larger details are replaced by a preview.
pub const MAX_DETAIL_BYTES: usize = 8 * 1024;
/// Deepest nesting of detail kept; deeper values are replaced by `"…"`.
const MAX_DETAIL_DEPTH: usize = 16;

/// What happened, as a short snake_case word (`sign_in`, `jira_write`, …). The constants
/// name the common ones; apps may use others of the same shape.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Action(Cow<'static, str>);

impl Action {
    /// A user signed in.
    pub const SIGN_IN: Action = Action(Cow::Borrowed("sign_in"));
    /// A user signed out.
    pub const SIGN_OUT: Action = Action(Cow::Borrowed("sign_out"));
    /// A setting was changed.
    pub const SETTINGS_CHANGE: Action = Action(Cow::Borrowed("settings_change"));
    /// jsmkit wrote to Jira for someone.
    pub const JIRA_WRITE: Action = Action(Cow::Borrowed("jira_write"));
    /// An admin overrode a normal rule.
    pub const ADMIN_OVERRIDE: Action = Action(Cow::Borrowed("admin_override"));
    /// Access to a function was refused.
    pub const ACCESS_DENIED: Action = Action(Cow::Borrowed("access_denied"));
    /// An API key was created, used for export, or revoked.
    pub const API_KEY: Action = Action(Cow::Borrowed("api_key"));
    /// Someone exported the audit log.
    pub const AUDIT_EXPORT: Action = Action(Cow::Borrowed("audit_export"));

    /// Parses an action: 1–48 of `[a-z0-9_]`, starting with a letter.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidAction> {
        let value = value.into();
        let ok = value.len() <= 48
            && value.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(Cow::Owned(value)))
        } else {
            Err(InvalidAction)
        }
    }

    /// The action as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An action that is not 1–48 of `[a-z0-9_]` starting with a letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an action is 1 to 48 of a-z, 0-9 and '_', starting with a letter")]
pub struct InvalidAction;

impl TryFrom<String> for Action {
    type Error = InvalidAction;
    fn try_from(s: String) -> Result<Self, InvalidAction> {
        Self::new(s)
    }
}

impl From<Action> for String {
    fn from(a: Action) -> String {
        a.0.into_owned()
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Action({:?})", self.0)
    }
}

/// How it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done.
    Ok,
    /// Refused by a permission check.
    Denied,
    /// Failed.
    Error,
}

impl Outcome {
    /// `ok`, `denied` or `error`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Error => "error",
        }
    }

    /// Parses `ok`, `denied` or `error`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ok" => Some(Outcome::Ok),
            "denied" => Some(Outcome::Denied),
            "error" => Some(Outcome::Error),
            _ => None,
        }
    }
}

/// What kind of principal acted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// An Atlassian user (id = account id).
    User,
    /// An API key (id = the key's public id).
    ApiKey,
    /// jsmkit itself (scheduler, retention purge).
    System,
}

/// Who acted: an id and a name to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// User, API key or system.
    pub kind: ActorKind,
    /// Account id or API key id.
    pub id: String,
    /// Display name at the time.
    pub display: String,
}

impl Actor {
    /// jsmkit itself, e.g. `Actor::system("scheduler")`.
    pub fn system(name: &str) -> Self {
        Self {
            kind: ActorKind::System,
            id: name.to_owned(),
            display: name.to_owned(),
        }
    }
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Self {
        Self {
            kind: match p {
                Principal::User { .. } => ActorKind::User,
                Principal::ApiKey { .. } => ActorKind::ApiKey,
            },
            id: p.id().to_owned(),
            display: p.display(),
        }
    }
}

/// What the caller of [`AuditLog::record`](super::AuditLog::record) supplies.
#[derive(Clone, Debug)]
pub struct NewEntry {
    /// Who acted.
    pub actor: Actor,
    /// What they did.
    pub action: Action,
    /// What it was done to (issue key, setting name, …).
    pub target: String,
    /// Small JSON detail; secrets are dropped by [`redact`] before storing.
    pub detail: Value,
    /// How it ended.
    pub outcome: Outcome,
    /// The request's id, if any.
    pub request_id: Option<String>,
}

/// A stored entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Sortable id: inverted time ‖ random, so that newer entries sort first.
    pub id: String,
    /// When (milliseconds since the epoch).
    pub at_ms: i64,
    /// The site.
    pub site: String,
    /// Who acted.
    pub actor: Actor,
    /// What they did.
    pub action: Action,
    /// What it was done to.
    pub target: String,
    /// Redacted detail.
    pub detail: Value,
    /// How it ended.
    pub outcome: Outcome,
    /// The request's id.
    pub request_id: Option<String>,
}

impl AuditEntry {
    /// `at_ms` as a timestamp (the epoch if out of range).
    pub fn at(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.at_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
}

/// The inverted time component of ids: 13 digits, smaller for newer instants.
pub(crate) fn inverted(ms: i64) -> String {
    format!("{:013}", MAX_MS - ms.clamp(0, MAX_MS))
}

/// A new id for an entry at `ms`: `<13-digit inverted ms>-<8 hex inverted sequence><8 hex
/// random>`. The process-wide sequence keeps entries recorded in the same millisecond in
/// newest-first order too; the random part keeps ids of several instances apart.
pub(crate) fn new_id(ms: i64) -> String {
    static SEQUENCE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seq = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let random = uuid::Uuid::new_v4().as_u128() as u32;
    format!("{}-{:08x}{random:08x}", inverted(ms), u32::MAX - seq)
}

/// Cuts `s` to at most `max` characters and drops control characters other than tab.
pub(crate) fn clip(s: &str, max: usize) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .take(max)
        .collect()
}

/// True for object keys that may hold secrets: names containing `token`, `secret`,
/// `password`, `passwd`, `apikey`/`api_key`, `authorization`, `cookie`, `credential` or
/// `private_key` (case-insensitive, ignoring `-` and `_`).
pub fn is_secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    [
        "token",
        "secret",
        "password",
        "passwd",
        "apikey",
        "authorization",
        "cookie",
        "credential",
        "privatekey",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// A copy of `detail` without any object member whose key [`is_secret_key`], at any depth,
/// with nesting cut at a fixed depth and, if the result is still larger than
/// [`MAX_DETAIL_BYTES`], replaced by `{"truncated": true, "preview": "…"}`.
pub fn redact(detail: &Value) -> Value {
    let cleaned = strip(detail, 0);
    let json = cleaned.to_string();
    if json.len() <= MAX_DETAIL_BYTES {
        return cleaned;
    }
    let preview: String = json.chars().take(MAX_DETAIL_BYTES / 4).collect();
    serde_json::json!({"truncated": true, "preview": preview})
}

fn strip(value: &Value, depth: usize) -> Value {
    if depth >= MAX_DETAIL_DEPTH {
        return Value::String("…".into());
    }
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !is_secret_key(k))
                .map(|(k, v)| (k.clone(), strip(v, depth + 1)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| strip(v, depth + 1)).collect()),
        other => other.clone(),
    }
}
