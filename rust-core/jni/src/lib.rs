//! The JNI bridge of the Android app (`org.phonehome.core.NativeCore`).
//!
//! Commands go in (start, stop, stats, the capture's export, identifier checks); events
//! come out on the core's own thread through the app's `CoreHost`: flow records,
//! findings and discovered identifiers in batches (the app keeps them in its own SQLite store), then the session's end. A running session is an opaque handle (an id
//! in a table here), never a pointer. Every export runs inside `boundary`: an error or
//! a panic becomes one `CoreException` with a typed [`ErrorCode`] and a message for
//! people, and nothing else crosses. The codes and shared constants are in [`contract`].

pub mod config;
pub mod contract;
mod error;
mod host;
pub mod intercept;
mod kept;
pub mod outbox;
pub mod owner;
pub mod session;
pub mod validate;

// Links the unwinder that stands in for the NDK's libunwind on 64-bit Android (see
// Cargo.toml); nothing names it, so without this it would not be linked at all.
#[cfg(all(target_os = "android", target_pointer_width = "64"))]
use unwinding as _;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use jni::objects::{JClass, JObject, JString, JValue};
use jni::sys::{jint, jlong, jstring};
use jni::JNIEnv;
use phonehome_tun::Tun;

use crate::config::CoreConfig;
pub use crate::contract::{ErrorCode, StopReason};
pub use crate::error::CoreError;
pub use crate::host::Host;
pub use crate::outbox::{Batch, Limits};
use crate::session::Session;

const EXCEPTION: &str = "org/phonehome/core/CoreException";
const ERROR_CODE: &str = "org/phonehome/core/ErrorCode";

/// Runs one export: its error or panic is thrown as `CoreException` and `fallback` is
/// returned to the JVM (which ignores it, the exception being pending).
fn boundary<'local, T>(
    env: &mut JNIEnv<'local>,
    fallback: T,
    body: impl FnOnce(&mut JNIEnv<'local>) -> Result<T, CoreError>,
) -> T {
    let (code, message) = match catch_unwind(AssertUnwindSafe(|| body(env))) {
        Ok(Ok(value)) => return value,
        Ok(Err(e)) => (e.code(), e.to_string()),
        Err(panic) => (
            ErrorCode::Panic,
            format!(
                "internal error (a bug in the core): {}",
                panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into())
            ),
        ),
    };
    // A Java exception already pending (a failed string conversion) is replaced, so the
    // app sees one exception type.
    if env.exception_check().unwrap_or(false) {
        let _ = env.exception_clear();
    }
    if let Err(e) = throw(env, code, &message) {
        log::error!(
            "cannot throw CoreException({}): {message}: {e}",
            code.name()
        );
        // Only if the app's classes do not match the contract: still never return the
        // fallback as if it were an answer.
        let _ = env.exception_clear();
        let _ = env.throw_new("java/lang/IllegalStateException", &message);
    }
    fallback
}

/// Throws `CoreException(code, message)`. Exports run on the app's threads, so the
/// app's classes are found by name here.
fn throw(env: &mut JNIEnv<'_>, code: ErrorCode, message: &str) -> jni::errors::Result<()> {
    env.with_local_frame(4, |env| {
        let code = env
            .get_static_field(ERROR_CODE, code.name(), "Lorg/phonehome/core/ErrorCode;")?
            .l()?;
        let message = env.new_string(message)?;
        let exception = env.new_object(
            EXCEPTION,
            "(Lorg/phonehome/core/ErrorCode;Ljava/lang/String;)V",
            &[JValue::Object(&code), JValue::Object(&message)],
        )?;
        env.throw(jni::objects::JThrowable::from(exception))
    })
}

fn sessions() -> MutexGuard<'static, HashMap<i64, Session>> {
    static SESSIONS: OnceLock<Mutex<HashMap<i64, Session>>> = OnceLock::new();
    // A panic while the lock was held cannot leave the table half-changed (each use is
    // one insert, remove or lookup), so a poisoned lock is still good.
    SESSIONS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

fn string(env: &mut JNIEnv<'_>, value: &JString<'_>, what: &str) -> Result<String, CoreError> {
    if value.is_null() {
        return Err(CoreError::Argument(format!("{what} must not be null")));
    }
    Ok(env.get_string(value)?.into())
}

fn new_string(env: &mut JNIEnv<'_>, text: &str) -> Result<jstring, CoreError> {
    Ok(env.new_string(text)?.into_raw())
}

/// A file descriptor handed over by the app, checked to be open.
fn check_fd(fd: jint, what: &str) -> Result<(), CoreError> {
    // SAFETY: F_GETFD only reads the descriptor's flags.
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(CoreError::Argument(format!(
            "{what} {fd} is not an open file descriptor"
        )));
    }
    Ok(())
}

