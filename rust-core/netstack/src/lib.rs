//! A sans-IO userspace TCP/IP stack for a TUN device.
//!
//! The shell feeds it the packets read from the TUN ([`Netstack::receive`]), the results
//! of its upstream sockets (`tcp_connected`, `tcp_send`, `udp_reply`, ...), and the time.
//! The stack answers with packets to write to the TUN ([`Netstack::pop_packet`]) and
//! [`Event`]s telling the shell what to do upstream. It opens no socket, reads no clock
//! and never blocks, so all of it is tested with plain byte arrays.
//!
//! A driver's loop, in this order:
//!
//! 1. [`Netstack::receive`] each packet read from the TUN, and hand over what happened
//!    upstream: `tcp_connected` / `tcp_connect_failed`, `tcp_written`, `tcp_send`,
//!    `tcp_server_eof`, `tcp_server_reset`, `udp_reply`, `echo_reply`, `datagram_failed`;
//! 2. [`Netstack::poll`], which runs the timers and moves bytes for the flows given
//!    something;
//! 3. write every [`Netstack::pop_packet`] to the TUN and act on every
//!    [`Netstack::pop_event`] upstream;
//! 4. wait for input or until [`Netstack::poll_at`], then start again.
//!
//! On the way out, [`Netstack::shutdown`], then steps 3 once more.
//!
//! The parts:
//!
//! - `flows`: the flow table, its limit, and how a flow ends and is reported.
//! - `tcp`: a smoltcp socket per flow, in a socket set of its own that is polled only when
//!   the flow has work (packets, commands, a due timer), so a packet costs the same with
//!   one flow open or thousands. A client's SYN is held until the shell has connected
//!   upstream; only then is the socket created and the SYN fed to it, so a refused or
//!   unreachable destination is refused to the client too, never "connected then reset".
//! - `datagram`: UDP and ICMP echo bypass smoltcp: a NAT table maps each (client,
//!   destination) to a flow the shell serves with its own socket.
//! - `timers`: smoltcp's per-flow timers and the idle deadlines.
//! - [`packet`]: parsing what the TUN gives, building the few packets the stack makes.

mod api;
mod datagram;
mod device;
mod flows;
pub mod packet;
mod tcp;
mod timers;

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use smoltcp::iface::{Interface, SocketSet};
use smoltcp::wire::{HardwareAddress, IpCidr};

pub use phonehome_model::{CloseReason, Proto};

pub use api::{Config, ConnectError, Event, FlowEnd, FlowId, Stats};
use device::QueueDevice;
use flows::{Flow, Key, Kind};
pub use packet::DropReason;
use packet::Parsed;
use tcp::TcpFlow;
use timers::Timers;

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
    timers: Timers,
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
            timers: Timers::new(),
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
            Ok(parsed) if !parsed.relayable() => Err(DropReason::Unsupported),
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

    /// Runs timers and moves data between smoltcp and the shell. Call after feeding
    /// packets or commands, and when [`Netstack::poll_at`] is due. Only flows that were
    /// given something, or whose timer expired, are polled.
    pub fn poll(&mut self, now: Instant) {
        self.run_timers(now);
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
        self.next_timer()
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
                open.abort(CloseReason::Shutdown);
                self.iface.poll(t, &mut self.device, &mut open.set);
            }
        }
        let mut ids: Vec<FlowId> = self.flows.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.finish(id, now, CloseReason::Shutdown);
        }
    }

    pub(crate) fn push_packet(&mut self, packet: Vec<u8>) {
        self.device.tx.push_back(packet);
    }

    pub(crate) fn smol_now(&self, now: Instant) -> smoltcp::time::Instant {
        let micros = now.saturating_duration_since(self.epoch).as_micros();
        smoltcp::time::Instant::from_micros(i64::try_from(micros).unwrap_or(i64::MAX))
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
