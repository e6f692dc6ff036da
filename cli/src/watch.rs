//! `phonehome watch`: the monitor's side.
//!
//! The monitor forks before any thread exists. The child builds the watched namespace
//! (see [`crate::sandbox`]) and passes its TUN fd back; the monitor's own sockets stay
//! in the caller's namespace, so the relay needs no `protect()`. Once the relay runs the
//! child becomes CMD, and the monitor waits for it, forwarding SIGINT/SIGTERM to it as
//! SIGTERM, then stops the relay (which flushes the records) and exits as CMD did.

use std::ffi::{CString, OsString};
use std::fs;
use std::io;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, getpid, ForkResult, Pid};
use phonehome_analyzer::Analyzer;
use phonehome_inspector::{Capture, OneApp};
use phonehome_model::{NullSink, Sink};
use phonehome_monitor::{Inspection, Monitor, RelayRun};
use phonehome_netstack::Config as StackConfig;
use phonehome_relay::{DnsForward, NoProtect, RelayConfig, RelayError, RelayStats};
use phonehome_store::{OutDir, RecordDir, RotatingFile};
use phonehome_tun::Tun;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::oneshot;

use crate::channel::{self, Report};
use crate::cli::WatchArgs;
use crate::resolv;
use crate::sandbox::{self, Plan};
use crate::summary::{self, Counting, Tally};

