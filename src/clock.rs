//! The service's idea of "now". Production reads the system clock; tests hold a clock they
//! move forward, so that a referencing window closing or a token expiring needs no sleep.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// How far this clock runs ahead of the system clock (only tests move it).
    ahead: Arc<Mutex<Duration>>,
}

impl Clock {
    pub fn system() -> Self {
        Clock::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset()
    }

    /// Moves this clock (and every copy of it) forward.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut ahead) = self.ahead.lock() {
            *ahead += by;
        }
    }

    fn offset(&self) -> Duration {
        self.ahead.lock().map(|ahead| *ahead).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_and_its_copies_run_ahead_by_the_same_amount() {
        let clock = Clock::system();
        let copy = clock.clone();
        clock.advance(Duration::hours(2));
        let ahead = copy.now() - Utc::now();
        assert!((ahead - Duration::hours(2)).num_seconds().abs() < 5, "{ahead}");
    }
}
