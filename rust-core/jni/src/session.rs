//! One monitoring session: the relay on its own thread over the app's TUN, inspection
//! (flow records and findings to the app in batches, the first packets to a capture file),
//! live counts, and events to the app on a thread of their own ([`Outbox`]). The app keeps
//! the records in its own SQLite store; the core keeps only the capture. Nothing here knows
//! about JNI; `lib.rs` adapts it.

use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use phonehome_inspector::{Capture, Inspector};
use phonehome_model::{Direction, Finding, FlowRecord, Proto, Sink, TlsMode};
use phonehome_monitor::{Inspection, Monitor};
use phonehome_netstack::FlowId;
use phonehome_relay::{Observer, Protect};
use phonehome_tun::Tun;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::config::CoreConfig;
use crate::contract::StopReason;
use crate::error::CoreError;
use crate::host::Host;
use crate::outbox::{Limits, Line, Outbox};
use crate::owner::Owners;

/// Live counts, as `NativeCore.stats` returns them.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    pub running: bool,
    pub session: i64,
    pub flows_open: u64,
    pub flows_total: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// Findings in what the device sent: the leaks.
    pub findings: u64,
    /// Findings in what servers sent back, which are not leaks.
    pub findings_received: u64,
    pub dropped: u64,
    pub protect_failures: u64,
    /// Records the app did not take in time (see [`Outbox`]).
    pub records_dropped: u64,
}

#[derive(Debug, Default)]
struct Counters {
    running: AtomicBool,
    flows_open: AtomicU64,
    flows_total: AtomicU64,
    bytes_out: AtomicU64,
    bytes_in: AtomicU64,
    findings: AtomicU64,
    findings_received: AtomicU64,
    dropped: AtomicU64,
    protect_failures: AtomicU64,
}

/// A running (or finished) session. Dropping it stops it.
pub struct Session {
    id: i64,
    counters: Arc<Counters>,
    outbox: Arc<Outbox>,
    shutdown: Option<oneshot::Sender<()>>,
    relay: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Captures of all sessions, one file each, oldest first by name.
pub fn captures_dir(records_dir: &Path) -> PathBuf {
    records_dir.join("captures")
}

/// Captures kept on the device at most; the oldest sessions' files go first.
const CAPTURE_BUDGET: u64 = 256 << 20;

/// Session numbers: start time in milliseconds, strictly increasing within the process.
fn next_session_id() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let id = now.max(last + 1);
        match LAST.compare_exchange(last, id, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return id,
            Err(seen) => last = seen,
        }
    }
}

impl Session {
    /// Starts relaying `tun`; records go to `host` in batches, the capture (if configured)
    /// into the records directory.
    pub fn start(tun: Tun, config: CoreConfig, host: Arc<dyn Host>) -> Result<Self, CoreError> {
        Self::start_with(tun, config, host, Limits::default())
    }

