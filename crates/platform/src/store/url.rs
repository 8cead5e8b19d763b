//! The store's connection URL (`store.url`): `sqlite://PATH` or `postgres://…`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};

/// Where the app store lives. The PostgreSQL URL may carry a password, so it is held as a
/// secret and never printed whole.
#[derive(Clone)]
pub enum StoreUrl {
    /// An embedded SQLite database file (created if missing).
    Sqlite { path: PathBuf },
    /// A PostgreSQL database shared by several `jsmkit serve` instances.
    Postgres { url: SecretString },
}

impl StoreUrl {
    /// The URL with any password replaced by `***`, for logs and messages.
    pub fn redacted(&self) -> String {
        match self {
            StoreUrl::Sqlite { path } => format!("sqlite://{}", path.display()),
            StoreUrl::Postgres { url } => redact_url(url.expose_secret()),
        }
    }

    /// The backend's short name: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            StoreUrl::Sqlite { .. } => "sqlite",
            StoreUrl::Postgres { .. } => "postgres",
        }
    }
}

/// `text` with the password of its user-info (`scheme://user:PASSWORD@host…`) replaced by
/// `***`. Works on text that is not a valid URL too, so a malformed value is never shown whole.
pub fn redact_url(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_string();
    };
    let authority_start = scheme_end + 3;
    let rest = &text[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let Some(at) = authority.rfind('@') else {
        return text.to_string();
    };
    let userinfo = &authority[..at];
    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
    let shown_user = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        user.to_string()
    };
    format!(
        "{}{}{}",
        &text[..authority_start],
        shown_user,
        &text[authority_start + at..]
    )
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl FromStr for StoreUrl {
    /// The reason the value is not allowed, without the key name (the caller adds it).
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err("is empty; use sqlite://PATH or postgres://USER@HOST/DB".into());
        }
        let Some((scheme, rest)) = s.split_once("://") else {
            return Err("has no scheme; use sqlite://PATH or postgres://USER@HOST/DB".into());
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                // sqlite://PATH (relative) or sqlite:///abs/path; query options are not taken.
                let path = rest.split('?').next().unwrap_or_default();
                if path.is_empty() {
                    return Err(
                        "names no file; use sqlite://PATH, e.g. sqlite://data/jsmkit.db".into(),
                    );
                }
                if path == ":memory:" {
                    return Err(
                        "in-memory SQLite loses every write at exit; give a file, sqlite://PATH"
                            .into(),
                    );
                }
                Ok(StoreUrl::Sqlite {
                    path: PathBuf::from(path),
                })
            }
            "postgres" | "postgresql" => {
                let parsed = url::Url::parse(s).map_err(|e| {
                    format!("is not a valid PostgreSQL URL ({e}); use postgres://USER[:PASSWORD]@HOST[:PORT]/DB")
                })?;
                if parsed.host_str().is_none_or(str::is_empty) {
                    return Err("has no host; use postgres://USER[:PASSWORD]@HOST[:PORT]/DB".into());
                }
                Ok(StoreUrl::Postgres {
                    url: SecretString::from(s.to_string()),
                })
            }
            other => Err(format!(
                "scheme \"{other}\" is not supported; use sqlite://PATH or postgres://USER@HOST/DB"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_backends() {
        let s: StoreUrl = "sqlite://data/x.db".parse().unwrap();
        assert!(matches!(s, StoreUrl::Sqlite { ref path } if path == &PathBuf::from("data/x.db")));
        let s: StoreUrl = "sqlite:///var/lib/x.db".parse().unwrap();
        assert!(
            matches!(s, StoreUrl::Sqlite { ref path } if path == &PathBuf::from("/var/lib/x.db"))
        );
        let p: StoreUrl = "postgres://u:pw@127.0.0.1:5432/db".parse().unwrap();
        assert_eq!(p.backend(), "postgres");
        assert!(!p.redacted().contains("pw"));
        assert!(!format!("{p:?}").contains("pw"));
    }

    #[test]
    fn redaction_hides_passwords_even_in_malformed_urls() {
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u:p@w@/db"), "postgres://u:***@/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("postgres://h/db?x=@"), "postgres://h/db?x=@");
        assert_eq!(redact_url("sqlite://a.db"), "sqlite://a.db");
    }

    #[test]
    fn rejects_other_schemes_with_reason() {
        let e = "mysql://x/y".parse::<StoreUrl>().unwrap_err();
        assert!(e.contains("scheme \"mysql\" is not supported"), "{e}");
        assert!("nothing".parse::<StoreUrl>().is_err());
        assert!("sqlite://".parse::<StoreUrl>().is_err());
        assert!("postgres://".parse::<StoreUrl>().is_err());
    }
}
