//! Forge's limits and their checks: keys, values, query limits, batches, transactions, TTLs,
//! and the opaque query cursor. Everything here runs before the database is touched.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::error::{Result, StoreError};
use super::types::{AppNs, SiteId};

/// Longest key, in characters.
pub const MAX_KEY_LEN: usize = 500;
/// Largest value, as serialized JSON (240 KiB).
pub const MAX_VALUE_BYTES: usize = 245_760;
/// Largest query page.
pub const MAX_QUERY_LIMIT: u32 = 100;
/// Query page size when none is given.
pub const DEFAULT_QUERY_LIMIT: u32 = 20;
/// Most keys in one batch get/set/delete.
pub const MAX_BATCH: usize = 20;
/// Most operations plus conditions in one transaction.
pub const MAX_TRANSACTION: usize = 10;
/// Longest time to live.
pub const MAX_TTL_DAYS: u64 = 365;

const CURSOR_VERSION: u8 = 1;
const CURSOR_TAG_LEN: usize = 8;
/// A key of 500 characters plus header, base64: anything longer is not ours.
const MAX_CURSOR_LEN: usize = 700;

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | ' ' | '#' | '-')
}

/// Checks a key against Forge's rules: 1–500 characters of `[A-Za-z0-9:._ #-]`, not only spaces.
pub fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(StoreError::KeyEmpty { max: MAX_KEY_LEN });
    }
    let len = key.chars().count();
    if len > MAX_KEY_LEN {
        return Err(StoreError::KeyTooLong {
            key: key.to_string(),
            len,
            max: MAX_KEY_LEN,
        });
    }
    if let Some((position, ch)) = key.chars().enumerate().find(|(_, c)| !allowed(*c)) {
        return Err(StoreError::KeyInvalidChar {
            key: key.to_string(),
            ch,
            position,
        });
    }
    if key.chars().all(|c| c == ' ') {
        return Err(StoreError::KeyOnlySpaces {
            key: key.to_string(),
        });
    }
    Ok(())
}

/// Checks a query prefix: empty (all keys) or up to 500 key characters.
pub fn validate_prefix(prefix: &str) -> Result<()> {
    let len = prefix.chars().count();
    if len > MAX_KEY_LEN {
        return Err(StoreError::InvalidPrefix {
            prefix: prefix.to_string(),
            reason: format!("it is {len} characters; the limit is {MAX_KEY_LEN}"),
        });
    }
    if let Some(c) = prefix.chars().find(|c| !allowed(*c)) {
        return Err(StoreError::InvalidPrefix {
            prefix: prefix.to_string(),
            reason: format!("it contains {c:?}, which no key can contain"),
        });
    }
    Ok(())
}

pub fn check_value_size(key: &str, json: &str) -> Result<()> {
    if json.len() > MAX_VALUE_BYTES {
        return Err(StoreError::ValueTooLarge {
            key: key.to_string(),
            size: json.len(),
            max: MAX_VALUE_BYTES,
        });
    }
    Ok(())
}

pub fn check_query_limit(limit: u32) -> Result<()> {
    if limit == 0 || limit > MAX_QUERY_LIMIT {
        return Err(StoreError::QueryLimit {
            limit,
            max: MAX_QUERY_LIMIT,
        });
    }
    Ok(())
}

pub fn check_batch(len: usize) -> Result<()> {
    if len > MAX_BATCH {
        return Err(StoreError::BatchTooLarge {
            len,
            max: MAX_BATCH,
        });
    }
    Ok(())
}

pub fn check_transaction(len: usize) -> Result<()> {
    if len > MAX_TRANSACTION {
        return Err(StoreError::TransactionTooLarge {
            len,
            max: MAX_TRANSACTION,
        });
    }
    Ok(())
}

/// The expiry instant (ms) for a TTL from `now_ms`.
pub fn expiry(now_ms: i64, ttl: Duration) -> Result<i64> {
    let max = Duration::from_secs(MAX_TTL_DAYS * 86_400);
    let out_of_range = || StoreError::TtlOutOfRange {
        ttl_ms: ttl.as_millis(),
        max_days: MAX_TTL_DAYS,
    };
    if ttl < Duration::from_millis(1) || ttl > max {
        return Err(out_of_range());
    }
    let ms = i64::try_from(ttl.as_millis()).map_err(|_| out_of_range())?;
    now_ms.checked_add(ms).ok_or_else(out_of_range)
}

/// The key range `[lower, upper)` covering every key that starts with `prefix`, in byte
/// order. Keys are ASCII below `{`, so bumping the prefix's last byte gives the upper bound;
/// DEL (0x7f) sorts after every valid key.
pub fn prefix_upper_bound(prefix: &str) -> String {
    let mut bytes = prefix.as_bytes().to_vec();
    match bytes.last_mut() {
        // validated prefixes are ASCII in 0x20..=0x7a, so +1 stays ASCII
        Some(last) => *last = last.saturating_add(1),
        None => bytes.push(0x7f),
    }
    String::from_utf8(bytes).unwrap_or_else(|_| "\u{7f}".to_string())
}

