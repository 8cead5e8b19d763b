//! Sessions: random 32-byte tokens in a cookie, stored only as their SHA-256 in the store.
//!
//! Cookie `jsmkit_session=<cloudId>.<base64url token>`; the site part picks the per-site KV,
//! the token's hash is the key. Absolute expiry is the entry's TTL, idle expiry is checked
//! on every read, `last_seen` is written at most once per `touch_every`.

use std::fmt;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{AuthContext, CurrentUser, Failure};
use crate::store::{Kv, SiteId, StoreError};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "jsmkit_session";

/// A session's id: the hex SHA-256 of its token (safe to log and store).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.0)
    }
}

/// A stored session.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    pub account_id: String,
    pub display_name: String,
    pub email: Option<String>,
    pub created_ms: i64,
    pub last_seen_ms: i64,
    pub expires_ms: i64,
    pub csrf_token: String,
}

/// A profile to open a session for.
pub(crate) struct NewSession<'a> {
    pub site: &'a SiteId,
    pub account_id: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
}

pub(crate) fn random_token() -> Result<[u8; 32], Failure> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Failure::Random(e.to_string()))?;
    Ok(bytes)
}

pub(crate) fn random_string() -> Result<String, Failure> {
    Ok(URL_SAFE_NO_PAD.encode(random_token()?))
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn session_key(id: &SessionId) -> String {
    format!("session:{}", id.0)
}

fn index_prefix(account_id: &str) -> String {
    format!("user-session:{account_id}:")
}

fn index_key(account_id: &str, id: &SessionId) -> String {
    format!("{}{}", index_prefix(account_id), id.0)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The value of the cookie named `name` in the request's `Cookie` headers.
pub(crate) fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when asked.
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<Duration>,
    secure: bool,
) -> Option<HeaderValue> {
    let mut text = format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/");
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={}", age.as_secs()));
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).ok()
}

/// A `Set-Cookie` value that removes the cookie.
pub(crate) fn clear_cookie(name: &str, secure: bool) -> Option<HeaderValue> {
    set_cookie(name, "", Some(Duration::ZERO), secure)
}

/// The site and session id named by a session cookie value, if it is well formed.
pub(crate) fn parse_session_cookie(value: &str) -> Option<(SiteId, SessionId)> {
    let (site, token) = value.split_once('.')?;
    let site = SiteId::new(site).ok()?;
    let token = URL_SAFE_NO_PAD.decode(token).ok()?;
    if token.len() != 32 {
        return None;
    }
    Some((site, SessionId(sha256_hex(&token))))
}

impl AuthContext {
    pub(crate) fn kv(&self, site: &SiteId) -> Kv {
        self.inner.store.kv(site, &self.inner.namespace)
    }

    /// Opens a session; returns the user and the cookie value (`<site>.<token>`).
    pub(crate) async fn create_session(
        &self,
        new: NewSession<'_>,
    ) -> Result<(CurrentUser, String), Failure> {
        let token = random_token()?;
        let id = SessionId(sha256_hex(&token));
        let now = self.now_ms();
        let absolute = self.inner.limits.absolute;
        let record = SessionRecord {
            account_id: new.account_id.to_owned(),
            display_name: new.display_name.to_owned(),
            email: new.email.map(str::to_owned),
            created_ms: now,
            last_seen_ms: now,
            expires_ms: now.saturating_add(ms(absolute)),
            csrf_token: random_string()?,
        };
        self.kv(new.site)
            .transaction()
            .set_with_ttl(&session_key(&id), &record, absolute)
            .set_with_ttl(&index_key(new.account_id, &id), &(), absolute)
            .commit()
            .await?;
        tracing::info!(site = %new.site, session = %id, "session opened");
        let cookie = format!("{}.{}", new.site, URL_SAFE_NO_PAD.encode(token));
        Ok((to_user(new.site.clone(), id, record), cookie))
    }

