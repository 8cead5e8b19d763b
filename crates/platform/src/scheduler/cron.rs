//! Schedules: a cron expression in an IANA time zone ([`CronSchedule`]) or a fixed
//! interval ([`Schedule::Every`]).
//!
//! croner evaluates the expression on civil (wall-clock) times; this module turns wall-clock
//! times into instants with jiff 1.0's time zone data. Daylight saving rules:
//!
//! - a wall-clock time that does not exist (clocks jump forward over it) fires once, at the
//!   instant the gap ends (`30 1 * * *` in Europe/London fires at 02:00 BST on the day
//!   clocks go forward);
//! - a wall-clock time that happens twice (clocks go back) fires once, at its first
//!   occurrence. This also holds for `*/15`-style expressions: the repeated hour is not
//!   repeated. Use [`Schedule::Every`] for a true fixed interval.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};

/// The prefix naming the time zone in the text form, as cronie's `CRON_TZ`.
const TZ_PREFIX: &str = "CRON_TZ=";
/// Wall-clock candidates examined at most per search.
const MAX_CANDIDATES: usize = 1000;

/// A schedule that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The cron expression is malformed.
    #[error(
        "cron expression {expr:?} is not valid: {reason} (use five fields: minute hour day-of-month month day-of-week)"
    )]
    Expression {
        /// The expression.
        expr: String,
        /// What is wrong, as croner says.
        reason: String,
    },
    /// The time zone is not a known IANA name.
    #[error("time zone {zone:?} is not a known IANA time zone name (e.g. Europe/London, UTC)")]
    TimeZone {
        /// The name given.
        zone: String,
    },
    /// An interval of zero.
    #[error("the interval must be at least one second")]
    Interval,
}

/// A validated cron expression in a time zone. Text form: `CRON_TZ=<zone> <expression>`,
/// or just `<expression>` for UTC; [`Display`](fmt::Display) prints the full form and
/// parsing it gives the same schedule back.
#[derive(Clone)]
pub struct CronSchedule {
    expr: String,
    zone_name: String,
    cron: Cron,
    zone: TimeZone,
}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronSchedule({self})")
    }
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr && self.zone_name == other.zone_name
    }
}

impl Eq for CronSchedule {}

impl CronSchedule {
    /// Five-field expression (`minute hour day-of-month month day-of-week`, with croner's
    /// `L`, `W`, `#` and `@daily`-style nicknames) evaluated in the IANA zone `zone`.
    pub fn new(expr: &str, zone: &str) -> Result<Self, ScheduleError> {
        let expr = expr.split_whitespace().collect::<Vec<_>>().join(" ");
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build();
        let cron = parser.parse(&expr).map_err(|e| ScheduleError::Expression {
            expr: expr.clone(),
            reason: e.to_string(),
        })?;
        let zone_name = zone.trim().to_owned();
        let bad_zone = || ScheduleError::TimeZone {
            zone: zone_name.chars().take(100).collect(),
        };
        // Only IANA names: no POSIX TZ strings, no paths.
        if zone_name.is_empty()
            || !zone_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
        {
            return Err(bad_zone());
        }
        let tz = TimeZone::get(&zone_name).map_err(|_| bad_zone())?;
        Ok(Self {
            expr,
            zone_name,
            cron,
            zone: tz,
        })
    }

    /// The expression, whitespace normalised.
    pub fn expression(&self) -> &str {
        &self.expr
    }

    /// The time zone's name as given.
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    /// The first firing instant strictly after `after` (`None` if the expression never
    /// fires again, e.g. `0 0 30 2 *`).
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let mut civil = to_civil_02(self.zone.to_datetime(after))?;
        for _ in 0..MAX_CANDIDATES {
            let next = self.cron.find_next_occurrence(&civil, false).ok()?;
            let instant = earliest_instant(&self.zone, from_civil_02(next)?)?;
            if instant > after {
                return Some(instant);
            }
            civil = next;
        }
        None
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{TZ_PREFIX}{} {}", self.zone_name, self.expr)
    }
}

impl FromStr for CronSchedule {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s.strip_prefix(TZ_PREFIX) {
            Some(rest) => {
                let (zone, expr) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                Self::new(expr, zone)
            }
            None => Self::new(s, "UTC"),
        }
    }
}

/// When a job runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// A cron expression in a time zone.
    Cron(Box<CronSchedule>),
    /// A fixed interval from the previous run (at least one second).
    Every(Duration),
}

impl Schedule {
    /// A cron schedule; see [`CronSchedule::new`].
    pub fn cron(expr: &str, zone: &str) -> Result<Self, ScheduleError> {
        CronSchedule::new(expr, zone).map(|c| Schedule::Cron(Box::new(c)))
    }