fn cursor_tag(site: &SiteId, app: &AppNs, prefix: &str) -> [u8; CURSOR_TAG_LEN] {
    let mut h = Sha256::new();
    h.update(b"jsmkit/store/cursor/v1\0");
    h.update(site.as_str().as_bytes());
    h.update([0]);
    h.update(app.as_str().as_bytes());
    h.update([0]);
    h.update(prefix.as_bytes());
    let digest = h.finalize();
    let mut tag = [0u8; CURSOR_TAG_LEN];
    tag.copy_from_slice(&digest[..CURSOR_TAG_LEN]);
    tag
}

/// An opaque cursor: base64url of `version ‖ tag(site, app, prefix) ‖ last key`.
pub fn encode_cursor(site: &SiteId, app: &AppNs, prefix: &str, last_key: &str) -> String {
    let mut raw = Vec::with_capacity(1 + CURSOR_TAG_LEN + last_key.len());
    raw.push(CURSOR_VERSION);
    raw.extend_from_slice(&cursor_tag(site, app, prefix));
    raw.extend_from_slice(last_key.as_bytes());
    URL_SAFE_NO_PAD.encode(raw)
}

/// The last key of the previous page, if `cursor` was issued for this site, app and prefix.
pub fn decode_cursor(site: &SiteId, app: &AppNs, prefix: &str, cursor: &str) -> Result<String> {
    let invalid = |reason| StoreError::InvalidCursor { reason };
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(invalid("it is longer than any cursor this store issues"));
    }
    let raw = URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .map_err(|_| invalid("it is not a cursor this store issued"))?;
    let (version, rest) = raw.split_first().ok_or(invalid("it is empty"))?;
    if *version != CURSOR_VERSION || rest.len() <= CURSOR_TAG_LEN {
        return Err(invalid("it is not a cursor this store issued"));
    }
    let (tag, key) = rest.split_at(CURSOR_TAG_LEN);
    if tag != cursor_tag(site, app, prefix) {
        return Err(invalid(
            "it belongs to a different query (another prefix, site or app)",
        ));
    }
    let key = String::from_utf8(key.to_vec()).map_err(|_| invalid("it is damaged"))?;
    if validate_key(&key).is_err() || !key.starts_with(prefix) {
        return Err(invalid("it is damaged"));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn key_rules_and_messages() {
        assert!(validate_key("a").is_ok());
        assert!(validate_key("user:42 #tag._-").is_ok());
        assert!(validate_key(" x ").is_ok());
        assert!(validate_key(&"k".repeat(500)).is_ok());
        let e = validate_key(&"k".repeat(501)).unwrap_err().to_string();
        assert!(e.contains("is 501 characters; the limit is 500"), "{e}");
        assert!(validate_key("").unwrap_err().to_string().contains("empty"));
        assert!(
            validate_key("   ")
                .unwrap_err()
                .to_string()
                .contains("only spaces")
        );
        let e = validate_key("a/b").unwrap_err().to_string();
        assert!(e.contains("'/' at position 1"), "{e}");
        assert!(validate_key("é").is_err());
    }

    #[test]
    fn upper_bound_is_past_every_prefixed_key() {
        assert_eq!(prefix_upper_bound("ab"), "ac");
        assert_eq!(prefix_upper_bound("a-"), "a.");
        assert_eq!(prefix_upper_bound("z"), "{");
        assert_eq!(prefix_upper_bound(""), "\u{7f}");
    }

    #[test]
    fn cursor_bound_to_query() {
        let s = SiteId::new("s1").unwrap();
        let a = AppNs::new("app").unwrap();
        let c = encode_cursor(&s, &a, "p:", "p:42");
        assert_eq!(decode_cursor(&s, &a, "p:", &c).unwrap(), "p:42");
        assert!(decode_cursor(&s, &a, "q:", &c).is_err());
        assert!(decode_cursor(&SiteId::new("s2").unwrap(), &a, "p:", &c).is_err());
        assert!(decode_cursor(&s, &a, "p:", "!!!").is_err());
        assert!(decode_cursor(&s, &a, "p:", "").is_err());
        assert!(decode_cursor(&s, &a, "p:", &"A".repeat(5000)).is_err());
    }

    #[test]
    fn ttl_range() {
        assert_eq!(expiry(1000, Duration::from_secs(1)).unwrap(), 2000);
        assert!(expiry(0, Duration::ZERO).is_err());
        assert!(expiry(0, Duration::from_secs(366 * 86_400)).is_err());
        assert!(expiry(i64::MAX - 5, Duration::from_secs(1)).is_err());
    }

    proptest! {
        #[test]
        fn valid_keys_accepted(key in "[A-Za-z0-9:._ #-]{0,499}[A-Za-z0-9:._#-]") {
            prop_assert!(validate_key(&key).is_ok());
        }

        #[test]
        fn any_string_never_panics_and_accepts_only_valid(key in "\\PC{0,600}") {
            let ok = validate_key(&key).is_ok();
            let expected = !key.is_empty()
                && key.chars().count() <= 500
                && key.chars().all(allowed)
                && !key.chars().all(|c| c == ' ');
            prop_assert_eq!(ok, expected);
        }

        #[test]
        fn prefixed_keys_fall_in_range(prefix in "[A-Za-z0-9:._ #-]{0,20}", rest in "[A-Za-z0-9:._ #-]{0,20}") {
            let key = format!("{prefix}{rest}");
            let upper = prefix_upper_bound(&prefix);
            prop_assert!(key.as_bytes() >= prefix.as_bytes());
            prop_assert!(key.as_bytes() < upper.as_bytes());
        }
    }
}
