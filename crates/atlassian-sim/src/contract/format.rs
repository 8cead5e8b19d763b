//! `format` checks. Unknown formats (and `binary`, `password`, ...) are not checked, as
//! OpenAPI allows; `double`/`float` accept any JSON number.

use serde_json::Value;

/// Returns an error message when `value` does not satisfy `format`.
pub(crate) fn check(format: &str, value: &Value, colonless_offsets: bool) -> Option<String> {
    match (format, value) {
        ("int32", Value::Number(n)) => {
            let ok = n.as_i64().is_some_and(|i| i32::try_from(i).is_ok());
            (!ok).then(|| format!("{n} is outside the int32 range"))
        }
        ("int64", Value::Number(n)) => {
            let ok =
                n.as_i64().is_some() || n.as_f64().is_some_and(|f| f.fract() == 0.0 && !n.is_u64());
            (!ok).then(|| format!("{n} is outside the int64 range"))
        }
        ("date-time", Value::String(s)) => (!is_date_time(s, colonless_offsets))
            .then(|| format!("{s:?} is not an RFC 3339 date-time")),
        ("date", Value::String(s)) => {
            (!is_date(s.as_bytes())).then(|| format!("{s:?} is not a full-date (YYYY-MM-DD)"))
        }
        ("uuid", Value::String(s)) => (!is_uuid(s)).then(|| format!("{s:?} is not a UUID")),
        ("uri" | "url", Value::String(s)) => {
            (!is_uri(s)).then(|| format!("{s:?} is not an absolute URI"))
        }
        ("byte", Value::String(s)) => (!is_base64(s)).then(|| format!("{s:?} is not base64")),
        _ => None,
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter().try_fold(0u32, |acc, d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

fn is_date(b: &[u8]) -> bool {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) =
        (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
    else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let max = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=max).contains(&day)
}

fn is_time(b: &[u8]) -> bool {
    b.len() == 8
        && b[2] == b':'
        && b[5] == b':'
        && digits(&b[0..2]).is_some_and(|h| h < 24)
        && digits(&b[3..5]).is_some_and(|m| m < 60)
        && digits(&b[6..8]).is_some_and(|s| s <= 60)
}

fn is_date_time(s: &str, colonless_offsets: bool) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || !is_date(&b[..10]) || !matches!(b[10], b'T' | b't') || !is_time(&b[11..19]) {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => offset_ok(&[*h1, *h2], &[*m1, *m2]),
        [b'+' | b'-', h1, h2, m1, m2] if colonless_offsets => offset_ok(&[*h1, *h2], &[*m1, *m2]),
        _ => false,
    }
}

fn offset_ok(h: &[u8], m: &[u8]) -> bool {
    digits(h).is_some_and(|h| h < 24) && digits(m).is_some_and(|m| m < 60)
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Loose absolute-URI check: a scheme, a colon, something after it, no whitespace.
fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_base64(s: &str) -> bool {
    let trimmed = s.trim_end_matches('=');
    s.len().is_multiple_of(4)
        && s.len() - trimmed.len() <= 2
        && trimmed
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn date_times() {
        assert!(is_date_time("2024-02-29T23:59:60.123Z", false));
        assert!(is_date_time("2024-01-31T09:15:00+01:00", false));
        assert!(!is_date_time("2024-01-31T09:15:00.000+0000", false));
        assert!(is_date_time("2024-01-31T09:15:00.000+0000", true));
        assert!(!is_date_time("2023-02-29T00:00:00Z", false));
        assert!(!is_date_time("2024-01-31 09:15:00Z", false));
        assert!(!is_date_time("2024-01-31T09:15Z", false));
        assert!(!is_date_time("", true));
    }

    #[test]
    fn others() {
        assert!(check("int32", &json!(2_147_483_648_i64), false).is_some());
        assert!(check("int32", &json!(-5), false).is_none());
        assert!(check("int64", &json!(u64::MAX), false).is_some());
        assert!(
            check(
                "uuid",
                &json!("123e4567-e89b-12d3-a456-426614174000"),
                false
            )
            .is_none()
        );
        assert!(check("uuid", &json!("123e4567e89b12d3a456426614174000"), false).is_some());
        assert!(
            check(
                "uri",
                &json!("https://x.atlassian.net/rest/api/3/issue/1"),
                false
            )
            .is_none()
        );
        assert!(check("uri", &json!("/rest/api/3/issue/1"), false).is_some());
        assert!(check("date", &json!("2024-13-01"), false).is_some());
        assert!(check("byte", &json!("aGk="), false).is_none());
        assert!(check("byte", &json!("a b"), false).is_some());
    }
}
