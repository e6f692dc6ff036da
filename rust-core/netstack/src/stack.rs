//! What the stack holds, and the flow table's own operations: how a flow is added under
//! the limits, how one ends (every flow, whatever its protocol, leaves the table through
//! [`Netstack::finish`], which reports it to the shell), and the idle sweep. The parts
//! that handle packets (`tcp`, `datagram`) and the driver in `lib.rs` build on these.

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use phonehome_model::{CloseReason, Proto};
use smoltcp::iface::{Interface, SocketSet};
use smoltcp::wire::{HardwareAddress, IpCidr};

use crate::api::{Config, Event, FlowEnd, FlowId, Stats};
use crate::device::QueueDevice;
use crate::flows::{open_tcp, Flow, Key, Kind};
use crate::packet::DropReason;
use crate::refusal::RecordBudget;
use crate::tcp_flow::{mark_due, TcpFlow};
use crate::timers::Timers;

/// The stack. See the crate documentation.
pub struct Netstack {
    pub(crate) config: Config,
    pub(crate) epoch: Instant,
    pub(crate) iface: Interface,
    pub(crate) device: QueueDevice,
    pub(crate) flows: HashMap<FlowId, Flow>,
    pub(crate) keys: HashMap<Key, FlowId>,
    pub(crate) next_id: FlowId,
    /// No idle deadline falls before this.
    pub(crate) next_sweep: Option<Instant>,
    pub(crate) events: VecDeque<Event>,
    /// Open TCP flows with packets, commands or an expired timer since their last poll.
    pub(crate) due: Vec<FlowId>,
    /// smoltcp's timers, soonest first. An entry whose flow is gone or whose timer moved
    /// is stale and skipped.
    pub(crate) timers: Timers,
    /// Segments of no flow, answered with RST by smoltcp from `no_sockets`.
    pub(crate) strays: Vec<Vec<u8>>,
    /// TCP flows in the order they were made, to find the oldest half-open one when the
    /// table is full; ids of flows that are gone or established are skipped lazily.
    pub(crate) embryos: VecDeque<FlowId>,
    /// Limits how many refused packets become records.
    pub(crate) refusal_records: RecordBudget,
    pub(crate) no_sockets: SocketSet<'static>,
    pub(crate) stats: Stats,
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
            timers: Timers::new(),
            strays: Vec::new(),
            embryos: VecDeque::new(),
            refusal_records: RecordBudget::default(),
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

    pub(crate) fn push_packet(&mut self, packet: Vec<u8>) {
        self.device.tx.push_back(packet);
    }

    pub(crate) fn smol_now(&self, now: Instant) -> smoltcp::time::Instant {
        let micros = now.saturating_duration_since(self.epoch).as_micros();
        smoltcp::time::Instant::from_micros(i64::try_from(micros).unwrap_or(i64::MAX))
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        match reason {
            DropReason::Malformed => self.stats.malformed += 1,
            DropReason::Unsupported => self.stats.unsupported += 1,
            DropReason::FlowLimit => self.stats.flow_limit += 1,
            DropReason::TooBig => self.stats.too_big += 1,
            DropReason::Forbidden => self.stats.forbidden += 1,
            DropReason::Spoofed => self.stats.spoofed += 1,
        }
    }

    /// The table holds `max_flows` already: a new flow must be refused.
    pub(crate) fn full(&self) -> bool {
        self.flows.len() >= self.config.max_flows
    }

    pub(crate) fn new_id(&mut self) -> FlowId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub(crate) fn insert(
        &mut self,
        now: Instant,
        src: SocketAddr,
        dst: SocketAddr,
        kind: Kind,
    ) -> FlowId {
        let id = self.new_id();
        let key = kind.key(src, dst);
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
        self.sweep_by(now + idle);
        id
    }

    /// Makes sure the idle sweep runs no later than `deadline`.
    pub(crate) fn sweep_by(&mut self, deadline: Instant) {
        self.next_sweep = Some(self.next_sweep.map_or(deadline, |d| d.min(deadline)));
    }

    /// Whether flow `id` is a TCP flow that has not completed its handshake: still
    /// waiting for the upstream connect, or its SYN-ACK unanswered.
    fn embryonic(&self, id: FlowId) -> bool {
        match self.flows.get(&id).map(|f| &f.kind) {
            Some(Kind::Tcp(TcpFlow::Connecting { .. })) => true,
            Some(Kind::Tcp(TcpFlow::Open(open))) => open.handshaking(),
            _ => false,
        }
    }

    /// Remembers a new TCP flow as a candidate for [`Netstack::evict_embryo`].
    pub(crate) fn note_embryo(&mut self, id: FlowId) {
        self.embryos.push_back(id);
        // Established flows leave the queue only when they reach its front: compact it
        // now and then, so it stays in proportion to the table.
        if self.embryos.len() > 2 * self.config.max_flows + 64 {
            let mut queue = std::mem::take(&mut self.embryos);
            queue.retain(|&id| self.embryonic(id));
            self.embryos = queue;
        }
    }

    /// Frees a place in a full table by dropping the oldest half-open TCP flow, as a
    /// kernel's SYN queue drops its oldest entry under a flood: spoofed SYNs can then
    /// only push each other out, never an established flow. False if there is none.
    pub(crate) fn evict_embryo(&mut self, now: Instant) -> bool {
        while let Some(id) = self.embryos.pop_front() {
            if self.embryonic(id) {
                self.finish(id, now, CloseReason::FlowLimit);
                return true;
            }
        }
        false
    }

    pub(crate) fn idle_timeout(&self, kind: &Kind, dst: SocketAddr) -> Duration {
        match kind {
            Kind::Tcp(TcpFlow::Open(open)) if open.handshaking() => self.config.tcp_handshake,
            Kind::Tcp(_) => self.config.tcp_idle,
            Kind::Udp if dst.port() == 53 => self.config.dns_idle,
            Kind::Udp => self.config.udp_idle,
            Kind::Echo { .. } => self.config.icmp_idle,
        }
    }

    /// Removes a flow and reports it.
    pub(crate) fn finish(&mut self, id: FlowId, now: Instant, reason: CloseReason) {
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

    /// Ends the flows idle past their deadline, and notes when the next one may run out.
    pub(crate) fn sweep_idle(&mut self, now: Instant) {
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
                let reason = if open.handshaking() {
                    CloseReason::HandshakeTimeout
                } else {
                    CloseReason::Idle
                };
                open.abort(reason);
                mark_due(&mut self.due, id, open);
            } else {
                self.finish(id, now, CloseReason::Idle);
            }
        }
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