    /// [`Session::start`] with other batching limits.
    pub fn start_with(
        tun: Tun,
        config: CoreConfig,
        host: Arc<dyn Host>,
        limits: Limits,
    ) -> Result<Self, CoreError> {
        let dir = &config.records_dir;
        private_dir(dir)
            .map_err(|e| CoreError::Records(format!("cannot create {}: {e}", dir.display())))?;
        let id = next_session_id();
        let capture = if config.capture {
            Some(open_capture(dir, id)?)
        } else {
            None
        };
        // Discovery continues from the state earlier sessions left (none without a state_dir).
        let (kept, state) = match &config.state_dir {
            Some(dir) => crate::kept::Kept::open(dir),
            None => (None, Default::default()),
        };
        let discovery = phonehome_analyzer::discovery::shared(state);
        let analyzer = config.analyzer()?.with_discovery(discovery.clone());
        // Before any thread starts: a CA that cannot be used fails the start as a whole.
        let interceptor = match &config.intercept {
            Some(intercept) => Some(Arc::new(
                intercept.interceptor(config.owner_lookup, host.clone())?,
            ) as Arc<dyn phonehome_relay::Intercept>),
            None => None,
        };
        let counters = Arc::new(Counters::default());
        counters.running.store(true, Ordering::Relaxed);
        let outbox = Arc::new(Outbox::new(limits));

        let sink = EventSink {
            outbox: outbox.clone(),
            counters: counters.clone(),
        };
        let inspection = Inspection {
            analyzer,
            sink: Box::new(sink),
            capture,
            attribute: Box::new(Owners::new(config.owner_lookup, host.clone())),
        };
        let observer_counters = counters.clone();
        let monitor = Monitor::start(inspection, |inspector| {
            Box::new(Counting {
                inner: inspector,
                counters: observer_counters,
            })
        })
        .map_err(|e| CoreError::Records(format!("cannot start inspection: {e}")))?;
        outbox
            .spawn(id, host.clone())
            .map_err(|e| CoreError::Records(format!("cannot start the event thread: {e}")))?;
        let protect = Arc::new(HostProtect {
            host,
            counters: counters.clone(),
        });
        let mut relay_config = config.relay();
        relay_config.intercept = interceptor;
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let thread_counters = counters.clone();
        let thread_outbox = outbox.clone();
        let relay = std::thread::Builder::new()
            .name("phonehome-relay".into())
            .spawn(move || {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    relay_until_stopped(monitor, tun, relay_config, protect, shutdown_rx)
                }));
                let (reason, message) = match outcome {
                    Ok(ended) => ended,
                    Err(panic) => (
                        StopReason::Panic,
                        format!("internal error (a bug in the core): {}", describe(&panic)),
                    ),
                };
                thread_counters.running.store(false, Ordering::Relaxed);
                log::info!("session ended: {message}");
                if let Some(kept) = &kept {
                    let discovery = discovery.lock().unwrap_or_else(|e| e.into_inner());
                    if let Err(e) = kept.save(discovery.state()) {
                        log::warn!("discovery's state not saved: {e}");
                    }
                }
                // Inspection has ended (the relay finished it): every record is queued.
                thread_outbox.stopped(reason, message);
            });
        let relay = match relay {
            Ok(relay) => relay,
            Err(e) => {
                outbox.abandon();
                return Err(CoreError::Records(format!(
                    "cannot start the relay thread: {e}"
                )));
            }
        };
        Ok(Self {
            id,
            counters,
            outbox,
            shutdown: Some(shutdown),
            relay: Some(relay),
        })
    }

    pub fn id(&self) -> i64 {
        self.id
    }

    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            running: c.running.load(Ordering::Relaxed),
            session: self.id,
            flows_open: get(&c.flows_open),
            flows_total: get(&c.flows_total),
            bytes_out: get(&c.bytes_out),
            bytes_in: get(&c.bytes_in),
            findings: get(&c.findings),
            findings_received: get(&c.findings_received),
            dropped: get(&c.dropped),
            protect_failures: get(&c.protect_failures),
            records_dropped: self.outbox.dropped(),
        }
    }

    /// Stops relaying and returns once every record is queued for the host, which gets
    /// the last batches and then `on_stopped` on the event thread.
    pub fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(relay) = self.relay.take() {
            let _ = relay.join();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop();
    }
}

fn relay_until_stopped(
    monitor: Monitor,
    tun: Tun,
    config: phonehome_relay::RelayConfig,
    protect: Arc<dyn Protect>,
    shutdown: oneshot::Receiver<()>,
) -> (StopReason, String) {
    let asked = Arc::new(AtomicBool::new(false));
    let asked_in = asked.clone();
    let shutdown = async move {
        if shutdown.await.is_ok() {
            asked_in.store(true, Ordering::Relaxed);
        }
    };
    let result = match monitor.run(tun, config, protect, shutdown, |relay| relay) {
        Ok(result) => result,
        Err(e) => {
            return (
                StopReason::Failed,
                format!("cannot start the async runtime: {e}"),
            )
        }
    };
    match result {
        Err(e) => (StopReason::Failed, e.to_string()),
        Ok(stats) => match stats.tun_closed {
            Some(why) if !asked.load(Ordering::Relaxed) => (
                StopReason::TunClosed,
                format!("the VPN interface closed: {why}"),
            ),
            // Asked to, or the shutdown sender went away without a word (dropped).
            _ => (StopReason::Stopped, "stopped".to_owned()),
        },
    }
}

