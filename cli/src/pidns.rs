//! The watched program's own PID namespace, so that nothing of it outlives `watch`.
//!
//! Once the network namespace is ready, the forked child of the monitor unshares a PID
//! namespace and forks that namespace's init (PID 1 there), which forks CMD. When an init
//! ends, the kernel kills every process left in its namespace: daemons CMD started,
//! children it orphaned, anything that double-forked. Init ends when CMD does, or when
//! the child dies (its parent-death signal), which happens when the monitor dies, even by
//! SIGKILL (the child's own parent-death signal). Init passes stop signals on to CMD
//! (an init ignores signals it has no handler for) and reaps orphans.
//!
//! Unless `--keep-root`, init also gives up root before it starts CMD: it enters a user
//! namespace of its own, whose root the parent (still root outside) maps to an
//! unprivileged uid and gid. CMD is then root only of that user namespace, which owns no
//! other namespace: it can use the network as any program does, but cannot enter the
//! caller's namespaces, change its own network, mount, or open the monitor's records.
//!
//! Everything here runs in single-threaded forked processes and ends in exec or `_exit`.

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, pipe, ForkResult, Pid};

use crate::sandbox::{exec, exit_now, SETUP_FAILED};

/// Where the signal handler below sends what it receives.
static PASS_TO: AtomicI32 = AtomicI32::new(0);

/// The signals a stop request or a terminal may send; each is passed on as it came.
const PASSED_ON: [Signal; 6] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

extern "C" fn pass_on(sig: libc::c_int) {
    let pid = PASS_TO.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe and takes no pointers.
        unsafe { libc::kill(pid, sig) };
    }
}

fn pass_signals_to(pid: Pid) {
    PASS_TO.store(pid.as_raw(), Ordering::Relaxed);
    let action = SigAction::new(
        SigHandler::Handler(pass_on),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in PASSED_ON {
        // SAFETY: the handler only loads an atomic and calls kill(2).
        if let Err(err) = unsafe { sigaction(sig, &action) } {
            eprintln!("phonehome: cannot pass {sig} on to the program: {err}");
        }
    }
}

/// A shell's exit code for how `pid` ended, once it has.
fn wait_for(pid: Pid) -> i32 {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => return 128 + sig as i32,
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(_) => return SETUP_FAILED,
        }
    }
}

/// Runs `argv` as the only program of a new PID namespace, as root of a user namespace
/// mapped to `unprivileged` (uid, gid) when given; exits with its exit code.
pub fn run(argv: &[CString], unprivileged: Option<(u32, u32)>) -> ! {
    if let Err(err) = unshare(CloneFlags::CLONE_NEWPID) {
        eprintln!("phonehome: cannot give the program a PID namespace: {err}");
        exit_now(SETUP_FAILED);
    }
    // Init learns that this process died from `alive` closing, and that its user
    // namespace is mapped from a byte on it; this process, that init entered its user
    // namespace, from a byte on `unshared`.
    let (Ok((alive_r, alive_w)), Ok((unshared_r, unshared_w))) = (pipe(), pipe()) else {
        exit_now(SETUP_FAILED)
    };
    // SAFETY: this process is single-threaded (a forked child of the single-threaded
    // monitor), so the child may do anything before its exec or _exit.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(alive_w);
            drop(unshared_r);
            init(argv, alive_r, unprivileged.map(|_| unshared_w))
        }
        Ok(ForkResult::Parent { child }) => {
            drop(alive_r);
            drop(unshared_w);
            if let Some((uid, gid)) = unprivileged {
                if let Err(err) = map_user_namespace(child, uid, gid, unshared_r, &alive_w) {
                    eprintln!("phonehome: cannot run the program without privileges: {err} (--keep-root runs it as root)");
                    let _ = nix::sys::signal::kill(child, Signal::SIGKILL);
                    let _ = wait_for(child);
                    exit_now(SETUP_FAILED);
                }
            }
            pass_signals_to(child);
            let code = wait_for(child);
            drop(alive_w);
            exit_now(code)
        }
        Err(err) => {
            eprintln!("phonehome: cannot start the program's namespace: {err}");
            exit_now(SETUP_FAILED)
        }
    }
}

