//! A sans-IO userspace TCP/IP stack for a TUN device.
//!
//! The shell feeds it the packets read from the TUN ([`Netstack::receive`]), the results
//! of its upstream sockets (`tcp_connected`, `tcp_send`, `udp_reply`, ...), and the time.
//! The stack answers with packets to write to the TUN ([`Netstack::pop_packet`]) and
//! [`Event`]s telling the shell what to do upstream. It opens no socket, reads no clock
//! and never blocks, so all of it is tested with plain byte arrays.
//!
//! - TCP: a smoltcp socket per flow, in a socket set of its own that is polled only when
//!   the flow has work (packets, commands, a due timer), so a packet costs the same with
//!   one flow open or thousands. A client's SYN is held until the shell has connected
//!   upstream; only then is the socket created and the SYN fed to it, so a refused or
//!   unreachable destination is refused to the client too, never "connected then reset".
//! - UDP and ICMP echo bypass smoltcp: a NAT table maps each (client, destination) to a
//!   flow the shell serves with its own socket.

mod device;
pub mod packet;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use smoltcp::iface::{Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::wire::{HardwareAddress, IpCidr};

pub use phonehome_model::{CloseReason, Proto};

use device::QueueDevice;
pub use packet::DropReason;
use packet::Parsed;

/// Identifies a flow for the lifetime of one stack.
pub type FlowId = u64;

/// Tunables of the stack.
#[derive(Debug, Clone)]
pub struct Config {
    /// The TUN's MTU: the largest packet either way, and the MSS smoltcp advertises.
    pub mtu: usize,
    /// Most flows (TCP + UDP + ICMP) at once; a SYN beyond it is refused with RST.
    pub max_flows: usize,
    /// Per-flow receive buffer. Above 64 KiB so that window scaling is on.
    pub tcp_rx_buffer: usize,
    /// Per-flow send buffer (server bytes waiting for the client's ACK).
    pub tcp_tx_buffer: usize,
    /// Client bytes handed to the shell but not yet written upstream, per flow. Past it
    /// the stack stops reading, the receive window closes, and the client slows down.
    pub tcp_up_window: usize,
    /// A TCP flow with no traffic either way for this long is reset on both sides.
    pub tcp_idle: Duration,
    /// UDP flows to port 53 are forgotten after this long without traffic.
    pub dns_idle: Duration,
    /// Other UDP flows are forgotten after this long without traffic.
    pub udp_idle: Duration,
    /// Echo flows are forgotten after this long without traffic.
    pub icmp_idle: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mtu: 1500,
            max_flows: 8192,
            tcp_rx_buffer: 256 * 1024,
            tcp_tx_buffer: 256 * 1024,
            tcp_up_window: 256 * 1024,
            tcp_idle: Duration::from_secs(2 * 3600),
            dns_idle: Duration::from_secs(10),
            udp_idle: Duration::from_secs(120),
            icmp_idle: Duration::from_secs(10),
        }
    }
}

/// Why the shell could not connect upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectError {
    /// The destination answered with RST.
    Refused,
    /// No route to the network (ENETUNREACH).
    NoRoute,
    /// The host did not answer (EHOSTUNREACH).
    Unreachable,
    /// The shell's connect timeout ran out.
    Timeout,
}

/// What the shell must do upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A client asked for a new TCP connection: connect to `dst`, then call
    /// [`Netstack::tcp_connected`] or [`Netstack::tcp_connect_failed`].
    TcpConnect {
        id: FlowId,
        src: SocketAddr,
        dst: SocketAddr,
    },
    /// Client bytes, in order, to write upstream; call [`Netstack::tcp_written`] once
    /// they are written.
    TcpData { id: FlowId, data: Bytes },
    /// The client finished sending (all `TcpData` came before): shut down the upstream
    /// write side.
    TcpEof { id: FlowId },
    /// The stack took `len` more bytes given with [`Netstack::tcp_send`] into its send
    /// buffer: the shell may read that much more from upstream.
    TcpSent { id: FlowId, len: usize },
    /// A datagram for `dst`; the first of a flow asks the shell to open its socket.
    UdpSend {
        id: FlowId,
        src: SocketAddr,
        dst: SocketAddr,
        data: Bytes,
    },
    /// An echo request for `dst`; answer with [`Netstack::echo_reply`].
    EchoRequest {
        id: FlowId,
        src: IpAddr,
        dst: IpAddr,
        seq: u16,
        data: Bytes,
    },
    /// The flow is gone from the stack: drop its upstream socket. For TCP, reset it
    /// unless `reason` is [`CloseReason::Closed`].
    Closed(FlowEnd),
}

