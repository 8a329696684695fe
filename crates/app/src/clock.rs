//! What time it is. Every workflow asks the application's clock, never the system directly,
//! so the demo can run years of history through the same services a user calls, each step
//! at its own date, and tests can pin a day.

use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that says what it was last set to: for seeding history and for tests.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    /// Moves the clock to `at` (forwards or backwards).
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = at;
    }

    /// Moves the clock on by `by`.
    pub fn advance(&self, by: Duration) {
        let mut at = self.0.lock().expect("clock lock");
        *at += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_manual_clock_says_what_it_was_set_to() {
        let at = Utc.with_ymd_and_hms(2015, 4, 16, 9, 0, 0).unwrap();
        let clock = ManualClock::new(at);
        assert_eq!(clock.now(), at);
        clock.advance(Duration::days(2));
        assert_eq!(clock.now(), at + Duration::days(2));
        clock.set(at);
        assert_eq!(clock.now(), at);
    }
}
