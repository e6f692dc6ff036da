//! The IO shell around [`phonehome_netstack`].
//!
//! One task owns the TUN and the stack: it reads packets, feeds them in, and writes what
//! the stack answers. Each flow's real socket lives in a task of its own that talks to
//! the stack task through one command channel. Backpressure is explicit both ways: the
//! stack hands a flow at most its up-window of client bytes until the upstream task
//! reports them written, and an upstream task reads from the server only as far as the
//! stack has taken earlier bytes (a semaphore counting bytes).
//!
//! Every outbound socket passes [`Protect::protect`] before it connects or sends.
//!
//! What crosses is only shown to an [`Observer`] (`phonehome-inspector` inspects it); the
//! relay itself does no analysis. With an [`Intercept`] configured, chosen TCP flows are
//! handed to it between the two sockets (TLS interception), and their plaintext is what
//! the observer sees.

mod intercept;
mod quic_gate;
mod upstream;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use phonehome_model::{Direction, FlowRecord, Proto, TlsMode};
use phonehome_netstack::{ConnectError, Event, FlowEnd, FlowId, Netstack};
use phonehome_tun::Tun;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::mpsc;

pub use intercept::{Intercept, InterceptedFlow, TapEvent, TapSink, TlsTap};
use quic_gate::{QuicGate, Verdict};
use upstream::{DatagramUpstream, DnsPending, TcpUpstream};

/// Lets an outbound socket bypass the VPN before it connects (Android: `VpnService.protect`).
pub trait Protect: Send + Sync + 'static {
    fn protect(&self, fd: RawFd) -> io::Result<()>;
}

/// On Linux the monitor's sockets live in another network namespace than the TUN's
/// routes, so nothing needs protecting.
#[derive(Debug, Default)]
pub struct NoProtect;

impl Protect for NoProtect {
    fn protect(&self, _fd: RawFd) -> io::Result<()> {
        Ok(())
    }
}

/// Watches the relayed traffic: flow starts, copies of the bytes each way, flow ends.
/// The relay calls it from its packet loop, so an implementation must only hand things
/// off (to a thread, a channel) and never block or take long.
pub trait Observer: Send {
    fn flow_start(&mut self, id: FlowId, proto: Proto, src: SocketAddr, dst: SocketAddr);
    /// Payload bytes in order (TCP) or one datagram (UDP). `Bytes` clones are cheap.
    fn data(&mut self, id: FlowId, direction: Direction, data: &Bytes);
    fn flow_end(&mut self, record: FlowRecord);
    /// An IP packet as it crossed the TUN: `Out` read from it, `In` written to it.
    fn packet(&mut self, _direction: Direction, _packet: &[u8]) {}
    /// The relay finished one round of packets and events.
    fn round_done(&mut self) {}
    /// What TLS interception did with a TCP flow (between its start and its end). After
    /// [`TlsMode::Intercepted`], `data` carries the flow's plaintext, not its ciphertext.
    fn tls_mode(&mut self, _id: FlowId, _mode: TlsMode) {}
    /// An SSLKEYLOGFILE line for an intercepted flow's TLS session with the client, before
    /// the packets it decrypts.
    fn tls_secret(&mut self, _id: FlowId, _line: &str) {}
    /// The relay is stopping: write out everything.
    fn finish(&mut self) -> io::Result<()>;
}

/// DNS the watched side sends to `listen` addresses is forwarded to `upstream`. A UDP
/// query the upstream resolver cannot take (no route, ICMP unreachable) or leaves
/// unanswered for [`DNS_ANSWER_TIMEOUT`] is answered SERVFAIL by the relay.
#[derive(Debug, Clone)]
pub struct DnsForward {
    pub listen: Vec<IpAddr>,
    pub upstream: SocketAddr,
}