/// Waits for init to enter its user namespace, maps that namespace's root to `uid` and
/// `gid`, and tells init so.
fn map_user_namespace(
    init: Pid,
    uid: u32,
    gid: u32,
    unshared: OwnedFd,
    go: &OwnedFd,
) -> std::io::Result<()> {
    let mut byte = [0u8; 1];
    if std::fs::File::from(unshared).read(&mut byte)? != 1 {
        return Err(std::io::Error::other(
            "init ended before entering its user namespace",
        ));
    }
    std::fs::write(format!("/proc/{init}/uid_map"), format!("0 {uid} 1\n"))?;
    std::fs::write(format!("/proc/{init}/gid_map"), format!("0 {gid} 1\n"))?;
    std::fs::File::from(go.try_clone()?).write_all(b"m")
}

/// Enters a user namespace of its own, waits for the parent to map it, and becomes its
/// root (which is `uid`/`gid` outside, with no capability there).
fn give_up_root(unshared: OwnedFd, parent_alive: &OwnedFd) -> Result<(), String> {
    unshare(CloneFlags::CLONE_NEWUSER).map_err(|e| format!("unshare(CLONE_NEWUSER): {e}"))?;
    std::fs::File::from(unshared)
        .write_all(b"u")
        .map_err(|e| format!("telling the parent: {e}"))?;
    let mut byte = [0u8; 1];
    let mut alive = std::fs::File::from(parent_alive.try_clone().map_err(|e| e.to_string())?);
    match alive.read(&mut byte) {
        Ok(1) => {}
        _ => return Err("the parent did not map the user namespace".into()),
    }
    nix::unistd::setgroups(&[]).map_err(|e| format!("setgroups: {e}"))?;
    let root_gid = nix::unistd::Gid::from_raw(0);
    let root_uid = nix::unistd::Uid::from_raw(0);
    nix::unistd::setresgid(root_gid, root_gid, root_gid).map_err(|e| format!("setresgid: {e}"))?;
    nix::unistd::setresuid(root_uid, root_uid, root_uid).map_err(|e| format!("setresuid: {e}"))
}

/// PID 1 of the program's namespace.
fn init(argv: &[CString], parent_alive: OwnedFd, unprivileged: Option<OwnedFd>) -> ! {
    // The program's `ps` and /proc show its own namespace: a /proc mounted in a mount
    // namespace of init's own (the parent still needs the caller's /proc to map init's
    // user namespace). Done while still root, which mounting needs.
    if let Err(err) = unshare(CloneFlags::CLONE_NEWNS).and_then(|()| {
        mount(
            Some("proc"),
            "/proc",
            Some("proc"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            None::<&str>,
        )
    }) {
        log::warn!("cannot mount /proc for the program's PID namespace: {err}");
    }
    if let Some(unshared) = unprivileged {
        if let Err(err) = give_up_root(unshared, &parent_alive) {
            eprintln!("phonehome: cannot run the program without privileges: {err} (--keep-root runs it as root)");
            exit_now(SETUP_FAILED);
        }
    }
    // Die with the parent (set after the change of credentials, which clears it). If
    // the parent died before the prctl, its end of the pipe is closed.
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || parent_gone(&parent_alive) {
        exit_now(SETUP_FAILED);
    }
    // SAFETY: single-threaded, as above.
    let program = match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(parent_alive);
            exec(argv)
        }
        Ok(ForkResult::Parent { child }) => child,
        Err(err) => {
            eprintln!("phonehome: cannot start the program: {err}");
            exit_now(SETUP_FAILED)
        }
    };
    pass_signals_to(program);
    // Reap every orphan; end with the program, taking the rest of the namespace along.
    loop {
        match waitpid(None::<Pid>, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == program => exit_now(code),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == program => exit_now(128 + sig as i32),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(_) => exit_now(SETUP_FAILED),
        }
    }
}

fn parent_gone(alive: &OwnedFd) -> bool {
    let mut fds = [PollFd::new(alive.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(0) => false,
        _ => fds[0]
            .revents()
            .is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLIN)),
    }
}
