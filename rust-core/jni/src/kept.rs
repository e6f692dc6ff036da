//! Discovery's state between the app's sessions: `discovery.json` in the configuration's
//! `state_dir` (the app's private files), the file `phonehome watch --state` keeps. It
//! holds the candidate tokens themselves, so it is owner-only like the records.
//!
//! A session never fails over this state: one that cannot be read is set aside as
//! `discovery.json.bad` and discovery starts over; one that cannot be written is logged.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use phonehome_discover::State;

const FILE: &str = "discovery.json";
const TEMP: &str = "discovery.json.new";

/// Where the state of a session goes when it ends.
#[derive(Debug)]
pub struct Kept {
    dir: PathBuf,
}

impl Kept {
    /// Opens (creating, owner-only) `dir` and reads the state in it; `None` when the
    /// directory cannot be made, and the session then keeps nothing.
    pub fn open(dir: &Path) -> (Option<Self>, State) {
        if let Err(e) = crate::session::private_dir(dir) {
            log::warn!(
                "discovery keeps no state: cannot create {}: {e}",
                dir.display()
            );
            return (None, State::default());
        }
        let path = dir.join(FILE);
        let state = match State::read_file(&path) {
            Ok(state) => state.unwrap_or_default(),
            Err(why) => {
                log::warn!(
                    "{} cannot be read ({why}); discovery starts over, the old file is kept as {FILE}.bad",
                    path.display()
                );
                let _ = std::fs::rename(&path, dir.join(format!("{FILE}.bad")));
                State::default()
            }
        };
        (
            Some(Self {
                dir: dir.to_owned(),
            }),
            state,
        )
    }

    /// Writes `state` into a new file and renames it over the old one, so that a crash
    /// leaves either the old or the new state, never half of one.
    pub fn save(&self, state: &State) -> io::Result<()> {
        let json = serde_json::to_vec(state).map_err(io::Error::other)?;
        let temp = self.dir.join(TEMP);
        match std::fs::remove_file(&temp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&temp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&temp, self.dir.join(FILE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("phonehome-jni-kept-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn each_session_continues_the_state_the_last_one_saved_owner_only() {
        let dir = temp("keep");
        let (kept, state) = Kept::open(&dir);
        let kept = kept.unwrap();
        assert_eq!(state.session, 0);
        let d = phonehome_discover::Discovery::new(state);
        kept.save(d.state()).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(FILE)), 0o600);
        let (_, again) = Kept::open(&dir);
        assert_eq!(again.session, 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_broken_state_file_is_set_aside_and_discovery_starts_over() {
        let dir = temp("broken");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(FILE), "{not json").unwrap();
        let (kept, state) = Kept::open(&dir);
        assert!(kept.is_some());
        assert_eq!(state.session, 0);
        assert!(dir.join("discovery.json.bad").is_file());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_that_cannot_be_made_keeps_nothing_and_fails_nothing() {
        let dir = temp("blocked");
        fs::write(&dir, "a file where the directory should be").unwrap();
        let (kept, state) = Kept::open(&dir.join("state"));
        assert!(kept.is_none());
        assert_eq!(state.session, 0);
        fs::remove_file(&dir).unwrap();
    }
}
