//! Where discovery keeps what it learned between runs of `watch`: `discovery.json` in
//! the state directory (`--state DIR`; by default `$XDG_STATE_HOME/phonehome` or
//! `~/.local/state/phonehome`), owner-only like the records, since it holds the
//! candidate tokens themselves.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use phonehome_discover::State;
use phonehome_store::RecordDir;

const FILE: &str = "discovery.json";
const TEMP: &str = "discovery.json.new";

/// The state directory for `--state` / `--no-state`, or `None` for no state.
pub fn directory(state: Option<&Path>, no_state: bool) -> Option<PathBuf> {
    if no_state {
        return None;
    }
    if let Some(dir) = state {
        return Some(dir.to_owned());
    }
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(base) = absolute("XDG_STATE_HOME") {
        return Some(base.join("phonehome"));
    }
    absolute("HOME").map(|home| home.join(".local/state/phonehome"))
}

/// The opened state directory and what it held.
#[derive(Debug)]
pub struct Kept {
    dir: RecordDir,
}

impl Kept {
    /// Opens (creating, 0700) `dir` and reads the state in it. A state file that cannot
    /// be read is set aside as `discovery.json.bad` with a warning, and discovery
    /// starts over: a monitor must not fail over what it learned before.
    pub fn open(dir: &Path) -> io::Result<(Self, State)> {
        let dir = RecordDir::open(dir)?;
        let path = dir.path().join(FILE);
        let state = match State::read_file(&path) {
            Ok(Some(state)) => state,
            Ok(None) => State::default(),
            Err(why) => {
                eprintln!(
                    "phonehome: warning: {} cannot be read ({why}); discovery starts over, the old file is kept as {FILE}.bad",
                    path.display()
                );
                dir.rename(FILE, &format!("{FILE}.bad"))?;
                State::default()
            }
        };
        Ok((Self { dir }, state))
    }

    /// Writes `state` into a new file and renames it over the old one, so that a
    /// crash leaves either the old or the new state, never half of one.
    pub fn save(&self, state: &State) -> io::Result<()> {
        let json = serde_json::to_vec(state).map_err(io::Error::other)?;
        self.dir.remove_stale(TEMP)?;
        let mut file = self.dir.create_new(TEMP)?;
        file.write_all(&json)?;
        file.sync_all()?;
        self.dir.rename(TEMP, FILE)
    }

    #[cfg(test)]
    pub fn path(&self) -> PathBuf {
        self.dir.path().join(FILE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("phonehome-state-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn the_state_is_kept_owner_only_and_read_back_in_the_next_run() {
        let dir = temp("keep");
        let (kept, state) = Kept::open(&dir).unwrap();
        assert_eq!(state.session, 0);
        let d = phonehome_discover::Discovery::new(state);
        kept.save(d.state()).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&kept.path()), 0o600);
        let (_, again) = Kept::open(&dir).unwrap();
        assert_eq!(again.session, 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_broken_state_file_is_set_aside_and_discovery_starts_over() {
        let dir = temp("broken");
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(dir.join(FILE), "{not json").unwrap();
        let (_, state) = Kept::open(&dir).unwrap();
        assert_eq!(state.session, 0);
        assert!(dir.join("discovery.json.bad").is_file());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn no_state_wins_and_the_default_follows_xdg() {
        assert_eq!(directory(Some(Path::new("/x")), true), None);
        assert_eq!(
            directory(Some(Path::new("/x")), false),
            Some(PathBuf::from("/x"))
        );
    }
}