/// How long CMD may outlive a relay that ended by itself (see [`supervise`]).
const RELAY_END_GRACE: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("no upstream DNS server: {0}; pass --dns IP[:PORT]")]
    NoUpstream(String),
    #[error("{0}")]
    Sink(io::Error),
    #[error("discovery state: {0} (or pass --no-state)")]
    State(io::Error),
    #[error(transparent)]
    Detection(#[from] crate::detection::DetectionError),
    #[error("TLS interception: {0}")]
    Intercept(#[from] phonehome_intercept::InterceptError),
    #[error("the command line argument {0:?} contains a NUL byte")]
    NulInArgument(OsString),
    #[error("{what}: {source}")]
    Sys {
        what: &'static str,
        source: io::Error,
    },
    /// The child's own words.
    #[error("{0}")]
    Setup(String),
    #[error("the namespace setup process ended without a report ({0})")]
    SetupDied(String),
    #[error("relay failed: {0}")]
    Relay(#[from] RelayError),
    #[error("relay stopped while the program was still running: {0}")]
    RelayStopped(String),
    #[error("relay crashed: {0}")]
    RelayCrashed(String),
    #[error("relay did not finish after the program exited; records may be incomplete")]
    RelayStuck,
}

fn sys(what: &'static str) -> impl FnOnce(io::Error) -> WatchError {
    move |source| WatchError::Sys { what, source }
}

/// Runs `phonehome watch`; returns the exit status to leave with (CMD's).
pub fn run(args: WatchArgs) -> Result<u8, WatchError> {
    let upstream = match args.dns {
        Some(addr) => addr,
        None => upstream_from_resolv_conf(Path::new(sandbox::RESOLV_CONF))?,
    };
    log::info!("upstream DNS: {upstream}");
    // Discovery's state from earlier runs, read before anything is started.
    let (kept, state) = match crate::state::directory(args.state.as_deref(), args.no_state) {
        Some(dir) => {
            let (kept, state) = crate::state::Kept::open(&dir).map_err(WatchError::State)?;
            (Some(kept), state)
        }
        None => (None, Default::default()),
    };
    let discovery = phonehome_analyzer::discovery::shared(state);
    let analyzer =
        crate::detection::build_analyzer(&args.detection)?.with_discovery(discovery.clone());
    let catalog_label = crate::detection::catalog_label(analyzer.catalog());
    // Everything is checked before the records of an earlier run in --out are replaced:
    // the directory here, the namespace once the child reports it ready.
    let out = args.out.clone();
    let max_records = args.max_records;
    let records = args
        .out
        .as_deref()
        .map(RecordDir::open)
        .transpose()
        .map_err(WatchError::Sink)?;
    if let Some(program) = args.cmd.first() {
        if let Err(why) = runnable(program) {
            eprintln!("phonehome: cannot run {}: {why}", program.to_string_lossy());
            return Ok(sandbox::EXEC_FAILED as u8);
        }
    }
    // Every flow in the namespace comes from CMD or what it starts: name them after it.
    let app = args.cmd.first().map(|c| {
        let name = Path::new(c).file_name().unwrap_or(c.as_os_str());
        name.to_string_lossy().into_owned()
    });
    let intercept = crate::intercept::interceptor(&args.intercept, app.clone())?;
    let plan = Plan {
        unprivileged: unprivileged_user(args.keep_root),
        mtu: args.mtu,
        argv: args
            .cmd
            .into_iter()
            .map(|arg| {
                CString::new(arg.into_vec())
                    .map_err(|e| WatchError::NulInArgument(OsString::from_vec(e.into_vec())))
            })
            .collect::<Result<_, _>>()?,
    };
    let config = RelayConfig {
        stack: StackConfig {
            mtu: args.mtu as usize,
            max_flows: args.max_flows as usize,
            // The program's only addresses: anything else it writes to the TUN is spoofed.
            clients: vec![sandbox::ADDR_V4.into(), sandbox::ADDR_V6.into()],
            ..Default::default()
        },
        dns: Some(DnsForward {
            listen: sandbox::dns_listen(),
            upstream,
        }),
        intercept: intercept.map(|i| Arc::new(i) as Arc<dyn phonehome_relay::Intercept>),
        ..Default::default()
    };

    ensure_single_threaded()?;
    let (monitor_end, child_end) = channel::pair().map_err(sys("socketpair"))?;
    let monitor = getpid();
    // SAFETY: the process has a single thread (checked just above, and no runtime or
    // thread has been started), so the child may do anything, not just async-signal-safe
    // calls; it never returns from here: it ends in exec or _exit.
    match unsafe { fork() }.map_err(|e| sys("fork")(e.into()))? {
        ForkResult::Child => {
            drop(monitor_end);
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                sandbox::child_main(child_end, monitor, &plan)
            }));
            sandbox::exit_now(sandbox::SETUP_FAILED)
        }
        ForkResult::Parent { child } => {
            drop(child_end);
            let tally = Arc::new(Mutex::new(Tally {
                catalog: catalog_label,
                ..Tally::default()
            }));
            let inspection = Unopened {
                analyzer,
                records,
                app,
                tally: tally.clone(),
                rotate_at: Some(rotate_at(max_records)),
            };
            let code = monitor_child(Child::new(child), monitor_end, config, inspection)?;
            if let Some(kept) = &kept {
                let discovery = discovery.lock().unwrap_or_else(|e| e.into_inner());
                if let Err(e) = kept.save(discovery.state()) {
                    eprintln!("phonehome: warning: discovery's state not saved: {e}");
                }
            }
            let tally = tally.lock().unwrap_or_else(|e| e.into_inner());
            eprint!("{}", summary::summary(&tally, out.as_deref()));
            Ok(code)
        }
    }
}

/// Size past which each record file starts over, for a record set of about `max` bytes:
/// three files (flows, findings, capture) of two generations each, and the store holding
/// as much as the JSON lines, fill about half of it each way.
fn rotate_at(max: u64) -> u64 {
    (max / 12).max(64 * 1024)
}

/// Who CMD runs as outside its namespaces: for `watch` run as root without
/// `--keep-root`, the user who ran sudo, or nobody. `None`: CMD keeps root, or `watch`
/// itself is not root (CMD is then root of a user namespace mapped to the caller).
fn unprivileged_user(keep_root: bool) -> Option<(u32, u32)> {
    if keep_root || !nix::unistd::geteuid().is_root() {
        return None;
    }
    const NOBODY: (u32, u32) = (65_534, 65_534);
    let id = |name: &str| {
        std::env::var(name)
            .ok()?
            .parse::<u32>()
            .ok()
            .filter(|&n| n != 0)
    };
    Some(match (id("SUDO_UID"), id("SUDO_GID")) {
        (Some(uid), Some(gid)) => (uid, gid),
        _ => NOBODY,
    })
}