    /// A fixed interval.
    pub fn every(interval: Duration) -> Result<Self, ScheduleError> {
        if interval < Duration::from_secs(1) {
            return Err(ScheduleError::Interval);
        }
        Ok(Schedule::Every(interval))
    }

    /// The first due instant strictly after `after`.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        match self {
            Schedule::Cron(c) => c.next_after(after),
            Schedule::Every(d) => {
                let span = jiff::SignedDuration::try_from(*d).ok()?;
                after.checked_add(span).ok()
            }
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Cron(c) => c.fmt(f),
            Schedule::Every(d) if d.subsec_millis() == 0 => write!(f, "every {}s", d.as_secs()),
            Schedule::Every(d) => write!(f, "every {}ms", d.as_millis()),
        }
    }
}

fn to_civil_02(dt: DateTime) -> Option<jiff_02::civil::DateTime> {
    jiff_02::civil::DateTime::new(
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        0,
    )
    .ok()
}

fn from_civil_02(dt: jiff_02::civil::DateTime) -> Option<DateTime> {
    DateTime::new(
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        0,
    )
    .ok()
}

/// The first instant showing wall-clock time `dt` in `tz`; for a time inside a gap, the
/// instant the gap ends.
fn earliest_instant(tz: &TimeZone, dt: DateTime) -> Option<Timestamp> {
    match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt).ok(),
        AmbiguousOffset::Fold { before, after } => {
            let a = before.to_timestamp(dt).ok()?;
            let b = after.to_timestamp(dt).ok()?;
            Some(a.min(b))
        }
        AmbiguousOffset::Gap { before, after } => {
            // Read with the offsets on either side, `dt` gives one instant before and one
            // after the transition; the transition is the first one after the earlier.
            let a = before.to_timestamp(dt).ok()?;
            let b = after.to_timestamp(dt).ok()?;
            let earlier = a.min(b);
            tz.following(earlier).next().map(|t| t.timestamp())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn london(expr: &str) -> CronSchedule {
        CronSchedule::new(expr, "Europe/London").unwrap()
    }

    #[test]
    fn parse_and_print() {
        let s: CronSchedule = "17   3 * * *".parse().unwrap();
        assert_eq!(s.to_string(), "CRON_TZ=UTC 17 3 * * *");
        let t: CronSchedule = "CRON_TZ=Europe/London 0 9 * * MON-FRI".parse().unwrap();
        assert_eq!(t.zone_name(), "Europe/London");
        assert_eq!(t.expression(), "0 9 * * MON-FRI");
        assert_eq!(t.to_string().parse::<CronSchedule>().unwrap(), t);
    }

    #[test]
    fn invalid_expressions_say_what_is_wrong() {
        for bad in [
            "",
            "* * *",
            "61 * * * *",
            "* * * * * *",
            "0 25 * * *",
            "a b c d e",
        ] {
            let e = CronSchedule::new(bad, "UTC").unwrap_err();
            assert!(matches!(e, ScheduleError::Expression { .. }), "{bad}: {e}");
            assert!(e.to_string().contains("cron expression"), "{e}");
        }
    }

    #[test]
    fn invalid_zones_are_named() {
        for bad in [
            "Europe/Lundon",
            "",
            "../etc/passwd",
            "Mars/Olympus",
            "EST5EDT,M3.2.0",
        ] {
            let e = CronSchedule::new("0 9 * * *", bad).unwrap_err();
            assert!(matches!(e, ScheduleError::TimeZone { .. }), "{bad}: {e}");
            assert!(e.to_string().contains("time zone"), "{e}");
        }
        let e = "CRON_TZ=Nowhere/City 0 9 * * *"
            .parse::<CronSchedule>()
            .unwrap_err();
        assert!(e.to_string().contains("\"Nowhere/City\""), "{e}");
    }

    #[test]
    fn utc_next_after() {
        let s: CronSchedule = "17 3 * * *".parse().unwrap();
        assert_eq!(
            s.next_after(ts("2026-11-30T02:00:00Z")),
            Some(ts("2026-11-30T03:17:00Z"))
        );
        // Strictly after.
        assert_eq!(
            s.next_after(ts("2026-11-30T03:17:00Z")),
            Some(ts("2026-12-01T03:17:00Z"))
        );
        let never = CronSchedule::new("0 0 30 2 *", "UTC").unwrap();
        assert_eq!(never.next_after(ts("2026-01-01T00:00:00Z")), None);
    }

    #[test]
    fn london_spring_forward() {
        // 2026-03-29: 01:00 GMT becomes 02:00 BST.
        let nine = london("0 9 * * *");
        assert_eq!(
            nine.next_after(ts("2026-03-28T10:00:00Z")),
            Some(ts("2026-03-29T08:00:00Z"))
        );
        assert_eq!(
            nine.next_after(ts("2026-03-27T10:00:00Z")),
            Some(ts("2026-03-28T09:00:00Z"))
        );
        // 01:30 does not exist that day: it fires when the gap ends, once.
        let half_one = london("30 1 * * *");
        let first = half_one.next_after(ts("2026-03-28T12:00:00Z")).unwrap();
        assert_eq!(first, ts("2026-03-29T01:00:00Z"));
        assert_eq!(half_one.next_after(first), Some(ts("2026-03-30T00:30:00Z")));
        // Every 20 minutes: the skipped hour's slots collapse into the gap's end.
        let every20 = london("*/20 * * * *");
        let mut t = ts("2026-03-29T00:30:00Z");
        let mut seen = Vec::new();
        for _ in 0..4 {
            t = every20.next_after(t).unwrap();
            seen.push(t.to_string());
        }
        assert_eq!(
            seen,
            [
                "2026-03-29T00:40:00Z",
                "2026-03-29T01:00:00Z",
                "2026-03-29T01:20:00Z",
                "2026-03-29T01:40:00Z"
            ]
        );
    }

    #[test]
    fn london_fall_back() {
        // 2026-10-25: 02:00 BST becomes 01:00 GMT; 01:00–01:59 happens twice.
        let half_one = london("30 1 * * *");
        let first = half_one.next_after(ts("2026-10-24T12:00:00Z")).unwrap();
        assert_eq!(
            first,
            ts("2026-10-25T00:30:00Z"),
            "01:30 BST, the first one"
        );
        assert_eq!(
            half_one.next_after(first),
            Some(ts("2026-10-26T01:30:00Z")),
            "not again at 01:30 GMT"
        );
        // Starting inside the second pass does not go back to the first.
        assert_eq!(
            half_one.next_after(ts("2026-10-25T01:10:00Z")),
            Some(ts("2026-10-26T01:30:00Z"))
        );
        let nine = london("0 9 * * *");
        assert_eq!(
            nine.next_after(ts("2026-10-25T08:00:00Z")),
            Some(ts("2026-10-25T09:00:00Z"))
        );
    }

    #[test]
    fn intervals() {
        let s = Schedule::every(Duration::from_secs(90)).unwrap();
        assert_eq!(
            s.next_after(ts("2026-01-01T00:00:00Z")),
            Some(ts("2026-01-01T00:01:30Z"))
        );
        assert_eq!(
            Schedule::every(Duration::from_millis(10)),
            Err(ScheduleError::Interval)
        );
        assert_eq!(s.to_string(), "every 90s");
        let odd = Schedule::every(Duration::from_millis(1500)).unwrap();
        assert_eq!(odd.to_string(), "every 1500ms");
    }

    fn field(min: u32, max: u32) -> impl Strategy<Value = String> {
        prop_oneof![
            Just("*".to_string()),
            (min..=max).prop_map(|n| n.to_string()),
            (min..=max, min..=max).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
            (1..=max).prop_map(|s| format!("*/{s}")),
            (min..=max, min..=max).prop_map(|(a, b)| format!("{a},{b}")),
        ]
    }

    proptest! {
        #[test]
        fn display_round_trips(
            m in field(0, 59), h in field(0, 23), dom in field(1, 28),
            mon in field(1, 12), dow in field(0, 6),
            zone in prop::sample::select(vec!["UTC", "Europe/London", "America/New_York", "Asia/Kolkata"]),
        ) {
            let expr = format!("{m}  {h} {dom} {mon}\t{dow}");
            let s = CronSchedule::new(&expr, zone);
            prop_assert!(s.is_ok(), "{expr}: {s:?}");
            let s = s.unwrap();
            let again: CronSchedule = s.to_string().parse().unwrap();
            prop_assert_eq!(&again, &s);
            prop_assert_eq!(again.to_string(), s.to_string());
            let t = ts("2026-06-01T00:00:00Z");
            prop_assert_eq!(again.next_after(t), s.next_after(t));
        }

        #[test]
        fn next_is_strictly_later(secs in 1_700_000_000i64..1_900_000_000) {
            let t = Timestamp::from_second(secs).unwrap();
            for s in [london("*/7 * * * *"), london("30 1 * * *"), london("0 2 * * SUN")] {
                let n = s.next_after(t).unwrap();
                prop_assert!(n > t);
            }
        }
    }
}
