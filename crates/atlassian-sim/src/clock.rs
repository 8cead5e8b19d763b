//! The simulator's clock. Everything time-related (timestamps in the model, token
//! expiry, relative JQL dates) reads it, so tests can freeze and advance time.

use std::sync::{Arc, Mutex, PoisonError};

use jiff::{SignedDuration, Timestamp};

/// A shareable clock: either the system clock shifted by an offset, or a frozen instant.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Mutex<ClockState>>);

#[derive(Debug)]
enum ClockState {
    System { offset: SignedDuration },
    Fixed(Timestamp),
}

impl Clock {
    /// The real time.
    pub fn system() -> Self {
        Clock(Arc::new(Mutex::new(ClockState::System {
            offset: SignedDuration::ZERO,
        })))
    }

    /// A clock frozen at `at` until [`Clock::set`] or [`Clock::advance`] is called.
    pub fn fixed(at: Timestamp) -> Self {
        Clock(Arc::new(Mutex::new(ClockState::Fixed(at))))
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        let state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match &*state {
            ClockState::System { offset } => Timestamp::now()
                .checked_add(*offset)
                .unwrap_or_else(|_| Timestamp::now()),
            ClockState::Fixed(t) => *t,
        }
    }

    /// Freezes the clock at `at`.
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = ClockState::Fixed(at);
    }

    /// Moves the clock forward (or backward for negative durations).
    pub fn advance(&self, by: SignedDuration) {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut *state {
            ClockState::System { offset } => *offset = offset.saturating_add(by),
            ClockState::Fixed(t) => *t = t.checked_add(by).unwrap_or(*t),
        }
    }
}

/// Formats a timestamp the way Jira does: `2024-05-01T09:30:00.000+0000`.
pub fn jira_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}
