//! Start-up configuration: a TOML file (default `jsmkit.toml` when present) overridden by
//! `JSMKIT_*` environment variables, validated as a whole before anything starts.
//!
//! Every setting is listed once in [`SETTINGS`]: its key in the file, its environment
//! variable, its default and what it is for. A wrong value stops start-up with one line that
//! names the key, where the value came from, the value (redacted for secrets) and what is
//! allowed. Runtime settings (sites, projects, schedules) live in the store, not here.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

use crate::store::StoreUrl;

/// How a setting's value is shown in messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sensitivity {
    /// Shown as given.
    Plain,
    /// A URL whose password is replaced by `***`.
    Url,
    /// Never shown.
    Secret,
}

/// One start-up setting.
#[derive(Debug)]
pub struct Setting {
    /// Dotted key in the TOML file, e.g. `store.url`.
    pub key: &'static str,
    /// Environment variable that overrides it.
    pub env: &'static str,
    /// Default used when neither file nor environment sets it (`None`: unset).
    pub default: Option<&'static str>,
    /// What the setting does and which values it takes.
    pub doc: &'static str,
    pub sensitivity: Sensitivity,
}

/// Every setting jsmkit reads at start-up. README.md's configuration table lists the same
/// keys (a test keeps the two in step).
pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "server.listen",
        env: "JSMKIT_SERVER_LISTEN",
        default: Some("127.0.0.1:8080"),
        doc: "Address and port the web server listens on (HOST:PORT).",
        sensitivity: Sensitivity::Plain,
    },
    Setting {
        key: "server.public_url",
        env: "JSMKIT_SERVER_PUBLIC_URL",
        default: None,
        doc: "The URL users reach jsmkit at (http:// or https://); cookies are marked Secure when it is https. Default: derived from server.listen.",
        sensitivity: Sensitivity::Plain,
    },
    Setting {
        key: "server.metrics_listen",
        env: "JSMKIT_SERVER_METRICS_LISTEN",
        default: Some("127.0.0.1:9464"),
        doc: "Address of the separate Prometheus /metrics listener, or \"off\". Keep it on loopback or a private interface.",
        sensitivity: Sensitivity::Plain,
    },
    Setting {
        key: "server.body_limit_bytes",
        env: "JSMKIT_SERVER_BODY_LIMIT_BYTES",
        default: Some("2097152"),
        doc: "Largest request body accepted, in bytes (1024 to 104857600).",
        sensitivity: Sensitivity::Plain,
    },
    Setting {
        key: "server.request_timeout_secs",
        env: "JSMKIT_SERVER_REQUEST_TIMEOUT_SECS",
        default: Some("30"),
        doc: "Longest time a request may take, in seconds (1 to 600).",
        sensitivity: Sensitivity::Plain,
    },
    Setting {
        key: "server.assets_dir",
        env: "JSMKIT_SERVER_ASSETS_DIR",
        default: Some("web/static"),
        doc: "Folder of front-end assets served at /static (filled by `npm ci` + `node web/scripts/vendor.mjs`).",
        sensitivity: Sensitivity::Plain,
    },
    Setting {
        key: "store.url",
        env: "JSMKIT_STORE_URL",
        default: Some("sqlite://jsmkit-data/jsmkit.db"),
        doc: "The app store: sqlite://PATH (embedded, one instance) or postgres://USER[:PASSWORD]@HOST[:PORT]/DB (shared by several instances).",
        sensitivity: Sensitivity::Url,
    },
    Setting {
        key: "secrets.key_file",
        env: "JSMKIT_SECRETS_KEY_FILE",
        default: None,
        doc: "File holding the master keys that encrypt stored secrets (mode 0600; `jsmkit secrets rotate-key` appends to it). Either this or JSMKIT_SECRETS_KEY is required by `serve`.",
        sensitivity: Sensitivity::Plain,
    },
    Setting {
        key: "secrets.key",
        env: "JSMKIT_SECRETS_KEY",
        default: None,
        doc: "The master key itself, 32 bytes in base64, for deployments that inject secrets through the environment. Only from the environment: never put it in the file.",
        sensitivity: Sensitivity::Secret,
    },
    Setting {
        key: "oauth.client_id",
        env: "JSMKIT_OAUTH_CLIENT_ID",
        default: None,
        doc: "Client id of the Atlassian OAuth 2.0 (3LO) app users sign in with; its callback URL is server.public_url + /oauth/callback. Without it nobody can sign in.",
        sensitivity: Sensitivity::Plain,
    },
    Setting {
        key: "oauth.client_secret",
        env: "JSMKIT_OAUTH_CLIENT_SECRET",
        default: None,
        doc: "Secret of that OAuth app. Only from the environment: never put it in the file.",
        sensitivity: Sensitivity::Secret,
    },
    Setting {
        key: "oauth.auth_base",
        env: "JSMKIT_OAUTH_AUTH_BASE",
        default: Some("https://auth.atlassian.com"),
        doc: "Atlassian's authorization server (the demo points it at the simulator).",
        sensitivity: Sensitivity::Plain,
    },
    Setting {
        key: "oauth.api_root",
        env: "JSMKIT_OAUTH_API_ROOT",
        default: Some("https://api.atlassian.com"),
        doc: "Atlassian's API gateway (accessible resources, /me, /ex/jira/{cloudId}); the demo points it at the simulator.",
        sensitivity: Sensitivity::Plain,
    },
    Setting {
        key: "log.format",
        env: "JSMKIT_LOG_FORMAT",
        default: Some("auto"),
        doc: "Log format on stderr: \"pretty\", \"json\" or \"auto\" (pretty on a terminal, JSON otherwise). --log-format overrides it.",
        sensitivity: Sensitivity::Plain,
    },
    Setting {
        key: "log.filter",
        env: "JSMKIT_LOG_FILTER",
        default: Some("info"),
        doc: "Log level filter in tracing's EnvFilter syntax, e.g. \"info,jsmkit=debug\". RUST_LOG overrides it.",
        sensitivity: Sensitivity::Plain,
    },
];