/// How long a query forwarded to the upstream resolver waits before the client gets
/// SERVFAIL. Under the 5 s a stub resolver waits for one try (glibc's RES_TIMEOUT,
/// Android's DnsResolver), so the client hears of the failure before it gives up on that
/// try, and well over the second or two a resolver takes to recurse for a name on a
/// cold cache, so a slow but working upstream still answers. (A late answer still
/// reaches the client, which has moved on.)
pub const DNS_ANSWER_TIMEOUT: Duration = Duration::from_secs(4);

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub stack: phonehome_netstack::Config,
    pub dns: Option<DnsForward>,
    /// How long an upstream TCP connect may take before the client is refused.
    pub connect_timeout: Duration,
    /// TLS interception, when switched on.
    pub intercept: Option<Arc<dyn Intercept>>,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            stack: phonehome_netstack::Config::default(),
            dns: None,
            connect_timeout: Duration::from_secs(30),
            intercept: None,
        }
    }
}

/// What a run did, for logs and the CLI.
#[derive(Debug, Default, Clone)]
pub struct RelayStats {
    pub stack: phonehome_netstack::Stats,
    /// Packets the TUN would not take.
    pub tun_write_errors: u64,
    /// Records the observer failed to write.
    pub record_errors: u64,
    /// Set when the TUN itself failed (e.g. its namespace went away) and ended the run.
    pub tun_closed: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("cannot use the TUN device: {0}")]
    Tun(io::Error),
}

/// What upstream tasks tell the stack task.
#[derive(Debug)]
pub(crate) enum Command {
    Connected(FlowId),
    ConnectFailed(FlowId, ConnectError),
    Written(FlowId, usize),
    Down(FlowId, Bytes),
    DownEof(FlowId),
    DownReset(FlowId),
    UdpReply(FlowId, Bytes),
    EchoReply(FlowId, u16, Bytes),
    DatagramFailed(FlowId),
    Tap(FlowId, TapEvent),
}

/// Every flow holds one socket: lift the soft limit on open files (often 1024) towards
/// the hard one so that `max_flows` flows fit. Best effort; a connect beyond the limit
/// fails like any other and the client gets a RST.
fn raise_fd_limit(max_flows: usize) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return;
        }
        let wanted = (max_flows as libc::rlim_t)
            .saturating_add(256)
            .min(limit.rlim_max);
        if wanted > limit.rlim_cur {
            limit.rlim_cur = wanted;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                log::warn!(
                    "cannot raise the open-file limit: {}",
                    io::Error::last_os_error()
                );
            }
        }
    }
}