/// Whether `program` is something execvp would run: a path to an executable file, or a
/// name found as one on PATH. Checked up front so that a typo costs no records.
fn runnable(program: &std::ffi::OsStr) -> Result<(), &'static str> {
    use nix::unistd::{access, AccessFlags};
    let executable = |path: &Path| {
        path.metadata().is_ok_and(|m| m.is_file()) && access(path, AccessFlags::X_OK).is_ok()
    };
    if program.as_bytes().contains(&b'/') {
        return if executable(Path::new(program)) {
            Ok(())
        } else {
            Err("no such executable file")
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    if std::env::split_paths(&path).any(|dir| executable(&dir.join(program))) {
        Ok(())
    } else {
        Err("not found on PATH")
    }
}

/// What the inspection needs, with the record files not yet opened.
struct Unopened {
    analyzer: Analyzer,
    records: Option<RecordDir>,
    app: Option<String>,
    /// What the summary and the live line report.
    tally: Arc<Mutex<Tally>>,
    /// Size past which each record file starts over (from `--max-records`).
    rotate_at: Option<u64>,
}

impl Unopened {
    /// Opens the record files (replacing an earlier run's) once the namespace is ready.
    fn open(self) -> Result<Inspection, WatchError> {
        Ok(Inspection {
            analyzer: self.analyzer,
            sink: Box::new(Counting::new(
                open_sink(self.records.as_ref(), self.rotate_at)?,
                self.tally,
            )),
            capture: open_capture(self.records.as_ref(), self.rotate_at)?,
            attribute: Box::new(OneApp(self.app)),
        })
    }
}

fn upstream_from_resolv_conf(path: &Path) -> Result<SocketAddr, WatchError> {
    let text = fs::read_to_string(path)
        .map_err(|err| WatchError::NoUpstream(format!("cannot read {}: {err}", path.display())))?;
    resolv::first_nameserver(&text)
        .map(|ip| SocketAddr::new(ip, crate::cli::DNS_PORT))
        .ok_or_else(|| {
            WatchError::NoUpstream(format!("{} lists no usable nameserver", path.display()))
        })
}

fn open_sink(out: Option<&RecordDir>, rotate_at: Option<u64>) -> Result<Box<dyn Sink>, WatchError> {
    let Some(dir) = out else {
        return Ok(Box::new(NullSink));
    };
    Ok(Box::new(
        OutDir::create_in(dir, rotate_at).map_err(WatchError::Sink)?,
    ))
}

/// `DIR/capture.pcapng`: the first packets of every flow, each commented with its flow.
/// Past `rotate_at` bytes it moves to `capture.1.pcapng` and starts over.
fn open_capture(
    out: Option<&RecordDir>,
    rotate_at: Option<u64>,
) -> Result<Option<Capture>, WatchError> {
    let Some(dir) = out else {
        return Ok(None);
    };
    let file = RotatingFile::create(dir, "capture.pcapng", "capture.1.pcapng", rotate_at)
        .map_err(WatchError::Sink)?;
    let file: Box<dyn io::Write + Send> = Box::new(file);
    let mut writer =
        phonehome_capture::PcapngWriter::new(io::BufWriter::new(file)).map_err(WatchError::Sink)?;
    // What is written before the first flush (the section and interface blocks) opens
    // every later generation of the file.
    writer.flush().map_err(WatchError::Sink)?;
    Ok(Some(writer))
}

/// fork() is only sound here because nothing has started a thread; make sure of it.
fn ensure_single_threaded() -> Result<(), WatchError> {
    let threads = fs::read_dir("/proc/self/task")
        .map_err(sys("reading /proc/self/task"))?
        .count();
    if threads == 1 {
        Ok(())
    } else {
        Err(WatchError::Sys {
            what: "internal error",
            source: io::Error::other(format!("{threads} threads exist before fork")),
        })
    }
}

/// The forked child until it has been reaped: dropping it unreaped kills and reaps it,
/// so no error path leaves CMD running without the monitor.
#[derive(Debug)]
struct Child {
    pid: Pid,
    reaped: bool,
}

impl Child {
    fn new(pid: Pid) -> Self {
        Self { pid, reaped: false }
    }

    fn signal(&self, sig: Signal) {
        if let Err(err) = kill(self.pid, sig) {
            log::debug!("kill({}, {sig}): {err}", self.pid);
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            self.signal(Signal::SIGKILL);
            let _ = wait_for_exit(self.pid);
        }
    }
}

/// Blocks until `pid` has terminated.
fn wait_for_exit(pid: Pid) -> io::Result<WaitStatus> {
    loop {
        match waitpid(pid, None) {
            Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => return Ok(status),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(err) => return Err(err.into()),
        }
    }
}

/// A shell's view of how a process ended: its exit code, or 128 + the signal.
fn exit_code(status: WaitStatus) -> u8 {
    match status {
        WaitStatus::Exited(_, code) => u8::try_from(code).unwrap_or(u8::MAX),
        WaitStatus::Signaled(_, sig, _) => u8::try_from(128 + sig as i32).unwrap_or(u8::MAX),
        _ => u8::MAX,
    }
}

fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exit status {code}"),
        WaitStatus::Signaled(_, sig, _) => format!("killed by {sig}"),
        other => format!("{other:?}"),
    }
}