/// Keys that may be set only through the environment.
const ENV_ONLY: &[&str] = &["secrets.key", "oauth.client_secret"];

/// Where a value came from, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(&'static str),
    Flag(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(p) => write!(f, "from {}", p.display()),
            Source::Env(v) => write!(f, "from {v}"),
            Source::Flag(v) => write!(f, "from {v}"),
        }
    }
}

/// A configuration that could not be loaded. Its `Display` is the one line shown to the user.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the configuration file: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: not valid TOML: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("{key} ({path}): unknown setting; known settings are {known}")]
    UnknownKey {
        key: String,
        path: PathBuf,
        known: String,
    },
    #[error("{key} ({origin}): {value} {reason}")]
    Invalid {
        key: &'static str,
        origin: String,
        value: String,
        reason: String,
    },
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormatChoice {
    Auto,
    Pretty,
    Json,
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub secrets: SecretsConfig,
    pub log: LogConfig,
    pub oauth: OAuthConfig,
    /// Environment variables that start with `JSMKIT_` but name no setting (likely typos);
    /// logged as warnings once logging is up.
    pub unknown_env: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub public_url: Option<url::Url>,
    pub metrics_listen: Option<SocketAddr>,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    pub assets_dir: PathBuf,
}

impl ServerConfig {
    /// True when users reach the server over https (cookies get `Secure`).
    pub fn is_https(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https")
    }
}

#[derive(Clone, Debug)]
pub struct StoreConfig {
    pub url: StoreUrl,
}

#[derive(Clone)]
pub struct SecretsConfig {
    pub key_file: Option<PathBuf>,
    pub key: Option<SecretString>,
}

impl fmt::Debug for SecretsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretsConfig")
            .field("key_file", &self.key_file)
            .field("key", &self.key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The Atlassian OAuth 2.0 (3LO) app users sign in with (`platform::identity`).
#[derive(Clone)]
pub struct OAuthConfig {
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub auth_base: url::Url,
    pub api_root: url::Url,
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "***"))
            .field("auth_base", &self.auth_base.as_str())
            .field("api_root", &self.api_root.as_str())
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct LogConfig {
    pub format: LogFormatChoice,
    pub filter: String,
}