/// Each TCP flow gets 256 KiB socket buffers that an idle connection never touches. glibc
/// hands out such blocks with mmap (fresh, zero, not yet resident) until a free of a large
/// block raises its dynamic threshold; after that it carves them from the heap and calloc
/// writes the zeros, so every idle connection cost 281 KiB of RSS instead of 28. A fixed
/// threshold keeps them mmap'd. (Android's allocator maps large blocks anyway.)
fn keep_flow_buffers_lazy() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; any value is valid.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Hands freed heap pages back to the system. glibc keeps what many closed flows freed
/// (their small allocations leave holes it never returns by itself): after 5,000
/// connections came and went, 60 of the 100 MB stayed resident. A trim then takes a few
/// milliseconds (9 after 5,000 flows), so it runs once per crowd that thinned out.
/// (Android's allocator returns freed pages by itself.)
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Relays until `shutdown` completes (or the TUN fails), then ends every flow, records
/// it, and finishes `observer`.
pub async fn run(
    tun: Tun,
    config: RelayConfig,
    protect: Arc<dyn Protect>,
    observer: Box<dyn Observer>,
    shutdown: impl Future<Output = ()>,
) -> Result<RelayStats, RelayError> {
    raise_fd_limit(config.stack.max_flows);
    keep_flow_buffers_lazy();
    tun.set_nonblocking(true).map_err(RelayError::Tun)?;
    // SAFETY: `Tun` owns its fd and returns that same fd from `as_raw_fd` until dropped.
    let tun = unsafe { AsyncFd::register_with_interest(tun, Interest::READABLE) }
        .map_err(|e| RelayError::Tun(io::Error::other(e.to_string())))?;
    let (commands, mut inbox) = mpsc::unbounded_channel();
    let mut relay = Relay {
        stack: Netstack::new(config.stack.clone(), Instant::now()),
        tcp: HashMap::new(),
        intercepted: HashSet::new(),
        quic_gates: HashMap::new(),
        quic_dropped: HashSet::new(),
        datagrams: HashMap::new(),
        commands,
        protect,
        config,
        clock: WallClock::new(),
        stats: RelayStats::default(),
        observer,
        trim: TrimPolicy::default(),
    };
    let mut buf = vec![0u8; relay.config.stack.mtu.max(1500) + 64];
    tokio::pin!(shutdown);

    loop {
        let deadline = relay.stack.poll_at(Instant::now());
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            ready = tun.readable() => match ready {
                Ok(mut guard) => {
                    // Read a batch, so one stack poll serves many packets.
                    for _ in 0..64 {
                        match guard.try_io(|fd| fd.get_ref().recv(&mut buf)) {
                            Ok(Ok(n)) => {
                                relay.observer.packet(Direction::Out, &buf[..n]);
                                let _ = relay.stack.receive(Instant::now(), &buf[..n]);
                            }
                            Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                            Ok(Err(e)) => {
                                relay.stats.tun_closed = Some(e.to_string());
                                break;
                            }
                            Err(_would_block) => break,
                        }
                    }
                }
                Err(e) => relay.stats.tun_closed = Some(e.to_string()),
            },
            Some(command) = inbox.recv() => relay.command(command),
            () = sleep_until(deadline), if deadline.is_some() => {}
        }
        if relay.stats.tun_closed.is_some() {
            log::warn!(
                "TUN device failed, stopping: {}",
                relay.stats.tun_closed.as_deref().unwrap_or_default()
            );
            break;
        }
        // Whatever else is waiting, then one poll for all of it.
        for _ in 0..1024 {
            match inbox.try_recv() {
                Ok(command) => relay.command(command),
                Err(_) => break,
            }
        }
        relay.stack.poll(Instant::now());
        relay.drain(&tun);
        relay.observer.round_done();
    }

    relay.stack.shutdown(Instant::now());
    relay.drain(&tun);
    if let Err(e) = relay.observer.finish() {
        log::warn!("cannot write the records: {e}");
        relay.stats.record_errors += 1;
    }
    let mut stats = relay.stats;
    stats.stack = relay.stack.stats();
    Ok(stats)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Maps the stack's monotonic instants to wall-clock times for records.
struct WallClock {
    mono: Instant,
    wall: SystemTime,
}

impl WallClock {
    fn new() -> Self {
        Self {
            mono: Instant::now(),
            wall: SystemTime::now(),
        }
    }

    fn at(&self, t: Instant) -> SystemTime {
        match t.checked_duration_since(self.mono) {
            Some(d) => self.wall + d,
            None => self.wall - self.mono.duration_since(t),
        }
    }
}

struct Relay {
    stack: Netstack,
    tcp: HashMap<FlowId, TcpUpstream>,
    /// Intercepted flows: the observer gets their plaintext, not their ciphertext.
    intercepted: HashSet<FlowId>,
    /// UDP flows to port 443 whose QUIC Initial has not named its server yet (only while
    /// intercepting): their datagrams are held, not sent.
    quic_gates: HashMap<FlowId, QuicGate>,
    /// QUIC flows dropped because their host is intercepted over TCP.
    quic_dropped: HashSet<FlowId>,
    datagrams: HashMap<FlowId, DatagramUpstream>,
    commands: mpsc::UnboundedSender<Command>,
    protect: Arc<dyn Protect>,
    config: RelayConfig,
    clock: WallClock,
    stats: RelayStats,
    observer: Box<dyn Observer>,
    trim: TrimPolicy,
}

/// When to give freed memory back: once a crowd of flows (TCP, UDP, echo) has thinned
/// to a quarter.
#[derive(Debug, Default)]
struct TrimPolicy {
    /// Most flows open at once since the last trim.
    peak: usize,
}

