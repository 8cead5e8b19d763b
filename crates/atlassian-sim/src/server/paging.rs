//! Opaque, tamper-evident page tokens and offset-paging helpers.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::error::ApiError;

fn mac(secret: &[u8], scope: &str, offset: usize) -> String {
    let mut h = Sha256::new();
    h.update(secret);
    h.update(scope.as_bytes());
    h.update(offset.to_le_bytes());
    hex::encode(&h.finalize()[..12])
}

/// A token for `offset` within the result set identified by `scope` (e.g. the JQL).
pub fn encode(secret: &[u8], scope: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{offset}.{}", mac(secret, scope, offset)))
}

/// Decodes a token; any tampering or a token from another query is a 400.
pub fn decode(secret: &[u8], scope: &str, token: &str) -> Result<usize, ApiError> {
    let bad = || ApiError::bad("The provided next page token is invalid or expired.");
    let raw = URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    let (off, m) = s.split_once('.').ok_or_else(bad)?;
    let offset: usize = off.parse().map_err(|_| bad())?;
    if mac(secret, scope, offset) != m {
        return Err(bad());
    }
    Ok(offset)
}

/// Clamps a requested page size into `1..=cap` (default when absent or negative).
pub fn page_size(requested: Option<i64>, default: usize, cap: usize) -> usize {
    match requested {
        Some(n) if n > 0 => usize::try_from(n).unwrap_or(cap).min(cap),
        Some(0) => 0,
        _ => default,
    }
}

/// A non-negative offset.
pub fn start(requested: Option<i64>) -> usize {
    requested.and_then(|n| usize::try_from(n).ok()).unwrap_or(0)
}