/// Inputs of [`Config::load`], separated from the process so tests can pass their own.
#[derive(Debug, Default)]
pub struct LoadOptions {
    /// `--config FILE`: must exist. When `None`, `jsmkit.toml` in the working directory is
    /// read if present.
    pub file: Option<PathBuf>,
    /// The environment (normally `std::env::vars()`).
    pub env: Vec<(String, String)>,
    /// Command-line overrides by setting key, e.g. `("server.listen", "--listen", value)`.
    pub flags: Vec<(&'static str, &'static str, String)>,
}

impl LoadOptions {
    /// Options for this process: its environment and the given `--config` file.
    pub fn from_process(file: Option<PathBuf>) -> Self {
        LoadOptions {
            file,
            env: std::env::vars().collect(),
            flags: Vec::new(),
        }
    }

    /// Adds a command-line override for `key` (flag name for messages).
    pub fn flag(mut self, key: &'static str, flag: &'static str, value: impl Into<String>) -> Self {
        self.flags.push((key, flag, value.into()));
        self
    }
}

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "jsmkit.toml";

impl Config {
    /// Reads file, environment and flags (later ones win) and validates every setting.
    pub fn load(opts: LoadOptions) -> Result<Config, ConfigError> {
        let mut raw: BTreeMap<&'static str, (String, Source)> = BTreeMap::new();
        for s in SETTINGS {
            if let Some(d) = s.default {
                raw.insert(s.key, (d.to_string(), Source::Default));
            }
        }
        let file = match opts.file {
            Some(p) => Some(p),
            None => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.is_file()),
        };
        if let Some(path) = file {
            for (key, value) in read_file(&path)? {
                raw.insert(key, (value, Source::File(path.clone())));
            }
        }
        let mut unknown_env = Vec::new();
        for (name, value) in &opts.env {
            if let Some(s) = SETTINGS.iter().find(|s| s.env == name) {
                raw.insert(s.key, (value.clone(), Source::Env(s.env)));
            } else if name.starts_with("JSMKIT_") && !name.starts_with("JSMKIT_TEST_") {
                unknown_env.push(name.clone());
            }
        }
        for (key, flag, value) in opts.flags {
            if let Some(s) = SETTINGS.iter().find(|s| s.key == key) {
                raw.insert(s.key, (value, Source::Flag(flag)));
            }
        }
        let v = Values { raw };
        Ok(Config {
            server: ServerConfig {
                listen: v.parse("server.listen", |s| {
                    s.parse::<SocketAddr>().map_err(|_| {
                        "is not an address and port; use HOST:PORT, e.g. 127.0.0.1:8080".into()
                    })
                })?,
                public_url: v.optional("server.public_url", parse_public_url)?,
                metrics_listen: v.parse("server.metrics_listen", |s| {
                    if s.eq_ignore_ascii_case("off") || s.is_empty() {
                        return Ok(None);
                    }
                    s.parse::<SocketAddr>().map(Some).map_err(|_| {
                        "is not an address and port; use HOST:PORT, e.g. 127.0.0.1:9464, or \"off\"".into()
                    })
                })?,
                body_limit_bytes: v.parse("server.body_limit_bytes", |s| {
                    int_in_range(s, 1024, 104_857_600).map(|n| n as usize)
                })?,
                request_timeout: v.parse("server.request_timeout_secs", |s| {
                    int_in_range(s, 1, 600).map(Duration::from_secs)
                })?,
                assets_dir: v.parse("server.assets_dir", non_empty_path)?,
            },
            store: StoreConfig {
                url: v.parse("store.url", |s| s.parse::<StoreUrl>())?,
            },
            secrets: SecretsConfig {
                key_file: v.optional("secrets.key_file", non_empty_path)?,
                key: v.optional("secrets.key", |s| {
                    if s.trim().is_empty() {
                        Err("is empty; give 32 bytes in base64".into())
                    } else {
                        Ok(SecretString::from(s.trim().to_string()))
                    }
                })?,
            },
            log: LogConfig {
                format: v.parse("log.format", parse_log_format)?,
                filter: v.parse("log.filter", |s| {
                    if s.trim().is_empty() {
                        Err("is empty; use a level such as \"info\"".into())
                    } else {
                        Ok(s.trim().to_string())
                    }
                })?,
            },
            oauth: OAuthConfig {
                client_id: v.optional("oauth.client_id", |s| {
                    let s = s.trim();
                    if s.is_empty() || s.len() > 200 || s.chars().any(|c| c.is_control()) {
                        Err("is not a client id; copy it from the app's settings in the Atlassian developer console".into())
                    } else {
                        Ok(s.to_string())
                    }
                })?,
                client_secret: v.optional("oauth.client_secret", |s| {
                    if s.trim().is_empty() {
                        Err("is empty".into())
                    } else {
                        Ok(SecretString::from(s.trim().to_string()))
                    }
                })?,
                auth_base: v.parse("oauth.auth_base", parse_public_url)?,
                api_root: v.parse("oauth.api_root", parse_public_url)?,
            },
            unknown_env,
        })
    }
}