fn monitor_child(
    mut child: Child,
    chan: OwnedFd,
    config: RelayConfig,
    inspection: Unopened,
) -> Result<u8, WatchError> {
    let tun = match channel::recv_report(&chan).map_err(sys("waiting for the namespace"))? {
        Report::Tun(fd) => Tun::from_fd(fd),
        Report::Failed(message) => return Err(WatchError::Setup(message)),
        Report::Gone => {
            let status = wait_for_exit(child.pid).map_err(sys("waitpid"))?;
            child.reaped = true;
            return Err(WatchError::SetupDied(describe(status)));
        }
    };
    let tally = inspection.tally.clone();
    let inspection = inspection.open()?;
    // Threads only now: the fork is behind us.
    let monitor = Monitor::start(inspection, |inspector| Box::new(inspector))
        .map_err(sys("starting the inspection thread"))?;
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        // An error means the sender is gone, which also means stop.
        let _ = stopped.await;
    };
    monitor
        .run(tun, config, Arc::new(NoProtect), shutdown, |relay| {
            supervise(&mut child, chan, relay, stop, tally)
        })
        .map_err(sys("starting the async runtime"))?
}

async fn supervise(
    child: &mut Child,
    chan: OwnedFd,
    relay: RelayRun,
    stop: oneshot::Sender<()>,
    tally: Arc<Mutex<Tally>>,
) -> Result<u8, WatchError> {
    // The live line, on a terminal only (a log file gets the summary alone).
    let live = io::stderr().is_terminal();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut sigint = signal(SignalKind::interrupt()).map_err(sys("SIGINT handler"))?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(sys("SIGTERM handler"))?;
    let mut relay = tokio::spawn(relay);
    tokio::task::yield_now().await;
    channel::send_go(&chan).map_err(sys("starting the program"))?;
    drop(chan);

    let pid = child.pid;
    let mut exited = tokio::task::spawn_blocking(move || wait_for_exit(pid));
    // The relay may end on its own when the TUN goes away with the namespace, which
    // happens as CMD exits, a moment before waitpid sees it. So a relay that ends while
    // CMD runs is a failure only if CMD is still running a little later.
    let mut early: Option<Result<RelayStats, WatchError>> = None;
    let mut killed = false;
    let grace = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(grace);
    let status = loop {
        tokio::select! {
            status = &mut exited => break status,
            _ = tick.tick(), if live => {
                let line = summary::live_line(&tally.lock().unwrap_or_else(|e| e.into_inner()));
                eprint!("\r{line}\x1b[K");
            }
            _ = sigint.recv() => forward_stop(child),
            _ = sigterm.recv() => forward_stop(child),
            result = &mut relay, if early.is_none() => {
                let result = relay_error(result);
                match &result {
                    Err(err) => {
                        log::info!("{err}; stopping the program");
                        child.signal(Signal::SIGKILL);
                        killed = true;
                    }
                    Ok(_) => grace.as_mut().reset(tokio::time::Instant::now() + RELAY_END_GRACE),
                }
                early = Some(result);
            }
            () = &mut grace, if early.is_some() && !killed => {
                log::info!("relay stopped while the program was running; stopping the program");
                child.signal(Signal::SIGKILL);
                killed = true;
            }
        }
    };
    if live {
        eprint!("\r\x1b[K");
    }
    let status = status
        .map_err(|join| sys("waitpid")(io::Error::other(join.to_string())))?
        .map_err(sys("waitpid"))?;
    child.reaped = true;
    log::info!("program ended: {}", describe(status));

    let stats = match early {
        Some(Err(err)) => return Err(err),
        Some(Ok(stats)) if killed => {
            return Err(WatchError::RelayStopped(
                stats.tun_closed.unwrap_or_else(|| "no reason given".into()),
            ))
        }
        Some(Ok(stats)) => stats,
        None => {
            let _ = stop.send(());
            loop {
                tokio::select! {
                    result = &mut relay => break relay_error(result)?,
                    _ = tokio::time::sleep(Duration::from_secs(5)) => log::warn!(
                        "still waiting for the relay to finish writing records (Ctrl-C to give up)"
                    ),
                    _ = sigint.recv() => return Err(WatchError::RelayStuck),
                    _ = sigterm.recv() => return Err(WatchError::RelayStuck),
                }
            }
        }
    };
    log::info!("relay: {stats:?}");
    {
        let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
        t.refused_full = stats.stack.flow_limit;
        t.refused_forbidden = stats.stack.forbidden;
        t.refused_spoofed = stats.stack.spoofed;
    }
    Ok(exit_code(status))
}