impl TrimPolicy {
    /// Fewer flows than this free too little to be worth a trim.
    const CROWD: usize = 512;

    fn opened(&mut self, open: usize) {
        self.peak = self.peak.max(open);
    }

    /// Whether to trim now, `open` flows being left.
    fn closed(&mut self, open: usize) -> bool {
        let trim = self.peak >= Self::CROWD && open <= self.peak / 4;
        if trim {
            self.peak = open;
        }
        trim
    }
}

impl Relay {
    fn command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Connected(id) => self.stack.tcp_connected(now, id),
            Command::ConnectFailed(id, e) => self.stack.tcp_connect_failed(now, id, e),
            Command::Written(id, n) => self.stack.tcp_written(id, n),
            Command::Down(id, data) => {
                if !self.intercepted.contains(&id) {
                    self.observer.data(id, Direction::In, &data);
                }
                self.stack.tcp_send(now, id, data)
            }
            Command::DownEof(id) => self.stack.tcp_server_eof(id),
            Command::DownReset(id) => self.stack.tcp_server_reset(id),
            Command::UdpReply(id, data) => {
                self.observer.data(id, Direction::In, &data);
                self.stack.udp_reply(now, id, &data)
            }
            Command::EchoReply(id, seq, data) => self.stack.echo_reply(now, id, seq, &data),
            Command::DatagramFailed(id) => self.stack.datagram_failed(now, id),
            Command::Tap(id, event) => self.tap(id, event),
        }
    }

    /// What an interceptor says about a flow that is still open.
    fn tap(&mut self, id: FlowId, event: TapEvent) {
        if !self.tcp.contains_key(&id) {
            return;
        }
        match event {
            TapEvent::Mode(mode) => {
                if mode == TlsMode::Intercepted {
                    self.intercepted.insert(id);
                }
                self.observer.tls_mode(id, mode);
            }
            TapEvent::Plaintext(direction, data) => {
                if self.intercepted.contains(&id) {
                    self.observer.data(id, direction, &data);
                }
            }
            TapEvent::Secret(line) => self.observer.tls_secret(id, &line),
        }
    }

    /// Where a flow to `dst` really goes: DNS to the monitor's own address is forwarded.
    fn upstream_of(&self, dst: SocketAddr) -> SocketAddr {
        match &self.config.dns {
            Some(dns) if self.is_monitor_dns(dst) => dns.upstream,
            _ => dst,
        }
    }

    /// Whether `dst` is the monitor's own resolver (port 53 of a DNS address).
    fn is_monitor_dns(&self, dst: SocketAddr) -> bool {
        matches!(&self.config.dns, Some(dns) if dst.port() == 53 && dns.listen.contains(&dst.ip()))
    }

    /// Only DNS on port 53 lives at the monitor's own DNS addresses; anything else there is
    /// refused at once. Android's opportunistic Private DNS first tries DNS-over-TLS on
    /// port 853 of the VPN's DNS server: refused, it falls back to port 53, where the
    /// names are seen.
    fn is_monitor_only(&self, dst: SocketAddr) -> bool {
        matches!(&self.config.dns, Some(dns) if dst.port() != 53 && dns.listen.contains(&dst.ip()))
    }

    /// Acts on the stack's events and writes its packets to the TUN.
    fn drain(&mut self, tun: &AsyncFd<Tun>) {
        while let Some(event) = self.stack.pop_event() {
            match event {
                Event::TcpConnect { id, src, dst } => {
                    self.observer.flow_start(id, Proto::Tcp, src, dst);
                    if self.is_monitor_only(dst) {
                        let _ = self
                            .commands
                            .send(Command::ConnectFailed(id, ConnectError::Refused));
                        continue;
                    }
                    let target = self.upstream_of(dst);
                    let intercept = self
                        .config
                        .intercept
                        .as_ref()
                        .filter(|i| target == dst && i.wants(src, dst))
                        .cloned();
                    let upstream = TcpUpstream::spawn(
                        id,
                        (src, target),
                        intercept,
                        self.config.connect_timeout,
                        self.protect.clone(),
                        self.commands.clone(),
                        self.config.stack.tcp_tx_buffer,
                    );
                    self.tcp.insert(id, upstream);
                    self.trim.opened(self.open_flows());
                }
                Event::TcpData { id, data } => {
                    if !self.intercepted.contains(&id) {
                        self.observer.data(id, Direction::Out, &data);
                    }
                    if let Some(up) = self.tcp.get(&id) {
                        up.send(data);
                    }
                }
                Event::TcpEof { id } => {
                    if let Some(up) = self.tcp.get(&id) {
                        up.finish();
                    }
                }
                Event::TcpSent { id, len } => {
                    if let Some(up) = self.tcp.get(&id) {
                        up.taken(len);
                    }
                }
                Event::UdpSend { id, src, dst, data } => {
                    if self.gates_quic(id, dst) {
                        self.gate_quic(id, src, dst, data);
                        continue;
                    }
                    if !self.datagrams.contains_key(&id) {
                        let target = self.upstream_of(dst);
                        let dns = self.is_monitor_dns(dst).then(|| {
                            Arc::new(DnsPending::new(id, DNS_ANSWER_TIMEOUT, &self.commands))
                        });
                        let opened =
                            DatagramUpstream::udp(id, target, &*self.protect, &self.commands, dns);
                        if opened.is_err() && self.is_monitor_dns(dst) {
                            // No socket to the resolver (no route to it): the query
                            // is answered at once.
                            if let Some(servfail) = phonehome_inspect::dns::servfail(&data) {
                                self.stack.udp_reply(Instant::now(), id, &servfail);
                            }
                        }
                        self.open_datagram(id, Proto::Udp, src, dst, opened, true);
                    }
                    if let Some(up) = self.datagrams.get(&id) {
                        self.observer.data(id, Direction::Out, &data);
                        up.send(&data);
                    }
                }
                Event::EchoRequest {
                    id,
                    src,
                    dst,
                    seq,
                    data,
                } => {
                    if !self.datagrams.contains_key(&id) {
                        let opened =
                            DatagramUpstream::echo(id, dst, &*self.protect, &self.commands);
                        let (src, dst) = (SocketAddr::new(src, 0), SocketAddr::new(dst, 0));
                        self.open_datagram(id, Proto::Icmp, src, dst, opened, true);
                    }
                    if let Some(up) = self.datagrams.get(&id) {
                        up.send_echo(seq, &data);
                    }
                }
                Event::Closed(end) => self.closed(end),
            }
        }
        while let Some(packet) = self.stack.pop_packet() {
            self.observer.packet(Direction::In, &packet);
            if let Err(e) = tun.get_ref().send(&packet) {
                self.stats.tun_write_errors += 1;
                log::debug!("TUN write failed: {e}");
            }
        }
    }

    /// Flows with an upstream socket.
    fn open_flows(&self) -> usize {
        self.tcp.len() + self.datagrams.len()
    }

    /// `announce`: the observer has not been told of the flow yet.
    fn open_datagram(
        &mut self,
        id: FlowId,
        proto: Proto,
        src: SocketAddr,
        dst: SocketAddr,
        opened: io::Result<DatagramUpstream>,
        announce: bool,
    ) {
        match opened {
            Ok(up) => {
                if announce {
                    self.observer.flow_start(id, proto, src, dst);
                }
                self.datagrams.insert(id, up);
                self.trim.opened(self.open_flows());
            }
            Err(e) => {
                log::debug!("flow {id}: cannot open a {proto:?} socket: {e}");
                self.stack.datagram_failed(Instant::now(), id);
            }
        }
    }

    /// Whether this client datagram belongs to a QUIC flow interception decides on
    /// (still undecided, or dropped), rather than to an ordinary UDP flow.
    fn gates_quic(&self, id: FlowId, dst: SocketAddr) -> bool {
        if self.quic_gates.contains_key(&id) || self.quic_dropped.contains(&id) {
            return true;
        }
        let new = !self.datagrams.contains_key(&id);
        new && dst.port() == 443 && self.config.intercept.is_some() && !self.is_monitor_dns(dst)
    }

    /// One client datagram of a QUIC flow to port 443 while intercepting: held until its
    /// Initial names the server, then the flow is dropped (interception wants that host
    /// over TCP) or relayed as any UDP flow.
    fn gate_quic(&mut self, id: FlowId, src: SocketAddr, dst: SocketAddr, data: Bytes) {
        // The observer sees what the client sent either way: it names the flow.
        if !self.quic_gates.contains_key(&id) && !self.quic_dropped.contains(&id) {
            self.observer.flow_start(id, Proto::Udp, src, dst);
            self.quic_gates.insert(id, QuicGate::new());
        }
        self.observer.data(id, Direction::Out, &data);
        let Some(gate) = self.quic_gates.get_mut(&id) else {
            return; // dropped
        };
        let intercept = self.config.intercept.clone();
        let verdict = gate.push(data, |host| {
            intercept.is_some_and(|i| i.drops_quic(src, dst, host))
        });
        match verdict {
            Verdict::Hold => {}
            Verdict::Drop => {
                self.quic_gates.remove(&id);
                self.quic_dropped.insert(id);
                log::debug!("flow {id}: QUIC to an intercepted host dropped");
                self.observer.tls_mode(id, TlsMode::QuicDropped);
            }
            Verdict::Pass(held) => {
                self.quic_gates.remove(&id);
                let opened = DatagramUpstream::udp(id, dst, &*self.protect, &self.commands, None);
                self.open_datagram(id, Proto::Udp, src, dst, opened, false);
                if let Some(up) = self.datagrams.get(&id) {
                    held.iter().for_each(|d| up.send(d));
                }
            }
        }
    }

    fn closed(&mut self, end: FlowEnd) {
        self.intercepted.remove(&end.id);
        self.quic_gates.remove(&end.id);
        self.quic_dropped.remove(&end.id);
        let had_tcp = match self.tcp.remove(&end.id) {
            Some(up) => {
                up.close(end.reason != phonehome_model::CloseReason::Closed);
                true
            }
            None => false,
        };
        let had_datagram = self.datagrams.remove(&end.id).is_some();
        if (had_tcp || had_datagram) && self.trim.closed(self.open_flows()) {
            return_freed_memory();
        }
        let record = FlowRecord {
            flow: end.id,
            proto: end.proto,
            src: end.src,
            dst: end.dst,
            bytes_out: end.bytes_out,
            bytes_in: end.bytes_in,
            start: self.clock.at(end.start),
            end: self.clock.at(end.end),
            close: end.reason,
            app: None,
            destination: Default::default(),
        };
        self.observer.flow_end(record);
    }
}

