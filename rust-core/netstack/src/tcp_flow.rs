//! One TCP flow on its own, apart from the table and the interface: waiting in
//! `Connecting` with the client's SYN until the shell has connected upstream, then a
//! smoltcp socket in a set of its own, the bytes waiting either way, and its [`Phase`].
//! [`service`] moves bytes between that socket and the shell, within the credit the
//! shell gives.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use phonehome_model::CloseReason;
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp;

mod phase;

use crate::api::{Event, FlowId};
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

impl OpenTcp {
    /// A flow whose upstream connection is up: `socket` listens on the destination and
    /// `syn`, the client's SYN, is the first packet it will be given.
    pub(crate) fn new(socket: tcp::Socket<'static>, syn: Vec<u8>, up_credit: usize) -> Self {
        let mut set = SocketSet::new(Vec::with_capacity(1));
        let handle = set.add(socket);
        OpenTcp {
            set,
            handle,
            inbox: vec![syn],
            due: false,
            timer: None,
            up_credit,
            down: VecDeque::new(),
            tail: Bytes::new(),
            phase: Phase::ESTABLISHED,
        }
    }

    /// A client packet for the flow's next poll.
    pub(crate) fn deliver(&mut self, packet: &[u8]) {
        self.inbox.push(packet.to_vec());
    }

    /// The flow is being polled: it leaves the due list and hands over its packets.
    pub(crate) fn take_inbox(&mut self) -> std::vec::Drain<'_, Vec<u8>> {
        self.due = false;
        self.inbox.drain(..)
    }

    /// The shell wrote `len` client bytes upstream: that much more may be handed over.
    pub(crate) fn credit(&mut self, len: usize) {
        self.up_credit += len;
    }

    /// Server bytes for the client, kept unless the server finished or the flow was
    /// reset. Says whether they were kept.
    pub(crate) fn give(&mut self, data: Bytes) -> bool {
        let wanted = self.phase.takes_server_data();
        if wanted {
            self.down.push_back(data);
        }
        wanted
    }

    /// The server finished sending: our FIN follows the bytes in `down`.
    pub(crate) fn server_eof(&mut self) {
        self.phase.server_eof();
    }

    /// Resets the client (smoltcp sends the RST at the flow's next poll) and keeps why.
    pub(crate) fn abort(&mut self, reason: CloseReason) {
        self.phase.abort(reason);
        self.socket().abort();
    }

    /// The client has not answered our SYN-ACK yet: the flow is half open.
    pub(crate) fn handshaking(&self) -> bool {
        self.set.get::<tcp::Socket>(self.handle).state() == tcp::State::SynReceived
    }

    pub(crate) fn socket(&mut self) -> &mut tcp::Socket<'static> {
        self.set.get_mut::<tcp::Socket>(self.handle)
    }
}

/// Puts an open flow on the list for the next poll, once.
pub(crate) fn mark_due(due: &mut Vec<FlowId>, id: FlowId, open: &mut OpenTcp) {
    if !open.due {
        open.due = true;
        due.push(id);
    }
}

/// What [`service`] moved, counted as the flow counts it: client bytes handed to the
/// shell (`bytes_out`), server bytes taken into the send buffer (`bytes_in`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Moved {
    pub(crate) bytes_out: u64,
    pub(crate) bytes_in: u64,
}

/// Moves bytes between a flow's socket and the shell: client bytes within the credit the
/// shell has left, server bytes as far as the send buffer takes them, FINs both ways.
/// Returns how many bytes went each way, and why the flow ended once its socket is done.
pub(crate) fn service(
    open: &mut OpenTcp,
    id: FlowId,
    events: &mut VecDeque<Event>,
) -> (Moved, Option<CloseReason>) {
    let mut moved = Moved::default();
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
                moved.bytes_out += data.len() as u64;
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
        moved.bytes_in += sent as u64;
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
    (moved, done.then(|| open.phase.close_reason()))
}