    /// The user of the session named by the request's cookie; `None` when there is no
    /// cookie, it is malformed, or the session is unknown, expired or idle too long.
    pub(crate) async fn session_user(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<CurrentUser>, StoreError> {
        let Some((site, id)) = cookie_value(headers, SESSION_COOKIE).and_then(parse_session_cookie)
        else {
            return Ok(None);
        };
        let kv = self.kv(&site);
        let key = session_key(&id);
        let Some(mut record) = kv.get::<SessionRecord>(&key).await? else {
            return Ok(None);
        };
        let now = self.now_ms();
        let limits = self.inner.limits;
        if now >= record.expires_ms {
            return Ok(None);
        }
        if now.saturating_sub(record.last_seen_ms) > ms(limits.idle) {
            tracing::info!(site = %site, session = %id, "session ended: idle too long");
            self.end_session(&site, &record.account_id, &id).await?;
            return Ok(None);
        }
        if now.saturating_sub(record.last_seen_ms) >= ms(limits.touch_every) {
            record.last_seen_ms = now;
            let left = u64::try_from(record.expires_ms.saturating_sub(now)).unwrap_or(0);
            if left > 0 {
                kv.set_with_ttl(&key, &record, Duration::from_millis(left))
                    .await?;
            }
        }
        Ok(Some(to_user(site, id, record)))
    }

    /// Ends one session.
    pub(crate) async fn end_session(
        &self,
        site: &SiteId,
        account_id: &str,
        id: &SessionId,
    ) -> Result<(), StoreError> {
        self.kv(site)
            .delete_many(&[session_key(id), index_key(account_id, id)])
            .await?;
        Ok(())
    }

    /// Ends every session of `account_id` on `site`; returns how many there were.
    pub(crate) async fn end_all_sessions(
        &self,
        site: &SiteId,
        account_id: &str,
    ) -> Result<usize, StoreError> {
        let kv = self.kv(site);
        let prefix = index_prefix(account_id);
        let mut ended = 0;
        // Deleting as we go: every round starts again from the first remaining entry.
        loop {
            let page = kv
                .query()
                .begins_with(prefix.clone())
                .limit(10)
                .fetch()
                .await?;
            if page.entries.is_empty() {
                return Ok(ended);
            }
            let mut keys = Vec::with_capacity(page.entries.len() * 2);
            for entry in &page.entries {
                let hash = entry.key.trim_start_matches(prefix.as_str());
                keys.push(format!("session:{hash}"));
                keys.push(entry.key.clone());
            }
            kv.delete_many(&keys).await?;
            ended += page.entries.len();
        }
    }
}

fn to_user(site: SiteId, id: SessionId, record: SessionRecord) -> CurrentUser {
    CurrentUser {
        site,
        account_id: record.account_id,
        display_name: record.display_name,
        email: record.email,
        session_id: id,
        csrf_token: record.csrf_token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookies_parse_only_when_well_formed() {
        let token = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let (site, id) = parse_session_cookie(&format!("cloud-1.{token}")).unwrap();
        assert_eq!(site.as_str(), "cloud-1");
        assert_eq!(id.as_str(), sha256_hex(&[7u8; 32]));
        for bad in [
            "",
            "cloud-1",
            ".abc",
            &format!("cloud_1.{token}"),
            "cloud-1.short",
            &format!("cloud-1.{token}x"),
            "a.b.c",
        ] {
            assert!(parse_session_cookie(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn cookie_values_are_found_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; b = 2"));
        headers.append(header::COOKIE, HeaderValue::from_static("c=3"));
        assert_eq!(cookie_value(&headers, "b"), Some("2"));
        assert_eq!(cookie_value(&headers, "c"), Some("3"));
        assert_eq!(cookie_value(&headers, "d"), None);
    }

    #[test]
    fn set_cookie_has_the_flags() {
        let v = set_cookie("n", "v", None, false).unwrap();
        assert_eq!(v, "n=v; HttpOnly; SameSite=Lax; Path=/");
        let v = set_cookie("n", "v", Some(Duration::from_secs(5)), true).unwrap();
        assert_eq!(v, "n=v; HttpOnly; SameSite=Lax; Path=/; Max-Age=5; Secure");
    }
}
