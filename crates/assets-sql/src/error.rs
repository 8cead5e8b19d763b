//! The crate's error type. Messages never carry credentials: database URLs are reported
//! without their password and API tokens never reach this type.

/// An export failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Assets API failed.
    #[error("Assets API: {0}")]
    Api(#[from] atlassian::client::Error),
    /// An AQL query could not be built.
    #[error("AQL: {0}")]
    Aql(#[from] atlassian::aql::AqlError),
    /// Writing the script failed.
    #[error("writing the script: {0}")]
    Io(#[from] std::io::Error),
    /// The target database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The target URL is not usable.
    #[error("target {url}: {reason}")]
    Target {
        /// The URL without its password.
        url: String,
        /// Why.
        reason: String,
    },
    /// Invalid input (selection, options).
    #[error("{0}")]
    Invalid(String),
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `url` with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            let pw = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{pw}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
        assert_eq!(super::redact("mysql://root@h/db"), "mysql://root@h/db");
    }
}
