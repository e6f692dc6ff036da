//! TCP: a flow waits in `Connecting` with the client's SYN until the shell has connected
//! upstream, then gets a smoltcp socket in a set of its own. [`service`] moves bytes
//! between that socket and the shell, within the credit the shell gives.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp;

mod phase;

use crate::flows::{Flow, Key, Kind};
use crate::packet::{self, Parsed};
use crate::timers::arm;
use crate::{CloseReason, ConnectError, DropReason, Event, FlowEnd, FlowId, Netstack, Proto};
use phase::{End, Phase};

#[derive(Debug)]
pub(crate) enum TcpFlow {
    /// Waiting for the upstream connect; holds the client's latest SYN.
    Connecting {
        syn: Vec<u8>,
    },
    Open(Box<OpenTcp>),
}

#[derive(Debug)]
pub(crate) struct OpenTcp {
    /// The flow's smoltcp socket, alone in a set of its own. smoltcp walks every socket of
    /// a set for each packet it sends, so with one shared set 300 idle connections cut a
    /// download to half. Polling a flow's own set costs the same however many flows exist.
    pub(crate) set: SocketSet<'static>,
    handle: SocketHandle,
    /// Client packets for the flow's next poll.
    inbox: Vec<Vec<u8>>,
    /// Listed in `Netstack::due`.
    due: bool,
    /// When smoltcp next wants the socket polled (retransmission, TIME-WAIT), as queued
    /// in `Netstack::timers`.
    pub(crate) timer: Option<Instant>,
    /// Client bytes the shell may still be handed before it reports them written.
    up_credit: usize,
    /// Server bytes given by the shell, not yet in smoltcp's send buffer.
    down: VecDeque<Bytes>,
    /// After the client's FIN, its bytes still waiting for credit.
    tail: Bytes,
    /// How far each end has got, or why the stack reset the flow.
    phase: Phase,
}

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
        if self.full() {
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
            tail: Bytes::new(),
            phase: Phase::ESTABLISHED,
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
            if open.phase.takes_server_data() {
                open.down.push_back(data);
                mark_due(&mut self.due, id, open);
            }
        }
    }

    /// The server finished sending: the client gets a FIN after the data.
    pub fn tcp_server_eof(&mut self, id: FlowId) {
        if let Some(open) = open_tcp(&mut self.flows, id) {
            open.phase.server_eof();
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
        arm(&mut self.timers, id, open, at);
    }
}

impl OpenTcp {
    /// Resets the client (smoltcp sends the RST at the flow's next poll) and keeps why.
    pub(crate) fn abort(&mut self, reason: CloseReason) {
        self.phase.abort(reason);
        self.socket().abort();
    }

    pub(crate) fn socket(&mut self) -> &mut tcp::Socket<'static> {
        self.set.get_mut::<tcp::Socket>(self.handle)
    }
}

pub(crate) fn open_tcp(flows: &mut HashMap<FlowId, Flow>, id: FlowId) -> Option<&mut OpenTcp> {
    match flows.get_mut(&id).map(|f| &mut f.kind) {
        Some(Kind::Tcp(TcpFlow::Open(open))) => Some(open),
        _ => None,
    }
}

/// Puts an open flow on the list for the next poll, once.
pub(crate) fn mark_due(due: &mut Vec<FlowId>, id: FlowId, open: &mut OpenTcp) {
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
    if matches!(
        socket.state(),
        tcp::State::CloseWait | tcp::State::LastAck | tcp::State::Closing | tcp::State::TimeWait
    ) {
        open.phase.client_fin();
    }
    // Nothing comes after the FIN: take the bytes still waiting for credit out of smoltcp,
    // which clears its buffer when TIME-WAIT ends.
    if open.phase.client() != End::Open && socket.recv_queue() > 0 {
        let mut rest = bytes::BytesMut::with_capacity(open.tail.len() + socket.recv_queue());
        rest.extend_from_slice(&open.tail);
        while let Ok(true) = socket.recv(|buf| {
            rest.extend_from_slice(buf);
            (buf.len(), !buf.is_empty())
        }) {}
        open.tail = rest.freeze();
    }
    if open.phase.client() == End::Ending && open.tail.is_empty() && socket.recv_queue() == 0 {
        open.phase.client_eof_reported();
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
    if open.phase.server() == Some(End::Ending) && open.down.is_empty() {
        open.phase.fin_queued();
        socket.close();
    }

    let draining = open.phase.is_draining();
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
    done.then(|| open.phase.close_reason())
}
