//! The directory a run writes its records into, opened so that nobody else can redirect
//! them: the directory itself must not be a symbolic link, must belong to the user the
//! monitor runs as and must not be writable by anyone else, and record files are opened
//! relative to it without following links and only when they are not linked elsewhere.

use std::ffi::CString;
use std::fs::{self, File, Permissions};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of a directory this creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every record file.
pub const FILE_MODE: u32 = 0o600;

/// An opened records directory; files are created relative to it, not to its path.
#[derive(Debug)]
pub struct RecordDir {
    path: PathBuf,
    dir: File,
}

fn refuse(path: &Path, why: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("{}: {why}", path.display()),
    )
}

fn named(path: &Path, what: &str, err: io::Error) -> io::Error {
    io::Error::new(
        err.kind(),
        format!("cannot {what} {}: {err}", path.display()),
    )
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

impl RecordDir {
    /// Opens `dir` for records, creating it (mode 0700; missing parents as usual) if it
    /// does not exist. Refused: a `dir` that is a symbolic link or not a directory, that
    /// belongs to another user, or that group or others may write to.
    pub fn open(dir: &Path) -> io::Result<Self> {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| named(parent, "create", e))?;
        }
        match fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(named(dir, "create", e)),
        }
        let opened = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(dir);
        let handle = match opened {
            Ok(handle) => handle,
            // With O_DIRECTORY a link may fail as ENOTDIR rather than ELOOP.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
                let link = fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink());
                return Err(if link {
                    refuse(
                        dir,
                        "is a symbolic link; refusing to write records through it (give the real directory)",
                    )
                } else {
                    refuse(dir, "exists and is not a directory")
                });
            }
            Err(e) => return Err(named(dir, "open", e)),
        };
        let meta = handle.metadata().map_err(|e| named(dir, "stat", e))?;
        let me = euid();
        if meta.uid() != me {
            return Err(refuse(
                dir,
                format_args!(
                    "owned by uid {}, not by the user running phonehome (uid {me}); refusing to write records there",
                    meta.uid()
                ),
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(refuse(
                dir,
                format_args!(
                    "writable by group or others (mode {:04o}); refusing to write records there",
                    meta.mode() & 0o7777
                ),
            ));
        }
        Ok(Self {
            path: dir.to_owned(),
            dir: handle,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The same directory, through a second handle.
    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Self {
            path: self.path.clone(),
            dir: self.dir.try_clone()?,
        })
    }

    /// Renames the record file `from` to `to` within the directory, replacing a `to`
    /// that is there (a link at `to` is replaced, never followed).
    pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let path = self.path.join(from);
        let c = |name: &str| {
            CString::new(name).map_err(|_| refuse(&path, "a record name holds a NUL byte"))
        };
        let (c_from, c_to) = (c(from)?, c(to)?);
        let fd = self.dir.as_raw_fd();
        // SAFETY: the directory fd is open for self's lifetime and both names are valid
        // C strings.
        if unsafe { libc::renameat(fd, c_from.as_ptr(), fd, c_to.as_ptr()) } != 0 {
            return Err(named(&path, "rename", io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Creates the record file `name`, or empties it if a plain earlier one is there,
    /// with mode 0600. A symbolic link, a file with other hard links, anything but a
    /// regular file or one owned by another user there is refused, and left as it is.
    pub fn create(&self, name: &str) -> io::Result<File> {
        let path = self.path.join(name);
        let file = self.open_at(name, &path, 0)?;
        let meta = file.metadata().map_err(|e| named(&path, "stat", e))?;
        if !meta.file_type().is_file() {
            return Err(refuse(
                &path,
                "is not a regular file; refusing to write a record there",
            ));
        }
        if meta.uid() != euid() {
            return Err(refuse(
                &path,
                format_args!("owned by uid {}; refusing to overwrite it", meta.uid()),
            ));
        }
        if meta.nlink() != 1 {
            return Err(refuse(
                &path,
                format_args!(
                    "has {} hard links; refusing to overwrite a file linked elsewhere",
                    meta.nlink()
                ),
            ));
        }
        file.set_len(0).map_err(|e| named(&path, "truncate", e))?;
        file.set_permissions(Permissions::from_mode(FILE_MODE))
            .map_err(|e| named(&path, "chmod", e))?;
        Ok(file)
    }

    /// Creates `name`, which must not exist (mode 0600).
    pub fn create_new(&self, name: &str) -> io::Result<File> {
        let path = self.path.join(name);
        self.open_at(name, &path, libc::O_EXCL)
    }

    /// Removes a stale `name` (nothing if it does not exist); a symbolic link there is
    /// refused, not removed, so that the user sees what was planted.
    pub fn remove_stale(&self, name: &str) -> io::Result<()> {
        let path = self.path.join(name);
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(named(&path, "stat", e)),
            Ok(meta) if meta.file_type().is_symlink() => Err(refuse(
                &path,
                "is a symbolic link; refusing to write a record through it",
            )),
            Ok(meta) if !meta.file_type().is_file() => Err(refuse(
                &path,
                "is not a regular file; refusing to write a record there",
            )),
            Ok(_) => fs::remove_file(&path).map_err(|e| named(&path, "remove", e)),
        }
    }

    /// Makes an existing `name` owner-only (0600) if it is a plain file; a symbolic link
    /// is refused.
    pub fn restrict(&self, name: &str) -> io::Result<()> {
        let path = self.path.join(name);
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(named(&path, "stat", e)),
            Ok(meta) if !meta.file_type().is_file() => Err(refuse(
                &path,
                "is not a regular file; refusing to write a record there",
            )),
            Ok(meta) if meta.mode() & 0o777 == FILE_MODE => Ok(()),
            Ok(_) => fs::set_permissions(&path, Permissions::from_mode(FILE_MODE))
                .map_err(|e| named(&path, "chmod", e)),
        }
    }

    fn open_at(&self, name: &str, path: &Path, extra: libc::c_int) -> io::Result<File> {
        let c_name = CString::new(Path::new(name).as_os_str().as_bytes())
            .map_err(|_| refuse(path, "a record name holds a NUL byte"))?;
        let flags = libc::O_WRONLY
            | libc::O_CREAT
            | libc::O_NOFOLLOW
            | libc::O_NONBLOCK
            | libc::O_NOCTTY
            | libc::O_CLOEXEC
            | extra;
        // SAFETY: the directory fd is open for self's lifetime and the name is a valid C
        // string; the returned fd, when valid, is owned by nobody else.
        let fd = unsafe {
            libc::openat(
                self.dir.as_raw_fd(),
                c_name.as_ptr(),
                flags,
                FILE_MODE as libc::c_uint,
            )
        };
        if fd < 0 {
            let err = io::Error::last_os_error();
            return Err(if err.raw_os_error() == Some(libc::ELOOP) {
                refuse(
                    path,
                    "is a symbolic link; refusing to write a record through it",
                )
            } else {
                named(path, "create", err)
            });
        }
        // SAFETY: fd was just returned by openat and is not owned elsewhere.
        Ok(unsafe { File::from_raw_fd(fd) })
    }
}
