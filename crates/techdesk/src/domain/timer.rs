//! The start/stop timer: one running timer per user and ticket, kept in the store so it
//! survives reloads and follows the user to other devices.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A running timer as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    /// Issue key it runs for.
    pub issue_key: String,
    /// When it was started.
    pub started: Timestamp,
}

/// What stopping a timer gives: when the work started and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Start of the work.
    pub started: Timestamp,
    /// Whole seconds elapsed (at least 1).
    pub seconds: u64,
}

/// The store key of a user's timer on a ticket (`timer:<account>:<key>`), or `None` when
/// either part holds characters the store does not accept in keys.
pub fn timer_key(account_id: &str, issue_key: &str) -> Option<String> {
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 200
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.'))
    };
    (ok(account_id) && ok(issue_key)).then(|| format!("timer:{account_id}:{issue_key}"))
}

impl Timer {
    /// A timer started now.
    pub fn start(issue_key: &str, now: Timestamp) -> Self {
        Self {
            issue_key: issue_key.to_owned(),
            started: now,
        }
    }

    /// Seconds elapsed at `now` (0 if the clock went backwards).
    pub fn elapsed(&self, now: Timestamp) -> u64 {
        let secs = now.as_second() - self.started.as_second();
        u64::try_from(secs).unwrap_or(0)
    }

    /// Stops at `now`.
    pub fn stop(&self, now: Timestamp) -> Stopped {
        Stopped {
            started: self.started,
            seconds: self.elapsed(now).max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_and_stop() {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let timer = Timer::start("FS-1", t0);
        let later = Timestamp::from_second(1_700_000_000 + 5400).unwrap();
        assert_eq!(timer.elapsed(later), 5400);
        assert_eq!(timer.stop(later).seconds, 5400);
        assert_eq!(timer.stop(later).started, t0);
        let earlier = Timestamp::from_second(1_600_000_000).unwrap();
        assert_eq!(timer.elapsed(earlier), 0);
        assert_eq!(timer.stop(earlier).seconds, 1);
    }

    #[test]
    fn keys_only_from_safe_parts() {
        assert_eq!(
            timer_key("557058:f581-31cb", "FS-12").as_deref(),
            Some("timer:557058:f581-31cb:FS-12")
        );
        assert_eq!(timer_key("a b", "FS-1"), None);
        assert_eq!(timer_key("acc", "FS/1"), None);
        assert_eq!(timer_key("", "FS-1"), None);
    }
}