/// The summary of a finished flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowEnd {
    pub id: FlowId,
    pub proto: Proto,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub start: Instant,
    pub end: Instant,
    pub reason: CloseReason,
}

/// Counters since the stack started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub packets_in: u64,
    pub packets_out: u64,
    pub malformed: u64,
    pub unsupported: u64,
    pub flow_limit: u64,
    pub too_big: u64,
    pub tcp_flows: u64,
    pub udp_flows: u64,
    pub icmp_flows: u64,
    pub open_flows: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Tcp(SocketAddr, SocketAddr),
    Udp(SocketAddr, SocketAddr),
    Echo(IpAddr, IpAddr, u16),
}

#[derive(Debug)]
struct Flow {
    key: Key,
    src: SocketAddr,
    dst: SocketAddr,
    start: Instant,
    last_active: Instant,
    bytes_out: u64,
    bytes_in: u64,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Tcp(TcpFlow),
    Udp,
    Echo { ident: u16 },
}

#[derive(Debug)]
enum TcpFlow {
    /// Waiting for the upstream connect; holds the client's latest SYN.
    Connecting {
        syn: Vec<u8>,
    },
    Open(Box<OpenTcp>),
}

#[derive(Debug)]
struct OpenTcp {
    /// The flow's smoltcp socket, alone in a set of its own. smoltcp walks every socket of
    /// a set for each packet it sends, so with one shared set 300 idle connections cut a
    /// download to half. Polling a flow's own set costs the same however many flows exist.
    set: SocketSet<'static>,
    handle: SocketHandle,
    /// Client packets for the flow's next poll.
    inbox: Vec<Vec<u8>>,
    /// Listed in `Netstack::due`.
    due: bool,
    /// When smoltcp next wants the socket polled (retransmission, TIME-WAIT), as queued
    /// in `Netstack::timers`.
    timer: Option<Instant>,
    /// Client bytes the shell may still be handed before it reports them written.
    up_credit: usize,
    /// Server bytes given by the shell, not yet in smoltcp's send buffer.
    down: VecDeque<Bytes>,
    down_eof: bool,
    /// The client's FIN arrived; its bytes may still wait for upstream credit.
    client_fin: bool,
    /// After the client's FIN, its bytes still waiting for credit.
    tail: Bytes,
    /// The client's FIN was reported as `TcpEof`, after all its bytes.
    up_eof: bool,
    /// Our FIN was queued.
    closing: bool,
    /// Set when the stack or the shell, not the client, ends the flow.
    reason: Option<CloseReason>,
}

/// The stack. See the crate documentation.
pub struct Netstack {
    config: Config,
    epoch: Instant,
    iface: Interface,
    device: QueueDevice,
    flows: HashMap<FlowId, Flow>,
    keys: HashMap<Key, FlowId>,
    next_id: FlowId,
    /// No idle deadline falls before this.
    next_sweep: Option<Instant>,
    events: VecDeque<Event>,
    /// Open TCP flows with packets, commands or an expired timer since their last poll.
    due: Vec<FlowId>,
    /// smoltcp's timers, soonest first. An entry whose flow is gone or whose timer moved
    /// is stale and skipped.
    timers: BinaryHeap<Reverse<(Instant, FlowId)>>,
    /// Segments of no flow, answered with RST by smoltcp from `no_sockets`.
    strays: Vec<Vec<u8>>,
    no_sockets: SocketSet<'static>,
    stats: Stats,
}

