//! UDP and ICMP echo: no smoltcp, a NAT entry per (client, destination) that the shell
//! serves with a socket of its own, forgotten after some idle time.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use bytes::Bytes;
use phonehome_model::CloseReason;

use crate::api::{Event, FlowId};
use crate::flows::{Flow, Kind};
use crate::packet::{self, DropReason};
use crate::stack::Netstack;

impl Netstack {
    pub(crate) fn receive_udp(
        &mut self,
        now: Instant,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
    ) -> Result<(), DropReason> {
        let id = self.datagram_out(now, src, dst, Kind::Udp, payload.len())?;
        self.events.push_back(Event::UdpSend {
            id,
            src,
            dst,
            data: Bytes::copy_from_slice(payload),
        });
        Ok(())
    }

    pub(crate) fn receive_echo(
        &mut self,
        now: Instant,
        src: IpAddr,
        dst: IpAddr,
        ident: u16,
        seq: u16,
        data: &[u8],
    ) -> Result<(), DropReason> {
        // Echo flows have no ports; the identifier tells a client's pings apart.
        let (s, d) = (SocketAddr::new(src, 0), SocketAddr::new(dst, 0));
        let id = self.datagram_out(now, s, d, Kind::Echo { ident }, data.len())?;
        self.events.push_back(Event::EchoRequest {
            id,
            src,
            dst,
            seq,
            data: Bytes::copy_from_slice(data),
        });
        Ok(())
    }

    /// The flow of a client's datagram of `len` bytes, made on the first one.
    fn datagram_out(
        &mut self,
        now: Instant,
        src: SocketAddr,
        dst: SocketAddr,
        kind: Kind,
        len: usize,
    ) -> Result<FlowId, DropReason> {
        let id = match self.keys.get(&kind.key(src, dst)) {
            Some(&id) => id,
            None => {
                if self.full() {
                    return Err(DropReason::FlowLimit);
                }
                match kind {
                    Kind::Echo { .. } => self.stats.icmp_flows += 1,
                    _ => self.stats.udp_flows += 1,
                }
                self.insert(now, src, dst, kind)
            }
        };
        if let Some(flow) = self.flows.get_mut(&id) {
            flow.last_active = now;
            flow.bytes_out += len as u64;
        }
        Ok(id)
    }

    /// A datagram from the server of UDP flow `id`.
    pub fn udp_reply(&mut self, now: Instant, id: FlowId, data: &[u8]) {
        self.datagram_in(now, id, data.len(), |flow, mtu| {
            packet::udp(flow.dst, flow.src, data, mtu)
        });
    }

    /// The destination of echo flow `id` answered.
    pub fn echo_reply(&mut self, now: Instant, id: FlowId, seq: u16, data: &[u8]) {
        let Some(&Kind::Echo { ident }) = self.flows.get(&id).map(|f| &f.kind) else {
            return;
        };
        self.datagram_in(now, id, data.len(), |flow, mtu| {
            packet::echo_reply(flow.dst.ip(), flow.src.ip(), ident, seq, data, mtu)
        });
    }

    /// Counts `len` bytes from the server of flow `id` and writes the packet `build` makes
    /// for the client; `None` from `build` means it would not fit the MTU.
    fn datagram_in(
        &mut self,
        now: Instant,
        id: FlowId,
        len: usize,
        build: impl FnOnce(&Flow, usize) -> Option<Vec<u8>>,
    ) {
        let Some(flow) = self.flows.get_mut(&id) else {
            return;
        };
        flow.last_active = now;
        flow.bytes_in += len as u64;
        match build(flow, self.config.mtu) {
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
}