#[cfg(test)]
mod tests {
    use super::TrimPolicy;

    /// Opens `n` flows one by one, then closes them all, counting the trims.
    fn crowd_comes_and_goes(policy: &mut TrimPolicy, n: usize) -> usize {
        (1..=n).for_each(|open| policy.opened(open));
        (0..n).rev().filter(|&open| policy.closed(open)).count()
    }

    #[test]
    fn memory_is_given_back_when_a_crowd_of_flows_thins_out() {
        let mut policy = TrimPolicy::default();
        // 5,000 -> 1,250 left: trim; the new peak 1,250 -> 312 left: trim; then too few.
        assert_eq!(crowd_comes_and_goes(&mut policy, 5_000), 2);
        assert_eq!(crowd_comes_and_goes(&mut policy, 600), 1);
    }

    #[test]
    fn small_numbers_of_flows_never_trim() {
        let mut policy = TrimPolicy::default();
        for _ in 0..100 {
            assert_eq!(crowd_comes_and_goes(&mut policy, 511), 0);
        }
    }

    #[test]
    fn flows_that_stay_open_hold_the_trim_back() {
        let mut policy = TrimPolicy::default();
        (1..=1_000).for_each(|open| policy.opened(open));
        assert!((251..1_000).rev().all(|open| !policy.closed(open)));
        assert!(policy.closed(250));
    }
}