impl std::fmt::Debug for Netstack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Netstack")
            .field("flows", &self.flows.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Netstack {
    /// A stack whose clock starts at `now`.
    pub fn new(config: Config, now: Instant) -> Self {
        let mut device = QueueDevice::new(config.mtu);
        let mut iface_config = smoltcp::iface::Config::new(HardwareAddress::Ip);
        iface_config.random_seed = seed(now);
        let mut iface = Interface::new(iface_config, &mut device, smoltcp::time::Instant::ZERO);
        // Accept every destination, and reach every client directly: a /0 network on
        // each family makes every address "on link", so no route lookup can fail.
        iface.set_any_ip(true);
        iface.update_ip_addrs(|addrs| {
            let v4 = IpCidr::new(Ipv4Addr::new(0, 0, 0, 1).into(), 0);
            let v6 = IpCidr::new(
                Ipv6Addr::new(0xfd70, 0x686f, 0x6e65, 0, 0, 0, 0, 1).into(),
                0,
            );
            // Two addresses always fit the interface's fixed-size list.
            let _ = addrs.push(v4);
            let _ = addrs.push(v6);
        });
        Self {
            config,
            epoch: now,
            iface,
            device,
            flows: HashMap::new(),
            keys: HashMap::new(),
            next_id: 1,
            next_sweep: None,
            events: VecDeque::new(),
            due: Vec::new(),
            timers: BinaryHeap::new(),
            strays: Vec::new(),
            no_sockets: SocketSet::new(Vec::new()),
            stats: Stats::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn stats(&self) -> Stats {
        Stats {
            open_flows: self.flows.len() as u64,
            ..self.stats.clone()
        }
    }

    /// Takes one packet read from the TUN. Packets the stack cannot use are dropped and
    /// counted; the reason is returned for the caller's curiosity.
    pub fn receive(&mut self, now: Instant, packet: &[u8]) -> Result<(), DropReason> {
        self.stats.packets_in += 1;
        let result = match packet::parse(packet) {
            Ok(Parsed::Tcp {
                src,
                dst,
                syn,
                ack,
                rst,
                seq,
                seq_len,
            }) => self.receive_tcp(now, packet, src, dst, syn && !ack && !rst, (seq, seq_len)),
            Ok(Parsed::Udp { src, dst, payload }) => self.receive_udp(now, src, dst, payload),
            Ok(Parsed::EchoRequest {
                src,
                dst,
                ident,
                seq,
                data,
            }) => self.receive_echo(now, src, dst, ident, seq, data),
            Err(reason) => Err(reason),
        };
        if let Err(reason) = result {
            self.count_drop(reason);
        }
        result
    }

    fn count_drop(&mut self, reason: DropReason) {
        match reason {
            DropReason::Malformed => self.stats.malformed += 1,
            DropReason::Unsupported => self.stats.unsupported += 1,
            DropReason::FlowLimit => self.stats.flow_limit += 1,
            DropReason::TooBig => self.stats.too_big += 1,
        }
    }

    fn receive_tcp(
        &mut self,
        now: Instant,
        packet: &[u8],
        src: SocketAddr,
        dst: SocketAddr,
        is_syn: bool,
        (seq, seq_len): (u32, u32),
    ) -> Result<(), DropReason> {
        let key = Key::Tcp(src, dst);
        if let Some(&id) = self.keys.get(&key) {
            let Some(flow) = self.flows.get_mut(&id) else {
                return Ok(());
            };
            flow.last_active = now;
            match &mut flow.kind {
                // A retransmitted SYN while connecting: keep the newest, create nothing.
                Kind::Tcp(TcpFlow::Connecting { syn }) if is_syn => {
                    syn.clear();
                    syn.extend_from_slice(packet);
                }
                // The client gave up (RST) or misbehaves before we answered its SYN;
                // the shell's connect result will find the flow gone.
                Kind::Tcp(TcpFlow::Connecting { .. }) => {
                    if packet::parse(packet)
                        .is_ok_and(|p| matches!(p, Parsed::Tcp { rst: true, .. }))
                    {
                        self.finish(id, now, CloseReason::ClientReset);
                    }
                }
                Kind::Tcp(TcpFlow::Open(open)) => {
                    open.inbox.push(packet.to_vec());
                    mark_due(&mut self.due, id, open);
                }
                Kind::Udp | Kind::Echo { .. } => {}
            }
            return Ok(());
        }
        if !is_syn {
            // Not ours (a stale flow, a stray segment): smoltcp answers it with RST.
            self.strays.push(packet.to_vec());
            return Ok(());
        }
        if self.flows.len() >= self.config.max_flows {
            if let Some(rst) = packet::tcp_refusal(src, dst, seq, seq_len) {
                self.push_packet(rst);
            }
            let id = self.new_id();
            self.events.push_back(Event::Closed(FlowEnd {
                id,
                proto: Proto::Tcp,
                src,
                dst,
                bytes_out: 0,
                bytes_in: 0,
                start: now,
                end: now,
                reason: CloseReason::FlowLimit,
            }));
            return Err(DropReason::FlowLimit);
        }
        let id = self.insert(
            now,
            key,
            src,
            dst,
            Kind::Tcp(TcpFlow::Connecting {
                syn: packet.to_vec(),
            }),
        );
        self.stats.tcp_flows += 1;
        self.events.push_back(Event::TcpConnect { id, src, dst });
        Ok(())
    }

    fn receive_udp(
        &mut self,
        now: Instant,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
    ) -> Result<(), DropReason> {
        let key = Key::Udp(src, dst);
        let id = match self.keys.get(&key) {
            Some(&id) => id,
            None => {
                if self.flows.len() >= self.config.max_flows {
                    return Err(DropReason::FlowLimit);
                }
                self.stats.udp_flows += 1;
                self.insert(now, key, src, dst, Kind::Udp)
            }
        };
        if let Some(flow) = self.flows.get_mut(&id) {
            flow.last_active = now;
            flow.bytes_out += payload.len() as u64;
        }
        self.events.push_back(Event::UdpSend {
            id,
            src,
            dst,
            data: Bytes::copy_from_slice(payload),
        });
        Ok(())
    }

    fn receive_echo(
        &mut self,
        now: Instant,
        src: IpAddr,
        dst: IpAddr,
        ident: u16,
        seq: u16,
        data: &[u8],
    ) -> Result<(), DropReason> {
        let key = Key::Echo(src, dst, ident);
        let id = match self.keys.get(&key) {
            Some(&id) => id,
            None => {
                if self.flows.len() >= self.config.max_flows {
                    return Err(DropReason::FlowLimit);
                }
                self.stats.icmp_flows += 1;
                let (s, d) = (SocketAddr::new(src, 0), SocketAddr::new(dst, 0));
                self.insert(now, key, s, d, Kind::Echo { ident })
            }
        };
        if let Some(flow) = self.flows.get_mut(&id) {
            flow.last_active = now;
            flow.bytes_out += data.len() as u64;
        }
        self.events.push_back(Event::EchoRequest {
            id,
            src,
            dst,
            seq,
            data: Bytes::copy_from_slice(data),
        });
        Ok(())
    }

    fn new_id(&mut self) -> FlowId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn insert(
        &mut self,
        now: Instant,
        key: Key,
        src: SocketAddr,
        dst: SocketAddr,
        kind: Kind,
    ) -> FlowId {
        let id = self.new_id();
        let idle = self.idle_timeout(&kind, dst);
        self.flows.insert(
            id,
            Flow {
                key,
                src,
                dst,
                start: now,
                last_active: now,
                bytes_out: 0,
                bytes_in: 0,
                kind,
            },
        );
        self.keys.insert(key, id);
        let deadline = now + idle;
        self.next_sweep = Some(self.next_sweep.map_or(deadline, |d| d.min(deadline)));
        id
    }

    fn idle_timeout(&self, kind: &Kind, dst: SocketAddr) -> Duration {
        match kind {
            Kind::Tcp(_) => self.config.tcp_idle,
            Kind::Udp if dst.port() == 53 => self.config.dns_idle,
            Kind::Udp => self.config.udp_idle,
            Kind::Echo { .. } => self.config.icmp_idle,
        }
    }

    /// The upstream connection of flow `id` is up: answer the client's SYN.
    pub fn tcp_connected(&mut self, now: Instant, id: FlowId) {
        let Some(flow) = self.flows.get_mut(&id) else {
            return;
        };
        let Kind::Tcp(TcpFlow::Connecting { syn }) = &mut flow.kind else {
            return;
        };
        let syn = std::mem::take(syn);
        let dst = flow.dst;
        let mut socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; self.config.tcp_rx_buffer]),
            tcp::SocketBuffer::new(vec![0; self.config.tcp_tx_buffer]),
        );
        // A relay forwards what it gets at once; Nagle and delayed ACKs only add latency.
        socket.set_nagle_enabled(false);
        socket.set_ack_delay(None);
        // Without congestion control smoltcp sends the whole window at once; with many
        // busy flows those bursts overflow the kernel's input queue behind the TUN, and
        // the losses left some flows in retransmission backoff for minutes.
        socket.set_congestion_control(tcp::CongestionControl::Reno);
        if socket.listen(dst).is_err() {
            self.finish(id, now, CloseReason::Unreachable);
            return;
        }
        let mut set = SocketSet::new(Vec::with_capacity(1));
        let handle = set.add(socket);
        flow.kind = Kind::Tcp(TcpFlow::Open(Box::new(OpenTcp {
            set,
            handle,
            inbox: vec![syn],
            due: false,
            timer: None,
            up_credit: self.config.tcp_up_window,
            down: VecDeque::new(),
            down_eof: false,
            up_eof: false,
            client_fin: false,
            tail: Bytes::new(),
            closing: false,
            reason: None,
        })));
        self.poll_flow(now, id);
    }

    /// Connecting upstream failed: refuse the client the way the destination did.
    pub fn tcp_connect_failed(&mut self, now: Instant, id: FlowId, error: ConnectError) {
        let Some(Flow {
            kind: Kind::Tcp(TcpFlow::Connecting { syn }),
            ..
        }) = self.flows.get(&id)
        else {
            return;
        };
        let reply = match (error, packet::parse(syn)) {
            (ConnectError::NoRoute, _) => packet::unreachable(syn, true),
            (ConnectError::Unreachable, _) => packet::unreachable(syn, false),
            (
                ConnectError::Refused | ConnectError::Timeout,
                Ok(Parsed::Tcp {
                    src,
                    dst,
                    seq,
                    seq_len,
                    ..
                }),
            ) => packet::tcp_refusal(src, dst, seq, seq_len),
            _ => None,
        };
        if let Some(reply) = reply {
            self.push_packet(reply);
        }
        let reason = match error {
            ConnectError::Refused => CloseReason::Refused,
            ConnectError::NoRoute | ConnectError::Unreachable => CloseReason::Unreachable,
            ConnectError::Timeout => CloseReason::ConnectTimeout,
        };
        self.finish(id, now, reason);
    }

    /// The shell wrote `len` bytes of this flow's `TcpData` upstream.
    pub fn tcp_written(&mut self, id: FlowId, len: usize) {
        if let Some(open) = open_tcp(&mut self.flows, id) {
            open.up_credit += len;
            mark_due(&mut self.due, id, open);
        }
    }

    /// Server bytes for the client. The shell should not give more than the stack has
    /// acknowledged with `TcpSent` plus a window of its choosing.
    pub fn tcp_send(&mut self, now: Instant, id: FlowId, data: Bytes) {
        if let Some(flow) = self.flows.get_mut(&id) {
            flow.last_active = now;
        }
        if let Some(open) = open_tcp(&mut self.flows, id) {
            if !open.down_eof {
                open.down.push_back(data);
                mark_due(&mut self.due, id, open);
            }
        }
    }

    /// The server finished sending: the client gets a FIN after the data.
    pub fn tcp_server_eof(&mut self, id: FlowId) {
        if let Some(open) = open_tcp(&mut self.flows, id) {
            open.down_eof = true;
            mark_due(&mut self.due, id, open);
        }
    }

    /// The server reset the connection (or upstream IO failed): reset the client.
    pub fn tcp_server_reset(&mut self, id: FlowId) {
        let Some(open) = open_tcp(&mut self.flows, id) else {
            return;
        };
        open.reason = Some(CloseReason::ServerReset);
        open.socket().abort();
        mark_due(&mut self.due, id, open);
    }

    /// A datagram from the server of UDP flow `id`.
    pub fn udp_reply(&mut self, now: Instant, id: FlowId, data: &[u8]) {
        let Some(flow) = self.flows.get_mut(&id) else {
            return;
        };
        flow.last_active = now;
        flow.bytes_in += data.len() as u64;
        match packet::udp(flow.dst, flow.src, data, self.config.mtu) {
            Some(packet) => self.push_packet(packet),
            None => self.count_drop(DropReason::TooBig),
        }
    }

    /// The destination of echo flow `id` answered.
    pub fn echo_reply(&mut self, now: Instant, id: FlowId, seq: u16, data: &[u8]) {
        let Some(flow) = self.flows.get_mut(&id) else {
            return;
        };
        let Kind::Echo { ident } = flow.kind else {
            return;
        };
        flow.last_active = now;
        flow.bytes_in += data.len() as u64;
        match packet::echo_reply(
            flow.dst.ip(),
            flow.src.ip(),
            ident,
            seq,
            data,
            self.config.mtu,
        ) {
            Some(packet) => self.push_packet(packet),
            None => self.count_drop(DropReason::TooBig),
        }
    }

    /// The shell's socket for a UDP or echo flow failed: forget the flow.
    pub fn datagram_failed(&mut self, now: Instant, id: FlowId) {
        if matches!(
            self.flows.get(&id).map(|f| &f.kind),
            Some(Kind::Udp | Kind::Echo { .. })
        ) {
            self.finish(id, now, CloseReason::ServerReset);
        }
    }

    /// Runs timers and moves data between smoltcp and the shell. Call after feeding
    /// packets or commands, and when [`Netstack::poll_at`] is due. Only flows that were
    /// given something, or whose timer expired, are polled.
    pub fn poll(&mut self, now: Instant) {
        if self.next_sweep.is_some_and(|at| at <= now) {
            self.sweep_idle(now);
        }
        while let Some(&Reverse((at, id))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            if let Some(open) = open_tcp(&mut self.flows, id) {
                if open.timer == Some(at) {
                    open.timer = None;
                    mark_due(&mut self.due, id, open);
                }
            }
        }
        if !self.strays.is_empty() {
            self.device.rx.extend(self.strays.drain(..));
            let t = self.smol_now(now);
            self.iface.poll(t, &mut self.device, &mut self.no_sockets);
        }
        let due = std::mem::take(&mut self.due);
        for &id in &due {
            self.poll_flow(now, id);
        }
        // Keep the list's allocation for the next round.
        if self.due.is_empty() {
            self.due = due;
            self.due.clear();
        }
    }

    /// When [`Netstack::poll`] should run next if nothing else happens; `None` means
    /// only when a packet or a command arrives (no periodic wake-ups).
    pub fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        if !self.due.is_empty() || !self.strays.is_empty() {
            return Some(now);
        }
        // Drop stale timers so that they cause no wake-up.
        while let Some(&Reverse((at, id))) = self.timers.peek() {
            match open_tcp(&mut self.flows, id) {
                Some(open) if open.timer == Some(at) => break,
                _ => {
                    self.timers.pop();
                }
            }
        }
        let timer = self.timers.peek().map(|Reverse((at, _))| *at);
        match (timer, self.next_sweep) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next packet for the TUN.
    pub fn pop_packet(&mut self) -> Option<Vec<u8>> {
        let packet = self.device.tx.pop_front()?;
        self.stats.packets_out += 1;
        Some(packet)
    }

    /// The next thing for the shell to do.
    pub fn pop_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Ends every flow (clients of TCP flows get a RST) with reason `Shutdown`.
    pub fn shutdown(&mut self, now: Instant) {
        let t = self.smol_now(now);
        for flow in self.flows.values_mut() {
            if let Kind::Tcp(TcpFlow::Open(open)) = &mut flow.kind {
                open.socket().abort();
                self.iface.poll(t, &mut self.device, &mut open.set);
            }
        }
        let mut ids: Vec<FlowId> = self.flows.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.finish(id, now, CloseReason::Shutdown);
        }
    }

    fn push_packet(&mut self, packet: Vec<u8>) {
        self.device.tx.push_back(packet);
    }

    fn smol_now(&self, now: Instant) -> smoltcp::time::Instant {
        let micros = now.saturating_duration_since(self.epoch).as_micros();
        smoltcp::time::Instant::from_micros(i64::try_from(micros).unwrap_or(i64::MAX))
    }

    /// Feeds a TCP flow its packets, moves bytes between its socket and the shell, sends
    /// what smoltcp has to send, and retires the flow or sets its next timer.
    fn poll_flow(&mut self, now: Instant, id: FlowId) {
        let t = self.smol_now(now);
        let Some(flow) = self.flows.get_mut(&id) else {
            return;
        };
        let Kind::Tcp(TcpFlow::Open(open)) = &mut flow.kind else {
            return;
        };
        open.due = false;
        self.device.rx.extend(open.inbox.drain(..));
        self.iface.poll(t, &mut self.device, &mut open.set);
        if let Some(reason) = service(id, flow, now, &mut self.events) {
            self.finish(id, now, reason);
            return;
        }
        let Kind::Tcp(TcpFlow::Open(open)) = &mut flow.kind else {
            return;
        };
        // Window updates for what service() read, data and FINs it queued.
        self.iface.poll(t, &mut self.device, &mut open.set);
        let at = self.iface.poll_at(t, &open.set).map(|at| {
            let micros = u64::try_from(at.total_micros()).unwrap_or(0);
            self.epoch + Duration::from_micros(micros)
        });
        // One queued entry per flow at most: a later time waits for the earlier entry to
        // fire (a spare poll of this flow) rather than pile up entries on every ACK.
        if let Some(at) = at.filter(|&at| open.timer.is_none_or(|queued| at < queued)) {
            open.timer = Some(at);
            self.timers.push(Reverse((at, id)));
        }
    }

    fn sweep_idle(&mut self, now: Instant) {
        let mut next: Option<Instant> = None;
        let mut expired = Vec::new();
        for (&id, flow) in &self.flows {
            let deadline = flow.last_active + self.idle_timeout(&flow.kind, flow.dst);
            if deadline <= now {
                expired.push(id);
            } else {
                next = Some(next.map_or(deadline, |n| n.min(deadline)));
            }
        }
        self.next_sweep = next;
        for id in expired {
            if let Some(open) = open_tcp(&mut self.flows, id) {
                // Reset the client now; the shell resets the server on `Closed`.
                open.reason = Some(CloseReason::Idle);
                open.socket().abort();
                mark_due(&mut self.due, id, open);
            } else {
                self.finish(id, now, CloseReason::Idle);
            }
        }
    }

    /// Removes a flow and reports it.
    fn finish(&mut self, id: FlowId, now: Instant, reason: CloseReason) {
        let Some(flow) = self.flows.remove(&id) else {
            return;
        };
        self.keys.remove(&flow.key);
        let proto = match flow.kind {
            Kind::Tcp(_) => Proto::Tcp,
            Kind::Udp => Proto::Udp,
            Kind::Echo { .. } => Proto::Icmp,
        };
        self.events.push_back(Event::Closed(FlowEnd {
            id,
            proto,
            src: flow.src,
            dst: flow.dst,
            bytes_out: flow.bytes_out,
            bytes_in: flow.bytes_in,
            start: flow.start,
            end: now,
            reason,
        }));
    }
}

