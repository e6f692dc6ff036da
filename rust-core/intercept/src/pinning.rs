//! Apps that refuse our certificate (certificate pinning, or a CA they do not trust)
//! must not break twice: after one refused handshake their (app, host) passes through
//! untouched for [`HOLD`]. The table is kept in a file beside the CA, so a restarted
//! monitor (a new `watch`, the app's next session) remembers it.

use std::collections::HashMap;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// How long a refusing (app, host) passes through. Long enough that an app is not
/// broken again within a day of use, across restarts of the monitor.
pub const HOLD: Duration = Duration::from_secs(24 * 3600);

/// Entries kept at most: a client making up host names cannot grow the table forever.
const MAX_ENTRIES: usize = 10_000;

/// The file in the CA's directory that keeps the table.
pub const FILE_NAME: &str = "pins.json";

/// Which (app, host) pairs pass through, and until when.
#[derive(Debug, Default)]
pub struct Pins {
    until: HashMap<(Option<String>, String), SystemTime>,
    /// Where the table is kept; `None`: in memory only.
    file: Option<PathBuf>,
}

/// One entry as the file holds it.
#[derive(Serialize, Deserialize)]
struct Entry {
    app: Option<String>,
    host: String,
    /// Seconds since the Unix epoch.
    until: u64,
}

impl Pins {
    /// The table kept in `dir`, with what an earlier run saved there that is still
    /// running at `now`. A file that cannot be read or parsed is set aside (logged) and
    /// the table starts empty: a lost pin costs one broken connection, never a failed start.
    pub fn kept_in(dir: &Path, now: SystemTime) -> Self {
        let file = dir.join(FILE_NAME);
        let mut pins = Self {
            until: HashMap::new(),
            file: Some(file.clone()),
        };
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return pins,
            Err(e) => {
                log::warn!(
                    "TLS interception: cannot read {}: {e}; no app is remembered as pinning",
                    file.display()
                );
                return pins;
            }
        };
        match serde_json::from_str::<Vec<Entry>>(&text) {
            Ok(entries) => {
                for e in entries.into_iter().take(MAX_ENTRIES) {
                    let until = SystemTime::UNIX_EPOCH + Duration::from_secs(e.until);
                    // An entry dated past the hold (a clock set back) is kept no longer than it.
                    if now < until && until <= now + HOLD {
                        pins.until.insert((e.app, e.host), until);
                    }
                }
            }
            Err(e) => {
                log::warn!(
                    "TLS interception: {} is not a pin table ({e}); starting afresh",
                    file.display()
                );
                let _ = std::fs::rename(&file, file.with_extension("json.bad"));
            }
        }
        pins
    }

    /// Whether `app`'s flows to `host` pass through at `now`.
    pub fn passes(&mut self, app: Option<&str>, host: &str, now: SystemTime) -> bool {
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
    pub fn refused(&mut self, app: Option<&str>, host: &str, now: SystemTime) {
        if self.until.len() >= MAX_ENTRIES {
            self.until.retain(|_, until| now < *until);
            if self.until.len() >= MAX_ENTRIES {
                self.until.clear();
            }
        }
        self.until
            .insert((app.map(str::to_owned), host.to_owned()), now + HOLD);
        if let Err(e) = self.save() {
            log::warn!("TLS interception: cannot keep the pin table: {e}");
        }
    }

    /// Writes the table whole to a new owner-only file and renames it over the old one,
    /// so a crash leaves either table, never half of one.
    fn save(&self) -> std::io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let entries: Vec<Entry> = self
            .until
            .iter()
            .map(|((app, host), until)| Entry {
                app: app.clone(),
                host: host.clone(),
                until: until
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            })
            .collect();
        let json = serde_json::to_vec(&entries).map_err(std::io::Error::other)?;
        let fresh = file.with_extension("json.new");
        let _ = std::fs::remove_file(&fresh);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&fresh)?;
        out.write_all(&json)?;
        out.sync_all()?;
        std::fs::rename(&fresh, file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("phonehome-pins-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn an_app_that_refused_a_host_passes_through_to_it_for_the_hold() {
        let mut pins = Pins::default();
        let t0 = SystemTime::now();
        assert!(!pins.passes(Some("bank"), "api.bank.example", t0));
        pins.refused(Some("bank"), "api.bank.example", t0);
        assert!(pins.passes(Some("bank"), "api.bank.example", t0 + HOLD / 2));
        assert!(!pins.passes(Some("bank"), "api.bank.example", t0 + HOLD));
    }

    #[test]
    fn a_refusal_is_kept_apart_per_app_and_per_host() {
        let mut pins = Pins::default();
        let t0 = SystemTime::now();
        pins.refused(Some("bank"), "api.bank.example", t0);
        assert!(!pins.passes(Some("browser"), "api.bank.example", t0));
        assert!(!pins.passes(Some("bank"), "cdn.bank.example", t0));
    }

    #[test]
    fn the_table_stays_bounded() {
        let mut pins = Pins::default();
        let t0 = SystemTime::now();
        for i in 0..MAX_ENTRIES * 2 {
            pins.refused(None, &format!("h{i}.example"), t0);
        }
        assert!(pins.until.len() <= MAX_ENTRIES);
    }

    #[test]
    fn a_restarted_monitor_remembers_the_refusal_until_the_hold_ends() {
        let d = dir("restart");
        let t0 = SystemTime::now();
        Pins::kept_in(&d, t0).refused(Some("bank"), "api.bank.example", t0);
        let mode = std::fs::metadata(d.join(FILE_NAME)).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );

        let mut again = Pins::kept_in(&d, t0 + HOLD / 2);
        assert!(again.passes(Some("bank"), "api.bank.example", t0 + HOLD / 2));
        assert!(!again.passes(Some("browser"), "api.bank.example", t0 + HOLD / 2));
        let mut later = Pins::kept_in(&d, t0 + HOLD + Duration::from_secs(1));
        assert!(!later.passes(Some("bank"), "api.bank.example", t0 + HOLD));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_broken_table_is_set_aside_and_the_monitor_starts() {
        let d = dir("broken");
        std::fs::write(d.join(FILE_NAME), b"{not json").unwrap();
        let t0 = SystemTime::now();
        let mut pins = Pins::kept_in(&d, t0);
        assert!(!pins.passes(None, "api.example", t0));
        assert!(d.join("pins.json.bad").exists());
        pins.refused(None, "api.example", t0);
        assert!(Pins::kept_in(&d, t0).passes(None, "api.example", t0));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