/// Parses `--log-format` / `log.format`.
pub fn parse_log_format(s: &str) -> Result<LogFormatChoice, String> {
    match s.to_ascii_lowercase().as_str() {
        "auto" => Ok(LogFormatChoice::Auto),
        "pretty" | "text" => Ok(LogFormatChoice::Pretty),
        "json" => Ok(LogFormatChoice::Json),
        _ => Err("is not a log format; use \"pretty\", \"json\" or \"auto\"".into()),
    }
}

fn parse_public_url(s: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(s)
        .map_err(|e| format!("is not a URL ({e}); use e.g. https://jsmkit.example.com"))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err("must start with http:// or https://".into());
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    Ok(u)
}

fn int_in_range(s: &str, min: u64, max: u64) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("is not a whole number from {min} to {max}")),
    }
}

fn non_empty_path(s: &str) -> Result<PathBuf, String> {
    if s.trim().is_empty() {
        Err("is empty; give a path".into())
    } else {
        Ok(PathBuf::from(s))
    }
}

struct Values {
    raw: BTreeMap<&'static str, (String, Source)>,
}

impl Values {
    fn parse<T>(
        &self,
        key: &'static str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        match self.optional(key, f)? {
            Some(v) => Ok(v),
            // Every setting read with `parse` has a default, so this only guards mistakes.
            None => Err(ConfigError::Invalid {
                key,
                origin: Source::Default.to_string(),
                value: "(unset)".into(),
                reason: "is required".into(),
            }),
        }
    }

    fn optional<T>(
        &self,
        key: &'static str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        let Some((value, source)) = self.raw.get(key) else {
            return Ok(None);
        };
        f(value).map(Some).map_err(|reason| ConfigError::Invalid {
            key,
            origin: source.to_string(),
            value: shown_value(key, value),
            reason,
        })
    }
}

/// The value as it may appear in a message.
fn shown_value(key: &str, value: &str) -> String {
    let sensitivity = SETTINGS
        .iter()
        .find(|s| s.key == key)
        .map_or(Sensitivity::Plain, |s| s.sensitivity);
    match sensitivity {
        Sensitivity::Plain => format!("{value:?}"),
        Sensitivity::Secret => "(value hidden)".into(),
        Sensitivity::Url => format!("{:?}", crate::store::redact_url(value)),
    }
}

/// Reads the TOML file into `key → value text`, refusing unknown keys and wrong shapes.
fn read_file(path: &Path) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Parse {
            path: path.to_path_buf(),
            reason: e.message().to_string(),
        })?;
    let mut out = Vec::new();
    flatten(&table, "", path, &mut out)?;
    Ok(out)
}