impl OpenTcp {
    fn socket(&mut self) -> &mut tcp::Socket<'static> {
        self.set.get_mut::<tcp::Socket>(self.handle)
    }
}

fn open_tcp(flows: &mut HashMap<FlowId, Flow>, id: FlowId) -> Option<&mut OpenTcp> {
    match flows.get_mut(&id).map(|f| &mut f.kind) {
        Some(Kind::Tcp(TcpFlow::Open(open))) => Some(open),
        _ => None,
    }
}

/// Puts an open flow on the list for the next poll, once.
fn mark_due(due: &mut Vec<FlowId>, id: FlowId, open: &mut OpenTcp) {
    if !open.due {
        open.due = true;
        due.push(id);
    }
}

/// Moves bytes between a flow's socket and the shell: client bytes within the credit the
/// shell has left, server bytes as far as the send buffer takes them, FINs both ways.
/// Returns why the flow ended once its socket is done.
fn service(
    id: FlowId,
    flow: &mut Flow,
    now: Instant,
    events: &mut VecDeque<Event>,
) -> Option<CloseReason> {
    let Kind::Tcp(TcpFlow::Open(open)) = &mut flow.kind else {
        return None;
    };
    let socket = open.set.get_mut::<tcp::Socket>(open.handle);

    // Client -> server, within the credit the shell has left us.
    while open.up_credit > 0 && (!open.tail.is_empty() || socket.can_recv()) {
        let want = open.up_credit.min(64 * 1024);
        let chunk = if open.tail.is_empty() {
            socket.recv(|buf| {
                let n = buf.len().min(want);
                (n, Bytes::copy_from_slice(&buf[..n]))
            })
        } else {
            Ok(open.tail.split_to(want.min(open.tail.len())))
        };
        match chunk {
            Ok(data) if !data.is_empty() => {
                open.up_credit -= data.len();
                flow.bytes_out += data.len() as u64;
                flow.last_active = now;
                events.push_back(Event::TcpData { id, data });
            }
            _ => break,
        }
    }
    // The client's FIN, once everything before it was handed over.
    open.client_fin |= matches!(
        socket.state(),
        tcp::State::CloseWait | tcp::State::LastAck | tcp::State::Closing | tcp::State::TimeWait
    );
    // Nothing comes after the FIN: take the bytes still waiting for credit out of smoltcp,
    // which clears its buffer when TIME-WAIT ends.
    if open.client_fin && socket.recv_queue() > 0 {
        let mut rest = bytes::BytesMut::with_capacity(open.tail.len() + socket.recv_queue());
        rest.extend_from_slice(&open.tail);
        while let Ok(true) = socket.recv(|buf| {
            rest.extend_from_slice(buf);
            (buf.len(), !buf.is_empty())
        }) {}
        open.tail = rest.freeze();
    }
    if !open.up_eof && open.client_fin && open.tail.is_empty() && socket.recv_queue() == 0 {
        open.up_eof = true;
        events.push_back(Event::TcpEof { id });
    }

    // Server -> client, as far as the send buffer takes it.
    let mut sent = 0;
    while let Some(front) = open.down.front_mut() {
        if !socket.can_send() {
            break;
        }
        match socket.send_slice(front) {
            Ok(n) if n > 0 => {
                sent += n;
                if n == front.len() {
                    open.down.pop_front();
                } else {
                    let _ = front.split_to(n);
                }
            }
            _ => break,
        }
    }
    if sent > 0 {
        flow.bytes_in += sent as u64;
        flow.last_active = now;
        events.push_back(Event::TcpSent { id, len: sent });
    }
    if open.down_eof && open.down.is_empty() && !open.closing {
        open.closing = true;
        socket.close();
    }

    // Both FINs were exchanged but the client's last bytes still wait for credit: the
    // flow lives on whatever smoltcp's state, which may already be CLOSED.
    let draining = open.client_fin && open.closing && !open.up_eof && open.reason.is_none();
    let done = match socket.state() {
        // An aborted socket is Closed with its RST still to send; it forgets
        // the remote endpoint once the RST is out.
        tcp::State::Closed => socket.remote_endpoint().is_none() && !draining,
        // TIME-WAIT only guards against stray segments.
        tcp::State::TimeWait => !draining,
        // A RST during the handshake sends smoltcp back to LISTEN: the client is gone.
        tcp::State::Listen => true,
        _ => false,
    };
    if done {
        Some(open.reason.unwrap_or(if open.up_eof && open.closing {
            CloseReason::Closed
        } else {
            CloseReason::ClientReset
        }))
    } else {
        None
    }
}

/// smoltcp picks initial sequence numbers from this seed; it needs no secrecy, only to
/// differ between runs, which the monotonic clock's reading provides.
fn seed(now: Instant) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(now.elapsed().as_nanos() as u64);
    h.finish()
}

#[cfg(test)]
mod tests;
