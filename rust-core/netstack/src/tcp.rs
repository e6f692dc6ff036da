//! TCP in the stack: a client's SYN makes a flow that waits in `Connecting` until the
//! shell has connected upstream, then gets a smoltcp socket in a set of its own
//! (`tcp_flow`); the shell's results and commands reach the flow here, and a flow with
//! work is polled through the shared interface.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use phonehome_model::{CloseReason, Proto};
use smoltcp::socket::tcp;

use crate::api::{ConnectError, Event, FlowEnd, FlowId};
use crate::flows::{open_tcp, Flow, Key, Kind};
use crate::packet::{self, DropReason, Parsed};
use crate::stack::Netstack;
use crate::tcp_flow::{mark_due, service, OpenTcp, TcpFlow};
use crate::timers::arm;

impl Netstack {
    pub(crate) fn receive_tcp(
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
                    open.deliver(packet);
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
        if self.full() && !self.evict_embryo(now) {
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
            src,
            dst,
            Kind::Tcp(TcpFlow::Connecting {
                syn: packet.to_vec(),
            }),
        );
        self.stats.tcp_flows += 1;
        self.note_embryo(id);
        self.events.push_back(Event::TcpConnect { id, src, dst });
        Ok(())
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
        // The handshake clock starts with our SYN-ACK, however long the connect took.
        flow.last_active = now;
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
        flow.kind = Kind::Tcp(TcpFlow::Open(Box::new(OpenTcp::new(
            socket,
            syn,
            self.config.tcp_up_window,
        ))));
        self.poll_flow(now, id);
        // The SYN-ACK is out: the client has `tcp_handshake` to answer it.
        self.sweep_by(now + self.config.tcp_handshake);
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
            open.credit(len);
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
            if open.give(data) {
                mark_due(&mut self.due, id, open);
            }
        }
    }

    /// The server finished sending: the client gets a FIN after the data.
    pub fn tcp_server_eof(&mut self, id: FlowId) {
        if let Some(open) = open_tcp(&mut self.flows, id) {
            open.server_eof();
            mark_due(&mut self.due, id, open);
        }
    }

    /// The server reset the connection (or upstream IO failed): reset the client.
    pub fn tcp_server_reset(&mut self, id: FlowId) {
        let Some(open) = open_tcp(&mut self.flows, id) else {
            return;
        };
        open.abort(CloseReason::ServerReset);
        mark_due(&mut self.due, id, open);
    }

    /// Feeds a TCP flow its packets, moves bytes between its socket and the shell, sends
    /// what smoltcp has to send, and retires the flow or sets its next timer.
    pub(crate) fn poll_flow(&mut self, now: Instant, id: FlowId) {
        let t = self.smol_now(now);
        let Some(flow) = self.flows.get_mut(&id) else {
            return;
        };
        let Kind::Tcp(TcpFlow::Open(open)) = &mut flow.kind else {
            return;
        };
        self.device.rx.extend(open.take_inbox());
        self.iface.poll(t, &mut self.device, &mut open.set);
        let (moved, ended) = service(open, id, &mut self.events);
        flow.bytes_out += moved.bytes_out;
        flow.bytes_in += moved.bytes_in;
        if moved.bytes_out > 0 || moved.bytes_in > 0 {
            flow.last_active = now;
        }
        if let Some(reason) = ended {
            self.finish(id, now, reason);
            return;
        }
        // Window updates for what service() read, data and FINs it queued.
        self.iface.poll(t, &mut self.device, &mut open.set);
        let at = self.iface.poll_at(t, &open.set).map(|at| {
            let micros = u64::try_from(at.total_micros()).unwrap_or(0);
            self.epoch + Duration::from_micros(micros)
        });
        arm(&mut self.timers, id, open, at);
    }
}
