//! The flow table's entries: what a flow is and what its packets are matched on. The
//! table itself, and how a flow is added and ends, are in `stack`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::api::FlowId;
use crate::tcp_flow::{OpenTcp, TcpFlow};

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

/// Flow `id`, if it is a TCP flow with its socket open.
pub(crate) fn open_tcp(flows: &mut HashMap<FlowId, Flow>, id: FlowId) -> Option<&mut OpenTcp> {
    match flows.get_mut(&id).map(|f| &mut f.kind) {
        Some(Kind::Tcp(TcpFlow::Open(open))) => Some(open),
        _ => None,
    }
}