fn flatten(
    table: &toml::Table,
    prefix: &str,
    path: &Path,
    out: &mut Vec<(&'static str, String)>,
) -> Result<(), ConfigError> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if let toml::Value::Table(t) = v {
            flatten(t, &key, path, out)?;
            continue;
        }
        let known = SETTINGS
            .iter()
            .find(|s| s.key == key && !ENV_ONLY.contains(&s.key));
        let Some(setting) = known else {
            return Err(ConfigError::UnknownKey {
                key,
                path: path.to_path_buf(),
                known: SETTINGS
                    .iter()
                    .filter(|s| !ENV_ONLY.contains(&s.key))
                    .map(|s| s.key)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let text = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(ConfigError::Invalid {
                    key: setting.key,
                    origin: Source::File(path.to_path_buf()).to_string(),
                    value: other.type_str().to_string(),
                    reason: "is not a single value; use a string or a number".into(),
                });
            }
        };
        out.push((setting.key, text));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn load(file: Option<&str>, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = file.map(|text| {
            let p = dir.path().join("jsmkit.toml");
            std::fs::write(&p, text).unwrap();
            p
        });
        Config::load(LoadOptions {
            file: path,
            env: env(vars),
            flags: vec![],
        })
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::load(LoadOptions {
            file: None,
            env: vec![],
            flags: vec![],
        })
        .unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.store.url.backend(), "sqlite");
        assert_eq!(
            c.server.metrics_listen.unwrap().to_string(),
            "127.0.0.1:9464"
        );
    }

    #[test]
    fn env_overrides_file_and_flags_override_env() {
        let c = load(
            Some("[server]\nlisten = \"0.0.0.0:1\"\n[store]\nurl = \"sqlite://a.db\"\n"),
            &[("JSMKIT_SERVER_LISTEN", "127.0.0.1:2")],
        )
        .unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:2");
        assert_eq!(c.store.url.redacted(), "sqlite://a.db");
        let c = Config::load(
            LoadOptions {
                file: None,
                env: env(&[("JSMKIT_SERVER_LISTEN", "127.0.0.1:2")]),
                flags: vec![],
            }
            .flag("server.listen", "--listen", "127.0.0.1:3"),
        )
        .unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:3");
    }

    #[test]
    fn wrong_store_scheme_names_key_value_and_allowed() {
        let e = load(None, &[("JSMKIT_STORE_URL", "mysql://root@localhost/x")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("store.url (from JSMKIT_STORE_URL): "), "{e}");
        assert!(e.contains("scheme \"mysql\" is not supported"), "{e}");
        assert!(e.contains("sqlite://PATH or postgres://"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn password_in_store_url_is_never_shown() {
        let e = load(None, &[("JSMKIT_STORE_URL", "postgres://u:hunter2@/db")])
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn secret_key_never_shown_and_not_allowed_in_file() {
        let e = load(Some("[secrets]\nkey = \"abc\"\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown setting"), "{e}");
        assert!(!e.contains("abc"), "{e}");
        let c = load(None, &[("JSMKIT_SECRETS_KEY", "c2VjcmV0")]).unwrap();
        assert!(!format!("{c:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn bad_values_name_the_key() {
        let cases = [
            ("[server]\nlisten = \"nope\"", "server.listen"),
            ("[server]\nbody_limit_bytes = 5", "server.body_limit_bytes"),
            (
                "[server]\nrequest_timeout_secs = \"x\"",
                "server.request_timeout_secs",
            ),
            ("[server]\npublic_url = \"ftp://x\"", "server.public_url"),
            ("[server]\nmetrics_listen = \"x\"", "server.metrics_listen"),
            ("[log]\nformat = \"xml\"", "log.format"),
            ("[server]\nlistne = \"x\"", "server.listne"),
            ("[server]\nlisten = [1, 2]", "server.listen"),
        ];
        for (file, key) in cases {
            let e = load(Some(file), &[]).unwrap_err().to_string();
            assert!(e.starts_with(key), "{file}: {e}");
        }
        let e = load(Some("not toml ["), &[]).unwrap_err().to_string();
        assert!(e.contains("not valid TOML"), "{e}");
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        let e = Config::load(LoadOptions {
            file: Some("/nonexistent/jsmkit.toml".into()),
            env: vec![],
            flags: vec![],
        })
        .unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }));
    }

    #[test]
    fn metrics_can_be_turned_off_and_typos_in_env_are_reported() {
        let c = load(
            None,
            &[
                ("JSMKIT_SERVER_METRICS_LISTEN", "off"),
                ("JSMKIT_STORE_ULR", "x"),
                ("JSMKIT_TEST_PG_URL", "x"),
            ],
        )
        .unwrap();
        assert!(c.server.metrics_listen.is_none());
        assert_eq!(c.unknown_env, vec!["JSMKIT_STORE_ULR".to_string()]);
    }

    #[test]
    fn readme_documents_every_setting() {
        let readme = include_str!("../../../README.md");
        for s in SETTINGS {
            assert!(readme.contains(s.key), "README.md lacks {}", s.key);
            assert!(readme.contains(s.env), "README.md lacks {}", s.env);
        }
    }
}
