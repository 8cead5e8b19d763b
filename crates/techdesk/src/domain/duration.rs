//! Durations as technicians type them (`1h 30m`, `90m`, `1.5h`, `2d`) and the admin's
//! time-logging rules (rounding, required comment, longest worklog).

use serde::{Deserialize, Serialize};

/// Seconds in a Jira working day (`1d`), as Jira counts by default.
pub const DAY_SECONDS: u64 = 8 * 3600;
/// Seconds in a Jira working week (`1w`).
pub const WEEK_SECONDS: u64 = 5 * DAY_SECONDS;

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing was entered.
    #[error("enter a duration such as 1h 30m")]
    Empty,
    /// A part that is not `<number><unit>`.
    #[error("\"{0}\" is not a duration; use w, d, h and m, e.g. 1h 30m")]
    Invalid(String),
    /// Zero time.
    #[error("the duration must be more than zero")]
    Zero,
    /// Absurdly large.
    #[error("the duration is too long")]
    TooLong,
}

/// Parses `1h 30m`, `1h30m`, `90m`, `1.5h`, `2d`, `1w 2d`, or a bare number of minutes.
/// Units: `w` (5 days), `d` (8 hours), `h`, `m`. Returns whole seconds.
pub fn parse_duration(input: &str) -> Result<u64, DurationError> {
    let text = input.trim().to_ascii_lowercase();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text.len() > 64 {
        return Err(DurationError::TooLong);
    }
    if let Ok(minutes) = text.parse::<u64>() {
        return finish(minutes.checked_mul(60).ok_or(DurationError::TooLong)?);
    }
    let mut total: f64 = 0.0;
    let mut number = String::new();
    let mut seen_unit = false;
    for c in text.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            ' ' => {
                if !number.is_empty() {
                    return Err(DurationError::Invalid(text.clone()));
                }
            }
            'w' | 'd' | 'h' | 'm' => {
                let value: f64 = number
                    .parse()
                    .map_err(|_| DurationError::Invalid(text.clone()))?;
                let unit = match c {
                    'w' => WEEK_SECONDS,
                    'd' => DAY_SECONDS,
                    'h' => 3600,
                    _ => 60,
                };
                total += value * unit as f64;
                number.clear();
                seen_unit = true;
            }
            _ => return Err(DurationError::Invalid(text.clone())),
        }
    }
    if !number.is_empty() || !seen_unit {
        return Err(DurationError::Invalid(text));
    }
    if !total.is_finite() || total > 1.0e9 {
        return Err(DurationError::TooLong);
    }
    finish(total.round() as u64)
}

fn finish(seconds: u64) -> Result<u64, DurationError> {
    if seconds == 0 {
        Err(DurationError::Zero)
    } else if seconds > 1_000_000_000 {
        Err(DurationError::TooLong)
    } else {
        Ok(seconds)
    }
}

/// `1h 30m`, `45m`, `2h`, `30s` for less than a minute.
pub fn format_duration(seconds: u64) -> String {
    if seconds < 60 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}

/// How logged time is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Kept as entered (whole minutes).
    #[default]
    None,
    /// Up to the next step.
    Up,
    /// To the nearest step (halves up).
    Nearest,
}

impl RoundingMode {
    /// Parses the settings form's value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Self::None),
            "up" => Some(Self::Up),
            "nearest" => Some(Self::Nearest),
            _ => None,
        }
    }

    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Up => "up",
            Self::Nearest => "nearest",
        }
    }
}

/// The admin's time-logging rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimeRules {
    /// Rounding mode.
    pub rounding: RoundingMode,
    /// Rounding step in minutes (1–240).
    pub step_minutes: u32,
    /// A worklog needs a comment.
    pub require_comment: bool,
    /// Longest single worklog, in minutes (1–1440).
    pub max_minutes: u32,
}

impl Default for TimeRules {
    fn default() -> Self {
        Self {
            rounding: RoundingMode::None,
            step_minutes: 15,
            require_comment: false,
            max_minutes: 12 * 60,
        }
    }
}

