//! Apps that refuse our certificate (certificate pinning, or a CA they do not trust)
//! must not break twice: after one refused handshake their (app, host) passes through
//! untouched for [`HOLD`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a refusing (app, host) passes through. Long enough that an app is not
/// broken again within one session of use; the table lives as long as the monitor.
pub const HOLD: Duration = Duration::from_secs(24 * 3600);

/// Entries kept at most: a client making up host names cannot grow the table forever.
const MAX_ENTRIES: usize = 10_000;

/// Which (app, host) pairs pass through, and until when.
#[derive(Debug, Default)]
pub struct Pins {
    until: HashMap<(Option<String>, String), Instant>,
}

impl Pins {
    /// Whether `app`'s flows to `host` pass through at `now`.
    pub fn passes(&mut self, app: Option<&str>, host: &str, now: Instant) -> bool {
        let key = (app.map(str::to_owned), host.to_owned());
        match self.until.get(&key) {
            Some(&until) if now < until => true,
            Some(_) => {
                self.until.remove(&key);
                false
            }
            None => false,
        }
    }

    /// `app` refused our certificate for `host` at `now`.
    pub fn refused(&mut self, app: Option<&str>, host: &str, now: Instant) {
        if self.until.len() >= MAX_ENTRIES {
            self.until.retain(|_, until| now < *until);
            if self.until.len() >= MAX_ENTRIES {
                self.until.clear();
            }
        }
        self.until
            .insert((app.map(str::to_owned), host.to_owned()), now + HOLD);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_that_refused_a_host_passes_through_to_it_for_the_hold() {
        let mut pins = Pins::default();
        let t0 = Instant::now();
        assert!(!pins.passes(Some("bank"), "api.bank.example", t0));
        pins.refused(Some("bank"), "api.bank.example", t0);
        assert!(pins.passes(Some("bank"), "api.bank.example", t0 + HOLD / 2));
        assert!(!pins.passes(Some("bank"), "api.bank.example", t0 + HOLD));
    }

    #[test]
    fn a_refusal_is_kept_apart_per_app_and_per_host() {
        let mut pins = Pins::default();
        let t0 = Instant::now();
        pins.refused(Some("bank"), "api.bank.example", t0);
        assert!(!pins.passes(Some("browser"), "api.bank.example", t0));
        assert!(!pins.passes(Some("bank"), "cdn.bank.example", t0));
    }

    #[test]
    fn the_table_stays_bounded() {
        let mut pins = Pins::default();
        let t0 = Instant::now();
        for i in 0..MAX_ENTRIES * 2 {
            pins.refused(None, &format!("h{i}.example"), t0);
        }
        assert!(pins.until.len() <= MAX_ENTRIES);
    }
}
