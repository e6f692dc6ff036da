//! TLS secrets of the client leg as SSLKEYLOGFILE lines (the NSS key log format that
//! Wireshark reads), handed to the relay's observer so the capture can carry them, and
//! appended to a key log file when the user asked for one (`watch --keylog FILE`).

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use phonehome_relay::TlsTap;

/// Why the key log file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyLogError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{0}: the key log already exists and others may read it (chmod 600 it, or name a new file)"
    )]
    Exposed(PathBuf),
    #[error("{0}: the key log must be a regular file")]
    NotAFile(PathBuf),
}

/// An owner-only file the session keys of every intercepted flow are appended to, one
/// line each, as browsers write `SSLKEYLOGFILE`. Whoever reads it can decrypt what it
/// covers, so it is created mode 0600 and an existing one others may read is refused.
#[derive(Debug)]
pub struct KeyLogFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl KeyLogFile {
    pub fn open(path: &Path) -> Result<Self, KeyLogError> {
        let at = |source| KeyLogError::Io {
            path: path.to_owned(),
            source,
        };
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(at)?;
        let meta = file.metadata().map_err(at)?;
        if !meta.is_file() {
            return Err(KeyLogError::NotAFile(path.to_owned()));
        }
        if meta.mode() & 0o077 != 0 {
            return Err(KeyLogError::Exposed(path.to_owned()));
        }
        Ok(Self {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    /// Appends one line (one write, so lines of concurrent handshakes never mix).
    fn append(&self, line: &str) {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()) {
            log::warn!("cannot write the key log {}: {e}", self.path.display());
        }
    }
}

/// One key log line: `LABEL <client_random hex> <secret hex>\n`.
pub fn line(label: &str, client_random: &[u8], secret: &[u8]) -> String {
    let mut out = String::with_capacity(label.len() + 2 * (client_random.len() + secret.len()) + 3);
    out.push_str(label);
    out.push(' ');
    for b in client_random {
        let _ = write!(out, "{b:02x}");
    }
    out.push(' ');
    for b in secret {
        let _ = write!(out, "{b:02x}");
    }
    out.push('\n');
    out
}

/// rustls' key log for one intercepted flow's session with the client: to the tap, and
/// to the key log file if there is one.
#[derive(Debug)]
pub(crate) struct TapKeyLog(pub(crate) TlsTap, pub(crate) Option<Arc<KeyLogFile>>);

impl rustls::KeyLog for TapKeyLog {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = line(label, client_random, secret);
        if let Some(file) = &self.1 {
            file.append(&line);
        }
        self.0.secret(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("phonehome-keylog-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        path
    }

    #[test]
    fn a_new_key_log_is_owner_only_and_lines_are_appended() {
        let path = scratch("new");
        let log = KeyLogFile::open(&path).unwrap();
        log.append("CLIENT_RANDOM 00 11\n");
        drop(log);
        let log = KeyLogFile::open(&path).unwrap();
        log.append("CLIENT_RANDOM 22 33\n");
        let mode = std::fs::metadata(&path).unwrap().mode() & 0o777;
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(mode, 0o600);
        assert_eq!(text, "CLIENT_RANDOM 00 11\nCLIENT_RANDOM 22 33\n");
    }

    #[test]
    fn an_existing_key_log_others_may_read_is_refused() {
        let path = scratch("exposed");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let opened = KeyLogFile::open(&path);
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(opened, Err(KeyLogError::Exposed(_))), "{opened:?}");
    }

    #[test]
    fn a_key_log_that_is_a_link_is_refused() {
        let target = scratch("target");
        let link = scratch("link");
        std::fs::write(&target, "").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let opened = KeyLogFile::open(&link);
        std::fs::remove_file(&link).unwrap();
        std::fs::remove_file(&target).unwrap();
        assert!(matches!(opened, Err(KeyLogError::Io { .. })), "{opened:?}");
    }

    #[test]
    fn a_line_is_label_random_and_secret_in_lower_hex() {
        assert_eq!(
            line("CLIENT_TRAFFIC_SECRET_0", &[0x00, 0xab], &[0xff, 0x10]),
            "CLIENT_TRAFFIC_SECRET_0 00ab ff10\n"
        );
    }
}
