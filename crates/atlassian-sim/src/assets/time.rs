//! Minimal UTC calendar arithmetic (Howard Hinnant's civil-date algorithms), enough to
//! render Assets timestamps and to read the date literals AQL accepts.

/// Milliseconds per day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD` of a day number.
pub(crate) fn fmt_date(days: i64) -> String {
    DateText(days).to_string()
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` of Unix milliseconds.
pub(crate) fn fmt_datetime(ms: i64) -> String {
    DateTimeText(ms).to_string()
}

/// `HH:MM` of seconds since midnight.
pub(crate) fn fmt_time(secs: u32) -> String {
    TimeText(secs).to_string()
}

/// A day number shown as `YYYY-MM-DD`, written without an intermediate `String`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DateText(pub i64);

impl std::fmt::Display for DateText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// Unix milliseconds shown as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DateTimeText(pub i64);

impl std::fmt::Display for DateTimeText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.0;
        let rem = ms.rem_euclid(DAY_MS);
        let (h, mi, s, milli) = (
            rem / 3_600_000,
            rem / 60_000 % 60,
            rem / 1000 % 60,
            rem % 1000,
        );
        write!(
            f,
            "{}T{h:02}:{mi:02}:{s:02}.{milli:03}Z",
            DateText(ms.div_euclid(DAY_MS))
        )
    }
}

/// Seconds since midnight shown as `HH:MM`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimeText(pub u32);

impl std::fmt::Display for TimeText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0;
        write!(f, "{:02}:{:02}", secs / 3600 % 24, secs / 60 % 60)
    }
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Reads `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` or RFC 3339-ish `YYYY-MM-DDTHH:MM[:SS[.mmm]][Z]`
/// as Unix milliseconds (UTC).
pub(crate) fn parse_instant(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = match s.find(['T', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let y = num(parts.next()?)?;
    let m = num(parts.next()?)?;
    let d = num(parts.next()?)?;
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(i64::from(y), m, d) * DAY_MS;
    if let Some(rest) = rest {
        let rest = rest.strip_suffix('Z').unwrap_or(rest);
        let (hms, frac) = match rest.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (rest, None),
        };
        let mut t = hms.split(':');
        let h = num(t.next()?)?;
        let mi = num(t.next()?)?;
        let sec = match t.next() {
            Some(x) => num(x)?,
            None => 0,
        };
        if t.next().is_some() || h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        let milli = match frac {
            Some(f) => num(f.get(..3.min(f.len()))?)?,
            None => 0,
        };
        ms += i64::from(h * 3600 + mi * 60 + sec) * 1000 + i64::from(milli);
    }
    Some(ms)
}

/// Reads `HH:MM[:SS]` as seconds since midnight.
pub(crate) fn parse_time(s: &str) -> Option<u32> {
    let mut t = s.trim().split(':');
    let h = num(t.next()?)?;
    let m = num(t.next()?)?;
    let sec = match t.next() {
        Some(x) => num(x)?,
        None => 0,
    };
    (t.next().is_none() && h < 24 && m < 60 && sec < 60).then_some(h * 3600 + m * 60 + sec)
}

/// The current time in Unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_formatting() {
        for z in [-800_000, -1, 0, 1, 11_016, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(fmt_date(0), "1970-01-01");
        assert_eq!(fmt_datetime(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(
            parse_instant("2023-11-14T22:13:20.123Z"),
            Some(1_700_000_000_123)
        );
        assert_eq!(
            parse_instant("2023-11-14"),
            Some(days_from_civil(2023, 11, 14) * DAY_MS)
        );
        assert_eq!(parse_instant("2023-13-01"), None);
        assert_eq!(parse_instant("20x3-01-01"), None);
        assert_eq!(parse_time("07:05"), Some(7 * 3600 + 5 * 60));
        assert_eq!(fmt_time(7 * 3600 + 5 * 60), "07:05");
    }
}
