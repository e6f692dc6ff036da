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
//! Everything here runs in single-threaded forked processes and ends in exec or `_exit`.

use std::ffi::CString;
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

/// Runs `argv` as the only program of a new PID namespace; exits with its exit code.
pub fn run(argv: &[CString]) -> ! {
    if let Err(err) = unshare(CloneFlags::CLONE_NEWPID) {
        eprintln!("phonehome: cannot give the program a PID namespace: {err}");
        exit_now(SETUP_FAILED);
    }
    // Init learns that this process died from the pipe closing.
    let Ok((alive_r, alive_w)) = pipe() else {
        exit_now(SETUP_FAILED)
    };
    // SAFETY: this process is single-threaded (a forked child of the single-threaded
    // monitor), so the child may do anything before its exec or _exit.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(alive_w);
            init(argv, alive_r)
        }
        Ok(ForkResult::Parent { child }) => {
            drop(alive_r);
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

/// PID 1 of the program's namespace.
fn init(argv: &[CString], parent_alive: OwnedFd) -> ! {
    // Die with the parent. If it died before the prctl, its end of the pipe is closed.
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || parent_gone(&parent_alive) {
        exit_now(SETUP_FAILED);
    }
    // The program's `ps` and /proc show its own namespace. The mount namespace is
    // private (sandbox::setup), so this stays inside it.
    if let Err(err) = mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    ) {
        log::warn!("cannot mount /proc for the program's PID namespace: {err}");
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