#[no_mangle]
pub extern "system" fn JNI_OnLoad(_vm: jni::JavaVM, _: *mut std::ffi::c_void) -> jint {
    host::init_logging();
    jni::sys::JNI_VERSION_1_6
}

#[no_mangle]
pub extern "system" fn Java_org_phonehome_core_NativeCore_start<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    tun_fd: jint,
    config: JString<'local>,
    host: JObject<'local>,
) -> jlong {
    boundary(&mut env, 0, |env| {
        check_fd(tun_fd, "tunFd").map_err(|e| CoreError::Tun(e.to_string()))?;
        // The core owns the TUN from here on, also when starting fails below.
        // SAFETY: the fd is open (checked) and the app handed it over (`detachFd`).
        let tun = Tun::from_fd(unsafe { OwnedFd::from_raw_fd(tun_fd) });
        let config = CoreConfig::parse(&string(env, &config, "configJson")?)?;
        if host.is_null() {
            return Err(CoreError::Argument("host must not be null".into()));
        }
        let host = host::JavaHost::new(env, &host)?;
        let session = Session::start(tun, config, Arc::new(host))?;
        let id = session.id();
        sessions().insert(id, session);
        Ok(id)
    })
}

fn take_session(handle: jlong) -> Result<Session, CoreError> {
    sessions().remove(&handle).ok_or(CoreError::Handle(handle))
}

#[no_mangle]
pub extern "system" fn Java_org_phonehome_core_NativeCore_stop<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    boundary(&mut env, (), |_| {
        // Out of the table first, so the lock is not held while the session winds down
        // (a host callback may call in meanwhile).
        let mut session = take_session(handle)?;
        session.stop();
        Ok(())
    })
}

#[no_mangle]
pub extern "system" fn Java_org_phonehome_core_NativeCore_stats<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jstring {
    boundary(&mut env, std::ptr::null_mut(), |env| {
        let stats = sessions()
            .get(&handle)
            .map(Session::stats)
            .ok_or(CoreError::Handle(handle))?;
        let json = serde_json::to_string(&stats).map_err(|e| CoreError::Records(e.to_string()))?;
        new_string(env, &json)
    })
}

/// Writes every session's capture to `out`, oldest first; returns the bytes written. Each
/// session's file is a complete pcapng section: one after another they are one valid
/// multi-section file.
pub fn export_capture(records_dir: &Path, out: &mut dyn Write) -> Result<u64, CoreError> {
    let failed = |e: io::Error| CoreError::Records(format!("cannot write the export: {e}"));
    let mut written = 0;
    for path in session::capture_files(&session::captures_dir(records_dir)) {
        let mut file = File::open(&path)
            .map_err(|e| CoreError::Records(format!("cannot read {}: {e}", path.display())))?;
        written += io::copy(&mut file, out).map_err(failed)?;
    }
    out.flush().map_err(failed)?;
    Ok(written)
}

#[no_mangle]
pub extern "system" fn Java_org_phonehome_core_NativeCore_exportCapture<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    records_dir: JString<'local>,
    fd: jint,
) -> jlong {
    boundary(&mut env, 0, |env| {
        let dir = string(env, &records_dir, "recordsDir")?;
        check_fd(fd, "fd")?;
        // The fd stays the caller's: write through a duplicate.
        // SAFETY: dup of an open fd (checked above); the result is owned here.
        let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if copy < 0 {
            return Err(CoreError::Argument(format!(
                "cannot use fd {fd}: {}",
                io::Error::last_os_error()
            )));
        }
        // SAFETY: `copy` is a fresh descriptor nobody else owns.
        let mut file = io::BufWriter::new(File::from(unsafe { OwnedFd::from_raw_fd(copy) }));
        let written = export_capture(Path::new(&dir), &mut file)?;
        file.into_inner()
            .map_err(|e| CoreError::Records(format!("cannot write the export: {e}")))?;
        Ok(written as jlong)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_phonehome_core_NativeCore_caCertificate<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    ca_dir: JString<'local>,
) -> jstring {
    boundary(&mut env, std::ptr::null_mut(), |env| {
        let dir = string(env, &ca_dir, "caDir")?;
        let pem = intercept::ca_certificate(Path::new(&dir))?;
        new_string(env, &pem)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_phonehome_core_NativeCore_validateIdentifiers<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    identifiers: JString<'local>,
) -> jstring {
    boundary(&mut env, std::ptr::null_mut(), |env| {
        let json = string(env, &identifiers, "identifiersJson")?;
        let checked = validate::validate_identifiers(&json)?;
        new_string(env, &checked)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_phonehome_core_NativeCore_panicForTest<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) {
    boundary(&mut env, (), |_| -> Result<(), CoreError> {
        panic!("panicForTest was called")
    })
}