fn relay_error(
    result: Result<Result<RelayStats, RelayError>, tokio::task::JoinError>,
) -> Result<RelayStats, WatchError> {
    match result {
        Ok(Ok(stats)) => Ok(stats),
        Ok(Err(err)) => Err(err.into()),
        Err(join) => Err(WatchError::RelayCrashed(join.to_string())),
    }
}

fn forward_stop(child: &Child) {
    log::info!("stopping the program (SIGTERM to pid {})", child.pid);
    child.signal(Signal::SIGTERM);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn exit_codes_follow_the_shell() {
        let pid = Pid::from_raw(1);
        assert_eq!(exit_code(WaitStatus::Exited(pid, 0)), 0);
        assert_eq!(exit_code(WaitStatus::Exited(pid, 3)), 3);
        assert_eq!(
            exit_code(WaitStatus::Signaled(pid, Signal::SIGTERM, false)),
            143
        );
        assert_eq!(
            exit_code(WaitStatus::Signaled(pid, Signal::SIGKILL, true)),
            137
        );
    }

    #[test]
    fn upstream_comes_from_the_first_nameserver() {
        let dir = std::env::temp_dir().join(format!("phonehome-watch-test.{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("resolv.conf");
        fs::write(
            &path,
            "search lan\nnameserver 2001:db8::53\nnameserver 192.0.2.1\n",
        )
        .unwrap();
        assert_eq!(
            upstream_from_resolv_conf(&path).unwrap(),
            "[2001:db8::53]:53".parse().unwrap()
        );
        fs::write(&path, "search lan\n").unwrap();
        let err = upstream_from_resolv_conf(&path).unwrap_err().to_string();
        assert!(err.contains("--dns"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
        let err = upstream_from_resolv_conf(&path).unwrap_err().to_string();
        assert!(err.contains("cannot read"), "{err}");
    }

    #[test]
    fn out_dir_is_created_with_the_flows_file() {
        let dir = std::env::temp_dir()
            .join(format!("phonehome-out-test.{}", std::process::id()))
            .join("nested");
        let records = RecordDir::open(&dir).unwrap();
        let sink = open_sink(Some(&records), None).unwrap();
        drop(sink);
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        for name in ["flows.jsonl", "findings.jsonl", "phonehome.sqlite"] {
            assert!(dir.join(name).is_file());
            assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
        }
        fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }
}
