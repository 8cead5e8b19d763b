//! The per-site egress policy: an admin allow-list of hosts (`host` or `host:port`) that may
//! be reached even when they resolve to private addresses (on-premises targets). Stored in
//! the store (namespace `platform`, key `egress:policy`).

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::EgressError;
use crate::permissions::platform_ns;
use crate::store::{SiteId, Store};

/// Store key of the policy.
pub const POLICY_KEY: &str = "egress:policy";
/// Most allow-list entries per site.
pub const MAX_ALLOW_ENTRIES: usize = 100;

/// One allow-list entry: a host name or IP address, with or without a port. Without a port
/// it matches every port.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AllowEntry {
    /// Lower-case host name, or an IP address in its canonical text (IPv6 without brackets).
    host: String,
    port: Option<u16>,
}

impl AllowEntry {
    /// Parses `host`, `host:port`, `1.2.3.4:80`, `[::1]:8080` or `::1`.
    pub fn parse(input: &str) -> Result<Self, EgressError> {
        let bad = |why: &str| EgressError::InvalidAllowEntry(format!("{input:?}: {why}"));
        let s = input.trim();
        if s.is_empty() || s.len() > 260 {
            return Err(bad("use a host name, an IP address, or either with :port"));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Self {
                host: ip.to_string(),
                port: None,
            });
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, after) = rest
                .split_once(']')
                .ok_or_else(|| bad("a '[' without ']'"))?;
            let ip: std::net::Ipv6Addr = h.parse().map_err(|_| bad("not an IPv6 address"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("expected :port"))?),
            };
            (ip.to_string(), port)
        } else {
            match s.rsplit_once(':') {
                Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
                None => (s.to_ascii_lowercase(), None),
            }
        };
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(bad("the port must be 1 to 65535")),
            },
        };
        if host.parse::<IpAddr>().is_err() {
            let host = host.trim_end_matches('.');
            let label_ok = |l: &str| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            };
            if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
                return Err(bad(
                    "not a host name (letters, digits, '-' and '.'; IDNs in punycode)",
                ));
            }
            return Ok(Self {
                host: host.to_owned(),
                port,
            });
        }
        Ok(Self { host, port })
    }

    /// The host (lower case; IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, if the entry is limited to one.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        self.host == host && self.port.is_none_or(|p| p == port)
    }
}

impl fmt::Display for AllowEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v6 = self.host.contains(':');
        match (self.port, v6) {
            (None, _) => f.write_str(&self.host),
            (Some(p), true) => write!(f, "[{}]:{p}", self.host),
            (Some(p), false) => write!(f, "{}:{p}", self.host),
        }
    }
}

/// Which targets outside the public internet a site may reach.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    allow: Vec<AllowEntry>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    allow: Vec<String>,
}

impl EgressPolicy {
    /// The default: public addresses only.
    pub fn public_only() -> Self {
        Self::default()
    }

    /// A policy allowing `entries` (parsed with [`AllowEntry::parse`]; duplicates dropped).
    pub fn with_allowed<I, S>(entries: I) -> Result<Self, EgressError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut allow: Vec<AllowEntry> = Vec::new();
        for e in entries {
            let entry = AllowEntry::parse(e.as_ref())?;
            if !allow.contains(&entry) {
                allow.push(entry);
            }
        }
        if allow.len() > MAX_ALLOW_ENTRIES {
            return Err(EgressError::InvalidAllowEntry(format!(
                "at most {MAX_ALLOW_ENTRIES} entries"
            )));
        }
        Ok(Self { allow })
    }

    /// The allow-list.
    pub fn allowed(&self) -> &[AllowEntry] {
        &self.allow
    }

    /// Whether `host` (as in a parsed URL: lower case, IPv6 without brackets) on `port` is
    /// allow-listed.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        self.allow.iter().any(|e| e.matches(host, port))
    }

    /// Whether some entry names `host`, whatever its port.
    pub fn names_host(&self, host: &str) -> bool {
        self.allow.iter().any(|e| e.host == host)
    }
}

/// The egress policy of `site` (public addresses only when none is stored).
pub async fn load_policy(store: &Store, site: &SiteId) -> Result<EgressPolicy, EgressError> {
    let stored: Option<Stored> = store.kv(site, &platform_ns()).get(POLICY_KEY).await?;
    match stored {
        None => Ok(EgressPolicy::default()),
        Some(s) => EgressPolicy::with_allowed(&s.allow),
    }
}

/// Stores the egress policy of `site`. Record the change in the audit log yourself.
pub async fn save_policy(
    store: &Store,
    site: &SiteId,
    policy: &EgressPolicy,
) -> Result<(), EgressError> {
    let stored = Stored {
        allow: policy.allow.iter().map(ToString::to_string).collect(),
    };
    store
        .kv(site, &platform_ns())
        .set(POLICY_KEY, &stored)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_and_print() {
        for (input, shown) in [
            ("Intranet.Example.com", "intranet.example.com"),
            ("jira.local:8443", "jira.local:8443"),
            ("10.0.0.5", "10.0.0.5"),
            ("10.0.0.5:80", "10.0.0.5:80"),
            ("[fd00::1]:8080", "[fd00::1]:8080"),
            ("fd00::1", "fd00::1"),
            ("[fd00::1]", "fd00::1"),
        ] {
            let e = AllowEntry::parse(input).unwrap();
            assert_eq!(e.to_string(), shown);
            assert_eq!(AllowEntry::parse(shown).unwrap(), e);
        }
        for bad in [
            "",
            "a b",
            "host:0",
            "host:99999",
            "host:x",
            "[fd00::1",
            "http://x",
            "-a.com",
        ] {
            assert!(AllowEntry::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_honours_the_port() {
        let p = EgressPolicy::with_allowed(["jira.local:8443", "10.0.0.5"]).unwrap();
        assert!(p.allows("jira.local", 8443));
        assert!(!p.allows("jira.local", 443));
        assert!(p.names_host("jira.local"));
        assert!(p.allows("10.0.0.5", 1));
        assert!(!p.allows("10.0.0.6", 1));
        assert!(!EgressPolicy::public_only().allows("10.0.0.5", 80));
    }
}