/// Applies the rounding rule; the result is at least one step (or one minute) and a whole
/// number of minutes.
pub fn round_seconds(seconds: u64, rules: &TimeRules) -> u64 {
    let minute_rounded = seconds.div_ceil(60).max(1) * 60;
    let step = u64::from(rules.step_minutes.max(1)) * 60;
    match rules.rounding {
        RoundingMode::None => minute_rounded,
        RoundingMode::Up => seconds.div_ceil(step).max(1) * step,
        RoundingMode::Nearest => ((seconds + step / 2) / step).max(1) * step,
    }
}

/// Problems of a worklog against the rules, as (field, reason).
pub fn check_worklog(
    seconds: u64,
    comment: &str,
    rules: &TimeRules,
) -> Result<u64, Vec<(&'static str, String)>> {
    let mut problems = Vec::new();
    let rounded = round_seconds(seconds, rules);
    let max = u64::from(rules.max_minutes) * 60;
    if rounded > max {
        problems.push((
            "duration",
            format!(
                "a worklog may be at most {}; split longer work",
                format_duration(max)
            ),
        ));
    }
    if rules.require_comment && comment.trim().is_empty() {
        problems.push(("comment", "describe the work done".to_owned()));
    }
    if comment.chars().count() > 4000 {
        problems.push(("comment", "at most 4000 characters".to_owned()));
    }
    if problems.is_empty() {
        Ok(rounded)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_forms() {
        assert_eq!(parse_duration("1h 30m"), Ok(5400));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration(" 90m "), Ok(5400));
        assert_eq!(parse_duration("1.5h"), Ok(5400));
        assert_eq!(parse_duration("45"), Ok(2700));
        assert_eq!(parse_duration("2d"), Ok(2 * DAY_SECONDS));
        assert_eq!(parse_duration("1w 1d"), Ok(WEEK_SECONDS + DAY_SECONDS));
        assert_eq!(parse_duration("1H"), Ok(3600));
    }

    #[test]
    fn refuses_nonsense() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert!(matches!(
            parse_duration("abc"),
            Err(DurationError::Invalid(_))
        ));
        assert!(matches!(
            parse_duration("1 h"),
            Err(DurationError::Invalid(_))
        ));
        assert!(matches!(
            parse_duration("h"),
            Err(DurationError::Invalid(_))
        ));
        assert!(matches!(
            parse_duration("1h 5"),
            Err(DurationError::Invalid(_))
        ));
        assert!(matches!(
            parse_duration("1..2h"),
            Err(DurationError::Invalid(_))
        ));
        assert_eq!(parse_duration("0m"), Err(DurationError::Zero));
        assert_eq!(parse_duration("0"), Err(DurationError::Zero));
        assert_eq!(parse_duration("99999999999w"), Err(DurationError::TooLong));
        assert_eq!(
            parse_duration("18446744073709551615"),
            Err(DurationError::TooLong)
        );
        assert_eq!(
            parse_duration(&"1".repeat(100)),
            Err(DurationError::TooLong)
        );
    }

    #[test]
    fn formats() {
        assert_eq!(format_duration(5400), "1h 30m");
        assert_eq!(format_duration(3600), "1h");
        assert_eq!(format_duration(2700), "45m");
        assert_eq!(format_duration(12), "12s");
    }

    #[test]
    fn rounding_rules() {
        let mut rules = TimeRules::default();
        assert_eq!(round_seconds(61, &rules), 120);
        assert_eq!(round_seconds(5, &rules), 60);
        rules.rounding = RoundingMode::Up;
        rules.step_minutes = 15;
        assert_eq!(round_seconds(60, &rules), 900);
        assert_eq!(round_seconds(900, &rules), 900);
        assert_eq!(round_seconds(901, &rules), 1800);
        rules.rounding = RoundingMode::Nearest;
        assert_eq!(round_seconds(7 * 60, &rules), 900, "never rounds to zero");
        assert_eq!(round_seconds(23 * 60, &rules), 1800);
        assert_eq!(round_seconds(22 * 60, &rules), 900);
        assert_eq!(round_seconds(20 * 60, &rules), 900);
    }

    #[test]
    fn worklog_rules() {
        let rules = TimeRules {
            require_comment: true,
            max_minutes: 60,
            ..TimeRules::default()
        };
        assert_eq!(check_worklog(1800, "fixed", &rules), Ok(1800));
        let errs = check_worklog(7200, " ", &rules).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, vec!["duration", "comment"]);
    }
}
