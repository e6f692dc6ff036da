//! The flow table: what a flow is, how one is added under the limits, and how one ends.
//! Every flow, whatever its protocol, leaves the table through [`Netstack::finish`], which
//! reports it to the shell.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::tcp::TcpFlow;
use crate::{CloseReason, DropReason, Event, FlowEnd, FlowId, Netstack, Proto};

/// What a client's packet is matched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Tcp(SocketAddr, SocketAddr),
    Udp(SocketAddr, SocketAddr),
    Echo(IpAddr, IpAddr, u16),
}

#[derive(Debug)]
pub(crate) struct Flow {
    pub(crate) key: Key,
    pub(crate) src: SocketAddr,
    pub(crate) dst: SocketAddr,
    pub(crate) start: Instant,
    pub(crate) last_active: Instant,
    pub(crate) bytes_out: u64,
    pub(crate) bytes_in: u64,
    pub(crate) kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Tcp(TcpFlow),
    Udp,
    Echo { ident: u16 },
}

impl Kind {
    /// The key packets of a flow of this kind between `src` and `dst` are matched on.
    pub(crate) fn key(&self, src: SocketAddr, dst: SocketAddr) -> Key {
        match self {
            Kind::Tcp(_) => Key::Tcp(src, dst),
            Kind::Udp => Key::Udp(src, dst),
            Kind::Echo { ident } => Key::Echo(src.ip(), dst.ip(), *ident),
        }
    }
}

impl Netstack {
    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        match reason {
            DropReason::Malformed => self.stats.malformed += 1,
            DropReason::Unsupported => self.stats.unsupported += 1,
            DropReason::FlowLimit => self.stats.flow_limit += 1,
            DropReason::TooBig => self.stats.too_big += 1,
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
        let deadline = now + idle;
        self.next_sweep = Some(self.next_sweep.map_or(deadline, |d| d.min(deadline)));
        id
    }

    pub(crate) fn idle_timeout(&self, kind: &Kind, dst: SocketAddr) -> Duration {
        match kind {
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
}