fn describe(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

/// Creates `dir` (and missing parents) owner-only: the records hold raw identifiers. It
/// lives in the app's private storage, which the app alone may write.
pub(crate) fn private_dir(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

fn open_capture(dir: &Path, session: i64) -> Result<Capture, CoreError> {
    let captures = captures_dir(dir);
    let fail =
        |e: io::Error| CoreError::Records(format!("cannot write {}: {e}", captures.display()));
    private_dir(&captures).map_err(fail)?;
    prune_captures(&captures, CAPTURE_BUDGET);
    // Owner-only and never through a link, as `watch` writes its records.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(captures.join(format!("session-{session}.pcapng")))
        .map_err(fail)?;
    let file: Box<dyn io::Write + Send> = Box::new(file);
    phonehome_capture::PcapngWriter::new(io::BufWriter::new(file)).map_err(fail)
}

/// Capture files of earlier sessions, oldest first.
pub fn capture_files(captures: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(captures)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pcapng"))
        .collect();
    // session-<millis>.pcapng: numeric order is time order.
    files.sort_by_key(|p| {
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        stem.trim_start_matches("session-")
            .parse::<i64>()
            .unwrap_or(0)
    });
    files
}

/// Deletes the oldest captures until the rest fit in `budget` bytes (leaving room for
/// the session about to start).
fn prune_captures(captures: &Path, budget: u64) {
    let files = capture_files(captures);
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .collect();
    let mut total: u64 = sizes.iter().sum();
    for (file, size) in files.iter().zip(sizes) {
        if total <= budget / 2 {
            break;
        }
        if std::fs::remove_file(file).is_ok() {
            total -= size;
        }
    }
}

/// Queues each record's JSON line for the host, and counts findings: sent and received
/// apart, so the app's live count of leaks is never raised by what a server sent back.
struct EventSink {
    outbox: Arc<Outbox>,
    counters: Arc<Counters>,
}

fn json_line<T: Serialize>(record: &T) -> io::Result<String> {
    serde_json::to_string(record).map_err(io::Error::other)
}

impl Sink for EventSink {
    fn flow(&mut self, record: &FlowRecord) -> io::Result<()> {
        self.outbox.push(Line::Flow(json_line(record)?));
        Ok(())
    }

    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        let counter = match finding.direction {
            Direction::Out => &self.counters.findings,
            Direction::In => &self.counters.findings_received,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.outbox.push(Line::Finding(json_line(finding)?));
        Ok(())
    }

    /// The app keeps these in its store's `discovered` table, one row per value.
    fn discovered(&mut self, record: &phonehome_model::Discovered) -> io::Result<()> {
        self.outbox.push(Line::Discovered(json_line(record)?));
        Ok(())
    }

    /// Nothing to do: the event thread sends batches on its own clock, and the rest when
    /// the session ends.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Counts flows and bytes on the way to the inspector.
struct Counting {
    inner: Inspector,
    counters: Arc<Counters>,
}

impl Observer for Counting {
    fn flow_start(&mut self, id: FlowId, proto: Proto, src: SocketAddr, dst: SocketAddr) {
        self.counters.flows_open.fetch_add(1, Ordering::Relaxed);
        self.counters.flows_total.fetch_add(1, Ordering::Relaxed);
        self.inner.flow_start(id, proto, src, dst);
    }

    fn data(&mut self, id: FlowId, direction: Direction, data: &bytes::Bytes) {
        let counter = match direction {
            Direction::Out => &self.counters.bytes_out,
            Direction::In => &self.counters.bytes_in,
        };
        counter.fetch_add(data.len() as u64, Ordering::Relaxed);
        self.inner.data(id, direction, data);
    }

    fn flow_end(&mut self, record: FlowRecord) {
        let _ = self
            .counters
            .flows_open
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        self.inner.flow_end(record);
    }

    fn packet(&mut self, direction: Direction, packet: &[u8]) {
        self.inner.packet(direction, packet);
    }

    fn round_done(&mut self) {
        self.counters
            .dropped
            .store(self.inner.dropped, Ordering::Relaxed);
        self.inner.round_done();
    }

    fn tls_mode(&mut self, id: FlowId, mode: TlsMode) {
        self.inner.tls_mode(id, mode);
    }

    fn tls_secret(&mut self, id: FlowId, line: &str) {
        self.inner.tls_secret(id, line);
    }

    fn finish(&mut self) -> io::Result<()> {
        self.inner.finish()
    }
}

struct HostProtect {
    host: Arc<dyn Host>,
    counters: Arc<Counters>,
}

impl Protect for HostProtect {
    fn protect(&self, fd: RawFd) -> io::Result<()> {
        if self.host.protect(fd) {
            Ok(())
        } else {
            self.counters
                .protect_failures
                .fetch_add(1, Ordering::Relaxed);
            Err(io::Error::other("VpnService.protect refused the socket"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_model::{Confidence, Destination, Encoding, Kind, Where};

    fn finding(direction: Direction) -> Finding {
        Finding {
            ts: UNIX_EPOCH,
            flow: 1,
            app: None,
            proto: Proto::Tcp,
            src: "10.111.0.2:40000".parse().unwrap(),
            dst: "10.201.0.2:80".parse().unwrap(),
            destination: Destination::default(),
            kind: Kind::Email,
            encoding: Encoding::Plain,
            digest_form: None,
            truncated: false,
            place: Where::Payload,
            direction,
            confidence: Confidence::Exact,
            evidence: String::new(),
            layers: Vec::new(),
            bytes_out: None,
            bytes_in: None,
            start: None,
            end: None,
        }
    }

    #[test]
    fn live_findings_count_what_was_sent_and_received_findings_apart() {
        let counters = Arc::new(Counters::default());
        let outbox = Arc::new(Outbox::new(Limits::default()));
        let mut sink = EventSink {
            outbox: outbox.clone(),
            counters: counters.clone(),
        };
        sink.finding(&finding(Direction::Out)).unwrap();
        sink.finding(&finding(Direction::In)).unwrap();
        sink.finding(&finding(Direction::In)).unwrap();
        assert_eq!(counters.findings.load(Ordering::Relaxed), 1);
        assert_eq!(counters.findings_received.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn discovered_identifiers_go_to_the_app_as_their_own_json_lines() {
        let outbox = Arc::new(Outbox::new(Limits::default()));
        let mut sink = EventSink {
            outbox: outbox.clone(),
            counters: Arc::default(),
        };
        let record = phonehome_model::Discovered {
            value: "5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84".into(),
            shape: "uuid".into(),
            keys: vec!["oaid".into()],
            apps: vec!["com.example".into()],
            domains: vec!["example.com".into(), "example.net".into()],
            hosts: vec!["a.example.com".into(), "b.example.net".into()],
            first_seen: UNIX_EPOCH,
            last_seen: UNIX_EPOCH,
            discovered: UNIX_EPOCH,
            flows: 3,
            sessions: 3,
            masked: "5f************************2e84".into(),
        };
        sink.discovered(&record).unwrap();
        let queued = outbox.take_all_for_test();
        assert_eq!(queued.len(), 1);
        let Line::Discovered(line) = &queued[0] else {
            panic!("not a discovered line: {queued:?}");
        };
        let json: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(json["value"], record.value);
        assert_eq!(json["keys"][0], "oaid");
        assert_eq!(json["sessions"], 3);
    }
}
